# shellcheck shell=bash
# gmp's optional server-side C code: every directory under extension/ holding a PGXS
# Makefile is built against the local PostgreSQL 15 and installed into its library and
# extension directories. gmp works without them (a configured server may not have them:
# see docs/audit-trail.md); with them, the audit trail costs the server less.
# Sourced after common.sh.

# The headers and PGXS come from postgresql-server-dev-15 (it also brings the server's
# latest minor release with it, which the tests then run on).
GMP_EXTENSION_PACKAGES=(postgresql-server-dev-15 make gcc)

# install_server_extensions — build and install every extension/*/ (idempotent: make
# rebuilds only what changed; `make install` copies the same files again).
# GMP_INSTALL_EXTENSIONS names the ones to install (space-separated; `none` for none):
# several checkouts of gmp on one machine share the server's library directory, so a
# checkout that changes one extension installs only that one and leaves the others'.
install_server_extensions() {
    ensure_packages "${GMP_EXTENSION_PACKAGES[@]}"
    local pg_config=/usr/lib/postgresql/15/bin/pg_config dir out name
    local only=" ${GMP_INSTALL_EXTENSIONS:-all} "
    for dir in "$GMP_REPO_ROOT"/extension/*/; do
        [[ -f "$dir/Makefile" ]] || continue
        name=$(basename "$dir")
        if [[ "$only" != " all " && "$only" != *" $name "* ]]; then
            log "server extension $name: not installed (GMP_INSTALL_EXTENSIONS)"
            continue
        fi
        if ! out=$(make -C "$dir" PG_CONFIG="$pg_config" install 2>&1); then
            printf '%s\n' "$out" >&2
            die "building the server extension in ${dir#"$GMP_REPO_ROOT"/} failed (output above)" 70
        fi
    done
}
