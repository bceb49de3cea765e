#!/usr/bin/env python3
"""gmp audit verify at scale (issue 18), each figure against a baseline of the same run.

Generates an audit trail of N events (default 1,000,000; --events 10000000), then:

1. events/s of `gmp audit verify` (the chain and, unless --no-reconcile, the tables
   replayed and compared) against `psql -c "COPY (…) TO STDOUT" | sha256sum` over the
   same rows, best of --runs. Goal: verify >= 1x the COPY baseline.
2. peak RSS (`/usr/bin/time -v`, "Maximum resident set size") of `gmp audit verify`,
   `gmp audit verify --no-reconcile` and `gmp audit report --csv`. Goal: < 64 MiB.

The trail is generated in bulk (generate() below): the rows of `gmp.bench_verify_row`
loaded with COPY FREEZE, their INSERT events chained here in hash format v2 exactly as
the row trigger records them, loaded with one COPY while gmp_audit.event has no indexes,
which are then built again and compared with their definitions before. On the bench's
own server (--data-dir) generation runs under bulk-load settings (BULK_SETTINGS), reset
with a restart and a CHECKPOINT before anything is measured. The trail is the real one:
`gmp audit verify` recomputes every hash and replays every row, and every measured run
asserts `intact` and the event count. --measure picks what is measured.

Started by `scripts/bench --verify`, on the bench's private embedded server (superuser
gmp_owner). Standard library only.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import struct
import subprocess
import sys
import time


def sh(argv, **kw):
    return subprocess.run(argv, check=True, text=True, capture_output=True, **kw)


COPY = ("COPY (SELECT seq, write_order, occurred_at, transaction_id, actor, action, table_name, record_key, "
        "old_values, new_values, reason, hash FROM gmp_audit.event ORDER BY seq) TO STDOUT")


TABLE = "gmp.bench_verify_row"


def field(value) -> bytes:
    """docs/audit-trail.md: 4-byte big-endian length, then the bytes; NULL is ff ff ff ff."""
    if value is None:
        return b"\xff\xff\xff\xff"
    if isinstance(value, str):
        value = value.encode()
    return struct.pack(">I", len(value)) + value


def row_values(n: int) -> tuple[str, str, str]:
    """Row n of gmp.bench_verify_row: (lot, step, note). No character COPY escapes."""
    return f"G1234{n % 100000:08d}", "passage", f"generated event {n}: viability 95.5 %, 24,000,000 cells"


def row_json(n: int, lot: str, step: str, note: str) -> str:
    """to_jsonb(row)::text exactly: jsonb orders keys by length, then bytewise."""
    return f'{{"id": {n}, "lot": "{lot}", "note": "{note}", "step": "{step}"}}'


# Only for generation, on the bench's own server: nothing that generation writes need
# survive a crash (fsync, full_page_writes), and WAL at wal_level = minimal skips the
# rows of a table created in the same transaction and every index build. Reset, then a
# restart and a CHECKPOINT, before anything is measured.
BULK_SETTINGS = {"fsync": "off", "full_page_writes": "off", "synchronous_commit": "off", "wal_level": "minimal",
                 "max_wal_senders": "0", "maintenance_work_mem": "2GB", "max_wal_size": "32GB",
                 "checkpoint_timeout": "1h"}


def server_cpu_seconds(data_dir: str) -> float:
    """CPU (user + system) the embedded server has used since it started: the postmaster's
    own, its exited children's (every backend, reaped by it) and its live children's."""
    with open(os.path.join(data_dir, "pgdata", "postmaster.pid")) as f:
        postmaster = f.readline().strip()
    ticks = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if pid == postmaster:
            ticks += sum(int(x) for x in fields[11:15])  # utime, stime, cutime, cstime
        elif fields[1] == postmaster:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def client_cpu_seconds() -> float:
    """CPU of this script and its finished children (psql)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def restart(gmp: str, env) -> None:
    """Restarts the embedded server at priority 0 even when this script runs under nice:
    the server is what is measured afterwards, and a niced server on a loaded machine
    gets almost no CPU (nice 10 weighs a tenth of nice 0)."""
    for verb in ("stop", "start"):
        subprocess.run([gmp, "db", verb], env=env, check=True, capture_output=True, text=True,
                       preexec_fn=(lambda: os.setpriority(os.PRIO_PROCESS, 0, 0)) if verb == "start" else None)


