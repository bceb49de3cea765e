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
install_server_extensions() {
    ensure_packages "${GMP_EXTENSION_PACKAGES[@]}"
    local pg_config=/usr/lib/postgresql/15/bin/pg_config dir out
    for dir in "$GMP_REPO_ROOT"/extension/*/; do
        [[ -f "$dir/Makefile" ]] || continue
        if ! out=$(make -C "$dir" PG_CONFIG="$pg_config" install 2>&1); then
            printf '%s\n' "$out" >&2
            die "building the server extension in ${dir#"$GMP_REPO_ROOT"/} failed (output above)" 70
        fi
    done
}
