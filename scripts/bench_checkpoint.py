#!/usr/bin/env python3
"""gmp audit checkpoint at scale (issue 18): peak RSS and wall time, before and after.

Takes `gmp audit checkpoint` as a QA account on an existing trail (scripts/bench_verify.py
generates one), alternating --gmp and --compare (e.g. main's release build) --runs times,
each under `/usr/bin/time -v` ("Maximum resident set size"). Every checkpoint must sign
the same record-tables digest and row count (`tables`, `rows` of --json): the record
tables do not change between runs (a checkpoint records itself in gmp_audit.checkpoint,
outside them), so a binary that hashed them differently is caught here. Goal: peak RSS
< 64 MiB. Standard library only.

    scripts/bench_checkpoint.py --gmp .build/release/gmp --compare /work/base-bin/gmp-71c74d0 \\
        --data-dir /work/verify10m/data --user qbench --key /tmp/qa.key
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


def checkpoint(binary: str, key: str, out: str, env) -> tuple[float, int, dict]:
    """Seconds, peak RSS (KiB) and --json document of one `gmp audit checkpoint`."""
    start = time.monotonic()
    done = subprocess.run(["/usr/bin/time", "-v", binary, "audit", "checkpoint", "--key", key, "--out", out, "--json"],
                          env=env, text=True, capture_output=True)
    seconds = time.monotonic() - start
    if done.returncode != 0:
        sys.exit(f"{binary} audit checkpoint failed ({done.returncode}): {done.stderr[-2000:]}")
    kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
    return seconds, kib, json.loads(done.stdout)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gmp", required=True)
    ap.add_argument("--compare", metavar="GMP", help="another gmp binary, run alternately in the same session")
    ap.add_argument("--data-dir", help="the embedded server's data directory (GMP_DATA_DIR)")
    ap.add_argument("--database", help="instead: a libpq connection string (GMP_DATABASE)")
    ap.add_argument("--user", required=True, help="the QA account (GMP_USER)")
    ap.add_argument("--key", required=True, help="QA's private key (gmp audit keygen)")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not (args.data_dir or args.database):
        ap.error("give --data-dir or --database")
    env = dict(os.environ, GMP_USER=args.user)
    env.update({"GMP_DATA_DIR": args.data_dir} if args.data_dir else {"GMP_DATABASE": args.database})
    binaries = [("gmp", args.gmp)] + ([("compared", args.compare)] if args.compare else [])
    load = [os.getloadavg()[0]]
    results: dict[str, list[tuple[float, int]]] = {}
    signed = set()
    with tempfile.TemporaryDirectory() as directory:
        for run in range(args.runs):
            for name, binary in binaries:
                seconds, kib, doc = checkpoint(binary, args.key, os.path.join(directory, f"{name}-{run}.checkpoint"), env)
                results.setdefault(name, []).append((seconds, kib))
                signed.add((doc["tables"], doc["rows"]))
                print(f"  {name}: event {doc['seq']:,}, {doc['rows']:,} rows, tables {doc['tables'][:16]}…, "
                      f"{seconds:.1f} s, peak RSS {kib / 1024:.1f} MiB (load {os.getloadavg()[0]:.1f})", file=sys.stderr)
    load.append(os.getloadavg()[0])
    assert len(signed) == 1, f"the checkpoints signed different record-tables digests: {signed}"
    for name, binary in binaries:
        best = min(s for s, _ in results[name])
        peak = max(k for _, k in results[name])
        print(f"{binary} audit checkpoint: {best:.1f} s (best of {len(results[name])}), peak RSS {peak / 1024:.1f} MiB"
              + (" (goal < 64 MiB)" if name == "gmp" else ""), file=sys.stderr)
    print(f"every checkpoint signed the same tables digest ({next(iter(signed))[1]:,} rows); "
          f"load average (1 min) at start and end: {load[0]:.1f}, {load[1]:.1f}", file=sys.stderr)
    if args.json:
        print(json.dumps({"runs": {name: [{"seconds": s, "peak_rss_mib": k / 1024} for s, k in runs]
                                   for name, runs in results.items()},
                          "tables": next(iter(signed))[0], "rows": next(iter(signed))[1], "load_average": load},
                         indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
