#!/usr/bin/env python3
"""Audit-trail designs measured side by side (issue 19 / 18): can an audited write cost the
server <= 2x its unaudited twin, and reach >= 0.5x the twin's throughput at 16 clients?

Each design is a prototype (scripts/bench_audit_designs.sql; the C trigger is
scripts/bench_audit_c_trigger.c) built in schema `proto` of a database migrated by
`gmp db migrate`, next to gmp's own trail, and measured in ONE run against the same twin
(an INSERT into an unaudited table with the same columns):

  twin     INSERT into public.bench_plain, no trigger
  A        today: row trigger stages the event, chain_if_due after each commit (gmp's way)
  A+C      today, with the row trigger written in C (the staged row inserted directly)
  B        write-once: the event written once into its final table (with the readers'
           indexes); chaining writes a narrow link row (seq, write_order, v2 hash)
  C        as B, the event table with its primary key only (index-light)
  C/batch  as C, chaining writes one row per batch (write_orders + a root hash, "v3")
  D        as C, statement-level triggers with transition tables
  E        as C, the row trigger written in C; E0 without SECURITY DEFINER and the pinned
           settings (the floor); E/SPI the C trigger inserting through a saved SPI plan
  .../bg   A, A+C, A+CH (A+C with the hash in C too), C, E and F (E with the hash in C
           too): writers send nothing after the commit, a session of its own chains every
           0.5 s while pgbench runs

Per design: the server's CPU per audited write (the backend's run time, /proc/PID/schedstat,
one session, synchronous_commit off; in parts: --writes single-row INSERTs, then the
chaining of their events, then as many of the writer's after-commit statement, not due;
each part the least of --cpu-rounds runs), the same per row in 100-row statements, WAL
bytes per write (pg_current_wal_insert_lsn, chaining included), pgbench tps at --clients
(fsync on, one single-row INSERT per transaction plus the design's after-commit statement,
the median of --rounds runs of --seconds, interleaved with the twin), and the server CPU
per event of the verifier's export (the binary COPY of the chain in order, as
`gmp audit verify` streams it). Every figure is printed with the load average.

Needs: a superuser connection string to a database migrated by gmp, the server on this
machine (its /proc entries readable: run as root or the server's account), psql and
pgbench (--bin or PATH), and, for the C designs (A+C, A+CH, E, E0, E/SPI, F), gcc with PostgreSQL 15's server
headers (--server-headers; postgresql-server-dev-15, or its .deb unpacked with
`apt-get download postgresql-server-dev-15 && dpkg-deb -x *.deb DIR`, headers in
DIR/usr/include/postgresql/15/server). Without them those designs are skipped.
Standard library only. Drops and recreates schema `proto` (never touches gmp's tables
but for gmp.bench_audited, the table bench_audit_append.py uses too).

    scripts/bench_audit_designs.py --database "host=/tmp/wd dbname=x user=postgres"

Takes about designs x client counts x rounds x seconds of pgbench, plus ~4 minutes of
server-CPU runs: 16 x 4 x 2 x 5 s, 14 minutes in all with the defaults (2 cores, load 20).
Figures and conclusions: docs/benchmarks.md, "Audit trail designs measured".
"""
from __future__ import annotations

import argparse
import ctypes
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_server_cpu import _cpu_ms, _libpq, _run  # noqa: E402  (one libpq binding for the benchmarks)

HERE = os.path.dirname(os.path.abspath(__file__))
EVENT_COLUMNS = ("write_order, occurred_at, transaction_id, actor, action, table_name, record_key, "
                 "old_values, new_values, reason")


@dataclass
class Design:
    """One prototype: where its writes go, what a writer sends after its commit, how the
    rest is chained (drain), and what the verifier would read, in chain order."""
    name: str
    what: str
    source: str
    prefix: str = ""
    sections: tuple[str, ...] = ()
    after: str = ""
    drain: str = ""
    options: str = ""
    verify: str = ""
    unchained: str = ""
    subst: dict = field(default_factory=dict)
    background: bool = False
    uses_c: bool = False
    figures: dict = field(default_factory=dict)

    @property
    def needs_c(self) -> bool:
        return self.uses_c or "c_trigger" in self.sections or "c_hash" in self.sections


