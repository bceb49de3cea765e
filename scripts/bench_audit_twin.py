#!/usr/bin/env python3
"""The audit write's own measure, re-taken (issue 3's figure behind issue 18's "5x"): an audited
single-row INSERT, one transaction each, against the same INSERT into an unaudited twin table,
in the server. Goal: at most 2x.

For each audit trigger (the PL/pgSQL record_change and the C twin of gmp_audit_native) and each
kind of session, in ONE run on ONE private throwaway cluster, twin and audited interleaved:

  psql  a client that is not gmp (no settings): its COMMIT chains through chain_at_commit
  gmp   the settings every gmp session carries (CommandContext.sessionSettings and
        PostgresConnection: gmp.audit_chain = after_commit, lock_timeout = 10000,
        idle_in_transaction_session_timeout = 60000): its events are left to the chainer

Measured, each printed with the load average:
  * server CPU a write: the backend's run time (/proc/PID/schedstat), the least of --rounds
    runs of --writes autocommitted INSERTs in one session (synchronous_commit off, so the
    commit's flush is left out), and, over the same run, the background chainer's run time
    (the chaining the writer left to it: a write's whole cost to the server is both); and
    the median of the rounds' own ratios (twin and audited run back to back in each round);
  * pgbench -c 1 tps (one INSERT a transaction, as the issue-3 figure), median of --rounds
    runs of --seconds, with fsync on and with fsync off.

The cluster preloads extension/gmp_chainer serving both databases, with gmp's embedded
server's settings (gmp.audit_chain_events 20000, naptime 200 ms), fsync on, shared_buffers
256 MB; database `native` is migrated by --gmp with the C trigger bound (the server must have
gmp_audit_native installed: scripts/lib/server-extensions.sh), `plpgsql` with
GMP_AUDIT_NATIVE=off. Needs root (or the server's account) to read the backends' /proc
entries; runs initdb and postgres as the postgres user when root. Standard library only.

    scripts/bench_audit_twin.py --gmp .build/debug/gmp [--rounds 5 --writes 3000 --seconds 5]

Before and after a change, in the same run: --baseline-gmp OTHER_GMP adds database `native_base`,
migrated by that gmp (its SQL: the chaining, the trigger binding) with the C trigger declared as
gmp_audit_native 1.0 declared it (its five SET clauses, which 1.1 leaves to the C) and its
chainer without its own vacuum of the staging table (gmp_chainer.vacuum_events = 0 for that
database); the server's libraries are the same for both. --baseline-as-is leaves native_base as
its gmp migrates it (the trigger as the installed extension declares it, the worker's vacuum on):
a baseline that is today's main. --repeat N measures every pair N times over, alternating, so
that a drift of the machine's load falls on both; --seconds 0 leaves pgbench out.

Figures and conclusions: docs/benchmarks.md, "Audit trail (issue 3)".
"""
from __future__ import annotations

import argparse
import atexit
import ctypes
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_server_cpu import _cpu_ms, _libpq, _run  # noqa: E402  (one libpq binding for the benchmarks)

SUPERUSER = "gmp_bench"
DATABASES = {"plpgsql": "off", "native": "on"}  # database: GMP_AUDIT_NATIVE at its migration
SESSIONS = {
    "psql": "",
    "gmp": "-c gmp.audit_chain=after_commit -c lock_timeout=10000 -c idle_in_transaction_session_timeout=60000",
}
AUDITED = "INSERT INTO gmp.bench_audited (note) VALUES ('bench row')"
TWIN = "INSERT INTO public.bench_plain (note) VALUES ('bench row')"
# The audited table and its twin: one home for the audit benchmarks' fixture.
SETUP = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_audit_tables.sql")).read()


# What gmp_audit_native 1.0 declared on its trigger (1.1 pins them in C, where they differ).
NATIVE_1_0_SETTINGS = ("ALTER FUNCTION gmp_audit.record_change_native() SET search_path = pg_catalog, pg_temp "
                       "SET TimeZone = 'UTC' SET IntervalStyle = 'postgres' SET bytea_output = 'hex' "
                       "SET extra_float_digits = 1")


def load() -> float:
    return os.getloadavg()[0]


