# shellcheck shell=bash
# A throwaway PostgreSQL cluster for a test run: private temp dir, Unix socket only,
# gone when the run ends. Sourced by scripts/test and scripts/leak-check, which own
# the EXIT trap that calls stop_throwaway_postgres.
#
# After start_throwaway_postgres: GMP_TEST_DATABASE (a libpq conninfo for the
# superuser gmp_test) and GMP_TEST_SOCKET_DIR are exported.

PG_BIN="$(pg_bindir)"
PG_TMP=""

# initdb and postgres refuse to run as root: run them as the postgres system
# user then. A developer who is not root runs them as themself.
as_pg() {
    if [[ $EUID -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# Immediate stop: the data is thrown away, so there is nothing to flush.
stop_throwaway_postgres() {
    [[ -n $PG_TMP ]] || return 0
    if [[ -f "$PG_TMP/data/postmaster.pid" ]]; then
        as_pg "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$PG_TMP"
    PG_TMP=""
}

start_throwaway_postgres() {
    PG_TMP="$(mktemp -d /tmp/gmp-test.XXXXXX)"
    local D="$PG_TMP"
    if [[ $EUID -eq 0 ]]; then
        chown postgres:postgres "$D"
    fi

    log "starting a throwaway PostgreSQL cluster in $D"
    # -U gmp_test: the superuser the tests connect as. --no-sync: the cluster is
    # thrown away, durability buys nothing here.
    local out
    if ! out="$(as_pg "$PG_BIN/initdb" -D "$D/data" -U gmp_test -A trust -E UTF8 \
            --locale=C.UTF-8 --no-sync 2>&1)"; then
        printf '%s\n' "$out" >&2
        die "initdb failed"
    fi

    # gmp_test (the superuser) gets in without a password; every other role must
    # give its password, so tests can create roles and check that a wrong
    # password is refused. Only the Unix socket: no TCP at all.
    as_pg tee "$D/data/pg_hba.conf" >/dev/null <<'HBA'
local all gmp_test trust
local all all scram-sha-256
HBA

    # -k: the socket goes in the temp dir; listen_addresses='': no TCP port, so
    # no clash with any other server. fsync=off: speed, as above.
    # max_connections=200: tests run in parallel, each with its own connections.
    # The login watch as gmp's embedded server has it (docs/signatures.md, "Logins"):
    # failed and successful logins in the jsonlog, and auth_delay (shorter here, so the
    # tests that type wrong passwords stay quick).
    local watch="-c logging_collector=on -c log_destination=stderr,jsonlog -c log_connections=on"
    local preload=()
    if [[ -f "$PG_BIN/../lib/auth_delay.so" ]]; then
        preload+=(auth_delay)
        watch+=" -c auth_delay.milliseconds=100"
    fi
    # The background chainer (extension/gmp_chainer, docs/audit-trail.md) is loaded as on
    # gmp's own servers, but chains no database here (gmp_chainer.databases empty): each
    # test's database is a copy of a template, which a connected worker would keep from
    # being copied, and the suites assert what writers and readers chain themselves. The
    # tests of the worker (BackgroundChainerTests) start private clusters that name theirs.
    if [[ -f "$PG_BIN/../lib/gmp_chainer.so" ]]; then
        preload+=(gmp_chainer)
        watch+=" -c gmp_chainer.databases=''"
    fi
    if (( ${#preload[@]} )); then
        watch+=" -c shared_preload_libraries=$(IFS=,; echo "${preload[*]}")"
    fi
    if ! as_pg "$PG_BIN/pg_ctl" -D "$D/data" -l "$D/log" -w -t 60 \
            -o "-k $D -c listen_addresses='' -c fsync=off -c max_connections=200 $watch" \
            start >/dev/null; then
        cat "$D/log" >&2 || true
        die "the throwaway PostgreSQL server did not start"
    fi

    export GMP_TEST_DATABASE="host=$D port=5432 user=gmp_test dbname=postgres"
    export GMP_TEST_SOCKET_DIR="$D"
    # libpq reads these when a conninfo leaves a key out; a developer's own
    # settings must not steer the tests to another server or user.
    unset PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGPASSWORD PGSERVICE GMP_DATABASE

    # A run that cannot reach its database must fail, never skip: check it here
    # once, with a clear message, before spending minutes on the build.
    if ! "$PG_BIN/psql" -X -q -d "$GMP_TEST_DATABASE" -c 'select 1' >/dev/null; then
        cat "$D/log" >&2 || true
        die "cannot connect to the throwaway PostgreSQL server ($GMP_TEST_DATABASE)"
    fi
}
