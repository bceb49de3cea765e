# shellcheck shell=bash
# Huge pages for the embedded server's shared memory (issue 18; docs/server-settings.md).
# The server asks for them (huge_pages = try) and falls back to ordinary pages when the
# machine reserved none; on huge pages every fresh backend, so every gmp command, spends
# ~10–17% less server CPU (docs/benchmarks.md, "Start-up (issue 18)"). Reserving them is
# a machine setting, so only the scripts that start a server of their own do it, as root.
# Sourced after common.sh.

# What gmp's embedded server maps: SHOW shared_memory_size_in_huge_pages says 72 (2 MiB
# pages) with shared_buffers 128MB, max_connections 100 and gmp's preloaded libraries;
# a few more so that a small change to the settings still fits.
GMP_HUGE_PAGES=${GMP_HUGE_PAGES:-80}

_gmp_meminfo() { awk -v key="$1:" '$1 == key { print $2 }' /proc/meminfo; }

# reserve_huge_pages [PAGES] — make sure PAGES (default GMP_HUGE_PAGES) 2 MiB huge pages
# are free and unreserved for a server about to start: raises vm.nr_hugepages by what is
# missing, never lowers it, so it is idempotent and leaves other servers' pages alone.
# Prints the value it found, for release_huge_pages. Without root, or on a kernel
# without huge pages, it says so and changes nothing: the server then uses ordinary pages.
reserve_huge_pages() {
    local want=${1:-$GMP_HUGE_PAGES} total free reserved missing got
    total=$(cat /proc/sys/vm/nr_hugepages 2>/dev/null || true)
    if [[ -z $total || $(_gmp_meminfo Hugepagesize) != 2048 ]]; then
        log "huge pages: not available on this kernel; the server uses ordinary pages"
        return 0
    fi
    echo "$total"
    free=$(_gmp_meminfo HugePages_Free)
    reserved=$(_gmp_meminfo HugePages_Rsvd)
    missing=$((want - (free - reserved)))
    ((missing > 0)) || return 0
    if [[ $EUID -ne 0 ]]; then
        log "huge pages: $((free - reserved)) of $want free; only root can reserve more (sysctl vm.nr_hugepages)"
        return 0
    fi
    # A container's /proc/sys may be read-only: then the server simply uses ordinary pages.
    if ! { echo $((total + missing)) >/proc/sys/vm/nr_hugepages; } 2>/dev/null; then
        log "huge pages: vm.nr_hugepages cannot be written here; the server uses ordinary pages"
        return 0
    fi
    got=$(cat /proc/sys/vm/nr_hugepages)
    if ((got < total + missing)); then
        log "huge pages: the kernel found $((got - total)) of the $missing pages asked for (memory fragmented)"
    else
        log "huge pages: vm.nr_hugepages $total -> $got ($want free for the server)"
    fi
}

# release_huge_pages FOUND — put vm.nr_hugepages back to FOUND (what reserve_huge_pages
# printed) once the server that used the pages has stopped. Pages another server still
# holds stay with it: the kernel only frees free ones.
release_huge_pages() {
    local found=$1
    [[ -n $found && $EUID -eq 0 ]] || return 0
    [[ $(cat /proc/sys/vm/nr_hugepages) == "$found" ]] && return 0
    echo "$found" >/proc/sys/vm/nr_hugepages 2>/dev/null || true
}
