#!/usr/bin/env python3
"""Load benchmark (issue 18): 1, 4, 8 and 16 concurrent clients of realistic audited
writes through the gmp binary, against the same number of clients doing unaudited
inserts through psql in the same run.

Started by `scripts/bench --load`, on the bench's private embedded server (the
superuser gmp_owner, by peer authentication). It can also run alone against such a
server (a gmp that `gmp db start` / `gmp db migrate` set up under GMP_DATA_DIR):

    scripts/bench_load.py --gmp .build/release/gmp --data-dir /tmp/gmp-bench.XXXXXX

Each gmp client is a person of its own (an operator and a QC analyst) running, for
--seconds per client count, the manufacturing cycle of one lot over and over, each
command a fresh process as a person would run it: `lot create`, `spec assign` (signed),
`lot step` (isolation, passage, harvest, fill, cryopreservation), `unit place` (two
units into the client's own box), `qc record` (eight results) and `donor screen`.
Each psql client runs `psql -X -c "INSERT INTO public.bench_load_plain …"`, also a
fresh process each time, into a table without the audit trigger.

Printed per client count: commands/s, p50/p99 latency in ms, retries (serialization
failures or deadlocks gmp retried, from its -vv log) and exhaustion (exit 75), other
failures, and the same for psql; the load average of the machine at the end.
Standard library only.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta

sys.dont_write_bytecode = True  # no scripts/__pycache__ from importing bench.py
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (scripts/bench.py: driver_arguments, FAILURES, failed)

PASSWORD = "bench load password 1"
PANEL = ["hiv1-ab", "hiv1-nat", "hiv2-ab", "hbsag", "anti-hbc", "anti-hcv", "hcv-nat", "syphilis", "wnv-nat"]
MARKERS = [("cd105", "98.6"), ("cd73", "98.6"), ("cd90", "98.6"), ("cd45", "0.4"),
           ("cd34", "0.4"), ("cd14", "0.4"), ("cd19", "0.4"), ("hla_dr", "0.4")]
STEPS = [["isolation"], ["passage", "--cell-count", "180000000", "--viability", "95.4", "--doublings", "2.6"],
         ["harvest"], ["fill", "--units", "2", "--unit-volume", "1.0"], ["cryopreservation"]]
CONFIG = "facility:\n  isbt128_facility: G1234\n  max_passage: 3\n  max_population_doublings: 12\n"


def log(message: str) -> None:
    print(f"bench_load: {message}", file=sys.stderr, flush=True)


def day(offset: int) -> str:
    return (date.today() + timedelta(days=offset)).isoformat()


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class Facility:
    """The server, the people and the records the clients work on."""

    def __init__(self, args, config_path: str):
        self.args = args
        self.config = config_path
        self.conn = f"host={os.path.join(args.data_dir, 'run')} dbname=gmp user=gmp_owner"
        self.env = dict(os.environ, GMP_DATA_DIR=args.data_dir)
        self.env.pop("GMP_DATABASE", None)

    def psql(self, sql: str) -> str:
        return sh([self.args.psql, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", self.conn, "-c", sql]).stdout

    def person(self, name: str, role: str) -> str:
        self.psql(f"""
            SELECT gmp.add_account('{name}', 'Bench {name}', '{PASSWORD}', ARRAY['{role}'], 'load bench set-up')
            WHERE NOT EXISTS (SELECT FROM gmp.account WHERE id = '{name}');
            BEGIN;
            SELECT set_config('gmp.reason', 'load bench set-up: password accepted as permanent', true);
            UPDATE gmp.account SET must_change_password = false WHERE id = '{name}' AND must_change_password;
            COMMIT;""")
        return name

    def gmp(self, person: str, argv: list[str], signed: bool = False, verbose: bool = False):
        """Runs gmp as `person`; returns (exit status, seconds, stdout, stderr)."""
        command = [self.args.gmp, "--config", self.config, "-U", person] + argv
        if signed:
            command.append("--password-stdin")
        if verbose:
            command.append("-vv")
        env = dict(self.env, PGPASSWORD=PASSWORD)
        started = time.monotonic()
        done = subprocess.run(command, env=env, text=True, capture_output=True,
                              input=PASSWORD + "\n" if signed else None)
        return done.returncode, time.monotonic() - started, done.stdout, done.stderr

    def must(self, person: str, argv: list[str], signed: bool = False) -> str:
        status, _, out, err = self.gmp(person, argv, signed)
        if status != 0:
            raise bench.BenchError(f"gmp {' '.join(argv)} exited {status}: {err.strip()}")
        return out

    def set_up(self, clients: int) -> None:
        admin, director, qa = self.person("lbadmin", "admin"), self.person("lbdirector", "director"), self.person("lbqa", "qa")
        self.must(admin, ["facility", "apply", "--reason", "load bench"])
        self.operators = [self.person(f"lbop{c:02d}", "operator") for c in range(clients)]
        self.analysts = [self.person(f"lbqc{c:02d}", "qc") for c in range(clients)]
        op, qc = self.operators[0], self.analysts[0]
        if not self.psql("SELECT id FROM gmp.specification WHERE id = 'UC-MSC-DP@1' AND status = 'approved'").strip():
            spec = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "config", "specs", "uc-msc.yaml")
            spec_id = json.loads(self.must(qc, ["spec", "import", spec, "--json"]))["id"]
            self.must(qa, ["spec", "approve", spec_id], signed=True)
        mother = json.loads(self.must(op, ["donor", "register", "--use", "allogeneic", "--name", "Load Mother", "--json"]))["donor"]
        child = json.loads(self.must(op, ["donor", "register", "--use", "allogeneic", "--birth-mother", mother,
                                          "--name", "Load Newborn", "--json"]))["donor"]
        self.must(op, ["donor", "consent", mother, "--given-on", day(-10), "--scope", "tissue for cell banking",
                       "--taken-by", "R. Nurse"])
        collection = json.loads(self.must(op, [
            "tissue", "collect", child, "umbilical_cord", "--site", "Maternity", "--at", f"{day(-3)}T09:15:00Z",
            "--collector", "Dr. A. Collector", "--amount", "25", "--unit", "cm", "--transport", "2-8 °C", "--json"]))["collection"]
        self.must(op, ["tissue", "receive", collection, "--condition", "acceptable"])
        for test in PANEL:
            self.must(qc, ["donor", "screen", mother, test, "nonreactive", "--kit", "Kit 42", "--specimen-on", day(-3)])
        self.must(director, ["donor", "determine", child, "--outcome", "eligible"], signed=True)
        self.collection = collection
        self.screened = [json.loads(self.must(op, ["donor", "register", "--use", "allogeneic", "--name", f"Load Donor {c}",
                                                   "--json"]))["donor"] for c in range(clients)]
        for argv in (["LOAD-SITE", "--kind", "site", "--name", "Load site"],
                     ["LOAD-LN2", "--kind", "tank", "--in", "LOAD-SITE", "--max-celsius", "-150", "--holds", "cells"],
                     ["LOAD-R1", "--kind", "rack", "--in", "LOAD-LN2"]):
            if not self.psql(f"SELECT id FROM gmp.storage_location WHERE id = '{argv[0]}'").strip():  # a second run
                self.must(op, ["storage", "add"] + argv)
        self.psql("CREATE TABLE IF NOT EXISTS public.bench_load_plain (id bigserial PRIMARY KEY, client int NOT NULL, note text NOT NULL)")
        self.boxes = int(self.psql("SELECT count(*) FROM gmp.storage_location WHERE id LIKE 'LOAD-B%'"))

    def new_box(self, operator: str) -> str:
        """A 9 × 9 box of the client's own (positions are not what this measures)."""
        self.boxes += 1
        box = f"LOAD-B{self.boxes:04d}"
        self.must(operator, ["storage", "add", box, "--kind", "box", "--in", "LOAD-R1", "--rows", "9", "--columns", "9"])
        return box


