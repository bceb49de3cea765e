#!/usr/bin/env python3
"""Time gmp commands against baselines, each run as a fresh process.

Normally started by scripts/bench, which builds the release binary and runs a
private embedded server for the run. It can also run alone:

    scripts/bench.py --gmp .build/release/gmp --data-dir /tmp/gmp-bench.XXXXXX
    scripts/bench.py --case fast 'true' --case slow 'sleep 0.01' \
        --baseline fast slow --runs 20          # any commands, to test the harness

Every case runs once per round, in a fixed order, rounds interleaved
(a, b, a, b, ...) so that drift on the machine hits every case alike. The first
rounds are warm-ups and are not counted. A case that fails stops the bench:
timing a failure measures nothing.

To add a benchmark: add a Case to default_cases(); give it `baseline=` the name
of another case to get a ratio line (and `target=` if 1.00 is not the goal).

Standard library only.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field


@dataclass
class Case:
    """One command to time. `label` names it in the ratio line."""

    name: str
    argv: list[str]
    label: str = ""
    baseline: str | None = None  # name of the case to compare against
    target: float | None = 1.00  # ratio median(case)/median(baseline) aimed for; None: informational
    ok_exit: tuple[int, ...] = (0,)  # exit codes that are a run, not a failure
    samples_ns: list[int] = field(default_factory=list)
    # The child's own CPU (user + system) per counted run: on a shared machine the
    # steadier figure, since it excludes time spent waiting for a core.
    cpu_ns: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.label:
            self.label = self.name


def default_cases(gmp: str, data_dir: str, psql: str) -> list[Case]:
    """The benchmark cases. Later issues add theirs here."""
    socket_dir = os.path.join(data_dir, "run")
    return [
        Case(
            name="gmp db status --json",
            label="gmp",
            argv=[gmp, "db", "status", "--json"],
            baseline="psql select 1",
        ),
        # The baseline: the same server, same socket, same user (the embedded
        # server maps root to gmp_owner by peer authentication), from libpq's
        # own client. -X: no ~/.psqlrc.
        Case(
            name="psql select 1",
            label="psql",
            argv=[psql, "-X", "-h", socket_dir, "-p", "5432", "-U", "gmp_owner",
                  "-d", "gmp", "-c", "select 1"],
        ),
        # Context for the ratio above: what starting each program costs before it
        # does any database work (loading libpq and its libraries, runtime start-up,
        # argument parsing). No target: informational.
        Case(
            name="gmp --version",
            label="gmp start-up",
            argv=[gmp, "--version"],
            baseline="psql --version",
            target=None,
        ),
        Case(
            name="psql --version",
            label="psql start-up",
            argv=[psql, "--version"],
        ),
    ]


def real_psql() -> str:
    """psql itself, not Debian's /usr/bin/psql: that is a Perl wrapper
    (pg_wrapper) that adds some 20 ms to every start, which would make the
    baseline look slower than libpq's own client is."""
    found = glob.glob("/usr/lib/postgresql/*/bin/psql")

    def version(path: str) -> int:
        v = path.split("/")[4]
        return int(v) if v.isdigit() else -1

    return max(found, key=version) if found else "psql"


