#!/usr/bin/env python3
"""Recall benchmark: `gmp recall open --donor D` over a donor whose tissue reached
1,000 lots and 10,000 units, in one transaction, against the same holds written by
plain SQL (into unaudited, untriggered copies of the recall tables) in the same run.

Started by `scripts/bench --recall`, on the bench's private embedded server (the
superuser gmp_owner, by peer authentication); it can also run alone against such a
server:

    scripts/bench_recall.py --gmp .build/release/gmp --data-dir /tmp/gmp-bench.XXXXXX

1. Generates a small facility (scripts/bench_trace.sql, 10 donors) unless one is
   there, then scripts/bench_recall.sql: 1,000 drug-product lots of donor D26-000002
   with their steps and 10,000 units; VACUUM ANALYZE.
2. The plain-SQL baseline, in a transaction rolled back afterwards: the lots and
   units found and copied into plain tables, the lots' status set to on_hold in a
   plain copy; its time from clock_timestamp() inside the server.
3. `gmp recall open --donor D26-000002 --password-stdin --json` as a fresh process:
   wall time, the time the server spent in gmp.open_recall (from the audit events'
   times), and the audit events written.

Figures as a table on stdout, or JSON with --json. Standard library only.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
import bench_trace  # noqa: E402

PASSWORD = "Bench-recall-signing-2026"  # scripts/bench_recall.sql gives bench_recall_qa this one


def log(message: str) -> None:
    print(f"bench_recall: {message}", file=sys.stderr, flush=True)


BASELINE = """
BEGIN;
CREATE TEMP TABLE plain_recall_lot (recall_id text, din text, status_at_open text, held boolean);
CREATE TEMP TABLE plain_recall_unit (recall_id text, unit_id text, din text, state_at_open text, shipped boolean,
                                     shipment_id text, consignee text);
CREATE TEMP TABLE plain_lot AS SELECT din, status FROM gmp.lot;
SELECT set_config('bench.t0', clock_timestamp()::text, true);
INSERT INTO plain_recall_lot
SELECT 'PLAIN', l.din, l.status, l.status IN ('quarantine', 'on_hold')
FROM gmp.lot l JOIN gmp_rules.recall_scope('donor', :'donor', NULL, NULL) s ON s = l.din;
UPDATE plain_lot p SET status = 'on_hold' FROM plain_recall_lot r WHERE r.din = p.din AND p.status = 'quarantine';
INSERT INTO plain_recall_unit
SELECT 'PLAIN', u.id, u.din, u.state, u.state IN ('in_transit', 'delivered'), NULL, NULL
FROM gmp.unit u JOIN plain_recall_lot r ON r.din = u.din;
SELECT round(extract(epoch FROM clock_timestamp() - current_setting('bench.t0')::timestamptz) * 1000, 1),
       (SELECT count(*) FROM plain_recall_lot), (SELECT count(*) FROM plain_recall_unit);
ROLLBACK;
"""


def main(argv: list[str]) -> int:
    ap = bench.driver_arguments(__doc__)
    ap.add_argument("--donor", default="D26-000002", help="the donor recalled (default D26-000002)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--conninfo", help="another server instead of the embedded one: a libpq conninfo for psql "
                                       "(as a superuser) and gmp (--database)")
    args = ap.parse_args(argv)
    socket_dir = os.path.join(args.data_dir, "run")
    target = (["-d", args.conninfo] if args.conninfo
              else ["-h", socket_dir, "-p", "5432", "-U", "gmp_owner", "-d", "gmp"])
    database = ["--database", args.conninfo] if args.conninfo else []
    psql = [args.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1"] + target
    os.environ["GMP_DATA_DIR"] = args.data_dir
    try:
        donors = int(bench.sh(psql + ["-At", "-c", "SELECT count(*) FROM gmp.donor"]).stdout)
        if donors == 0:
            log("generating 10 donors (scripts/bench_trace.sql)…")
            bench_trace.run_generator(psql, "bench_trace.sql", {"donors": 10}, log)
        generation = None
        if int(bench.sh(psql + ["-At", "-c", "SELECT count(*) FROM gmp.lot WHERE din >= 'G123426900001'"]).stdout):
            log("the 1,000 lots are there: reused")
        else:
            log(f"generating 1,000 lots of {args.donor} (scripts/bench_recall.sql)…")
            generation = bench_trace.run_generator(psql, "bench_recall.sql", {"donor": args.donor}, log)

        out = bench.sh(psql + ["-At", "-v", f"donor={args.donor}"], input=BASELINE).stdout.split()
        plain_ms, plain_lots, plain_units = float(out[-1].split("|")[0]), *map(int, out[-1].split("|")[1:])
        log(f"plain SQL: {plain_lots:,} lots, {plain_units:,} units in {plain_ms:.1f} ms")

        seq_before = int(bench.sh(psql + ["-At", "-c", "SELECT seq FROM gmp_audit.chain_head"]).stdout)
        start = time.monotonic()
        run = subprocess.run([args.gmp, "recall", "open", "--donor", args.donor, "--reason", "recall benchmark",
                              "--password-stdin", "--json", "-U", "bench_recall_qa"] + database,
                             input=PASSWORD + "\n", capture_output=True, text=True,
                             env=dict(os.environ, PGPASSWORD=PASSWORD))
        wall_ms = (time.monotonic() - start) * 1000
        if run.returncode != 0:
            raise bench.BenchError(f"gmp recall open failed (exit {run.returncode}): {run.stderr.strip()}")
        opened = json.loads(run.stdout)
        row = bench.sh(psql + ["-At", "-c",
            f"SELECT seq - {seq_before}, (SELECT round(extract(epoch FROM max(occurred_at) - min(occurred_at)) * 1000, 1) "
            f"FROM gmp_audit.event WHERE seq > {seq_before}) FROM gmp_audit.chain_head"]).stdout.strip().split("|")
        events, server_ms = int(row[0]), float(row[1])
    except bench.FAILURES as e:
        return bench.failed("bench_recall", e)

    result = {"donor": args.donor, "generation_seconds": None if generation is None else round(generation, 1),
              "lots": opened["lots"], "held_lots": opened["held_lots"], "units": opened["units"],
              "gmp_recall_open_wall_ms": round(wall_ms, 1), "gmp_open_recall_in_server_ms": server_ms,
              "audit_events_written": events,
              "plain_sql_ms": plain_ms, "plain_sql_lots": plain_lots, "plain_sql_units": plain_units,
              "ratio_in_server_to_plain": round(server_ms / plain_ms, 1) if plain_ms else None}
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
    else:
        for key, value in result.items():
            print(f"{key:32} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
