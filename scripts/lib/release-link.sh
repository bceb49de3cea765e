# shellcheck shell=bash
# How the release gmp is linked (issue 18): Package.swift's releaseLinking makes it a
# position-dependent executable, with libstdc++ and libgcc linked in and none of its own
# symbols exported, which spares ld.so ~63,000 relocations, two shared libraries and
# ~13,000 exported symbols at every cold start (docs/benchmarks.md "Linking").
# libpq, with its pgcommon and pgport, libssl and libcrypto, is linked in from the static
# archives and GSSAPI and LDAP are loaded only when a connection uses them (Package.swift,
# "libpq's link"): ld.so no longer loads libpq.so.5's 21 dependencies at every start.
# Flags like these drop silently (a toolchain default, an edited manifest); the start-up
# figures would then drift with no error. Sourced after common.sh.

# check_release_link BINARY — log how BINARY is linked; exit 70 when it is not linked as
# Package.swift's releaseLinking says.
check_release_link() {
    local binary=$1 type needed exported
    type="$(LC_ALL=C readelf -h "$binary" | awk '$1 == "Type:" { print $2 }')"
    needed="$(LC_ALL=C readelf -d "$binary" | awk '/\(NEEDED\)/ { gsub(/[][]/, "", $NF); print $NF }' | paste -sd ' ')"
    # Defined dynamic symbols (the table's first line is its null entry).
    exported="$(LC_ALL=C readelf --dyn-syms -W "$binary" | awk '$1 ~ /^[0-9]+:$/ && $7 != "UND"' | wc -l)"
    log "release link of $binary: ELF type $type; shared libraries: $needed; $exported symbols of its own exported"
    [[ $type == EXEC ]] ||
        die "$binary is a $type executable, not a position-dependent one (EXEC): Package.swift's releaseLinking (-no-pie) was not applied" 70
    case " $needed " in
        *" libstdc++.so"* | *" libgcc_s.so"*)
            die "$binary loads libstdc++ or libgcc_s at run time: Package.swift's releaseLinking (Linking/static-libstdc++, -static-libgcc) was not applied" 70 ;;
    esac
    # Package.swift falls back to libpq.so.5 without the archives (postgresql-server-dev-15,
    # libssl-dev); only GMP_LIBPQ_LINK=dynamic asks for that on purpose.
    if [[ ${GMP_LIBPQ_LINK:-} != dynamic ]]; then
        case " $needed " in
            *" libpq.so"* | *" libgssapi"* | *" libldap"* | *" libssl.so"* | *" libcrypto.so"*)
                die "$binary loads libpq, libssl, libcrypto, GSSAPI or LDAP at every start (shared libraries: $needed): Package.swift's libpq link fell back to libpq.so.5; install postgresql-server-dev-15 (of libpq-dev's version) and libssl-dev, or set GMP_LIBPQ_LINK=dynamic to accept it" 70 ;;
        esac
    fi
    [[ $exported -lt 100 ]] ||
        die "$binary exports $exported symbols of its own: Package.swift's releaseLinking (--no-export-dynamic) was not applied" 70
}