def run_once(case: Case) -> tuple[int, int]:
    """Run the case's command once as a fresh process; wall time and the child's CPU
    time (user + system, from wait4), in ns."""
    start = time.perf_counter_ns()
    proc = subprocess.Popen(case.argv, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = proc.stderr.read()
    proc.stderr.close()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter_ns() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in case.ok_exit:
        err = stderr.decode(errors="replace").strip()
        raise BenchError(f"case '{case.name}' failed with exit code "
                         f"{proc.returncode}: {shlex.join(case.argv)}"
                         + (f"\n{err}" if err else ""))
    return elapsed, round((usage.ru_utime + usage.ru_stime) * 1e9)


class BenchError(Exception):
    pass


def sh(argv, **kw):
    """Runs argv to completion, its output captured as text; a non-zero exit raises."""
    return subprocess.run(argv, check=True, text=True, capture_output=True, **kw)


def driver_arguments(doc: str) -> argparse.ArgumentParser:
    """The options every benchmark driver takes: which gmp, which server, which psql."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--gmp", required=True, help="the gmp binary (release build)")
    ap.add_argument("--data-dir", required=True, help="the embedded server's data dir")
    ap.add_argument("--psql", default=real_psql(),
                    help="the psql binary (default: the newest /usr/lib/postgresql/*/bin/psql)")
    return ap


# What a benchmark driver's set-up and runs may fail with; `failed` says it in one line.
FAILURES = (BenchError, subprocess.CalledProcessError, FileNotFoundError)


def failed(name: str, e: Exception) -> int:
    """Prints one of FAILURES as `NAME: error: …` on stderr; returns the exit status 1."""
    if isinstance(e, subprocess.CalledProcessError):
        message = (f"{' '.join(map(str, e.cmd))} failed with exit code {e.returncode}"
                   + (f"\n{e.stderr.strip()}" if e.stderr else ""))
    elif isinstance(e, FileNotFoundError):
        message = f"command not found: {e.filename}"
    else:
        message = str(e)
    print(f"{name}: error: {message}", file=sys.stderr)
    return 1


def percentile(sorted_values: list[float], p: float) -> float:
    """The p-th percentile (0..100), linear between the closest ranks."""
    if not sorted_values:
        raise ValueError("no values")
    k = (len(sorted_values) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def summarize(samples_ns: list[int]) -> dict[str, float]:
    """Figures in ms, to the microsecond (finer is noise for a process start)."""
    ms = sorted(s / 1e6 for s in samples_ns)
    figures = {
        "median_ms": statistics.median(ms),
        "p90_ms": percentile(ms, 90),
        "min_ms": ms[0],
        "max_ms": ms[-1],
        "mean_ms": statistics.fmean(ms),
    }
    return {k: round(v, 3) for k, v in figures.items()}


def run_bench(cases: list[Case], runs: int, warmup: int, progress: bool) -> None:
    """Interleaved rounds: every case once per round, warm-ups not counted."""
    total = warmup + runs
    for i in range(total):
        for case in cases:
            elapsed, cpu = run_once(case)
            if i >= warmup:
                case.samples_ns.append(elapsed)
                case.cpu_ns.append(cpu)
        if progress:
            print(f"\rround {i + 1}/{total}", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)


def report(cases: list[Case], runs: int, warmup: int) -> dict:
    by_name = {c.name: c for c in cases}
    out_cases = []
    for c in cases:
        out_cases.append({"name": c.name, "command": c.argv, "runs": len(c.samples_ns),
                          **summarize(c.samples_ns),
                          "cpu_median_ms": round(statistics.median(c.cpu_ns) / 1e6, 3) if c.cpu_ns else None})
    ratios = []
    for c in cases:
        if c.baseline is None or c.baseline not in by_name:
            continue
        base = by_name[c.baseline]
        ratio = (statistics.median(c.samples_ns) / statistics.median(base.samples_ns))
        ratios.append({"case": c.name, "baseline": base.name,
                       "label": f"{c.label}/{base.label}",
                       "median_ratio": round(ratio, 4), "target": c.target,
                       "met": None if c.target is None else ratio <= c.target,
                       "cpu_ratio": round(statistics.median(c.cpu_ns) / max(statistics.median(base.cpu_ns), 1), 4)
                       if c.cpu_ns and base.cpu_ns else None})
    # The machine is often shared: the figures mean little without its load.
    return {"runs": runs, "warmup": warmup, "cases": out_cases, "ratios": ratios,
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def print_table(result: dict) -> None:
    rows = [(c["name"], f"{c['median_ms']:.2f}", f"{c['p90_ms']:.2f}", f"{c['min_ms']:.2f}",
             "" if c.get("cpu_median_ms") is None else f"{c['cpu_median_ms']:.2f}")
            for c in result["cases"]]
    header = ("command", "median ms", "p90 ms", "min ms", "client CPU ms")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]

    def line(r):
        return "  ".join([r[0].ljust(widths[0])] + [r[i].rjust(widths[i]) for i in (1, 2, 3, 4)])

    load = result.get("load_average")
    print(f"{result['runs']} runs per command after {result['warmup']} warm-ups, interleaved"
          + (f"; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}" if load else ""))
    print(line(header))
    for r in rows:
        print(line(r))
    for r in result["ratios"]:
        goal = "informational" if r["target"] is None else f"target <= {r['target']:.2f}"
        cpu = "" if r.get("cpu_ratio") is None else f"; client CPU {r['cpu_ratio']:.2f}"
        print(f"ratio {r['label']} (median): {r['median_ratio']:.2f} ({goal}{cpu})")


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=40, help="counted runs per case (default 40)")
    ap.add_argument("--warmup", type=int, default=5, help="uncounted warm-up rounds (default 5)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--gmp", default=".build/release/gmp", help="the gmp binary")
    ap.add_argument("--psql", default=real_psql(),
                    help="the psql binary for the baseline (default: the newest "
                         "/usr/lib/postgresql/*/bin/psql, else psql on PATH)")
    ap.add_argument("--data-dir", default=os.environ.get("GMP_DATA_DIR"),
                    help="the embedded server's data dir (default $GMP_DATA_DIR)")
    ap.add_argument("--only", action="append", metavar="NAME",
                    help="run only this case (repeatable); its baseline comes along")
    ap.add_argument("--case", nargs=2, action="append", metavar=("NAME", "COMMAND"),
                    help="time COMMAND (split like a shell) instead of the default "
                         "cases; repeatable")
    ap.add_argument("--baseline", nargs=2, action="append", metavar=("NAME", "BASE"),
                    help="with --case: compare case NAME against case BASE")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 when a ratio misses its target")
    args = ap.parse_args(argv)
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    if args.warmup < 0:
        ap.error("--warmup must not be negative")
    if args.baseline and not args.case:
        ap.error("--baseline needs --case")
    if not args.case and not args.data_dir:
        ap.error("--data-dir (or GMP_DATA_DIR) is needed for the default cases")
    return args


def select_cases(args: argparse.Namespace) -> list[Case]:
    if args.case:
        cases = [Case(name=n, argv=shlex.split(cmd)) for n, cmd in args.case]
        by_name = {c.name: c for c in cases}
        if len(by_name) != len(cases):
            raise BenchError("--case names must be distinct")
        for name, base in args.baseline or []:
            if name not in by_name or base not in by_name:
                raise BenchError(f"--baseline {name} {base}: no such case")
            by_name[name].baseline = base
    else:
        cases = default_cases(args.gmp, args.data_dir, args.psql)
    if args.only:
        by_name = {c.name: c for c in cases}
        unknown = [n for n in args.only if n not in by_name]
        if unknown:
            raise BenchError(f"no such case: {', '.join(unknown)}; cases: "
                             + ", ".join(by_name))
        keep = set(args.only)
        keep |= {by_name[n].baseline for n in args.only if by_name[n].baseline}
        cases = [c for c in cases if c.name in keep]
    return cases


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        cases = select_cases(args)
        # Progress only for a person watching, never into a log or with --json.
        run_bench(cases, args.runs, args.warmup,
                  progress=sys.stderr.isatty() and not args.json)
    except BenchError as e:
        print(f"bench: error: {e}", file=sys.stderr)
        return 1
    except FileNotFoundError as e:
        print(f"bench: error: command not found: {e.filename}", file=sys.stderr)
        return 1
    result = report(cases, args.runs, args.warmup)
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
    else:
        print_table(result)
    if args.check and any(r["met"] is False for r in result["ratios"]):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