DEFINER = ("SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' "
           "SET IntervalStyle = 'postgres' SET bytea_output = 'hex' SET extra_float_digits = 1")


def c_trigger(function: str, definer: bool, target: str = "", seq: str = "") -> dict:
    """The placeholders of the c_trigger section (target/seq default to the design's own)."""
    return {"__CFN__": function, "__DEFINER__": DEFINER if definer else "",
            "__TARGET__": target or "proto.__D___event", "__SEQ__": seq or "proto.__D___write_order"}


def link_design(name, what, prefix, trigger_sections, indexes=False, batch=False, subst=None,
                c_hash=False) -> Design:
    subst = {"__HASH__": "proto.__D___event_hash" if c_hash else "gmp_audit.event_hash_v2"} | (subst or {})
    sections = ("write_once", "source") + (("reader_indexes",) if indexes else ()) + trigger_sections \
        + (("c_hash",) if c_hash else ()) \
        + (("batch_chain",) if batch else ("link_chain",)) + ("chain_if_due",)
    cols = ", ".join("e." + c.strip() for c in EVENT_COLUMNS.split(","))
    if batch:
        verify = (f"SELECT b.first_seq + u.i - 1, {cols}, b.root FROM proto.{prefix}_batch b "
                  f"CROSS JOIN LATERAL unnest(b.orders) WITH ORDINALITY AS u(w, i) "
                  f"JOIN proto.{prefix}_event e ON e.write_order = u.w ORDER BY b.first_seq, u.i")
        chained = f"(SELECT coalesce(sum(cardinality(orders)), 0) FROM proto.{prefix}_batch)"
    else:
        verify = (f"SELECT l.seq, {cols}, l.hash FROM proto.{prefix}_link l "
                  f"JOIN proto.{prefix}_event e ON e.write_order = l.write_order ORDER BY l.seq")
        chained = f"(SELECT count(*) FROM proto.{prefix}_link)"
    return Design(name, what, f"proto.{prefix}_src", prefix, sections,
                  after=f"SELECT proto.{prefix}_chain_if_due()", drain=f"SELECT proto.{prefix}_chain(NULL, true)",
                  verify=verify, unchained=f"SELECT (SELECT count(*) FROM proto.{prefix}_event) - {chained}",
                  subst=subst)


def chained_in_background(design: Design, name: str, shared: bool = True) -> Design:
    """The same design (its objects shared with it unless not `shared`), but writers send
    nothing after their commits: a session of its own chains every 0.5 s (as a background
    worker or a chaining daemon would)."""
    return replace(design, name=name, what=design.what.split(" (")[0] + ", chained in the background every 0.5 s",
                   sections=design.sections if not shared else (), after="", background=True,
                   uses_c=design.needs_c, figures={})


TODAY = dict(drain="SELECT gmp_audit.chain_pending()", options="-c gmp.audit_chain=after_commit",
             verify=f"SELECT seq, {EVENT_COLUMNS}, hash FROM gmp_audit.event ORDER BY seq",
             unchained="SELECT count(*) FROM gmp_audit.pending_event")
TODAY_DESIGN = Design("A", "today (stage, chain_if_due after each commit)", "gmp.bench_audited",
                      after="SELECT gmp_audit.chain_if_due(10000)", **TODAY)
TODAY_WITH_C = Design("A+C", "today, the row trigger in C", "proto.ea_src", "ea", ("source", "c_trigger"),
                      after="SELECT gmp_audit.chain_if_due(10000)",
                      subst=c_trigger("audit_c_record_change_direct", True, "gmp_audit.pending_event",
                                      "gmp_audit.write_order"), **TODAY)