def event_indexes(psql) -> list[tuple[str, str]]:
    """Each index of gmp_audit.event with its definition, and each constraint with its own."""
    out = sh(psql + ["-At", "-F", "\t", "-c", """
        SELECT 'index ' || indexname, indexdef FROM pg_indexes WHERE schemaname = 'gmp_audit' AND tablename = 'event'
        UNION ALL
        SELECT 'constraint ' || conname, pg_get_constraintdef(oid) FROM pg_constraint
        WHERE conrelid = 'gmp_audit.event'::regclass
        ORDER BY 1"""]).stdout
    return [tuple(line.split("\t", 1)) for line in out.splitlines()]


def generate(psql, events: int) -> float:
    """Makes the chain hold about `events` events; returns the seconds it took.

    Three transactions, each chained as gmp chains any psql session (its DDL events at
    its commit):
    1. the table gmp.bench_verify_row is created and its rows loaded with COPY FREEZE
       (written once, never revisited by VACUUM), and gmp_audit.event loses its indexes
       and primary key (their definitions kept);
    2. from the chain head, the rows' INSERT events are computed here, hash format v2,
       exactly as the row trigger would have recorded them (to_jsonb(row)::text, whose
       text is reproduced here and checked against the server's below), and loaded with
       one COPY together with the new head; write orders are reserved with setval;
    3. the indexes and the primary key are built again from their definitions (one
       sort each instead of ten million random index insertions) and compared with the
       originals, and gmp_audit.audit_table gives the table its trigger.
    The result is a real trail: gmp audit verify recomputes every hash and replays
    every row, and the bench asserts `intact` and the event count.
    """
    start = time.monotonic()
    exists = sh(psql + ["-At", "-c", f"SELECT to_regclass('{TABLE}') IS NOT NULL"]).stdout.strip() == "t"
    have = int(sh(psql + ["-At", "-c", "SELECT seq FROM gmp_audit.chain_head"]).stdout.strip())
    if exists or have >= events:
        return 0.0
    rows = events - have
    before = event_indexes(psql)
    drops = "".join(f"ALTER TABLE gmp_audit.event DROP CONSTRAINT {name.split()[1]};\n"
                    for name, definition in before if name.startswith("constraint ") and definition.startswith("PRIMARY KEY"))
    primary = {name.split()[1] for name, d in before if name.startswith("constraint ") and d.startswith("PRIMARY KEY")}
    drops += "".join(f"DROP INDEX gmp_audit.{name.split()[1]};\n"
                     for name, _ in before if name.startswith("index ") and name.split()[1] not in primary)

    loader = subprocess.Popen(psql + ["-1", "-f", "-"], stdin=subprocess.PIPE, text=True, bufsize=1 << 20)
    loader.stdin.write(f"{drops}CREATE TABLE {TABLE} (id bigint PRIMARY KEY, lot text NOT NULL, step text NOT NULL, "
                       f"note text NOT NULL);\nCOPY {TABLE} FROM STDIN (FREEZE);\n")
    write = loader.stdin.write
    for n in range(1, rows + 1):
        lot, step, note = row_values(n)
        write(f"{n}\t{lot}\t{step}\t{note}\n")
    write("\\.\n")
    loader.stdin.close()
    if loader.wait() != 0:
        raise SystemExit("loading the rows failed")
    print(f"  {rows:,} rows loaded, event indexes dropped ({time.monotonic() - start:.1f} s); chaining…", file=sys.stderr)

    # The loader's own DDL events: a plain session leaves them to the server's background
    # chainer when one is connected (docs/audit-trail.md), so chain them here, now.
    sh(psql + ["-At", "-c", "SELECT gmp_audit.chain_pending()"])
    pending = sh(psql + ["-At", "-c", "SELECT count(*) FROM gmp_audit.pending_event"]).stdout.strip()
    assert pending == "0", f"{pending} events still pending: the head would move under the generator"
    head = sh(psql + ["-At", "-F", " ", "-c", """
        SELECT h.seq, encode(h.hash, 'hex'), setval('gmp_audit.write_order', w.last + $n$) - $n$ + 1,
               txid_current(), to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
        FROM gmp_audit.chain_head h,
             (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END AS last FROM gmp_audit.write_order) w
        """.replace("$n$", str(rows))]).stdout.split()
    seq, previous, write_order, txid, occurred = int(head[0]), bytes.fromhex(head[1]), int(head[2]), head[3], head[4]
    first = seq + 1
    occurred_copy = occurred.replace("T", " ").replace("Z", "+00")
    writer = subprocess.Popen(psql + ["-1", "-f", "-"], stdin=subprocess.PIPE, text=True, bufsize=1 << 20)
    writer.stdin.write("COPY gmp_audit.event (seq, write_order, occurred_at, transaction_id, actor, action, table_name, "
                       "record_key, old_values, new_values, reason, hash) FROM STDIN;\n")
    write = writer.stdin.write
    # Everything between write_order and the record key is the same for every event, and
    # old values and reason are NULL: only seq, write_order, key, row and previous vary.
    tag = field("gmp-audit-v2")
    constant = b"".join((field(occurred), field(txid), field("gmp_owner"), field("INSERT"), field(TABLE)))
    null = field(None)
    prefix = f"\t{occurred_copy}\t{txid}\tgmp_owner\tINSERT\t{TABLE}\t"
    pack, sha256 = struct.Struct(">I").pack, hashlib.sha256
    for n in range(1, rows + 1):
        seq += 1
        key = str(n)
        row = row_json(n, *row_values(n)).encode()
        s, w = str(seq), str(write_order)
        previous = sha256(b"".join((tag, pack(len(s)), s.encode(), pack(len(w)), w.encode(), constant,
                                    pack(len(key)), key.encode(), null, pack(len(row)), row, null,
                                    b"\x00\x00\x00\x20", previous))).digest()
        write(f"{s}\t{w}{prefix}{key}\t\\N\t{row.decode()}\t\\N\t\\\\x{previous.hex()}\n")
        write_order += 1
    write(f"\\.\nUPDATE gmp_audit.chain_head SET seq = {seq}, hash = '\\x{previous.hex()}';\n")
    writer.stdin.close()
    if writer.wait() != 0:
        raise SystemExit("loading the events failed")
    print(f"  {rows:,} events chained and loaded ({time.monotonic() - start:.1f} s); building the indexes…",
          file=sys.stderr)

    builds = "".join(f"ALTER TABLE gmp_audit.event ADD CONSTRAINT {name.split()[1]} {definition};\n"
                     for name, definition in before if name.startswith("constraint ") and name.split()[1] in primary)
    builds += "".join(f"{definition};\n" for name, definition in before
                      if name.startswith("index ") and name.split()[1] not in primary)
    sh(psql + ["-1", "-c", builds])
    after = event_indexes(psql)
    assert after == before, f"gmp_audit.event's indexes differ after the load:\n{before}\n{after}"
    # The rows' text as the server prints it, against the text hashed above: first and last.
    differ = sh(psql + ["-At", "-c", f"""
        SELECT count(*) FROM gmp_audit.event e JOIN {TABLE} r ON r.id = e.seq - {first - 1}
        WHERE (e.seq < {first + 1000} OR e.seq > {seq - 1000}) AND e.seq BETWEEN {first} AND {seq}
          AND (e.new_values::text <> to_jsonb(r)::text OR e.record_key <> r.id::text)"""]).stdout.strip()
    assert differ == "0", f"{differ} generated events differ from to_jsonb of their rows"
    sh(psql + ["-c", f"SELECT gmp_audit.audit_table('{TABLE}', 'id')"])
    sh(psql + ["-c", "VACUUM (FREEZE, ANALYZE) gmp_audit.event", "-c", f"VACUUM ANALYZE {TABLE}"])
    return time.monotonic() - start


