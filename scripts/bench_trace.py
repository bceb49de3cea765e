#!/usr/bin/env python3
"""Traceability benchmark: a cold `gmp trace donor D --json` against a cold
`psql -c 'select 1'` measured in the same run, on a generated facility of 10,000
donors and 100,000 lots. Target: gmp costs at most 1.5x.

Started by `scripts/bench --trace`, on the bench's private embedded server (the
superuser gmp_owner, by peer authentication). It can also run alone against such a
server:

    scripts/bench_trace.py --gmp .build/release/gmp --data-dir /tmp/gmp-bench.XXXXXX

1. Loads scripts/bench_trace.sql unless the facility is already there (a server
   with no donors gets it; one with exactly the generated facility is reused), and
   prints how long generation took; then VACUUM ANALYZE, as autovacuum would have
   done on a facility built over months.
2. The in-server cost of `SELECT gmp.trace_donor(D)` from EXPLAIN ANALYZE: the first
   call in a fresh session (what every cold gmp process pays: a new backend plans
   the function's queries anew) and later calls in the same session.
3. Times, each run as a fresh process, interleaved like scripts/bench.py (whose
   harness it uses): psql select 1, gmp trace donor D --json, and for context the
   same document from psql (`select gmp.trace_donor(D)`).

Figures as a table on stdout, or JSON with --json; progress and the generation's
phases on stderr. Standard library only.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no scripts/__pycache__ from importing bench.py
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (scripts/bench.py: Case, run_bench, report, print_table)

HERE = os.path.dirname(os.path.abspath(__file__))


def log(message: str) -> None:
    print(f"bench_trace: {message}", file=sys.stderr, flush=True)


sh = bench.sh


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = bench.driver_arguments(__doc__)
    ap.add_argument("--donors", type=int, default=10_000,
                    help="donors to generate (default 10,000; ten lots each)")
    ap.add_argument("--donor", help="the donor to trace (default: the one in the middle, "
                                    "D26-005000 for 10,000 donors)")
    ap.add_argument("--runs", type=int, default=40, help="counted runs per case (default 40)")
    ap.add_argument("--warmup", type=int, default=5, help="uncounted warm-up rounds (default 5)")
    ap.add_argument("--target", type=float, default=1.5,
                    help="ratio gmp trace / psql select 1 aimed for (default 1.5)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--check", action="store_true", help="exit 1 when the ratio misses its target")
    args = ap.parse_args(argv)
    if args.runs < 1 or args.warmup < 0:
        ap.error("--runs must be at least 1 and --warmup not negative")
    if not 2 <= args.donors <= 99_999:
        ap.error("--donors must be 2 to 99,999 (lot numbers have six digits)")
    args.donor = args.donor or f"D26-{args.donors // 2:06d}"
    if not re.fullmatch(r"D[0-9]{2}-[0-9]{6}", args.donor):
        ap.error("--donor is a donor code like D26-005000")
    return args


def load_facility(psql: list[str], donors: int) -> float | None:
    """Generates the facility unless it is there; its time in seconds, or None if reused."""
    have_donors, have_lots = (int(v) for v in sh(psql + ["-At", "-c",
        "SELECT (SELECT count(*) FROM gmp.donor), (SELECT count(*) FROM gmp.lot)"]).stdout.strip().split("|"))
    if (have_donors, have_lots) == (donors, 10 * donors):
        log(f"facility already generated ({have_donors:,} donors, {have_lots:,} lots): reused")
        return None
    if have_donors or have_lots:
        raise bench.BenchError(f"the server has {have_donors:,} donors and {have_lots:,} lots, not the "
                               f"generated facility of {donors:,} and {10 * donors:,}: use a fresh server "
                               "(scripts/bench --trace makes one)")
    log(f"generating {donors:,} donors and {10 * donors:,} lots (scripts/bench_trace.sql)…")
    return run_generator(psql, "bench_trace.sql", {"donors": donors}, log)


def run_generator(psql: list[str], script: str, variables: dict, say) -> float:
    """Runs scripts/SCRIPT through psql with -v variables, its lines (phases, progress)
    passed to `say` as they come; then VACUUM ANALYZE, as autovacuum would have done on
    records made over months. Returns the generation's seconds (without the VACUUM).
    Also used by scripts/bench_release.py."""
    start = time.monotonic()
    proc = subprocess.Popen(psql + ["-At"] + [a for k, v in variables.items() for a in ("-v", f"{k}={v}")]
                            + ["-f", os.path.join(HERE, script)], stdout=subprocess.PIPE, text=True)
    for line in proc.stdout:
        if line.strip():
            say("  " + line.rstrip())
    if proc.wait() != 0:
        raise bench.BenchError(f"scripts/{script} failed (exit {proc.returncode})")
    seconds = time.monotonic() - start
    say(f"generated in {seconds:.1f} s; VACUUM ANALYZE…")
    start = time.monotonic()
    sh(psql + ["-c", "VACUUM (ANALYZE)"])
    say(f"  {time.monotonic() - start:.1f} s")
    return seconds


def execution_ms(explain_output: str) -> list[float]:
    return [float(m) for m in re.findall(r"Execution Time: ([0-9.]+) ms", explain_output)]


_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


def canonical(document, key: str = ""):
    """The document as gmp's one output shape prints it, compared by meaning: every
    timestamp an aware datetime (gmp writes the server's `+00:00` as `.000000Z`), and a
    DIN under `lot`, `lots` or `parent` without its check character (gmp adds it there,
    Output's JSONDocument.lotKeys)."""
    if isinstance(document, dict):
        return {k: canonical(v, k) for k, v in document.items()}
    if isinstance(document, list):
        return [canonical(v, key) for v in document]
    if isinstance(document, str) and _TIMESTAMP.fullmatch(document):
        return datetime.datetime.fromisoformat(document.replace("Z", "+00:00"))
    if isinstance(document, str) and key in ("lot", "lots", "parent") and len(document) in (13, 14):
        return document[:13]
    return document


def in_server_cost(psql: list[str], call: str, sessions: int = 5, calls: int = 20) -> dict:
    """EXPLAIN ANALYZE of `SELECT call` (e.g. gmp.trace_donor('D26-005000')): the first
    call of fresh sessions, and later calls of one. Also used by scripts/bench_release.py."""
    explain = f"EXPLAIN (ANALYZE, COSTS OFF) SELECT {call}"
    first = []
    for _ in range(sessions):
        first += execution_ms(sh(psql + ["-c", explain]).stdout)
    later = execution_ms(sh(psql + [arg for _ in range(calls) for arg in ("-c", explain)]).stdout)[1:]
    return {"first_call_in_session_ms": round(statistics.median(first), 3),
            "later_calls_ms": round(statistics.median(later), 3),
            "sessions": sessions, "later_calls": len(later)}


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    socket_dir = os.path.join(args.data_dir, "run")
    # The connection scripts/bench.py's baseline uses, and gmp's on the embedded server.
    target = ["-h", socket_dir, "-p", "5432", "-U", "gmp_owner", "-d", "gmp"]
    psql = [args.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1"] + target
    os.environ["GMP_DATA_DIR"] = args.data_dir
    gmp_trace = [args.gmp, "trace", "donor", args.donor, "--json"]

    try:
        # Before a generation that takes minutes: is there a command to time? (For an
        # unknown subcommand, --help prints gmp's own help and succeeds.)
        help_run = subprocess.run([args.gmp, "trace", "donor", "--help"], capture_output=True, text=True)
        if help_run.returncode != 0 or "USAGE: gmp trace donor" not in help_run.stdout:
            raise bench.BenchError(f"{args.gmp} has no `trace donor` command")
        generation_seconds = load_facility(psql, args.donors)
        counts = dict(zip(("donors", "lots", "steps", "audit_events"), (int(v) for v in sh(psql + ["-At", "-c",
            "SELECT (SELECT count(*) FROM gmp.donor), (SELECT count(*) FROM gmp.lot), "
            "(SELECT count(*) FROM gmp.manufacturing_step), (SELECT seq FROM gmp_audit.chain_head)"]
            ).stdout.strip().split("|"))))

        # What is traced, and that gmp prints the same document as the function.
        expected = json.loads(sh(psql + ["-At", "-c", f"SELECT gmp.trace_donor('{args.donor}')"]).stdout)
        printed = json.loads(sh(gmp_trace).stdout)
        if canonical(printed) != canonical(expected):
            raise bench.BenchError(f"`{' '.join(gmp_trace[1:])}` does not print the document of "
                                   f"gmp.trace_donor('{args.donor}')")
        traced = {"donor": args.donor, "newborns": len(expected["newborns"]),
                  "collections": len(expected["collections"]), "lots": len(expected["lots"]),
                  "document_bytes": len(json.dumps(expected, separators=(",", ":")))}
        log(f"tracing {args.donor}: {traced['newborns']} newborn(s), {traced['collections']} collections, "
            f"{traced['lots']} lots, a {traced['document_bytes']:,}-byte document")

        server = in_server_cost(psql, f"gmp.trace_donor('{args.donor}')")
        log(f"in-server (EXPLAIN ANALYZE): first call in a session {server['first_call_in_session_ms']:.2f} ms, "
            f"later calls {server['later_calls_ms']:.2f} ms")

        cases = [
            bench.Case(name="psql select 1", label="psql",
                       argv=[args.psql, "-X"] + target + ["-c", "select 1"]),
            bench.Case(name=f"gmp trace donor {args.donor} --json", label="gmp trace",
                       argv=gmp_trace, baseline="psql select 1", target=args.target),
            # Context: the same document through libpq's own client. No target.
            bench.Case(name="psql select gmp.trace_donor", label="psql trace",
                       argv=[args.psql, "-X", "-At"] + target + ["-c", f"select gmp.trace_donor('{args.donor}')"]),
        ]
        bench.run_bench(cases, args.runs, args.warmup, progress=sys.stderr.isatty() and not args.json)
    except bench.FAILURES as e:
        return bench.failed("bench_trace", e)

    result = bench.report(cases, args.runs, args.warmup)
    # Informational: gmp against libpq's client printing the same document.
    gmp_ns = statistics.median(cases[1].samples_ns)
    psql_trace_ns = statistics.median(cases[2].samples_ns)
    result["ratios"].append({"case": cases[1].name, "baseline": cases[2].name,
                             "label": f"{cases[1].label}/{cases[2].label}",
                             "median_ratio": round(gmp_ns / psql_trace_ns, 4), "target": None, "met": None})
    result.update({"facility": counts, "generation_seconds": None if generation_seconds is None
                   else round(generation_seconds, 1), "traced": traced, "in_server": server})
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
    else:
        print(f"facility: {counts['donors']:,} donors, {counts['lots']:,} lots, {counts['steps']:,} steps, "
              f"{counts['audit_events']:,} audit events"
              + ("" if generation_seconds is None else f"; generated in {generation_seconds:.1f} s"))
        print(f"traced {args.donor}: {traced['collections']} collections, {traced['lots']} lots, "
              f"{traced['document_bytes']:,} bytes of JSON; in-server {server['first_call_in_session_ms']:.2f} ms "
              f"(first call in a session), {server['later_calls_ms']:.2f} ms (later calls)")
        bench.print_table(result)
    if args.check and any(r["met"] is False for r in result["ratios"]):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