DESIGNS = [
    Design("twin", "unaudited twin", "public.bench_plain"),
    TODAY_DESIGN,
    chained_in_background(TODAY_DESIGN, "A/bg"),
    TODAY_WITH_C,
    chained_in_background(TODAY_WITH_C, "A+C/bg"),
    Design("A+CH/bg", "today, the row trigger and the hash in C, chained in the background every 0.5 s",
           "proto.ea_src", "ah", ("c_hash", "today_chain_c_hash"), drain="SELECT proto.ah_chain(NULL, true)",
           options=TODAY["options"], verify=TODAY["verify"], unchained=TODAY["unchained"], background=True),
    link_design("B", "write-once + link row, readers' indexes", "b", ("row_trigger_plpgsql",), indexes=True),
    link_design("C", "write-once + link row, primary key only", "c", ("row_trigger_plpgsql",)),
    chained_in_background(link_design("C", "write-once + link row, primary key only", "c", ()), "C/bg"),
    link_design("C/batch", "C, one hash row per batch (v3)", "cb", ("row_trigger_plpgsql",), batch=True),
    link_design("D", "C, statement-level trigger", "d", ("statement_trigger",)),
    link_design("E", "C, the row trigger in C", "e", ("c_trigger",),
                subst=c_trigger("audit_c_record_change_direct", True)),
    chained_in_background(link_design("E", "C, the row trigger in C", "e", ("c_trigger",)), "E/bg"),
    chained_in_background(link_design("F", "E, the hash in C too", "f", ("c_trigger",), c_hash=True,
                                      subst=c_trigger("audit_c_record_change_direct", True)), "F/bg", shared=False),
    link_design("E0", "E without SECURITY DEFINER and pinned settings", "e0", ("c_trigger",),
                subst=c_trigger("audit_c_record_change_direct", False)),
    link_design("E/SPI", "E through a saved SPI plan", "es", ("c_trigger",),
                subst=c_trigger("audit_c_record_change", True)),
]


# Events of gmp's own chain (v2) whose hash the C function does not reproduce: must be 0.
HASH_CHECK = """SELECT count(*) FROM gmp_audit.event e JOIN gmp_audit.event p ON p.seq = e.seq - 1
WHERE e.write_order IS NOT NULL AND {fn}(e.seq, e.write_order, e.occurred_at, e.transaction_id, e.actor,
      e.action, e.table_name, e.record_key, e.old_values, e.new_values, e.reason, p.hash) <> e.hash"""


def sh(argv, env=None) -> str:
    return subprocess.run(argv, check=True, text=True, capture_output=True, env=env).stdout


