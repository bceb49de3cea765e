#!/usr/bin/env python3
"""Start-up benchmark (issue 18): cold gmp commands on a small facility against a cold
`psql -X -c 'select 1'` measured in the same run. Target: each at most 1.2x.

Started by `scripts/bench --startup`, on the bench's private embedded server (the
superuser gmp_owner, by peer authentication). It can also run alone against such a server:

    scripts/bench_startup.py --gmp .build/release/gmp --data-dir /tmp/gmp-bench.XXXXXX

1. Loads a small facility with scripts/bench_trace.sql (--donors, default 20: 200 lots,
   a few thousand audit events) unless the server has lots already (`scripts/bench`
   runs this bench after the others, so it reuses their facility: lot show and release
   check read one lot by index whatever the size; `audit verify` is timed only on a
   trail of at most 50,000 events).
2. Times, each run as a fresh process, interleaved like scripts/bench.py: psql select 1
   (on gmp_startup), `gmp db status --json`, `gmp lot show LOT --json`, `gmp release
   check LOT --json` (the lot has no specification: exit 65, not releasable, is a run),
   `gmp audit verify --json`, and `gmp --version` / `psql --version` for context, as
   the embedded server's default user and database (scripts/bench.py's baseline).
3. Also `gmp trace material LOT --json` (issue 14, target 2x): for MAT26-00002, consumed
   once (the lot reaching few), and for the material lot reaching the most lots. Without
   material lots on the server it first loads scripts/bench_materials.sql scaled to the
   small facility (--material-lots, default 100; --consumptions, default 10,000: the one
   reaching most reaches every lot made from its cell banks).
4. The server CPU of each document gmp asks for (`lot show`, `release check`, both traces)
   on its first call in a fresh session, after the login watch, and on a second call
   (scripts/bench_server_cpu.py): the fresh backend's share of each cold command.

Figures as a table on stdout, or JSON with --json. Standard library only.
"""
from __future__ import annotations

import json
import os
import sys

sys.dont_write_bytecode = True  # no scripts/__pycache__ from importing bench.py
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (scripts/bench.py: Case, run_bench, report, print_table)
import bench_materials  # noqa: E402  (FEW, load_materials, reaching_most)
import bench_server_cpu  # noqa: E402  (first_call_cpu)
import bench_trace  # noqa: E402  (run_generator, sh)

DATABASE = "gmp"
# Above this many audit events `gmp audit verify` measures the trail, not the start-up: not timed.
SMALL_TRAIL = 50_000


