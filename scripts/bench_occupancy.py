#!/usr/bin/env python3
"""Occupancy benchmark: a cold `gmp storage occupancy SITE --json` against a cold
`psql -c 'select 1'` measured in the same run, on a generated site of 105,300 positions
(10 tanks x 10 racks x 13 boxes of 9 x 9) holding some thousands of units.
Target: gmp costs at most 1.5x.

Started by `scripts/bench --occupancy`, on the bench's private embedded server (the
superuser gmp_owner, by peer authentication). It can also run alone against such a
server:

    scripts/bench_occupancy.py --gmp .build/release/gmp --data-dir /tmp/gmp-bench.XXXXXX

1. Loads a small facility of scripts/bench_trace.sql (--donors, default 50) unless the
   server has lots already, for the units its fills make; then scripts/bench_occupancy.sql
   (the site and --units placements) unless BENCH-SITE is there; prints how long each took.
2. The in-server cost of `gmp.storage_occupancy('BENCH-SITE')` from EXPLAIN ANALYZE: the
   first call in a fresh session (what every cold gmp process pays) and later calls.
3. Times, each run as a fresh process, interleaved like scripts/bench.py: psql select 1,
   gmp storage occupancy BENCH-SITE --json, and the same rows from psql.

Figures as a table on stdout, or JSON with --json; progress on stderr. Standard
library only.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

sys.dont_write_bytecode = True  # no scripts/__pycache__ from importing bench.py
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (scripts/bench.py: Case, run_bench, report, print_table)
import bench_trace  # noqa: E402  (load_facility, run_generator, in_server_cost, sh)

SITE = "BENCH-SITE"


def log(message: str) -> None:
    print(f"bench_occupancy: {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = bench.driver_arguments(__doc__)
    ap.add_argument("--donors", type=int, default=50,
                    help="donors of the facility generated when the server has no lots (default 50)")
    ap.add_argument("--units", type=int, default=5000, help="units to store (default 5,000)")
    ap.add_argument("--runs", type=int, default=40, help="counted runs per case (default 40)")
    ap.add_argument("--warmup", type=int, default=5, help="uncounted warm-up rounds (default 5)")
    ap.add_argument("--target", type=float, default=1.5,
                    help="ratio gmp storage occupancy / psql select 1 aimed for (default 1.5)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--check", action="store_true", help="exit 1 when the ratio misses its target")
    args = ap.parse_args(argv)
    if args.runs < 1 or args.warmup < 0 or args.units < 1:
        ap.error("--runs and --units must be at least 1 and --warmup not negative")
    return args


def load_storage(psql: list[str], donors: int, units: int) -> dict:
    """The facility (unless there are lots) and the site (unless it is there); seconds each, None if reused."""
    seconds = {"facility_seconds": None, "storage_seconds": None}
    if int(bench_trace.sh(psql + ["-At", "-c", "SELECT count(*) FROM gmp.lot"]).stdout) == 0:
        seconds["facility_seconds"] = bench_trace.load_facility(psql, donors)
    else:
        log("the server has lots already: their units are used")
    if bench_trace.sh(psql + ["-At", "-c", f"SELECT 1 FROM gmp.storage_location WHERE id = '{SITE}'"]).stdout.strip():
        log(f"{SITE} already generated: reused")
    else:
        log(f"generating {SITE} and storing up to {units:,} units (scripts/bench_occupancy.sql)…")
        seconds["storage_seconds"] = bench_trace.run_generator(psql, "bench_occupancy.sql", {"units": units}, log)
    return seconds


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    socket_dir = os.path.join(args.data_dir, "run")
    target = ["-h", socket_dir, "-p", "5432", "-U", "gmp_owner", "-d", "gmp"]
    psql = [args.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1"] + target
    os.environ["GMP_DATA_DIR"] = args.data_dir
    gmp_occupancy = [args.gmp, "storage", "occupancy", SITE, "--json"]
    call = f"gmp.storage_occupancy('{SITE}')"

    try:
        generation = load_storage(psql, args.donors, args.units)
        counts = dict(zip(("locations", "boxes", "positions", "units", "stored", "custody_events", "audit_events"),
                          (int(v) for v in bench_trace.sh(psql + ["-At", "-c",
            f"SELECT (SELECT count(*) FROM gmp.storage_location WHERE site_id = '{SITE}'), "
            f"(SELECT count(*) FROM gmp.storage_location WHERE site_id = '{SITE}' AND kind = 'box'), "
            f"(SELECT sum(rows * columns) FROM gmp.storage_location WHERE site_id = '{SITE}'), "
            "(SELECT count(*) FROM gmp.unit), (SELECT count(*) FROM gmp.unit WHERE state = 'stored'), "
            "(SELECT count(*) FROM gmp.custody_event), (SELECT seq FROM gmp_audit.chain_head)"]).stdout.strip().split("|"))))
        if counts["positions"] < 100_000:
            raise bench.BenchError(f"{SITE} has {counts['positions']:,} positions, fewer than the 100,000 the target names")
        run = subprocess.run(gmp_occupancy, capture_output=True, text=True)
        if run.returncode != 0:
            raise bench.BenchError(f"`{' '.join(gmp_occupancy[1:])}` exited {run.returncode}\n{run.stderr.strip()}")
        document = json.loads(run.stdout)
        if (document["positions"], document["occupied"]) != (counts["positions"], counts["stored"]):
            raise bench.BenchError(f"gmp reports {document['positions']:,} positions, {document['occupied']:,} occupied; "
                                   f"the server has {counts['positions']:,} and {counts['stored']:,}")
        log(f"{SITE}: {len(document['devices'])} devices, {counts['boxes']:,} boxes, {counts['positions']:,} positions, "
            f"{counts['stored']:,} occupied ({counts['units']:,} units in all)")

        server = bench_trace.in_server_cost(psql, call)
        log(f"in-server (EXPLAIN ANALYZE): first call in a session {server['first_call_in_session_ms']:.2f} ms, "
            f"later calls {server['later_calls_ms']:.2f} ms")

        cases = [bench.Case(name="psql select 1", label="psql", argv=[args.psql, "-X"] + target + ["-c", "select 1"]),
                 bench.Case(name=f"gmp storage occupancy {SITE} --json", label="gmp storage occupancy",
                            argv=gmp_occupancy, baseline="psql select 1", target=args.target),
                 # The same rows through libpq's own client: context.
                 bench.Case(name="psql select gmp.storage_occupancy", label="psql storage_occupancy",
                            argv=[args.psql, "-X", "-At"] + target + ["-c", f"select * from {call}"],
                            baseline="psql select 1", target=None)]
        bench.run_bench(cases, args.runs, args.warmup, progress=sys.stderr.isatty() and not args.json)
    except bench.FAILURES as e:
        return bench.failed("bench_occupancy", e)

    result = bench.report(cases, args.runs, args.warmup)
    ratio = statistics.median(cases[1].samples_ns) / statistics.median(cases[2].samples_ns)
    result["ratios"].append({"case": cases[1].name, "baseline": cases[2].name,
                             "label": f"{cases[1].label}/{cases[2].label}",
                             "median_ratio": round(ratio, 4), "target": None, "met": None})
    result.update({"site": counts, "in_server": server,
                   **{k: None if v is None else round(v, 1) for k, v in generation.items()}})
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
    else:
        gen = "; ".join(f"{what} generated in {generation[key]:.1f} s"
                        for what, key in (("facility", "facility_seconds"), ("storage", "storage_seconds"))
                        if generation[key] is not None)
        print(f"{SITE}: {counts['locations']:,} locations, {counts['boxes']:,} boxes, {counts['positions']:,} positions, "
              f"{counts['stored']:,} stored units of {counts['units']:,}, {counts['custody_events']:,} custody events, "
              f"{counts['audit_events']:,} audit events" + (f"; {gen}" if gen else ""))
        print(f"in-server {server['first_call_in_session_ms']:.2f} ms (first call in a session), "
              f"{server['later_calls_ms']:.2f} ms (later calls)")
        bench.print_table(result)
    if args.check and any(r["met"] is False for r in result["ratios"]):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