class Cluster:
    """A private PostgreSQL 15 cluster in a temporary directory, Unix socket only, gone at exit."""

    def __init__(self, bindir: str, databases: dict, fsync: bool = True):
        self.bin = bindir
        self.dir = tempfile.mkdtemp(prefix="gmp-bench-twin.")
        os.chmod(self.dir, 0o755)
        self.as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_pg:
            shutil.chown(self.dir, "postgres", "postgres")
        atexit.register(self.stop)
        self.data = os.path.join(self.dir, "data")
        subprocess.run(self.as_pg + [os.path.join(bindir, "initdb"), "-D", self.data, "-U", SUPERUSER, "-A", "trust",
                                     "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], check=True, capture_output=True)
        settings = f"""
listen_addresses = ''
unix_socket_directories = '{self.dir}'
fsync = {'on' if fsync else 'off'}
shared_buffers = 256MB
max_connections = 50
shared_preload_libraries = 'gmp_chainer'
gmp_chainer.databases = '{",".join(databases)}'
gmp_chainer.naptime_ms = 200
gmp.audit_chain_events = 20000
"""
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write(settings)
        subprocess.run(self.as_pg + [os.path.join(bindir, "pg_ctl"), "-D", self.data, "-l",
                                     os.path.join(self.dir, "log"), "-w", "-t", "60", "start"],
                       check=True, capture_output=True)

    def conninfo(self, database: str) -> str:
        return f"host={self.dir} dbname={database} user={SUPERUSER}"

    def psql(self, database: str, sql: str) -> str:
        return subprocess.run([os.path.join(self.bin, "psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
                               "-d", self.conninfo(database), "-c", sql],
                              check=True, text=True, capture_output=True).stdout.strip()

    def stop(self):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            subprocess.run(self.as_pg + [os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-m", "immediate",
                                         "-w", "stop"], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def chainer_pid(cluster: Cluster, database: str) -> int:
    for _ in range(100):
        pid = cluster.psql(database, "SELECT pid FROM pg_stat_activity WHERE backend_type = 'gmp_chainer' "
                                     "AND datname = current_database()")
        if pid:
            return int(pid)
        time.sleep(0.1)
    raise RuntimeError(f"no background chainer serves database {database}")


def wait_chained(monitor, pq, database: str) -> None:
    """Until the chainer has chained what the run staged (at most 10 s): its CPU counts."""
    for _ in range(200):
        result = pq.PQexec(monitor, b"SELECT count(*) FROM gmp_audit.pending_event")
        pending = int(pq.PQgetvalue(result, 0, 0))
        pq.PQclear(result)
        if pending == 0:
            return
        time.sleep(0.05)
    raise RuntimeError(f"{database}: events still pending 10 s after the run")


def server_cpu(cluster: Cluster, database: str, session: str, rounds: int, writes: int) -> dict:
    """Least backend CPU (µs) a write, twin and audited interleaved in one session, and the
    chainer's CPU a write over the same runs (the least of the rounds' sums)."""
    pq = _libpq()
    pq.PQgetvalue.restype, pq.PQgetvalue.argtypes = ctypes.c_char_p, [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
    options = (SESSIONS[session] + " -c synchronous_commit=off").strip()
    conn = pq.PQconnectdb(f"{cluster.conninfo(database)} options='{options}'".encode())
    monitor = pq.PQconnectdb(cluster.conninfo(database).encode())
    try:
        if pq.PQstatus(conn) != 0 or pq.PQstatus(monitor) != 0:
            raise RuntimeError("connection failed")
        backend, chainer = pq.PQbackendPID(conn), chainer_pid(cluster, database)
        figures = {name: {"backend": [], "with chainer": []} for name in ("twin", "audited")}
        for sql in (TWIN, AUDITED):
            for _ in range(300):
                _run(pq, conn, sql)
        wait_chained(monitor, pq, database)
        for _ in range(rounds):
            for name, sql in (("twin", TWIN), ("audited", AUDITED)):
                start_backend, start_chainer = _cpu_ms(backend), _cpu_ms(chainer)
                for _ in range(writes):
                    _run(pq, conn, sql)
                spent = _cpu_ms(backend) - start_backend
                wait_chained(monitor, pq, database)
                figures[name]["backend"].append(spent * 1e3 / writes)
                figures[name]["with chainer"].append((spent + _cpu_ms(chainer) - start_chainer) * 1e3 / writes)
        least = {name: {part: min(values) for part, values in parts.items()} for name, parts in figures.items()}
        # Each round's audited over the twin measured just before it, the median of the rounds:
        # steadier than the ratio of the least figures when the machine's load drifts.
        least["ratio"] = {part: statistics.median(a / t for a, t in zip(figures["audited"][part], figures["twin"][part]))
                          for part in ("backend", "with chainer")}
        return least
    finally:
        pq.PQfinish(conn)
        pq.PQfinish(monitor)


def pgbench_tps(cluster: Cluster, database: str, session: str, rounds: int, seconds: int, tmp: str) -> dict:
    """Median pgbench -c 1 tps of twin and audited, interleaved."""
    samples = {"twin": [], "audited": []}
    for _ in range(rounds):
        for name, sql in (("twin", TWIN), ("audited", AUDITED)):
            script = os.path.join(tmp, name + ".sql")
            with open(script, "w") as f:
                f.write(sql + ";\n")
            out = subprocess.run([os.path.join(cluster.bin, "pgbench"), "-n", "-f", script, "-T", str(seconds),
                                  "-c", "1", cluster.conninfo(database)],
                                 env=dict(os.environ, PGOPTIONS=SESSIONS[session]),
                                 check=True, text=True, capture_output=True).stdout
            samples[name].append(float(re.search(r"tps = ([0-9.]+)", out).group(1)))
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gmp", required=True, help="the gmp that migrates the two databases")
    ap.add_argument("--bin", default="/usr/lib/postgresql/15/bin", help="PostgreSQL 15's programs")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--writes", type=int, default=3000, help="writes per run of the server-CPU measure")
    ap.add_argument("--seconds", type=int, default=5, help="seconds per pgbench run")
    ap.add_argument("--only", default="", help="comma-separated database:session pairs to measure (default: all)")
    ap.add_argument("--baseline-gmp", default="", help="another gmp (before a change): migrates database native_base")
    ap.add_argument("--baseline-as-is", action="store_true",
                    help="native_base as its gmp migrates it: no 1.0 declaration, the worker's vacuum on")
    ap.add_argument("--repeat", type=int, default=1, help="measure the pairs' server CPU this many times, alternating")
    args = ap.parse_args()

    databases = dict(DATABASES)
    migrators = {database: args.gmp for database in databases}
    if args.baseline_gmp:
        databases["native_base"] = "on"
        migrators["native_base"] = args.baseline_gmp
    print(f"load average at start {load():.1f}, cores {os.cpu_count()}", flush=True)
    cluster = Cluster(args.bin, databases)
    env = dict(os.environ, GMP_CONFIG=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "config", "gmp.yaml"))
    for name in ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE", "PGOPTIONS"):
        env.pop(name, None)
    for database, native in databases.items():
        cluster.psql("postgres", f"CREATE DATABASE {database}")
        subprocess.run([migrators[database], "db", "migrate"], env=dict(env, GMP_DATABASE=cluster.conninfo(database),
                                                             GMP_AUDIT_NATIVE=native),
                       check=True, capture_output=True)
        cluster.psql(database, SETUP)
        if database == "native_base" and not args.baseline_as_is:
            cluster.psql(database, "SELECT set_config('gmp.reason', 'the baseline: the trigger as 1.0 declared it', false);"
                         + NATIVE_1_0_SETTINGS)
            # The worker as before its vacuum of the staging table (read as it connects: restarted).
            if cluster.psql(database, "SELECT count(*) FROM pg_settings WHERE name = 'gmp_chainer.vacuum_events'") == "1":
                old = chainer_pid(cluster, database)
                cluster.psql("postgres", f"ALTER DATABASE {database} SET gmp_chainer.vacuum_events = 0")
                cluster.psql("postgres", f"SELECT pg_terminate_backend({old})")
                while chainer_pid(cluster, database) == old:
                    time.sleep(0.2)
        bound = cluster.psql(database, "SELECT gmp_audit.audit_implementation()")
        print(f"database {database}: audit trigger {bound}, chainer pid {chainer_pid(cluster, database)}", flush=True)
        if bound != ("native" if native == "on" else "plpgsql"):
            raise RuntimeError(f"{database}: the audit trigger bound is {bound}")
    # Which library directory the server loads the extensions from ($libdir follows the
    # binaries: a copy of the installation with its own lib/ keeps other checkouts' builds out).
    libdir = cluster.psql("postgres", "SELECT setting FROM pg_config WHERE name = 'PKGLIBDIR'")
    print(f"server library directory: {libdir}", flush=True)
    pairs = [(d, s) for d in databases for s in SESSIONS]
    if args.only:
        pairs = [tuple(p.split(":")) for p in args.only.split(",")]

    tmp = tempfile.mkdtemp(prefix="bench_audit_twin.")
    atexit.register(shutil.rmtree, tmp, True)
    rows = {}
    for database, session in [pair for _ in range(args.repeat) for pair in pairs]:
        cpu = server_cpu(cluster, database, session, args.rounds, args.writes)
        twin, audited = cpu["twin"], cpu["audited"]
        rows[(database, session)] = {"cpu": cpu}
        print(f"{database:8s} {session:4s} server CPU a write: twin {twin['backend']:6.1f} µs, audited "
              f"{audited['backend']:6.1f} µs ({audited['backend'] / twin['backend']:.2f}x); with the chainer's "
              f"share: twin {twin['with chainer']:6.1f}, audited {audited['with chainer']:6.1f} µs "
              f"({audited['with chainer'] / twin['with chainer']:.2f}x); median of the rounds' ratios "
              f"{cpu['ratio']['backend']:.2f}x, with the chainer's share {cpu['ratio']['with chainer']:.2f}x "
              f"| load {load():.1f}", flush=True)
    for fsync in ("on", "off") if args.seconds > 0 else ():
        cluster.psql("postgres", f"ALTER SYSTEM SET fsync = {fsync}")
        cluster.psql("postgres", "SELECT pg_reload_conf()")
        time.sleep(0.5)
        for database, session in pairs:
            tps = pgbench_tps(cluster, database, session, args.rounds, args.seconds, tmp)
            rows[(database, session)][f"fsync {fsync}"] = tps
            print(f"{database:8s} {session:4s} pgbench -c 1, fsync {fsync:3s}: twin {tps['twin']:8.0f} tps, audited "
                  f"{tps['audited']:8.0f} tps ({tps['twin'] / tps['audited']:.2f}x the time) | load {load():.1f}",
                  flush=True)
    pending = {d: cluster.psql(d, "SELECT count(*) FROM gmp_audit.pending_event") for d in databases}
    print(f"pending after the runs: {pending}; load average at end {load():.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