def peak_rss_kib(argv, env) -> tuple[int, float, str]:
    """Runs argv under /usr/bin/time -v; returns peak RSS (KiB), seconds and stdout."""
    start = time.monotonic()
    proc = subprocess.run(["/usr/bin/time", "-v"] + argv, env=env, text=True, capture_output=True)
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1))
    return rss, seconds, proc.stdout


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gmp", required=True)
    ap.add_argument("--data-dir", help="the bench's embedded server (scripts/bench)")
    ap.add_argument("--database", help="instead: a libpq connection string, as a superuser, to a database "
                                       "migrated by gmp db migrate")
    ap.add_argument("--psql", default="psql")
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--compare", metavar="GMP", help="also time full verify (and, with --checkpoint, verify from it) "
                                                     "with this other gmp binary (e.g. main's release build) in the "
                                                     "same run: before and after a change")
    ap.add_argument("--no-bulk-settings", action="store_true",
                    help="generate under the server's own settings (with --database they always are)")
    ap.add_argument("--measure", default="baseline,verify,chain,report",
                    help="which to measure, comma-separated: baseline, verify, chain (--no-reconcile), report")
    ap.add_argument("--checkpoint", metavar="FILE",
                    help="also time gmp audit verify --checkpoint FILE (a v3 checkpoint: the incremental "
                         "reconciliation, issue 18); needs --public-key")
    ap.add_argument("--public-key", metavar="FILE")
    args = ap.parse_args()
    if not (args.data_dir or args.database):
        ap.error("give --data-dir or --database")
    conn = args.database or f"host={os.path.join(args.data_dir, 'run')} dbname=gmp user=gmp_owner"
    psql = [args.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", conn]
    env = dict(os.environ, GMP_DATA_DIR=args.data_dir) if args.data_dir else dict(os.environ, GMP_DATABASE=conn)

    print(f"generating the trail up to {args.events:,} events…", file=sys.stderr)
    exists = sh(psql + ["-At", "-c", f"SELECT to_regclass('{TABLE}') IS NOT NULL"]).stdout.strip() == "t"
    bulk = args.data_dir and not args.no_bulk_settings and not exists
    if bulk:
        sh(psql + [arg for name, value in BULK_SETTINGS.items() for arg in ("-c", f"ALTER SYSTEM SET {name} = '{value}'")])
        restart(args.gmp, env)
    cpu = (client_cpu_seconds(), server_cpu_seconds(args.data_dir) if args.data_dir else 0.0)
    try:
        generation = generate(psql, args.events)
        if generation:
            client, server = client_cpu_seconds() - cpu[0], (server_cpu_seconds(args.data_dir) - cpu[1]
                                                             if args.data_dir else float("nan"))
            print(f"  generation: {generation:.1f} s wall, CPU {client:.1f} s here (script and psql) and "
                  f"{server:.1f} s in the server; load average {os.getloadavg()[0]:.1f}", file=sys.stderr)
    finally:
        if bulk:
            sh(psql + [arg for name in BULK_SETTINGS for arg in ("-c", f"ALTER SYSTEM RESET {name}")])
            restart(args.gmp, env)
            sh(psql + ["-c", "CHECKPOINT"])
    # Events left pending (gmp db migrate's, say) are chained first: verify counts them.
    sh(psql + ["-c", "SELECT gmp_audit.chain_pending(NULL)"])
    events = int(sh(psql + ["-At", "-c", "SELECT seq FROM gmp_audit.chain_head"]).stdout.strip())
    rows = int(sh(psql + ["-At", "-c", "SELECT count(*) FROM gmp.bench_verify_row"]).stdout.strip())
    sh(psql + ["-c", "VACUUM ANALYZE gmp_audit.event", "-c", "VACUUM ANALYZE gmp.bench_verify_row"])

    measure = set(args.measure.split(","))
    load = [os.getloadavg()[0]]
    timings, rss = {}, {}
    for _ in range(args.runs):
        if "baseline" in measure:
            start = time.monotonic()
            subprocess.run(f"{args.psql} -X -d '{conn}' -c \"{COPY}\" | sha256sum > /dev/null", shell=True, check=True)
            timings.setdefault("psql", []).append(time.monotonic() - start)
        runs = [("verify", args.gmp, []), ("verify_chain_only", args.gmp, ["--no-reconcile"])]
        if args.compare:
            runs.append(("verify_compared", args.compare, []))
        if args.checkpoint:
            from_checkpoint = ["--checkpoint", args.checkpoint, "--public-key", args.public_key]
            runs.append(("verify_checkpoint", args.gmp, from_checkpoint))
            if args.compare:
                runs.append(("verify_checkpoint_compared", args.compare, from_checkpoint))
        for name, binary, extra in runs:
            if ("chain" if name == "verify_chain_only" else "verify") not in measure:
                continue
            kib, seconds, out = peak_rss_kib([binary, "audit", "verify", "--json"] + extra, env)
            doc = json.loads(out)
            assert doc["intact"] and doc["events"] == events, ({k: doc.get(k) for k in ("intact", "events", "first_break")}, events)
            if name.startswith("verify_checkpoint"):
                assert doc["reconciliation"]["incremental_from"], doc["reconciliation"].get("full_because")
                print(f"  from checkpoint event {doc['reconciliation']['incremental_from']:,}: "
                      f"{doc['reconciliation']['rows_checked']:,} rows read", file=sys.stderr)
            timings.setdefault(name, []).append(seconds)
            rss[name] = max(rss.get(name, 0), kib)
        print(f"  run done: {({k: round(v[-1], 2) for k, v in timings.items()})}", file=sys.stderr)
    report_lines = 0
    if "report" in measure:
        kib, seconds, out = peak_rss_kib([args.gmp, "audit", "report", "--csv"], env)
        rss["report_csv"] = kib
        timings["report_csv"] = [seconds]
        report_lines = out.count("\n")
    load.append(os.getloadavg()[0])

    best = {k: min(v) for k, v in timings.items()}
    print(f"trail: {events:,} events ({rows:,} rows in gmp.bench_verify_row), generated in {generation:.1f} s",
          file=sys.stderr)
    baseline = best.get("psql")
    if baseline:
        print(f"psql COPY | sha256sum:           {events / baseline:12,.0f} events/s ({baseline:.2f} s)", file=sys.stderr)
    for name in ("verify", "verify_chain_only"):
        if name in best:
            print(f"gmp audit verify{' --no-reconcile' if name != 'verify' else '               '}: "
                  f"{events / best[name]:12,.0f} events/s ({best[name]:.2f} s), peak RSS {rss[name] / 1024:.1f} MiB"
                  + (f", {baseline / best[name]:.2f}x the COPY baseline (goal >= 1.00)" if baseline else ""),
                  file=sys.stderr)
    for name, binary in (("verify_checkpoint", "gmp"), ("verify_checkpoint_compared", args.compare)):
        if name in best:
            print(f"{binary} audit verify --checkpoint (v3, incremental): {events / best[name]:12,.0f} events/s "
                  f"({best[name]:.2f} s"
                  + (f", {baseline / best[name]:.2f}x the COPY baseline" if baseline else "")
                  + f"), peak RSS {rss[name] / 1024:.1f} MiB", file=sys.stderr)
    if "verify_compared" in best:
        print(f"{args.compare} audit verify: {events / best['verify_compared']:12,.0f} events/s "
              f"({best['verify_compared']:.2f} s"
              + (f", {baseline / best['verify_compared']:.2f}x the baseline" if baseline else "")
              + f"), peak RSS {rss['verify_compared'] / 1024:.1f} MiB", file=sys.stderr)
    if "report_csv" in best:
        print(f"gmp audit report --csv: {best['report_csv']:.2f} s, {report_lines:,} lines"
              + (f" ({baseline / best['report_csv']:.2f}x the COPY baseline)" if baseline else "")
              + f", peak RSS {rss['report_csv'] / 1024:.1f} MiB (goal < 64 MiB)", file=sys.stderr)
    print(f"load average (1 min) at start and end: {load[0]:.1f}, {load[1]:.1f}", file=sys.stderr)
    if args.json:
        print(json.dumps({"events": events, "rows": rows, "generation_seconds": generation,
                          "seconds": best, "events_per_second": {k: events / v for k, v in best.items()},
                          "verify_vs_copy": baseline / best["verify"] if baseline and "verify" in best else None,
                          "vs_copy": {k: baseline / v for k, v in best.items()} if baseline else {},
                          "load_average": load, "peak_rss_mib": {k: v / 1024 for k, v in rss.items()}},
                         indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