def sh(argv):
    """Runs a program; its failure (CalledProcessError) is one of bench.FAILURES."""
    return subprocess.run(argv, check=True, text=True, capture_output=True)


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.retries = 0
        # Per command (e.g. "lot create"): [runs, retries, exit 75, other failures].
        self.kinds: dict[str, list[int]] = {}
        self.examples: list[str] = []

    def add(self, status: int, seconds: float, stderr: str = "", kind: str = "insert") -> None:
        retries = stderr.count("conflicted (SQLSTATE")
        with self.lock:
            self.latencies.append(seconds)
            self.statuses[status] = self.statuses.get(status, 0) + 1
            self.retries += retries
            counts = self.kinds.setdefault(kind, [0, 0, 0, 0])
            counts[0] += 1
            counts[1] += retries
            counts[2 if status == 75 else 3] += status != 0
            if status != 0 and len(self.examples) < 3:
                last = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit {status}"
                self.examples.append(f"{kind}: {last}")


def gmp_client(facility: Facility, client: int, box: str, deadline: float, tally: Tally) -> None:
    op, qc = facility.operators[client], facility.analysts[client]
    position = 0

    def run(person, argv, signed=False):
        status, seconds, out, err = facility.gmp(person, argv, signed, verbose=True)
        tally.add(status, seconds, err, kind=" ".join(argv[:2]))
        return status, out

    round_ = 0
    while time.monotonic() < deadline:
        round_ += 1
        status, out = run(op, ["lot", "create", "--collection", facility.collection, "--stage", "drug_product",
                               "--use", "allogeneic", "--expires", day(365), "--json"])
        if status != 0:
            continue
        created = json.loads(out)
        lot = created["din"] + created["check_character"]
        run(qc, ["spec", "assign", lot, "UC-MSC-DP", "--max-dose", "0.2"], signed=True)
        for step in STEPS:
            if time.monotonic() >= deadline:
                return
            run(op, ["lot", "step", lot] + step)
        for division in (1, 2):
            if position < 81 and time.monotonic() < deadline:
                row, column = divmod(position, 9)
                position += 1
                run(op, ["unit", "place", f"{created['din']}-{division:03d}", "--box", box,
                         "--position", f"{chr(65 + row)}{column + 1}"])
        for test, value in MARKERS:
            if time.monotonic() >= deadline:
                return
            run(qc, ["qc", "record", lot, test, value, "--unit", "%", "--method", "flow cytometry"])
        run(qc, ["donor", "screen", facility.screened[client], PANEL[round_ % len(PANEL)], "nonreactive",
                 "--kit", f"Kit {client}-{round_}", "--specimen-on", day(-3)])


