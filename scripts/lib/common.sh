# shellcheck shell=bash
# Helpers sourced by the scripts under scripts/ (test, walkthrough, bench).
# Sourced, not run: it sets no shell options of its own; each script sets
# `set -euo pipefail` itself.

# Where this file lives, resolved once at source time so that repo_root works
# whatever the caller's cwd is.
GMP_SCRIPTS_LIB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
GMP_REPO_ROOT="$(cd "$GMP_SCRIPTS_LIB/../.." && pwd)"

# The Debian packages the project needs on any machine (developer or CI):
# the server and contrib for tests and the embedded server, libpq-dev and libssl-dev
# for the CLibPQ and CLibCrypto modules (their headers and archives); postgresql-server-dev-15 for
# libpgcommon_shlib.a and libpgport_shlib.a, which libpq.a needs to be linked into gmp
# (Package.swift, "libpq's link"; without them gmp links libpq.so.5), installed here
# so that it is there before any script's first `swift build`; python3 for scripts/bench.py,
# weasyprint for the PDF Certificate of Analysis (gmp coa --pdf),
# valgrind for instruction-count profiling.
# zint draws label bar codes (gmp label print); zbar-tools, dmtx-utils and poppler-utils let the
# tests decode them back from the rendered PDF.
# shellcheck disable=SC2034  # used by the scripts that source this file
GMP_BASE_PACKAGES=(postgresql postgresql-contrib libpq-dev libssl-dev postgresql-server-dev-15 python3 weasyprint zint zbar-tools dmtx-utils poppler-utils)

# log MESSAGE… — one line to stderr, prefixed with the script's name, so that
# stdout stays free for data (e.g. `gmp db status --json`).
log() {
    printf '%s: %s\n' "$(basename "$0")" "$*" >&2
}

# die MESSAGE [STATUS] — an error line to stderr, then exit (default 1).
die() {
    printf '%s: error: %s\n' "$(basename "$0")" "$1" >&2
    exit "${2:-1}"
}

# repo_root — cd to the repository root, from any cwd.
repo_root() {
    cd "$GMP_REPO_ROOT" || return
}

# ensure_swift — make `swift` callable, or stop with exit 69 (EX_UNAVAILABLE).
ensure_swift() {
    if command -v swift >/dev/null 2>&1; then
        return 0
    fi
    # The toolchain is unpacked at /opt/swift on this kind of machine, but not
    # every shell (CI's among them) has it on PATH.
    if [[ -x /opt/swift/usr/bin/swift ]]; then
        PATH="/opt/swift/usr/bin:$PATH"
        export PATH
        return 0
    fi
    die "swift not found on PATH nor at /opt/swift/usr/bin; install Swift 6.3 (https://www.swift.org/install/)" 69
}

# _gmp_apt_updated — set once `apt-get update` has run in this process, so
# several ensure_packages calls refresh the lists only once.
_gmp_apt_updated=0

# ensure_packages PKG… — install the Debian packages that are not installed.
# Silent when nothing is missing; one stderr line per action otherwise.
ensure_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$pkg")
        fi
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        return 0
    fi

    # Root runs apt-get as it is; anyone else needs sudo. Without a terminal
    # (CI has no stdin) sudo must not wait for a password: -n fails at once.
    local sudo=() out
    if [[ $EUID -ne 0 ]]; then
        if ! command -v sudo >/dev/null 2>&1; then
            die "missing Debian packages: ${missing[*]}; not root and no sudo: install them as root with: apt-get install ${missing[*]}" 69
        fi
        if [[ -t 0 ]]; then
            sudo=(sudo)
        else
            sudo=(sudo -n)
        fi
    fi

    if [[ $_gmp_apt_updated -eq 0 ]]; then
        log "missing Debian packages: ${missing[*]}; running apt-get update"
        # Quiet on success; its output is shown only if it fails.
        if ! out="$("${sudo[@]}" apt-get update 2>&1)"; then
            printf '%s\n' "$out" >&2
            die "apt-get update failed; cannot install: ${missing[*]}" 69
        fi
        _gmp_apt_updated=1
    fi

    log "installing: ${missing[*]}"
    # Wait a while for another apt/dpkg holding the lock instead of failing at once.
    if ! out="$("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=120 \
        "${missing[@]}" 2>&1)"; then
        printf '%s\n' "$out" >&2
        die "apt-get install failed for: ${missing[*]}" 69
    fi
    log "installed: ${missing[*]}"
}

# pg_bindir — the directory of PostgreSQL's server programs (initdb, pg_ctl),
# which Debian keeps off PATH under /usr/lib/postgresql/VERSION/bin. Takes the
# newest installed version; GMP_PG_BINDIR overrides.
pg_bindir() {
    if [[ -n ${GMP_PG_BINDIR:-} ]]; then
        printf '%s\n' "$GMP_PG_BINDIR"
        return 0
    fi
    local initdb
    initdb="$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/initdb' 2>/dev/null | sort -V | tail -n 1)"
    if [[ -z $initdb ]]; then
        die "PostgreSQL server programs not found under /usr/lib/postgresql/*/bin; apt-get install postgresql" 69
    fi
    dirname "$initdb"
}