def sections() -> dict[str, str]:
    text = open(os.path.join(HERE, "bench_audit_designs.sql")).read()
    parts = re.split(r"^-- @section (\w+)\n", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def build_c_trigger(headers: str, tmp: str) -> str:
    """Compiles the C trigger into a directory the server can read; returns the .so path."""
    so = os.path.join(tmp, "bench_audit_c_trigger.so")
    sh(["gcc", "-O2", "-Wall", "-fPIC", "-shared", "-I", headers, "-o", so,
        os.path.join(HERE, "bench_audit_c_trigger.c")])
    os.chmod(tmp, 0o755)
    os.chmod(so, 0o755)
    return so


def lsn(text: str) -> int:
    high, low = text.split("/")
    return (int(high, 16) << 32) + int(low, 16)


class Session:
    """One libpq session and its backend's CPU time (ns resolution, /proc/PID/schedstat)."""

    def __init__(self, conninfo: str):
        self.pq = pq = _libpq()
        pq.PQgetvalue.restype, pq.PQgetvalue.argtypes = ctypes.c_char_p, [ctypes.c_void_p, ctypes.c_int, ctypes.c_int]
        pq.PQgetCopyData.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.c_int]
        pq.PQfreemem.argtypes = [ctypes.c_void_p]
        pq.PQgetResult.restype, pq.PQgetResult.argtypes = ctypes.c_void_p, [ctypes.c_void_p]
        self.conn = pq.PQconnectdb(conninfo.encode())
        if pq.PQstatus(self.conn) != 0:
            raise RuntimeError("connection failed: " + conninfo)
        self.pid = pq.PQbackendPID(self.conn)

    def run(self, sql: str) -> None:
        _run(self.pq, self.conn, sql)

    def value(self, sql: str) -> str:
        result = self.pq.PQexec(self.conn, sql.encode())
        try:
            if self.pq.PQresultStatus(result) != 2:
                raise RuntimeError(f"{sql}: failed")
            return self.pq.PQgetvalue(result, 0, 0).decode()
        finally:
            self.pq.PQclear(result)

    def copy_out(self, query: str) -> int:
        """Streams COPY (query) TO STDOUT (FORMAT binary), as gmp audit verify does; returns the bytes."""
        pq, total = self.pq, 0
        result = pq.PQexec(self.conn, f"COPY ({query}) TO STDOUT (FORMAT binary)".encode())
        if pq.PQresultStatus(result) != 3:  # PGRES_COPY_OUT
            raise RuntimeError(pq.PQresultErrorMessage(result).decode())
        pq.PQclear(result)
        buf = ctypes.c_void_p()
        while (n := pq.PQgetCopyData(self.conn, ctypes.byref(buf), 0)) > 0:
            total += n
            pq.PQfreemem(buf)
        while (result := pq.PQgetResult(self.conn)):
            pq.PQclear(result)
        return total

    def cpu_ms(self) -> float:
        return _cpu_ms(self.pid)

    def close(self) -> None:
        self.pq.PQfinish(self.conn)


class Chainer:
    """A session of its own that chains every `every` seconds while a pgbench run writes."""

    def __init__(self, database: str, drain: str, every: float = 0.5):
        self.session, self.drain, self.every = Session(database), drain, every
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self) -> None:
        while not self.done.wait(self.every):
            self.session.run(self.drain)

    def stop(self) -> None:
        self.done.set()
        self.thread.join()
        self.session.close()


