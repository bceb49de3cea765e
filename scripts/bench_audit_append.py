#!/usr/bin/env python3
"""Audit-append benchmarks for issue 19, each against a baseline measured in the same run.

1. Throughput under concurrency: pgbench at 1, 4, 8 and 16 clients, one single-row INSERT
   per transaction, into an audited table against the same INSERT into an unaudited twin.
   The audited client sends exactly what gmp sends (docs/audit-trail.md, "lazy chaining";
   session setting gmp.audit_chain = after_commit): BEGIN, the INSERT, the commit receipt
   statement, which also asks whether chaining is due (gmp_audit.chain_due), COMMIT, and
   only when it was due, chain_if_due in a statement of its own. The twin ("gmp's shape")
   is the same transaction into the unaudited table, receipt included and no due question;
   the bare INSERT twin of earlier figures is measured too. With --baseline, gmp's way as
   it was before (the receipt, then chain_if_due after EVERY commit) on the baseline
   database; with --baseline-same-way, gmp's way of now there too (the same code bound
   otherwise: the native audit trigger against the PL/pgSQL, docs/audit-trail.md). In the same run, for comparison: the same client
   chaining after EVERY commit (chain_pending(10000, true): gmp before lazy chaining), a
   client that chains at its COMMIT (psql's way), and one in gmp.audit_chain = lazy mode
   (chains at its COMMIT when due, never waiting).
   Goal: audited >= 0.5x the twin at 16 clients.
2. In-server cost of one audited write: the same single-row INSERTs at 1 client with
   synchronous_commit = off (the commit's disk flush, which dominates both, left out),
   audited (gmp's way) against the twin. Goal: <= 2x.
   And the same cost as the server's own CPU (the backend's run time from
   /proc/PID/schedstat, the least of --rounds runs of --writes writes in one session): what
   the writes cost the server whatever else the machine runs, on each database (--baseline
   too). Needs the server on this machine and permission to read its /proc entries.
3. Bulk append: 1,000, 10,000 and 100,000 rows into the audited table in ONE transaction
   (INSERT ... SELECT), the rate of the write itself and of chaining its events after.
   Goal: a flat rate.

Needs a database migrated by gmp (gmp db migrate) and a superuser connection string.
Standard library only; psql and pgbench from PATH or --bin.

    scripts/bench_audit_append.py --database "host=/tmp/x dbname=gmp user=gmp_test"

With or without the background chainer (extension/gmp_chainer) in one run: --other names
a database of a second cluster (same code, the library not preloaded); gmp's way and its
twin are measured there too, interleaved; with track_functions on in both, the count of
chain_if_due the runs sent shows whether writers still chain.

Before/after in one run: --baseline names a second database of the same cluster holding
the code to compare with (e.g. migrated by the previous gmp); gmp's way is then measured
on both, interleaved with the twin, --rounds times per client count, and each figure is
the median of its rounds, printed with the load average (the machine is often shared).
"""
from __future__ import annotations

import argparse
import atexit
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


