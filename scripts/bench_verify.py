#!/usr/bin/env python3
"""gmp audit verify at scale (issue 18), each figure against a baseline of the same run.

Generates an audit trail of N events (default 1,000,000; --events 10000000), then:

1. events/s of `gmp audit verify` (the chain and, unless --no-reconcile, the tables
   replayed and compared) against `psql -c "COPY (…) TO STDOUT" | sha256sum` over the
   same rows, best of --runs. Goal: verify >= 1x the COPY baseline.
2. peak RSS (`/usr/bin/time -v`, "Maximum resident set size") of `gmp audit verify`,
   `gmp audit verify --no-reconcile` and `gmp audit report --csv`. Goal: < 64 MiB.

The trail is generated in bulk, in the server: `INSERT … SELECT generate_series` into
an audited table `gmp.bench_verify_row`, in transactions of --batch rows, in a session
with `gmp.audit_chain = after_commit`: the row trigger only stages each event
(`gmp_audit.pending_event`, O(1) a row), and one `gmp_audit.chain_pending(NULL)` per
batch chains the whole batch in one transaction, set-wise in write order, as gmp itself
does after each command (docs/audit-trail.md, "stage, then chain"). The trail is the
real one: real events, real v2 hashes, rows in the table that the reconciliation finds
in the trail, so `gmp audit verify` must (and does, checked) call it intact.

Started by `scripts/bench --verify`, on the bench's private embedded server (superuser
gmp_owner). Standard library only.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
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


def generate(psql, events: int) -> float:
    """Makes the chain hold about `events` events; returns the seconds it took.

    The rows go into the table before its audit trigger exists (plain INSERT … SELECT),
    then their INSERT events are computed here, hash format v2 chained from the head, and
    loaded with COPY together with the new head, in one transaction; then the table gets
    its audit trigger (gmp_audit.audit_table), whose DDL events chain on top as usual.
    The rows' JSON is read back from the server (to_jsonb(row)::text), so each event holds
    exactly the text the row trigger would have recorded.
    """
    start = time.monotonic()
    exists = sh(psql + ["-At", "-c", f"SELECT to_regclass('{TABLE}') IS NOT NULL"]).stdout.strip() == "t"
    have = int(sh(psql + ["-At", "-c", "SELECT seq FROM gmp_audit.chain_head"]).stdout.strip())
    if exists or have >= events:
        return 0.0
    rows = events - have
    sh(psql + ["-c", f"CREATE TABLE {TABLE} (id bigint PRIMARY KEY, lot text NOT NULL, step text NOT NULL, "
                     "note text NOT NULL)",
               "-c", f"""INSERT INTO {TABLE} SELECT g, 'G1234' || lpad((g % 100000)::text, 8, '0'), 'passage',
                             'generated event ' || g || ': viability 95.5 %, 24,000,000 cells'
                         FROM generate_series(1, {rows}) g"""])
    print(f"  {rows:,} rows inserted ({time.monotonic() - start:.1f} s); chaining their events…", file=sys.stderr)
    head = sh(psql + ["-At", "-F", " ", "-c", """
        SELECT h.seq, encode(h.hash, 'hex'), setval('gmp_audit.write_order', w.last + $n$) - $n$ + 1,
               txid_current(), to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
        FROM gmp_audit.chain_head h,
             (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END AS last FROM gmp_audit.write_order) w
        """.replace("$n$", str(rows))]).stdout.split()
    seq, previous, write_order, txid, occurred = int(head[0]), bytes.fromhex(head[1]), int(head[2]), head[3], head[4]
    occurred_copy = occurred.replace("T", " ").replace("Z", "+00")
    reader = subprocess.Popen(psql + ["-c", f"COPY (SELECT id, to_jsonb(r)::text FROM {TABLE} r ORDER BY id) TO STDOUT"],
                              stdout=subprocess.PIPE, text=True, bufsize=1 << 20)
    writer = subprocess.Popen(psql + ["-1", "-f", "-"], stdin=subprocess.PIPE, text=True, bufsize=1 << 20)
    writer.stdin.write("COPY gmp_audit.event (seq, write_order, occurred_at, transaction_id, actor, action, table_name, "
                       "record_key, old_values, new_values, reason, hash) FROM STDIN;\n")
    constant = (field(occurred), field(txid), field("gmp_owner"), field("INSERT"), field(TABLE))
    tag = field("gmp-audit-v2")
    for line in reader.stdout:
        key, row = line.rstrip("\n").split("\t")
        assert "\\" not in row, "generated rows hold no character COPY escapes"
        seq += 1
        previous = hashlib.sha256(b"".join((tag, field(str(seq)), field(str(write_order))) + constant
                                           + (field(key), field(None), field(row), field(None), field(previous)))).digest()
        writer.stdin.write(f"{seq}\t{write_order}\t{occurred_copy}\t{txid}\tgmp_owner\tINSERT\t{TABLE}\t{key}\t\\N\t"
                           f"{row}\t\\N\t\\\\x{previous.hex()}\n")
        write_order += 1
    writer.stdin.write(f"\\.\nUPDATE gmp_audit.chain_head SET seq = {seq}, hash = '\\x{previous.hex()}';\n")
    writer.stdin.close()
    if reader.wait() != 0 or writer.wait() != 0:
        raise SystemExit("generating the trail failed")
    sh(psql + ["-c", f"SELECT gmp_audit.audit_table('{TABLE}', 'id')"])
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
    ap.add_argument("--compare", metavar="GMP", help="also time full verify with this other gmp binary (e.g. main's "
                                                     "release build) in the same run: before and after a change")
    args = ap.parse_args()
    if not (args.data_dir or args.database):
        ap.error("give --data-dir or --database")
    conn = args.database or f"host={os.path.join(args.data_dir, 'run')} dbname=gmp user=gmp_owner"
    psql = [args.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", conn]
    env = dict(os.environ, GMP_DATA_DIR=args.data_dir) if args.data_dir else dict(os.environ, GMP_DATABASE=conn)

    print(f"generating the trail up to {args.events:,} events…", file=sys.stderr)
    generation = generate(psql, args.events)
    events = int(sh(psql + ["-At", "-c", "SELECT seq FROM gmp_audit.chain_head"]).stdout.strip())
    rows = int(sh(psql + ["-At", "-c", "SELECT count(*) FROM gmp.bench_verify_row"]).stdout.strip())
    sh(psql + ["-c", "VACUUM ANALYZE gmp_audit.event", "-c", "VACUUM ANALYZE gmp.bench_verify_row"])

    load = [os.getloadavg()[0]]
    timings = {"verify": [], "verify_chain_only": [], "psql": []}
    rss = {}
    for _ in range(args.runs):
        start = time.monotonic()
        subprocess.run(f"{args.psql} -X -d '{conn}' -c \"{COPY}\" | sha256sum > /dev/null", shell=True, check=True)
        timings["psql"].append(time.monotonic() - start)
        runs = [("verify", args.gmp, []), ("verify_chain_only", args.gmp, ["--no-reconcile"])]
        if args.compare:
            runs.append(("verify_compared", args.compare, []))
            timings.setdefault("verify_compared", [])
        for name, binary, extra in runs:
            kib, seconds, out = peak_rss_kib([binary, "audit", "verify", "--json"] + extra, env)
            doc = json.loads(out)
            assert doc["intact"] and doc["events"] == events, {k: doc[k] for k in ("intact", "events", "first_break")}
            timings[name].append(seconds)
            rss[name] = max(rss.get(name, 0), kib)
    kib, seconds, out = peak_rss_kib([args.gmp, "audit", "report", "--csv"], env)
    rss["report_csv"] = kib
    timings["report_csv"] = [seconds]
    report_lines = out.count("\n")
    load.append(os.getloadavg()[0])

    best = {k: min(v) for k, v in timings.items()}
    ratio = best["psql"] / best["verify"]
    print(f"trail: {events:,} events ({rows:,} rows in gmp.bench_verify_row), generated in {generation:.1f} s",
          file=sys.stderr)
    print(f"psql COPY | sha256sum:           {events / best['psql']:12,.0f} events/s ({best['psql']:.2f} s)",
          file=sys.stderr)
    for name in ("verify", "verify_chain_only"):
        print(f"gmp audit verify{' --no-reconcile' if name != 'verify' else '               '}: "
              f"{events / best[name]:12,.0f} events/s ({best[name]:.2f} s), peak RSS {rss[name] / 1024:.1f} MiB",
              file=sys.stderr)
    if args.compare:
        print(f"{args.compare} audit verify: {events / best['verify_compared']:12,.0f} events/s "
              f"({best['verify_compared']:.2f} s, {best['psql'] / best['verify_compared']:.2f}x the baseline), "
              f"peak RSS {rss['verify_compared'] / 1024:.1f} MiB", file=sys.stderr)
    print(f"gmp audit verify is {ratio:.2f}x the COPY baseline (goal >= 1.00); --no-reconcile "
          f"{best['psql'] / best['verify_chain_only']:.2f}x", file=sys.stderr)
    print(f"gmp audit report --csv: {seconds:.2f} s, {report_lines:,} lines ({best['psql'] / seconds:.2f}x the COPY baseline), "
          f"peak RSS {rss['report_csv'] / 1024:.1f} MiB (goal < 64 MiB)", file=sys.stderr)
    print(f"load average (1 min) at start and end: {load[0]:.1f}, {load[1]:.1f}", file=sys.stderr)
    if args.json:
        print(json.dumps({"events": events, "rows": rows, "generation_seconds": generation,
                          "seconds": best, "events_per_second": {k: events / v for k, v in best.items()},
                          "verify_vs_copy": ratio, "vs_copy": {k: best["psql"] / v for k, v in best.items()},
                          "load_average": load, "peak_rss_mib": {k: v / 1024 for k, v in rss.items()}},
                         indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
