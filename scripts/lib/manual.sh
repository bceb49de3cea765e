# shellcheck shell=bash
# The manual page gmp(1), written from the command tree by swift-argument-parser's
# generate-manual plugin (every command, option and example of `gmp --help`), and
# its installation where man finds it. Sourced after common.sh, from the repo root.

# generate_manual [debug|release] — builds gmp in that configuration (default
# debug, which scripts/test has just built) and writes gmp.1; prints its path.
generate_manual() {
    local configuration=${1:-debug}
    log "swift package plugin generate-manual --configuration $configuration"
    swift package plugin generate-manual --configuration "$configuration" >&2
    local page=.build/plugins/GenerateManual/outputs/gmp/gmp.1
    [[ -s $page ]] || die "generate-manual wrote no $page" 70
    printf '%s\n' "$PWD/$page"
}

# install_manual PAGE — into /usr/local/share/man/man1 (as root) or
# ~/.local/share/man/man1, both on man's default search path.
install_manual() {
    local page=$1 directory
    if [[ $(id -u) -eq 0 ]]; then
        directory=/usr/local/share/man/man1
    else
        directory="${XDG_DATA_HOME:-$HOME/.local/share}/man/man1"
    fi
    ensure_packages man-db
    install -D -m 0644 "$page" "$directory/gmp.1"
    log "installed the manual page: man gmp ($directory/gmp.1)"
}