def psql_client(facility: Facility, client: int, deadline: float, tally: Tally) -> None:
    sql = f"INSERT INTO public.bench_load_plain (client, note) VALUES ({client}, 'unaudited twin write')"
    while time.monotonic() < deadline:
        started = time.monotonic()
        done = subprocess.run([facility.args.psql, "-X", "-q", "-d", facility.conn, "-c", sql],
                              text=True, capture_output=True)
        tally.add(done.returncode, time.monotonic() - started, done.stderr)


def figures(tally: Tally, elapsed: float) -> dict:
    done = len(tally.latencies)
    return {
        "commands": done,
        "commands_per_s": done / elapsed if elapsed else 0.0,
        "p50_ms": percentile(tally.latencies, 50) * 1000,
        "p99_ms": percentile(tally.latencies, 99) * 1000,
        "retries": tally.retries,
        "exit_75": tally.statuses.get(75, 0),
        "other_failures": sum(n for status, n in tally.statuses.items() if status not in (0, 75)),
        "examples": tally.examples,
        "by_command": {kind: dict(zip(("runs", "retries", "exit_75", "other_failures"), counts))
                       for kind, counts in sorted(tally.kinds.items())},
    }


def main(argv: list[str]) -> int:
    ap = bench.driver_arguments(__doc__)
    ap.add_argument("--clients", default="1,4,8,16", help="client counts, comma-separated (default 1,4,8,16)")
    ap.add_argument("--seconds", type=float, default=15, help="seconds per client count and side (default 15)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    counts = [int(n) for n in args.clients.split(",")]
    with tempfile.TemporaryDirectory() as scratch:
        config = os.path.join(scratch, "gmp.yaml")
        with open(config, "w") as f:
            f.write(CONFIG)
        facility = Facility(args, config)
        try:
            log(f"set-up: people, a spec, an eligible donation and storage for {max(counts)} clients")
            facility.set_up(max(counts))
            rows = []
            for n in counts:
                boxes = [facility.new_box(facility.operators[c]) for c in range(n)]
                log(f"{n} client(s): gmp for {args.seconds:g} s, then psql for {args.seconds:g} s")
                gmp_tally = Tally()
                deadline = time.monotonic() + args.seconds
                started = time.monotonic()
                threads = [threading.Thread(target=gmp_client, args=(facility, c, boxes[c], deadline, gmp_tally))
                           for c in range(n)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                gmp_elapsed = time.monotonic() - started
                psql_tally = Tally()
                deadline = time.monotonic() + args.seconds
                started = time.monotonic()
                threads = [threading.Thread(target=psql_client, args=(facility, c, deadline, psql_tally)) for c in range(n)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                psql_elapsed = time.monotonic() - started
                rows.append({"clients": n, "gmp": figures(gmp_tally, gmp_elapsed), "psql": figures(psql_tally, psql_elapsed)})
        except bench.FAILURES as e:
            return bench.failed("bench_load", e)
    load = os.getloadavg()
    if args.json:
        print(json.dumps({"rows": rows, "load_average": load}, indent=2, sort_keys=True))
        return 0
    print(f"{'clients':>7} | {'gmp cmd/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'retries':>7} {'exit 75':>7} {'other':>5} | "
          f"{'psql cmd/s':>10} {'p50 ms':>7} {'p99 ms':>7} | {'ratio':>5}")
    for row in rows:
        g, p = row["gmp"], row["psql"]
        ratio = g["commands_per_s"] / p["commands_per_s"] if p["commands_per_s"] else float("nan")
        print(f"{row['clients']:>7} | {g['commands_per_s']:>9.1f} {g['p50_ms']:>7.1f} {g['p99_ms']:>7.1f} {g['retries']:>7} "
              f"{g['exit_75']:>7} {g['other_failures']:>5} | {p['commands_per_s']:>10.1f} {p['p50_ms']:>7.1f} "
              f"{p['p99_ms']:>7.1f} | {ratio:>5.2f}")
        for example in g["examples"]:
            print(f"        gmp failure: {example}")
        troubled = {kind: c for kind, c in g["by_command"].items() if c["retries"] or c["exit_75"] or c["other_failures"]}
        for kind, c in troubled.items():
            print(f"        {kind}: {c['runs']} runs, {c['retries']} retries, {c['exit_75']} exit 75, {c['other_failures']} other")
    print(f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
