#!/usr/bin/env python3
"""Release-check benchmark: a cold `gmp release check LOT --json` against a cold
`psql -c 'select 1'` measured in the same run, on a generated facility of 100,000
lots and 5,000,000 QC results (--results), the checked lot with 60 results, each
verified. Target: gmp costs at most 1.5x.

Started by `scripts/bench --release`, on the bench's private embedded server (the
superuser gmp_owner, by peer authentication). It can also run alone against such a
server:

    scripts/bench_release.py --gmp .build/release/gmp --data-dir /tmp/gmp-bench.XXXXXX

1. Loads the facility of scripts/bench_trace.sql (10,000 donors, 100,000 lots) unless
   it is there, then scripts/bench_release.sql (specifications, assignments, results,
   verifications) unless the server has results already; prints how long each took.
2. The in-server cost of `SELECT gmp.release_check(LOT)` from EXPLAIN ANALYZE: the first
   call in a fresh session (what every cold gmp process pays) and later calls in one.
3. Times, each run as a fresh process, interleaved like scripts/bench.py: psql select 1,
   gmp release check LOT --json (exit 0, releasable, and 65, not releasable, are both
   runs), and the same document from psql (`select gmp.release_check(LOT)`). A gmp
   without the `release check` command is not timed: the psql case then stands in for
   it against the target, and the figures say so.

Figures as a table on stdout, or JSON with --json; progress and the generation's
phases on stderr. Standard library only.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys

sys.dont_write_bytecode = True  # no scripts/__pycache__ from importing bench.py
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (scripts/bench.py: Case, run_bench, report, print_table)
import bench_trace  # noqa: E402  (the facility, run_generator, in_server_cost)

EX_DATAERR = 65  # gmp release check: the lot is not releasable


def log(message: str) -> None:
    print(f"bench_release: {message}", file=sys.stderr, flush=True)


def default_lot(donors: int) -> str:
    """The first drug product of the donor in the middle (bench_trace.sql numbers drug
    products 3N+1 … 10N, seven a donor): G123426064994 for 10,000 donors."""
    return f"G123426{3 * donors + 7 * (donors // 2 - 1) + 1:06d}"


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = bench.driver_arguments(__doc__)
    ap.add_argument("--donors", type=int, default=10_000,
                    help="donors of the facility (default 10,000; ten lots each)")
    ap.add_argument("--results", type=int, default=5_000_000,
                    help="QC results to generate (default 5,000,000; 50 a lot on average, so on "
                         "results/50 lots)")
    ap.add_argument("--lot", help="the lot to check (default: the first drug product of the donor "
                                  "in the middle, G123426064994 for 10,000 donors)")
    ap.add_argument("--runs", type=int, default=40, help="counted runs per case (default 40)")
    ap.add_argument("--warmup", type=int, default=5, help="uncounted warm-up rounds (default 5)")
    ap.add_argument("--target", type=float, default=1.5,
                    help="ratio gmp release check / psql select 1 aimed for (default 1.5)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--check", action="store_true", help="exit 1 when the ratio misses its target")
    args = ap.parse_args(argv)
    if args.runs < 1 or args.warmup < 0:
        ap.error("--runs must be at least 1 and --warmup not negative")
    if not 2 <= args.donors <= 99_999:
        ap.error("--donors must be 2 to 99,999 (lot numbers have six digits)")
    if args.results < 60:
        ap.error("--results must be at least 60")
    args.lot = args.lot or default_lot(args.donors)
    if not re.fullmatch(r"G[0-9]{12}", args.lot):
        ap.error("--lot is a DIN without its check character, like G123426064994")
    return args


def load_results(psql: list[str], results: int, lot: str) -> float | None:
    """Generates the QC records unless there are results; seconds, or None if reused."""
    have = int(bench_trace.sh(psql + ["-At", "-c", "SELECT count(*) FROM gmp.qc_result"]).stdout)
    if have:
        log(f"{have:,} QC results already generated: reused")
        return None
    log(f"generating about {results:,} QC results and the checked lot {lot} (scripts/bench_release.sql)…")
    return bench_trace.run_generator(psql, "bench_release.sql", {"results": results, "target": lot}, log)


def has_release_check(gmp: str) -> bool:
    # For an unknown subcommand, --help prints gmp's own help and succeeds.
    run = subprocess.run([gmp, "release", "check", "--help"], capture_output=True, text=True)
    return run.returncode == 0 and "USAGE: gmp release check" in run.stdout


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    socket_dir = os.path.join(args.data_dir, "run")
    # The connection scripts/bench.py's baseline uses, and gmp's on the embedded server.
    target = ["-h", socket_dir, "-p", "5432", "-U", "gmp_owner", "-d", "gmp"]
    psql = [args.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1"] + target
    os.environ["GMP_DATA_DIR"] = args.data_dir
    gmp_check = [args.gmp, "release", "check", args.lot, "--json"]
    call = f"gmp.release_check('{args.lot}')"

    try:
        gmp_ready = has_release_check(args.gmp)
        if not gmp_ready:
            log(f"{args.gmp} has no `release check` command yet: psql select {call} stands in for it")
        generation = {"facility_seconds": bench_trace.load_facility(psql, args.donors),
                      "results_seconds": load_results(psql, args.results, args.lot)}
        counts = dict(zip(("lots", "specifications", "criteria", "results", "verifications", "lots_with_results",
                           "audit_events"), (int(v) for v in bench_trace.sh(psql + ["-At", "-c",
            "SELECT (SELECT count(*) FROM gmp.lot), (SELECT count(*) FROM gmp.specification), "
            "(SELECT count(*) FROM gmp.criterion), (SELECT count(*) FROM gmp.qc_result), "
            "(SELECT count(*) FROM gmp.qc_verification), (SELECT count(DISTINCT din) FROM gmp.qc_result), "
            "(SELECT seq FROM gmp_audit.chain_head)"]).stdout.strip().split("|"))))

        document = json.loads(bench_trace.sh(psql + ["-At", "-c", f"SELECT {call}"]).stdout)
        results = [r for e in document["evaluation"] for r in e["results"]]
        checked = {"lot": args.lot, "criteria": len(document["evaluation"]), "results": len(results),
                   "verified": sum(1 for r in results if r["verified_by"]),
                   "releasable": document["releasable"], "blockers": len(document["blockers"]),
                   "document_bytes": len(json.dumps(document, separators=(",", ":")))}
        log(f"checking {args.lot}: {checked['criteria']} criteria, {checked['results']} results "
            f"({checked['verified']} verified), releasable: {checked['releasable']}, "
            f"a {checked['document_bytes']:,}-byte document")
        if gmp_ready:
            run = subprocess.run(gmp_check, capture_output=True, text=True)
            expected = 0 if document["releasable"] else EX_DATAERR
            if run.returncode != expected:
                raise bench.BenchError(f"`{' '.join(gmp_check[1:])}` exited {run.returncode}, expected {expected}"
                                       + (f"\n{run.stderr.strip()}" if run.stderr.strip() else ""))

        server = bench_trace.in_server_cost(psql, call)
        log(f"in-server (EXPLAIN ANALYZE): first call in a session {server['first_call_in_session_ms']:.2f} ms, "
            f"later calls {server['later_calls_ms']:.2f} ms")

        cases = [bench.Case(name="psql select 1", label="psql",
                            argv=[args.psql, "-X"] + target + ["-c", "select 1"])]
        if gmp_ready:
            cases.append(bench.Case(name=f"gmp release check {args.lot} --json", label="gmp release check",
                                    argv=gmp_check, baseline="psql select 1", target=args.target,
                                    ok_exit=(0, EX_DATAERR)))
        # The same document through libpq's own client: context, or the stand-in.
        cases.append(bench.Case(name="psql select gmp.release_check", label="psql release_check",
                                argv=[args.psql, "-X", "-At"] + target + ["-c", f"select {call}"],
                                baseline=None if gmp_ready else "psql select 1",
                                target=None if gmp_ready else args.target))
        bench.run_bench(cases, args.runs, args.warmup, progress=sys.stderr.isatty() and not args.json)
    except bench.FAILURES as e:
        return bench.failed("bench_release", e)

    result = bench.report(cases, args.runs, args.warmup)
    if gmp_ready:
        # Informational: gmp against libpq's client printing the same document.
        ratio = statistics.median(cases[1].samples_ns) / statistics.median(cases[2].samples_ns)
        result["ratios"].append({"case": cases[1].name, "baseline": cases[2].name,
                                 "label": f"{cases[1].label}/{cases[2].label}",
                                 "median_ratio": round(ratio, 4), "target": None, "met": None})
    result.update({"facility": counts, "checked": checked, "in_server": server, "gmp_timed": gmp_ready,
                   **{k: None if v is None else round(v, 1) for k, v in generation.items()}})
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
    else:
        gen = "; ".join(f"{what} generated in {generation[key]:.1f} s"
                        for what, key in (("facility", "facility_seconds"), ("results", "results_seconds"))
                        if generation[key] is not None)
        print(f"facility: {counts['lots']:,} lots, {counts['results']:,} QC results on "
              f"{counts['lots_with_results']:,} lots ({counts['verifications']:,} verified), "
              f"{counts['specifications']} specifications of {counts['criteria'] // max(counts['specifications'], 1)} "
              f"criteria, {counts['audit_events']:,} audit events" + (f"; {gen}" if gen else ""))
        print(f"checked {args.lot}: {checked['results']} results ({checked['verified']} verified), releasable: "
              f"{checked['releasable']}, {checked['document_bytes']:,} bytes of JSON; in-server "
              f"{server['first_call_in_session_ms']:.2f} ms (first call in a session), "
              f"{server['later_calls_ms']:.2f} ms (later calls)")
        if not gmp_ready:
            print("gmp has no `release check` yet: psql select gmp.release_check stands in for it below")
        bench.print_table(result)
    if args.check and any(r["met"] is False for r in result["ratios"]):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
