#!/usr/bin/env python3
"""Material-trace benchmark (issue 14): a cold `gmp trace material LOT` against a cold
`psql -c 'select 1'` measured in the same run, on a generated facility of 10,000
material lots, 100,000 product lots and 1,000,000 consumptions. Target: gmp costs at
most 2x. Also `gmp material list --json` over the 10,000 material lots (no target).

Started by `scripts/bench --materials`, on the bench's private embedded server (the
superuser gmp_owner, by peer authentication). It can also run alone against such a
server:

    scripts/bench_materials.py --gmp .build/release/gmp --data-dir /tmp/gmp-bench.XXXXXX

1. Loads scripts/bench_trace.sql (10,000 donors, 100,000 lots) unless the facility is
   there, then scripts/bench_materials.sql (the material lots and the consumptions;
   what it switches off and why is at its top) unless the server has material lots.
2. Prints how many product lots each consumed material lot reaches (minimum,
   percentiles, maximum), and picks the material lot that reaches the most (consumed by
   the most master cell banks: the worst case), one that reaches the median number (the
   typical lot a recall traces) and MAT26-00002 (consumed once, by one drug product);
   checks that gmp prints the document of gmp.trace_material for each, and takes the
   in-server cost of gmp.trace_material_json (what gmp asks for) from EXPLAIN ANALYZE
   (first call in a fresh session, later calls) and the backend's own CPU of its first
   and second call in fresh sessions (scripts/bench_server_cpu.py).
3. Times, each run as a fresh process, interleaved like scripts/bench.py: psql select 1,
   gmp trace material LOT as text and --json for the three lots, the many-lot document from
   psql for context, and gmp material list --json.

Figures as a table on stdout, or JSON with --json; progress on stderr. Standard
library only.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

sys.dont_write_bytecode = True  # no scripts/__pycache__ from importing bench.py
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (scripts/bench.py: Case, run_bench, report, print_table)
import bench_server_cpu  # noqa: E402  (first_call_cpu: the backend's own CPU of a first and second call)
import bench_trace  # noqa: E402  (load_facility, run_generator, in_server_cost, sh)

FEW = "MAT26-00002"


def log(message: str) -> None:
    print(f"bench_materials: {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str]):
    ap = bench.driver_arguments(__doc__)
    ap.add_argument("--donors", type=int, default=10_000, help="donors of the facility (default 10,000; ten lots each)")
    ap.add_argument("--material-lots", type=int, default=10_000, help="material lots (default 10,000)")
    ap.add_argument("--consumptions", type=int, default=1_000_000, help="consumptions (default 1,000,000)")
    ap.add_argument("--runs", type=int, default=40, help="counted runs per case (default 40)")
    ap.add_argument("--warmup", type=int, default=5, help="uncounted warm-up rounds (default 5)")
    ap.add_argument("--target", type=float, default=2.0,
                    help="ratio gmp trace material / psql select 1 aimed for (default 2.0)")
    ap.add_argument("--no-list", action="store_true",
                    help="leave out gmp material list (a gmp from before gmp.material_lots takes minutes a run)")
    ap.add_argument("--database", default="gmp",
                    help="the database on that server (default gmp; another, e.g. a CREATE DATABASE … TEMPLATE gmp "
                         "copy migrated by another build, compares two versions of the functions on one facility)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--check", action="store_true", help="exit 1 when a ratio misses its target")
    args = ap.parse_args(argv)
    if args.runs < 1 or args.warmup < 0:
        ap.error("--runs must be at least 1 and --warmup not negative")
    if args.material_lots < 3 or args.consumptions < 2:
        ap.error("--material-lots must be at least 3 and --consumptions at least 2")
    return args


def load_materials(psql: list[str], args) -> float | None:
    """Generates the materials unless there are some; seconds, or None if reused."""
    have = int(bench_trace.sh(psql + ["-At", "-c", "SELECT count(*) FROM gmp.material_lot"]).stdout)
    if have:
        log(f"{have:,} material lots already there: reused")
        return None
    log(f"generating {args.material_lots:,} material lots and {args.consumptions:,} consumptions "
        "(scripts/bench_materials.sql)…")
    return bench_trace.run_generator(psql, "bench_materials.sql",
                                     {"material_lots": args.material_lots, "consumptions": args.consumptions}, log)


def reaching_most(psql: list[str]) -> str:
    """The material lot consumed by the most master cell banks (so reaching the most
    lots). Also used by scripts/bench_startup.py."""
    return bench_trace.sh(psql + ["-At", "-c",
        "SELECT c.material_lot_id FROM gmp.material_consumption c JOIN gmp.lot l ON l.din = c.din "
        "WHERE l.stage = 'master_cell_bank' GROUP BY 1 ORDER BY count(DISTINCT c.din) DESC, 1 LIMIT 1"]).stdout.strip()


def reach_distribution(psql: list[str]) -> tuple[str, dict]:
    """How many product lots each consumed material lot reaches, over the whole facility
    (set-based over every consumption, ~10 s): the distribution (minimum, 10th, 25th,
    50th, 75th, 90th percentile, maximum) and a material lot that reaches the median
    number, the typical lot a recall traces (on the generated facility 94 lots: a quarter
    reach 21 or fewer, a quarter 173 or more)."""
    row = bench_trace.sh(psql + ["-At", "-c",
        "WITH RECURSIVE used AS (SELECT DISTINCT material_lot_id AS m, din FROM gmp.material_consumption), "
        "reached AS (SELECT m, din FROM used UNION SELECT r.m, l.din FROM reached r JOIN gmp.lot l ON l.parent_din = r.din), "
        "counts AS (SELECT m, count(DISTINCT din) AS n FROM reached GROUP BY m), "
        "stats AS (SELECT count(*) AS lots, min(n) AS min, max(n) AS max, "
        "  percentile_disc(ARRAY[0.1, 0.25, 0.5, 0.75, 0.9]) WITHIN GROUP (ORDER BY n) AS p FROM counts) "
        "SELECT (SELECT m FROM counts WHERE n = stats.p[3] ORDER BY m LIMIT 1), stats.lots, stats.min, "
        "  array_to_string(stats.p, ','), stats.max FROM stats"]).stdout.strip()
    median_lot, lots, low, percentiles, high = row.split("|")
    p10, p25, p50, p75, p90 = (int(v) for v in percentiles.split(","))
    return median_lot, {"material_lots": int(lots), "min": int(low), "p10": p10, "p25": p25, "median": p50,
                        "p75": p75, "p90": p90, "max": int(high)}


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    socket_dir = os.path.join(args.data_dir, "run")
    target = ["-h", socket_dir, "-p", "5432", "-U", "gmp_owner", "-d", args.database]
    psql = [args.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1"] + target
    conninfo = f"host={socket_dir} port=5432 user=gmp_owner dbname={args.database}"
    os.environ["GMP_DATA_DIR"] = args.data_dir
    if args.database != "gmp":  # gmp's embedded server is database gmp unless told
        os.environ["GMP_DATABASE"] = conninfo
    sh = bench_trace.sh

    try:
        help_run = subprocess.run([args.gmp, "trace", "material", "--help"], capture_output=True, text=True)
        if help_run.returncode != 0 or "USAGE: gmp trace material" not in help_run.stdout:
            raise bench.BenchError(f"{args.gmp} has no `trace material` command")
        facility_seconds = bench_trace.load_facility(psql, args.donors)
        material_seconds = load_materials(psql, args)
        counts = dict(zip(("material_lots", "lots", "steps", "consumptions"), (int(v) for v in sh(psql + ["-At", "-c",
            "SELECT (SELECT count(*) FROM gmp.material_lot), (SELECT count(*) FROM gmp.lot), "
            "(SELECT count(*) FROM gmp.manufacturing_step), (SELECT count(*) FROM gmp.material_consumption)"]
            ).stdout.strip().split("|"))))
        many = reaching_most(psql)
        median, reach = reach_distribution(psql)
        log("lots reached by a consumed material lot: " + ", ".join(f"{k} {v:,}" for k, v in reach.items()))

        traced = {}
        for lot in (many, median, FEW):
            expected = json.loads(sh(psql + ["-At", "-c", f"SELECT gmp.trace_material('{lot}')"]).stdout)
            printed = json.loads(sh([args.gmp, "trace", "material", lot, "--json"]).stdout)
            if bench_trace.canonical(printed) != bench_trace.canonical(expected):
                raise bench.BenchError(f"`gmp trace material {lot} --json` does not print the document of "
                                       f"gmp.trace_material('{lot}')")
            # What gmp asks for (the JSON text), as gmp asks for it.
            call = f"gmp.trace_material_json('{lot}')::text"
            server = bench_trace.in_server_cost(psql, call)
            cpu = bench_server_cpu.first_call_cpu(conninfo, f"SELECT {call}", sessions=9)
            traced[lot] = {"consumptions": len(expected["consumptions"]), "lots": len(expected["lots"]),
                           "units": sum(len(x.get("whereabouts") or []) for x in expected["lots"]),
                           "document_bytes": len(json.dumps(expected, separators=(",", ":"))), "in_server": server,
                           "server_cpu": cpu}
            log(f"{lot}: {traced[lot]['consumptions']} consumptions, {traced[lot]['lots']} lots reached, "
                f"{traced[lot]['document_bytes']:,} bytes; in-server {server['first_call_in_session_ms']:.2f} ms "
                f"(first call in a session), {server['later_calls_ms']:.2f} ms (later calls); backend CPU "
                f"{cpu['first_call_cpu_ms']:.2f} / {cpu['second_call_cpu_ms']:.2f} ms (first / second call)")

        listing = [args.gmp, "material", "list", "--json"]
        listed = [] if args.no_list else json.loads(sh(listing).stdout)
        if not args.no_list and len(listed) != counts["material_lots"]:
            raise bench.BenchError(f"gmp material list --json lists {len(listed)} lots, the server has "
                                   f"{counts['material_lots']}")

        baseline = "psql select 1"
        cases = [bench.Case(name=baseline, label="psql", argv=[args.psql, "-X"] + target + ["-c", "select 1"])]
        for lot, what in ((many, "many"), (median, "median"), (FEW, "few")):
            cases.append(bench.Case(name=f"gmp trace material {lot}", label=f"gmp trace ({what})",
                                    argv=[args.gmp, "trace", "material", lot], baseline=baseline, target=args.target))
            cases.append(bench.Case(name=f"gmp trace material {lot} --json", label=f"gmp trace --json ({what})",
                                    argv=[args.gmp, "trace", "material", lot, "--json"], baseline=baseline,
                                    target=args.target))
        # Context: the many-lot document through libpq's own client, and the list. No target.
        cases.append(bench.Case(name="psql select gmp.trace_material", label="psql trace (many)",
                                argv=[args.psql, "-X", "-At"] + target
                                + ["-c", f"select gmp.trace_material('{many}')"], baseline=baseline, target=None))
        if not args.no_list:
            cases.append(bench.Case(name="gmp material list --json", label="gmp material list",
                                    argv=listing, baseline=baseline, target=None))
        bench.run_bench(cases, args.runs, args.warmup, progress=sys.stderr.isatty() and not args.json)
    except bench.FAILURES as e:
        return bench.failed("bench_materials", e)

    result = bench.report(cases, args.runs, args.warmup)
    result.update({"facility": counts, "traced": traced, "reach": reach,
                   "generation_seconds": {"facility": None if facility_seconds is None else round(facility_seconds, 1),
                                          "materials": None if material_seconds is None else round(material_seconds, 1)}})
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
    else:
        print(f"facility: {counts['material_lots']:,} material lots, {counts['lots']:,} lots, {counts['steps']:,} steps, "
              f"{counts['consumptions']:,} consumptions")
        print(f"lots reached by each of the {reach['material_lots']:,} consumed material lots: minimum {reach['min']}, "
              f"10th percentile {reach['p10']}, quartile {reach['p25']}, median {reach['median']}, "
              f"75th percentile {reach['p75']}, 90th {reach['p90']}, maximum {reach['max']}; load average "
              + " ".join(f"{x:.2f}" for x in os.getloadavg()))
        for lot, t in traced.items():
            print(f"traced {lot}: {t['consumptions']} consumptions, {t['lots']} lots, {t['units']} units, "
                  f"{t['document_bytes']:,} bytes of JSON; in-server {t['in_server']['first_call_in_session_ms']:.2f} ms "
                  f"(first call in a session), {t['in_server']['later_calls_ms']:.2f} ms (later calls); backend CPU "
                  f"{t['server_cpu']['first_call_cpu_ms']:.2f} / {t['server_cpu']['second_call_cpu_ms']:.2f} ms "
                  "(first / second call, median of 9 fresh sessions)")
        bench.print_table(result)
    if args.check and any(r["met"] is False for r in result["ratios"]):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