def log(message: str) -> None:
    print(f"bench_startup: {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str]):
    ap = bench.driver_arguments(__doc__)
    ap.add_argument("--donors", type=int, default=20, help="donors of the small facility (default 20; ten lots each)")
    ap.add_argument("--runs", type=int, default=40, help="counted runs per case (default 40)")
    ap.add_argument("--warmup", type=int, default=5, help="uncounted warm-up rounds (default 5)")
    ap.add_argument("--target", type=float, default=1.2, help="ratio gmp / psql select 1 aimed for (default 1.2)")
    ap.add_argument("--trace-target", type=float, default=2.0,
                    help="ratio gmp trace material / psql select 1 aimed for (default 2.0, issue 14)")
    ap.add_argument("--material-lots", type=int, default=100, help="material lots when none are there (default 100)")
    ap.add_argument("--consumptions", type=int, default=10_000, help="consumptions when none are there (default 10,000)")
    ap.add_argument("--verify-up-to", type=int, default=SMALL_TRAIL, metavar="EVENTS",
                    help="time gmp audit verify only on a trail of at most EVENTS events (default 50,000; 0: never)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--check", action="store_true", help="exit 1 when a ratio misses its target")
    args = ap.parse_args(argv)
    if args.runs < 1 or args.warmup < 0 or not 2 <= args.donors <= 999:
        ap.error("--runs must be at least 1, --warmup not negative, --donors 2 to 999")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    socket_dir = os.path.join(args.data_dir, "run")
    os.environ["GMP_DATA_DIR"] = args.data_dir
    os.environ.pop("GMP_DATABASE", None)
    server = ["-h", socket_dir, "-p", "5432", "-U", "gmp_owner"]
    sh = bench_trace.sh
    psql = [args.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1"] + server + ["-d", DATABASE]
    try:
        lots = int(sh(psql + ["-At", "-c", "SELECT count(*) FROM gmp.lot"]).stdout)
        if lots == 0:
            bench_trace.run_generator(psql, "bench_trace.sql", {"donors": args.donors}, log)
        lot = sh(psql + ["-At", "-c", "SELECT din || check_character FROM gmp.lot WHERE stage = 'drug_product' ORDER BY din LIMIT 1"]).stdout.strip()
        bench_materials.load_materials(psql, args)
        many, few = bench_materials.reaching_most(psql), bench_materials.FEW
        reached = {m: int(sh(psql + ["-At", "-c", f"SELECT jsonb_array_length(gmp.trace_material('{m}') -> 'lots')"]).stdout)
                   for m in (many, few)}
        events = int(sh(psql + ["-At", "-c", "SELECT seq FROM gmp_audit.chain_head"]).stdout)
        json.loads(sh([args.gmp, "lot", "show", lot, "--json"]).stdout)  # one JSON document, exit 0
        # What the server's shared memory is on (docs/server-settings.md): huge pages
        # make every fresh backend cheaper, so the figures depend on it.
        memory = json.loads(sh([args.gmp, "db", "status", "--json"]).stdout)["server"].get("shared_memory_pages")

        base = "psql select 1"
        cases = [bench.Case(name=base, label="psql", argv=[args.psql, "-X"] + server + ["-d", DATABASE, "-c", "select 1"])]
        commands = [(["db", "status"], (0,)), (["lot", "show", lot], (0,)), (["release", "check", lot], (0, 65))]
        if events <= args.verify_up_to:
            # The chain only: the material generator loads its consumptions without their
            # audit events (docs/benchmarks.md), which the table check rightly reports.
            commands.append((["audit", "verify", "--no-reconcile"], (0,)))
        else:
            log(f"{events:,} audit events: gmp audit verify is not timed (a start-up figure needs a small trail)")
        for words, ok in commands:
            cases.append(bench.Case(name="gmp " + " ".join(words) + " --json", label="gmp " + " ".join(words[:2]),
                                    argv=[args.gmp] + words + ["--json"], baseline=base, target=args.target,
                                    ok_exit=ok))
        for material, what in ((few, "few"), (many, "many")):
            cases.append(bench.Case(name=f"gmp trace material {material} --json",
                                    label=f"gmp trace material ({what}: {reached[material]} lots)",
                                    argv=[args.gmp, "trace", "material", material, "--json"], baseline=base,
                                    target=args.trace_target))
        cases += [bench.Case(name="gmp --version", label="gmp start-up", argv=[args.gmp, "--version"],
                             baseline="psql --version", target=None),
                  bench.Case(name="psql --version", label="psql start-up", argv=[args.psql, "--version"])]
        bench.run_bench(cases, args.runs, args.warmup, progress=sys.stderr.isatty() and not args.json)
        conninfo = f"host={socket_dir} port=5432 user=gmp_owner dbname={DATABASE}"
        # What `gmp lot show` asks for: the lot and its steps (gmp.lot_show, issue 18), or the
        # whole trace on a server whose code predates it.
        lot_show = sh(psql + ["-At", "-c", "SELECT coalesce(to_regproc('gmp.lot_show')::text, 'gmp.trace_lot')"]).stdout.strip()
        documents = {"lot show": f"{lot_show}('{lot[:-1]}')", "release check": f"gmp.release_check('{lot[:-1]}')",
                     # What gmp asks for: the trace as JSON text (not its jsonb form for SQL).
                     f"trace material {few}": f"gmp.trace_material_json('{few}')",
                     f"trace material {many}": f"gmp.trace_material_json('{many}')"}
        server_cpu = {what: bench_server_cpu.first_call_cpu(conninfo, f"SELECT {call}::text")
                      for what, call in documents.items()}
    except (*bench.FAILURES, RuntimeError, OSError) as e:
        return bench.failed("bench_startup", e)

    result = bench.report(cases, args.runs, args.warmup)
    result.update({"lot": lot, "audit_events": events, "shared_memory_pages": memory, "materials_traced": {"few": few, "many": many, "lots_reached": reached},
                   "server_cpu": server_cpu})
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
    else:
        print(f"start-up: lot {lot}, {events:,} audit events; material lots traced {few} ({reached[few]} lots reached) "
              f"and {many} ({reached[many]} lots reached); the server's shared memory on {memory or 'unknown'} pages")
        bench.print_table(result)
        print("server CPU of the document, fresh session (median ms): first call / second call")
        for what, cpu in server_cpu.items():
            print(f"  {what}: {cpu['first_call_cpu_ms']:.2f} / {cpu['second_call_cpu_ms']:.2f}")
    if args.check and any(r["met"] is False for r in result["ratios"]):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
