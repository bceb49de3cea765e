#!/usr/bin/env python3
"""Readings-import benchmark: `gmp storage readings import FILE` of a generated
temperature log (default 1,000,000 readings: one device, one reading a minute, about
two years) against a plain `psql \\copy` of the same file into an unvalidated table
with the same columns (no key, no trigger), measured in the same run. Target: gmp
loads at least 0.5x the readings per second of the plain copy.

Started by `scripts/bench --readings [--rows N]`, on the bench's private embedded
server (the superuser gmp_owner, by peer authentication). It can also run alone
against such a server:

    scripts/bench_readings.py --gmp .build/release/gmp --data-dir /tmp/gmp-bench.XXXXXX

Each round times the copy, then the import, as fresh processes (rounds interleaved,
the first a warm-up). Every import needs readings the database does not have yet, so
round r loads the file of its own device BENCH-r, which differs from the others in the
device's name only; the copy loads that same file into the truncated plain table. So
that gmp, like the copy, starts each round from an empty table (readings cannot be
truncated), each round's import goes into a fresh database made, untimed, from the
migrated one (CREATE DATABASE … TEMPLATE gmp) and dropped after its count is checked. The
log stays within the device's limit except one five-minute excursion in the middle,
so each import also opens an excursion, as a real log sometimes does.

For context (no target), each round also copies the file into a plain table with a
primary key (device_id, read_at) and nothing else: what a per-reading unique index
would cost by itself (gmp's table has none: see sql/code/13_readings.sql).

Figures as a table on stdout, or JSON with --json; progress on stderr. Standard
library only.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # no scripts/__pycache__ from importing bench.py
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (scripts/bench.py: BenchError, real_psql)

OPERATOR = "bench_readings_operator"
PASSWORD = "bench readings password 1"


def log(message: str) -> None:
    print(f"bench_readings: {message}", file=sys.stderr, flush=True)


sh = bench.sh


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = bench.driver_arguments(__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000, help="readings in the file (default 1,000,000)")
    ap.add_argument("--runs", type=int, default=5, help="counted rounds (default 5)")
    ap.add_argument("--warmup", type=int, default=1, help="uncounted warm-up rounds (default 1)")
    ap.add_argument("--target", type=float, default=0.5,
                    help="ratio gmp readings/s / psql \\copy readings/s aimed for (default 0.5)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--check", action="store_true", help="exit 1 when the ratio misses its target")
    args = ap.parse_args(argv)
    if args.rows < 100 or args.runs < 1 or args.warmup < 0:
        ap.error("--rows must be at least 100, --runs at least 1 and --warmup not negative")
    return args


def write_log(path: str, device: str, rows: int) -> None:
    """One reading a minute from 2024-01-01T00:00:00Z, -190.0 … -185.1 °C, except five
    readings at -120 °C in the middle (the tank's limit is -150 °C)."""
    start = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    warm = range(rows // 2, rows // 2 + 5)
    with open(path, "w") as f:
        f.write("device,read_at,celsius\n")
        for i in range(rows):
            at = (start + datetime.timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
            celsius = "-120.0" if i in warm else f"{-190 + (i % 50) / 10:.1f}"
            f.write(f"{device},{at},{celsius}\n")


def set_up(psql: list[str], devices: list[str]) -> None:
    """The operator who imports, a site with one tank per round, and the plain table."""
    sql = f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM gmp.account WHERE id = '{OPERATOR}') THEN
                PERFORM gmp.add_account('{OPERATOR}', 'Bench Operator', '{PASSWORD}', ARRAY['operator'], 'benchmark');
                PERFORM set_config('gmp.reason', 'benchmark: password accepted as permanent', true);
                UPDATE gmp.account SET must_change_password = false WHERE id = '{OPERATOR}';
            END IF;
        END $$;
        SELECT set_config('gmp.reason', 'benchmark storage', false);
        INSERT INTO gmp.storage_location (id, kind, name) VALUES ('BENCH-SITE', 'site', 'Benchmark site')
            ON CONFLICT DO NOTHING;
        INSERT INTO gmp.storage_location (id, kind, parent_id, name, max_celsius, holds)
        SELECT d, 'tank', 'BENCH-SITE', 'Benchmark tank', -150, ARRAY['cells']
        FROM unnest(ARRAY[{", ".join(f"'{d}'" for d in devices)}]) d
        WHERE NOT EXISTS (SELECT FROM gmp.storage_location l WHERE l.id = d);
        CREATE TABLE IF NOT EXISTS public.bench_plain_reading (device_id text, read_at timestamptz, celsius numeric(6,2));
        CREATE TABLE IF NOT EXISTS public.bench_keyed_reading (device_id text COLLATE "C", read_at timestamptz,
                                                               celsius numeric(6,2), PRIMARY KEY (device_id, read_at));
    """
    sh(psql + ["-c", sql])
    taken = sh(psql + ["-At", "-c", "SELECT count(*) FROM gmp.temperature_reading WHERE device_id = ANY ('{"
                       + ",".join(devices) + "}')"]).stdout.strip()
    if taken != "0":
        raise bench.BenchError("the benchmark devices have readings already: use a fresh server "
                               "(scripts/bench --readings makes one)")


def fresh_database(admin: list[str], name: str) -> None:
    """A copy of the migrated database gmp (no readings), for one round's import. The
    copy needs gmp without sessions: an autovacuum worker may hold one for a moment."""
    for attempt in range(30):
        proc = subprocess.run(admin + ["-c", f"DROP DATABASE IF EXISTS {name}", "-c",
                                       f"CREATE DATABASE {name} TEMPLATE gmp"], capture_output=True, text=True)
        if proc.returncode == 0:
            return
        if "is being accessed by other users" not in proc.stderr:
            raise bench.BenchError(f"CREATE DATABASE {name}: {proc.stderr.strip()}")
        time.sleep(1)
    raise bench.BenchError(f"CREATE DATABASE {name}: gmp stayed busy")


def timed(argv: list[str], env: dict | None = None) -> float:
    start = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env)
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        raise bench.BenchError(f"{' '.join(argv)} failed (exit {proc.returncode}): {proc.stderr.strip()}")
    return seconds


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    socket_dir = os.path.join(args.data_dir, "run")
    target = ["-h", socket_dir, "-p", "5432", "-d", "gmp"]
    psql = [args.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-U", "gmp_owner"] + target
    admin = [args.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-U", "gmp_owner", "-h", socket_dir, "-p", "5432",
             "-d", "postgres"]
    round_db = "gmp_bench_readings_round"
    round_psql = [args.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-U", "gmp_owner", "-h", socket_dir, "-p", "5432",
                  "-d", round_db]
    rounds = args.warmup + args.runs
    devices = [f"BENCH-{r + 1}" for r in range(rounds)]
    env = dict(os.environ, GMP_DATA_DIR=args.data_dir, PGPASSWORD=PASSWORD,
               GMP_DATABASE=f"host={socket_dir} port=5432 dbname={round_db}")
    copy_s, keyed_s, gmp_s, imported = [], [], [], [0, 0]
    try:
        help_run = subprocess.run([args.gmp, "storage", "readings", "import", "--help"], capture_output=True, text=True)
        if help_run.returncode != 0 or "USAGE: gmp storage readings import" not in help_run.stdout:
            raise bench.BenchError(f"{args.gmp} has no `storage readings import` command")
        set_up(psql, devices)
        with tempfile.TemporaryDirectory(prefix="bench-readings.") as tmp:
            os.chmod(tmp, 0o755)
            log(f"writing {rounds} logs of {args.rows:,} readings…")
            files = []
            for device in devices:
                files.append(os.path.join(tmp, f"{device}.csv"))
                write_log(files[-1], device, args.rows)
            size = os.path.getsize(files[0])
            for r, (device, path) in enumerate(zip(devices, files)):
                fresh_database(admin, round_db)
                sh(psql + ["-c", "TRUNCATE public.bench_plain_reading, public.bench_keyed_reading", "-c", "CHECKPOINT"])
                copy = timed(psql + ["-c", f"\\copy public.bench_plain_reading (device_id, read_at, celsius) "
                                           f"FROM '{path}' WITH (FORMAT csv, HEADER true)"])
                sh(psql + ["-c", "CHECKPOINT"])
                keyed = timed(psql + ["-c", f"\\copy public.bench_keyed_reading (device_id, read_at, celsius) "
                                            f"FROM '{path}' WITH (FORMAT csv, HEADER true)"])
                sh(psql + ["-c", "CHECKPOINT"])
                load = timed([args.gmp, "-U", OPERATOR, "storage", "readings", "import", path, "--json"], env)
                loaded = sh(round_psql + ["-At", "-c", "SELECT count(*), (SELECT count(*) FROM gmp.excursion x "
                                                        "WHERE x.device_id LIKE 'BENCH-%') FROM gmp.temperature_reading "
                                                        "WHERE device_id LIKE 'BENCH-%'"]).stdout.strip().split("|")
                imported = [imported[0] + int(loaded[0]), imported[1] + int(loaded[1])]
                sh(admin + ["-c", f"DROP DATABASE {round_db}"])
                warm = r < args.warmup
                log(f"round {r + 1}/{rounds}{' (warm-up)' if warm else ''}: psql \\copy {copy:.2f} s, "
                    f"keyed {keyed:.2f} s, gmp import {load:.2f} s")
                if not warm:
                    copy_s.append(copy)
                    keyed_s.append(keyed)
                    gmp_s.append(load)
        if imported[0] != rounds * args.rows:
            raise bench.BenchError(f"{imported[0]:,} readings loaded, expected {rounds * args.rows:,}")
    except bench.FAILURES as e:
        return bench.failed("bench_readings", e)

    copy_median, gmp_median = statistics.median(copy_s), statistics.median(gmp_s)
    keyed_median = statistics.median(keyed_s)
    ratio = copy_median / gmp_median  # = (rows/gmp) / (rows/copy)
    result = {
        "rows": args.rows, "file_bytes": size, "runs": args.runs, "warmup": args.warmup,
        "psql_copy_seconds": [round(s, 3) for s in copy_s], "gmp_import_seconds": [round(s, 3) for s in gmp_s],
        "psql_keyed_copy_seconds": [round(s, 3) for s in keyed_s],
        "psql_keyed_copy_rows_per_second": round(args.rows / keyed_median),
        "keyed_ratio": round(copy_median / keyed_median, 3),
        "psql_copy_rows_per_second": round(args.rows / copy_median),
        "gmp_import_rows_per_second": round(args.rows / gmp_median),
        "ratio": round(ratio, 3), "target": args.target, "met": ratio >= args.target,
        "excursions_opened": imported[1],
    }
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
    else:
        print(f"{args.rows:,} readings ({size / 1e6:.1f} MB CSV), median of {args.runs} rounds:")
        print(f"  psql \\copy into a plain table   {copy_median:7.2f} s  {result['psql_copy_rows_per_second']:>10,} readings/s")
        print(f"  psql \\copy, table with the key  {keyed_median:7.2f} s  {result['psql_keyed_copy_rows_per_second']:>10,} readings/s"
              f"  (informational: {result['keyed_ratio']:.2f}x the plain rate)")
        print(f"  gmp storage readings import     {gmp_median:7.2f} s  {result['gmp_import_rows_per_second']:>10,} readings/s")
        print(f"  gmp/psql rate: {ratio:.2f} (target >= {args.target:.2f}: {'met' if result['met'] else 'NOT met'})")
    if args.check and not result["met"]:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