class ServerCPU:
    """Runs statements in one libpq session (ctypes, simple protocol as pgbench) and reads
    its backend's CPU time (ns, /proc/PID/schedstat): the server's cost, not the machine's load."""

    def __init__(self):
        import ctypes
        import ctypes.util
        pq = ctypes.CDLL(ctypes.util.find_library("pq") or "libpq.so.5")
        pq.PQconnectdb.restype, pq.PQconnectdb.argtypes = ctypes.c_void_p, [ctypes.c_char_p]
        pq.PQstatus.argtypes = [ctypes.c_void_p]
        pq.PQbackendPID.argtypes = [ctypes.c_void_p]
        pq.PQexec.restype, pq.PQexec.argtypes = ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_char_p]
        pq.PQresultStatus.argtypes = [ctypes.c_void_p]
        pq.PQresultErrorMessage.restype, pq.PQresultErrorMessage.argtypes = ctypes.c_char_p, [ctypes.c_void_p]
        pq.PQclear.argtypes = [ctypes.c_void_p]
        pq.PQntuples.argtypes = [ctypes.c_void_p]
        pq.PQfnumber.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        pq.PQgetvalue.restype, pq.PQgetvalue.argtypes = ctypes.c_char_p, [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
        pq.PQfinish.argtypes = [ctypes.c_void_p]
        self.pq = pq

    # A statement run only when the last column named "due" read true (gmp's way: chain_if_due
    # only when the receipt statement found chaining due).
    IF_DUE = "if due: "

    def per_write_us(self, conninfo: str, statements: list[str], writes: int) -> float:
        """Backend CPU (microseconds) per run of `statements`, after a warm-up of 300 runs."""
        pq = self.pq
        conn = pq.PQconnectdb(conninfo.encode())
        try:
            if pq.PQstatus(conn) != 0:
                raise RuntimeError("connection failed")
            encoded = [s.encode() for s in statements]

            condition = self.IF_DUE.encode()

            def run(n):
                for _ in range(n):
                    due = False
                    for sql in encoded:
                        if sql.startswith(condition):
                            if not due:
                                continue
                            sql = sql[len(condition):]
                        result = pq.PQexec(conn, sql)
                        if pq.PQresultStatus(result) not in (1, 2):
                            raise RuntimeError(pq.PQresultErrorMessage(result).decode())
                        column = pq.PQfnumber(result, b"due")
                        if column >= 0 and pq.PQntuples(result) > 0:
                            due = pq.PQgetvalue(result, 0, column) in (b"t", b"1")
                        pq.PQclear(result)
            run(300)
            with open(f"/proc/{pq.PQbackendPID(conn)}/schedstat") as f:
                start = int(f.read().split()[0])
            run(writes)
            with open(f"/proc/{pq.PQbackendPID(conn)}/schedstat") as f:
                return (int(f.read().split()[0]) - start) / writes / 1e3
        finally:
            pq.PQfinish(conn)


def sh(argv, env=None):
    return subprocess.run(argv, check=True, text=True, capture_output=True, env=env).stdout


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--database", required=True, help="libpq connection string of a migrated gmp database (superuser)")
    ap.add_argument("--bin", default="", help="directory of psql and pgbench")
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--clients", default="1,4,8,16")
    ap.add_argument("--baseline", default="", help="a second database with the code to compare with (before)")
    ap.add_argument("--other", default="", help="a database of another cluster (e.g. without the background chainer, "
                    "extension/gmp_chainer) where gmp's way is measured too, interleaved")
    ap.add_argument("--other-label", default="other", help="what to call --other in the figures")
    ap.add_argument("--baseline-same-way", action="store_true",
                    help="the baseline sends what gmp sends now too (the same code, another binding: e.g. a database "
                         "migrated with GMP_AUDIT_NATIVE=off against one with the native audit trigger)")
    ap.add_argument("--rounds", type=int, default=1, help="runs of each measurement per client count; the median is shown")
    ap.add_argument("--no-bulk", action="store_true", help="skip the bulk-append part")
    ap.add_argument("--writes", type=int, default=3000, help="writes per run of the server-CPU measurement")
    args = ap.parse_args()
    psql_bin = os.path.join(args.bin, "psql") if args.bin else "psql"
    pgbench_bin = os.path.join(args.bin, "pgbench") if args.bin else "pgbench"
    psql = [psql_bin, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", args.database]

    setup = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_audit_tables.sql")).read()
    databases = ({"": args.database} | ({"before": args.baseline} if args.baseline else {})
                 | ({"other": args.other} if args.other else {}))
    for database in databases.values():
        sh([psql_bin, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", setup])
    fsync = sh(psql + ["-At", "-c", "SHOW fsync"]).strip()
    sync = sh(psql + ["-At", "-c", "SHOW synchronous_commit"]).strip()
    print(f"server: fsync={fsync}, synchronous_commit={sync}, cores={os.cpu_count()}")
    for label, database in databases.items():
        implementation = sh([psql_bin, "-X", "-At", "-d", database, "-c",
                             "SELECT CASE WHEN to_regprocedure('gmp_audit.audit_implementation()') IS NULL THEN 'plpgsql'"
                             " ELSE gmp_audit.audit_implementation() END"]).strip()
        print(f"audit trigger{' (' + label + ')' if label else ''}: {implementation}")

    scripts = {
        "twin": "INSERT INTO public.bench_plain (note) VALUES ('bench row');\n",
        # gmp's transaction shape, unaudited: what the audited way is compared with.
        "twin_txn": ("BEGIN;\nINSERT INTO public.bench_plain (note) VALUES ('bench row');\n"
                     "SELECT gmp_meta.write_commit_receipt(gen_random_uuid()) AS id;\nCOMMIT;\n"),
        # What gmp sends now: chain_if_due only when the receipt statement found it due.
        "audited": ("BEGIN;\nINSERT INTO gmp.bench_audited (note) VALUES ('bench row');\n"
                    "SELECT gmp_meta.write_commit_receipt(gen_random_uuid()) AS id, gmp_audit.chain_due()::int AS due \\gset\n"
                    "COMMIT;\n\\if :due\nSELECT gmp_audit.chain_if_due(10000);\n\\endif\n"),
        # What gmp sent before (the baseline database): chain_if_due after every commit.
        "audited_before": ("BEGIN;\nINSERT INTO gmp.bench_audited (note) VALUES ('bench row');\n"
                           "SELECT gmp_meta.write_commit_receipt(gen_random_uuid()) AS id;\nCOMMIT;\n"
                           "SELECT gmp_audit.chain_if_due(10000);\n"),
        "every_commit": ("INSERT INTO gmp.bench_audited (note) VALUES ('bench row');\n"
                         "SELECT gmp_audit.chain_pending(10000, true);\n"),
        "at_commit": "INSERT INTO gmp.bench_audited (note) VALUES ('bench row');\n",
        "lazy_at_commit": "INSERT INTO gmp.bench_audited (note) VALUES ('bench row');\n",
    }
    if args.baseline_same_way:
        scripts["audited_before"] = scripts["audited"]
    options = {"twin": "", "twin_txn": "", "audited": "-c gmp.audit_chain=after_commit",
               "audited_before": "-c gmp.audit_chain=after_commit",
               "every_commit": "-c gmp.audit_chain=after_commit", "at_commit": "", "lazy_at_commit": "-c gmp.audit_chain=lazy"}
    clients = [int(c) for c in args.clients.split(",")]
    # chain_if_due sent by the runs below (counted when track_functions is on): what gmp's
    # way sends after its commits, the set-up's calls (gmp db migrate's) left out.
    sent_query = ("SELECT coalesce((SELECT sum(calls) FROM pg_stat_user_functions WHERE schemaname = 'gmp_audit'"
                  " AND funcname = 'chain_if_due'), 0)")
    sent_before = {label: int(sh([psql_bin, "-X", "-At", "-d", database, "-c", sent_query]).strip())
                   for label, database in databases.items()}
    # (script, database label): the twin and the comparisons on --database only.
    runs = ([("twin", ""), ("twin_txn", ""), ("audited", "")] + ([("audited_before", "before")] if args.baseline else [])
            + ([("twin_txn", "other"), ("audited", "other")] if args.other else [])
            + [("every_commit", ""), ("at_commit", ""), ("lazy_at_commit", "")])
    results: dict[tuple[str, str, int], tuple[float, int]] = {}
    tmp = tempfile.mkdtemp(prefix="bench_audit_append.")
    atexit.register(shutil.rmtree, tmp, True)
    for name, body in scripts.items():
        with open(os.path.join(tmp, name + ".sql"), "w") as f:
            f.write(body)
    for n in clients:
        samples: dict[tuple[str, str], list[float]] = {run: [] for run in runs}
        failures: dict[tuple[str, str], int] = {run: 0 for run in runs}
        load = []
        for _ in range(args.rounds):
            for name, label in runs:
                env = dict(os.environ, PGOPTIONS=options[name])
                out = sh([pgbench_bin, "-n", "-f", os.path.join(tmp, name + ".sql"), "-T", str(args.seconds),
                          "-c", str(n), "-j", str(min(n, 4)), databases[label]], env=env)
                samples[(name, label)].append(float(re.search(r"tps = ([0-9.]+)", out).group(1)))
                failed = re.search(r"number of failed transactions: ([0-9]+)", out)
                failures[(name, label)] += int(failed.group(1)) if failed else 0
                load.append(os.getloadavg()[0])
        for run in runs:
            results[(run[0], run[1], n)] = (statistics.median(samples[run]), failures[run])
        twin = results[("twin_txn", "", n)][0]
        bare = results[("twin", "", n)][0]
        line = (f"{n:2d} clients: twin (gmp's shape) {twin:8.0f} tps | audited (gmp's way) "
                f"{results[('audited', '', n)][0]:8.0f} tps ({results[('audited', '', n)][0] / twin:.2f}x)")
        if args.baseline:
            line += (f" | before: {results[('audited_before', 'before', n)][0]:8.0f} tps "
                     f"({results[('audited_before', 'before', n)][0] / twin:.2f}x)")
        if args.other:
            other_twin = results[('twin_txn', 'other', n)][0]
            other = results[('audited', 'other', n)][0]
            line += (f" | {args.other_label}: twin {other_twin:8.0f} tps, audited {other:8.0f} tps "
                     f"({other / other_twin:.2f}x its twin, {other / twin:.2f}x this twin)")
        line += f" | bare INSERT twin {bare:8.0f} tps (audited {results[('audited', '', n)][0] / bare:.2f}x)"
        for name, label in (("every_commit", "chained after every commit"), ("at_commit", "chained at COMMIT"),
                            ("lazy_at_commit", "lazy at COMMIT")):
            tps = results[(name, '', n)][0]
            line += f" | {label} {tps:8.0f} tps ({tps / bare:.2f}x bare)"
        line += f" | failed {sum(failures.values())} | load {min(load):.1f}-{max(load):.1f}"
        print(line, flush=True)
    for label, database in databases.items():
        pending = sh([psql_bin, "-X", "-At", "-d", database, "-c", "SELECT count(*) FROM gmp_audit.pending_event"]).strip()
        tracked = sh([psql_bin, "-X", "-At", "-d", database, "-c", "SHOW track_functions"]).strip()
        sent = int(sh([psql_bin, "-X", "-At", "-d", database, "-c", sent_query]).strip()) - sent_before[label]
        name = {"": "this database", "before": "baseline", "other": args.other_label}[label]
        print(f"after the runs, {name}: {pending} pending; chain_if_due sent {sent} times by the runs"
              + ("" if tracked != "none" else " (not counted: track_functions is off)"))
    chained = sh(psql + ["-At", "-c", "SELECT gmp_audit.chain_pending()"]).strip()
    print(f"chained by a reader after the runs: {chained}")

    # In-server cost: one client, the commit's flush left out.
    cost = {"twin_txn": [], "audited": []}
    for _ in range(args.rounds):
        for name in cost:
            env = dict(os.environ, PGOPTIONS=options[name] + " -c synchronous_commit=off")
            out = sh([pgbench_bin, "-n", "-f", os.path.join(tmp, name + ".sql"), "-T", str(args.seconds),
                      "-c", "1", args.database], env=env)
            cost[name].append(float(re.search(r"tps = ([0-9.]+)", out).group(1)))
    twin, audited = statistics.median(cost["twin_txn"]), statistics.median(cost["audited"])
    print(f"in-server, 1 client, synchronous_commit off: twin {1e3 / twin:.3f} ms, audited {1e3 / audited:.3f} ms "
          f"a write: {twin / audited:.2f}x | load {os.getloadavg()[0]:.1f}", flush=True)

    # In-server cost as the server's CPU: each database, twin and audited (gmp's way)
    # interleaved, the least of the rounds (the machine's load only ever adds to it).
    try:
        meter = ServerCPU()
        receipt = "SELECT gmp_meta.write_commit_receipt(gen_random_uuid()) AS id"
        ways = {  # per database label: what gmp sends there (the baseline: gmp before)
            "": ["BEGIN", "INSERT INTO gmp.bench_audited (note) VALUES ('bench row')",
                 receipt + ", gmp_audit.chain_due() AS due", "COMMIT", ServerCPU.IF_DUE + "SELECT gmp_audit.chain_if_due(10000)"],
            "before": ["BEGIN", "INSERT INTO gmp.bench_audited (note) VALUES ('bench row')", receipt, "COMMIT",
                       "SELECT gmp_audit.chain_if_due(10000)"]}
        if args.baseline_same_way:
            ways["before"] = ways[""]
        for label, database in databases.items():
            statements = {"bare twin": ["INSERT INTO public.bench_plain (note) VALUES ('bench row')"],
                          "twin": ["BEGIN", "INSERT INTO public.bench_plain (note) VALUES ('bench row')", receipt, "COMMIT"],
                          "audited": ways.get(label, ways[""])}
            cpu = {name: [] for name in statements}
            for _ in range(max(args.rounds, 3)):
                for name, sql in statements.items():
                    options = "-c synchronous_commit=off" + (" -c gmp.audit_chain=after_commit" if name == "audited" else "")
                    cpu[name].append(meter.per_write_us(f"{database} options='{options}'", sql, args.writes))
            bare, twin, audited = min(cpu["bare twin"]), min(cpu["twin"]), min(cpu["audited"])
            print(f"server CPU a write{' (' + label + ')' if label else ''}: twin (gmp's shape) {twin:.1f} us, audited "
                  f"(gmp's way) {audited:.1f} us: {audited / twin:.2f}x; bare INSERT twin {bare:.1f} us "
                  f"({audited / bare:.2f}x) | load {os.getloadavg()[0]:.1f}", flush=True)
        sh(psql + ["-At", "-c", "SELECT gmp_audit.chain_pending()"])
    except (OSError, RuntimeError) as error:
        print(f"server CPU not measured: {error}", flush=True)

    if args.no_bulk:
        return 0
    env = dict(os.environ, PGOPTIONS="-c gmp.audit_chain=after_commit")
    for rows in (1_000, 10_000, 100_000):
        start = time.monotonic()
        sh(psql + ["-c", f"INSERT INTO gmp.bench_audited (note) SELECT 'bulk ' || g FROM generate_series(1, {rows}) g"], env=env)
        write = time.monotonic() - start
        start = time.monotonic()
        chained = 0
        while True:
            n = int(sh(psql + ["-At", "-c", "SELECT gmp_audit.chain_pending(10000)"], env=env).strip())
            chained += n
            if n < 10000:
                break
        chain = time.monotonic() - start
        start = time.monotonic()
        sh(psql + ["-c", f"INSERT INTO public.bench_plain (note) SELECT 'bulk ' || g FROM generate_series(1, {rows}) g"])
        twin = time.monotonic() - start
        print(f"bulk {rows:7d} rows in one transaction: write {rows / write:9.0f} rows/s ({write:.2f} s), "
              f"then chaining {chained / chain:9.0f} events/s ({chain:.2f} s); twin {rows / twin:9.0f} rows/s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
