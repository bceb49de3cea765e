#!/usr/bin/env python3
"""Audit benchmarks, each against a baseline measured in the same run (issue 3).

1. An audited single-row INSERT (one transaction each, pgbench) against the same
   INSERT into an unaudited twin table. Target: audited costs at most 2x.
2. `gmp audit verify` over a chain of N events (default 1,000,000) against
   `psql COPY … | sha256sum` of the same rows. Target: >= 1,000,000 events/s.

Started by `scripts/bench --audit`, on the bench's private embedded server (the
superuser gmp_owner, by peer authentication). Standard library only.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time


def sh(argv, **kw):
    return subprocess.run(argv, check=True, text=True, capture_output=True, **kw)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gmp", required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--psql", default="psql")
    ap.add_argument("--pgbench", default="pgbench")
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--seconds", type=int, default=10)
    args = ap.parse_args()
    conn = f"host={os.path.join(args.data_dir, 'run')} dbname=gmp user=gmp_owner"
    psql = [args.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", conn]

    sh(psql + ["-f", os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_audit_tables.sql")])

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, table in (("plain", "public.bench_plain"), ("audited", "gmp.bench_audited")):
            script = os.path.join(tmp, name + ".sql")
            with open(script, "w") as f:
                f.write(f"INSERT INTO {table} (note) VALUES ('bench row');\n")
            out = sh([args.pgbench, "-n", "-f", script, "-T", str(args.seconds), "-c", "1", conn]).stdout
            tps = float(re.search(r"tps = ([0-9.]+)", out).group(1))
            results[name] = tps
            print(f"single-row INSERT, {name:8s}: {tps:10.0f} tx/s  ({1e6 / tps:7.1f} µs each)", file=sys.stderr)
    write_ratio = results["plain"] / results["audited"]
    print(f"audited write costs {write_ratio:.2f}x the unaudited twin (target <= 2.00)", file=sys.stderr)

    have = int(sh(psql + ["-At", "-c", "SELECT seq FROM gmp_audit.chain_head"]).stdout.strip())
    missing = args.events - have
    if missing > 0:
        print(f"generating {missing} audit events through the real trigger…", file=sys.stderr)
        start = time.monotonic()
        batch = 100_000
        while missing > 0:
            n = min(batch, missing)
            sh(psql + ["-c", f"INSERT INTO gmp.bench_audited (note) SELECT 'generated event ' || g FROM generate_series(1, {n}) g"])
            missing -= n
        print(f"  {time.monotonic() - start:.1f} s", file=sys.stderr)
    events = int(sh(psql + ["-At", "-c", "SELECT seq FROM gmp_audit.chain_head"]).stdout.strip())

    copy = ("COPY (SELECT seq, occurred_at, transaction_id, actor, action, table_name, record_key, "
            "old_values, new_values, reason, hash FROM gmp_audit.event ORDER BY seq) TO STDOUT")
    timings = {"verify": [], "psql": []}
    env = dict(os.environ, GMP_DATA_DIR=args.data_dir)
    for _ in range(3):
        start = time.monotonic()
        subprocess.run(f"{args.psql} -X -d '{conn}' -c \"{copy}\" | sha256sum > /dev/null", shell=True, check=True)
        timings["psql"].append(time.monotonic() - start)
        start = time.monotonic()
        doc = json.loads(sh([args.gmp, "audit", "verify", "--json"], env=env).stdout)
        timings["verify"].append(time.monotonic() - start)
        assert doc["intact"] and doc["events"] == events, doc
    best = {k: min(v) for k, v in timings.items()}
    print(f"gmp audit verify:          {events / best['verify']:12,.0f} events/s ({best['verify']:.2f} s for {events:,})",
          file=sys.stderr)
    print(f"psql COPY | sha256sum:     {events / best['psql']:12,.0f} events/s ({best['psql']:.2f} s)", file=sys.stderr)
    print(json.dumps({"write_tps": results, "write_ratio": write_ratio, "events": events,
                      "verify_seconds": best["verify"], "psql_sha256sum_seconds": best["psql"],
                      "verify_events_per_second": events / best["verify"],
                      "psql_events_per_second": events / best["psql"]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