def write_cost(database: str, design: Design, writes: int, rows: int) -> dict[str, float]:
    """Server CPU (µs) per audited row, in parts: `write` the INSERT statements alone
    (`writes` of `rows` rows), `chain` the chaining of their events (the design's drain),
    `check` the statement a writer sends after each commit when chaining is not due; and
    `wal`, the WAL bytes per row of the writes and their chaining."""
    s = Session(f"{database} options='-c synchronous_commit=off {design.options}'")
    try:
        insert = (f"INSERT INTO {design.source} (note) VALUES ('bench row')" if rows == 1 else
                  f"INSERT INTO {design.source} (note) SELECT 'bench row' FROM generate_series(1, {rows})")
        for _ in range(max(300 // rows, 3)):  # warm-up: caches and cached plans
            s.run(insert)
            if design.after:
                s.run(design.after)
        if design.drain:
            s.run(design.drain)
        start_lsn, start = lsn(s.value("SELECT pg_current_wal_insert_lsn()")), s.cpu_ms()
        for _ in range(writes):
            s.run(insert)
        written = s.cpu_ms()
        if design.drain:
            s.run(design.drain)
        chained, end_lsn = s.cpu_ms(), lsn(s.value("SELECT pg_current_wal_insert_lsn()"))
        for _ in range(writes if design.after else 0):
            s.run(design.after)  # nothing is due: everything was just chained
        checked = s.cpu_ms()
        per_row = 1e3 / (writes * rows)
        return {"write": (written - start) * per_row, "chain": (chained - written) * per_row,
                "check": (checked - chained) * per_row, "wal": (end_lsn - start_lsn) / (writes * rows)}
    finally:
        s.close()


def verify_cost(database: str, design: Design) -> tuple[float, int]:
    """Server CPU µs per event of streaming the design's chain in order (binary COPY)."""
    s = Session(database)
    try:
        events = int(s.value(f"SELECT count(*) FROM ({design.verify}) q"))
        start = s.cpu_ms()
        s.copy_out(design.verify)
        return (s.cpu_ms() - start) * 1e3 / max(events, 1), events
    finally:
        s.close()


def load() -> float:
    return os.getloadavg()[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--database", required=True, help="libpq connection string of a gmp-migrated database (superuser)")
    ap.add_argument("--bin", default="", help="directory of psql and pgbench")
    ap.add_argument("--server-headers", default="", help="PostgreSQL 15 server include dir (for the C trigger)")
    ap.add_argument("--designs", default=",".join(d.name for d in DESIGNS), help="comma-separated subset")
    ap.add_argument("--clients", default="1,4,8,16")
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2, help="pgbench runs per design and client count (median)")
    ap.add_argument("--cpu-rounds", type=int, default=3, help="server-CPU runs per design (least)")
    ap.add_argument("--writes", type=int, default=2000, help="single-row writes per server-CPU run")
    args = ap.parse_args()
    psql_bin = os.path.join(args.bin, "psql") if args.bin else "psql"
    pgbench_bin = os.path.join(args.bin, "pgbench") if args.bin else "pgbench"
    psql = [psql_bin, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", args.database]
    chosen = set(args.designs.split(","))
    headers = args.server_headers
    if not headers:
        try:
            headers = sh(["pg_config", "--includedir-server"]).strip()
        except (OSError, subprocess.CalledProcessError):
            headers = ""
    have_c = bool(headers) and os.path.exists(os.path.join(headers, "postgres.h")) and shutil.which("gcc")
    designs = [d for d in DESIGNS if d.name in chosen | {"twin"} and (have_c or not d.needs_c)]
    if not have_c:
        print("no PostgreSQL server headers (--server-headers): the C designs (A+C, A+CH, E, E0, E/SPI, F and their /bg variants) skipped", flush=True)

    tmp = tempfile.mkdtemp(prefix="bench_audit_designs.")
    try:
        so = build_c_trigger(headers, tmp) if have_c else ""
        sql = sections()
        # The shared tables first; the common section then names the reason for the rest.
        script = [open(os.path.join(HERE, "bench_audit_tables.sql")).read(), sql["common"]]
        # Every prototype's objects, chosen or not: a variant shares its design's tables.
        for d in (d for d in DESIGNS if have_c or not d.needs_c):
            for section in d.sections:
                text = sql[section]
                for placeholder, value in d.subst.items():
                    text = text.replace(placeholder, value)
                script.append(text.replace("__D__", d.prefix).replace("__SO__", so))
        sh(psql + ["-c", "\n".join(script)])
        if have_c:
            differ = sh(psql + ["-At", "-c", HASH_CHECK.format(fn="proto.f_event_hash")]).strip()
            if differ != "0":
                raise SystemExit(f"the C hash differs from gmp_audit.event_hash_v2 on {differ} events")
        fsync = sh(psql + ["-At", "-c", "SHOW fsync"]).strip()
        print(f"server: fsync={fsync}, cores={os.cpu_count()}; designs: {', '.join(d.name for d in designs)}",
              flush=True)

        # 1. Server CPU and WAL per write (one session), the designs interleaved in each round;
        # each part the least of the rounds (the machine's load only ever adds to it).
        for rows, key, writes in ((1, "cpu1", args.writes), (100, "cpu100", max(args.writes // 100, 10))):
            samples = {d.name: [] for d in designs}
            loads = []
            for _ in range(args.cpu_rounds):
                for d in designs:
                    samples[d.name].append(write_cost(args.database, d, writes, rows))
                    loads.append(load())
            for d in designs:
                parts = {part: min(sample[part] for sample in samples[d.name]) for part in samples[d.name][0]}
                parts["total"] = parts["write"] + parts["chain"] + parts["check"]
                d.figures[key] = parts
            print(f"server CPU per row, {rows}-row statements (write + chaining + after-commit check = total): "
                  + ", ".join(f"{d.name} {f['write']:.1f}+{f['chain']:.1f}+{f['check']:.1f} = {f['total']:.1f} us"
                              for d in designs for f in [d.figures[key]])
                  + f" | load {min(loads):.1f}-{max(loads):.1f}", flush=True)

        # 2. pgbench, fsync on: each design interleaved with the twin, median of the rounds.
        for d in designs:
            with open(os.path.join(tmp, d.prefix + d.name.replace("/", "_") + ".sql"), "w") as f:
                f.write(f"INSERT INTO {d.source} (note) VALUES ('bench row');\n" + (d.after + ";\n" if d.after else ""))
        for n in [int(c) for c in args.clients.split(",")]:
            tps = {d.name: [] for d in designs}
            failed, loads = 0, []
            for _ in range(args.rounds):
                for d in designs:
                    chainer = Chainer(args.database, d.drain) if d.background else None
                    out = sh([pgbench_bin, "-n", "-f", os.path.join(tmp, d.prefix + d.name.replace("/", "_") + ".sql"),
                              "-T", str(args.seconds), "-c", str(n), "-j", str(min(n, 4)), args.database],
                             env=dict(os.environ, PGOPTIONS=d.options))
                    if chainer:
                        chainer.stop()
                    tps[d.name].append(float(re.search(r"tps = ([0-9.]+)", out).group(1)))
                    failed += int(m.group(1)) if (m := re.search(r"number of failed transactions: ([0-9]+)", out)) else 0
                    loads.append(load())
                    if d.drain:
                        sh(psql + ["-c", d.drain])
            for d in designs:
                d.figures[f"tps{n}"] = statistics.median(tps[d.name])
            twin = designs[0].figures[f"tps{n}"]
            print(f"{n:2d} clients: " + ", ".join(f"{d.name} {d.figures[f'tps{n}']:.0f} "
                                                  f"({d.figures[f'tps{n}'] / twin:.2f}x)" for d in designs)
                  + f" | failed {failed} | load {min(loads):.1f}-{max(loads):.1f}", flush=True)

        # 3. Everything chained? Then what the verifier reads, per event.
        for d in designs[1:]:
            if d.background and not d.sections:  # the tables of the design it varies, measured there
                continue
            sh(psql + ["-c", d.drain])
            sh(psql + ["-c", d.drain])
            d.figures["unchained"] = int(sh(psql + ["-At", "-c", d.unchained]).strip())
            d.figures["verify"], d.figures["events"] = min(verify_cost(args.database, d) for _ in range(3))
        print(f"verifier's export, load {load():.1f}: " + ", ".join(
            f"{d.name} {d.figures['verify']:.2f} us/event over {d.figures['events']}"
            f" (unchained after the drain: {d.figures['unchained']})" for d in designs[1:] if "verify" in d.figures),
              flush=True)

        # The table.
        twin = designs[0].figures
        clients = [int(c) for c in args.clients.split(",")]
        print("\n| design | write µs | chaining µs | after-commit check µs | server CPU a write, µs (× twin) "
              "| per row in 100-row statements, µs (× twin) | WAL bytes a write | "
              + " | ".join(f"tps {n} cl. (× twin)" for n in clients) + " | verify export µs/event |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | " + " | ".join("---:" for _ in clients) + " | ---: |")
        for d in designs:
            f, one, hundred = d.figures, d.figures["cpu1"], d.figures["cpu100"]
            cells = [f"{d.name}: {d.what}", f"{one['write']:.1f}", f"{one['chain']:.1f}", f"{one['check']:.1f}",
                     f"{one['total']:.1f} ({one['total'] / twin['cpu1']['total']:.2f}×)",
                     f"{hundred['total']:.1f} ({hundred['total'] / twin['cpu100']['total']:.2f}×)", f"{one['wal']:.0f}"]
            cells += [f"{f[f'tps{n}']:,.0f} ({f[f'tps{n}'] / twin[f'tps{n}']:.2f}×)" for n in clients]
            cells.append(f"{f['verify']:.2f}" if "verify" in f else "")
            print("| " + " | ".join(cells) + " |")
        print(f"\nload average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
