#!/usr/bin/env python3
"""Server CPU of a statement in fresh sessions (issue 14): what each cold gmp command's
backend spends on its document, apart from the client and the machine's load.

Every gmp command is a new connection, so a new backend that fills its catalog caches,
loads PL/pgSQL and parses and plans every function of the document on its first call.
Wall time on a shared machine mixes that with everyone else's work; the backend's own
CPU time (the first field of /proc/PID/schedstat, in ns) does not. Needs the server on
this machine and permission to read its processes' /proc entries (root, or the server's
account).

Each session: connect, run the statements in `before` (gmp's login watch, as every
command does), then `statement` twice: the first call (what a cold command pays) and a
second call in the same session (the work left once the caches are warm). libpq through
ctypes: standard library only.

    scripts/bench_server_cpu.py CONNINFO STATEMENT [--sessions N]
"""
from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import statistics

LOGIN_WATCH = "SELECT gmp_audit.record_failed_logins()"


def _libpq():
    lib = ctypes.CDLL(ctypes.util.find_library("pq") or "libpq.so.5")
    lib.PQconnectdb.restype, lib.PQconnectdb.argtypes = ctypes.c_void_p, [ctypes.c_char_p]
    lib.PQstatus.argtypes = [ctypes.c_void_p]
    lib.PQbackendPID.argtypes = [ctypes.c_void_p]
    lib.PQexec.restype, lib.PQexec.argtypes = ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_char_p]
    lib.PQresultStatus.argtypes = [ctypes.c_void_p]
    lib.PQresultErrorMessage.restype, lib.PQresultErrorMessage.argtypes = ctypes.c_char_p, [ctypes.c_void_p]
    lib.PQerrorMessage.restype, lib.PQerrorMessage.argtypes = ctypes.c_char_p, [ctypes.c_void_p]
    lib.PQclear.argtypes = [ctypes.c_void_p]
    lib.PQfinish.argtypes = [ctypes.c_void_p]
    return lib


def _cpu_ms(pid: int) -> float:
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0]) / 1e6


def first_call_cpu(conninfo: str, statement: str, sessions: int = 11,
                   before: tuple[str, ...] = (LOGIN_WATCH,)) -> dict:
    """Median server CPU (ms) of `statement`'s first and second call in `sessions` fresh sessions."""
    pq = _libpq()
    first, second = [], []
    for _ in range(sessions):
        conn = pq.PQconnectdb(conninfo.encode())
        try:
            if pq.PQstatus(conn) != 0:
                raise RuntimeError(f"connection failed: {pq.PQerrorMessage(conn).decode().strip()}")
            pid = pq.PQbackendPID(conn)
            for sql in before:
                _run(pq, conn, sql)
            for times in (first, second):
                start = _cpu_ms(pid)
                _run(pq, conn, statement)
                times.append(_cpu_ms(pid) - start)
        finally:
            pq.PQfinish(conn)
    return {"first_call_cpu_ms": round(statistics.median(first), 2),
            "second_call_cpu_ms": round(statistics.median(second), 2), "sessions": sessions}


def _run(pq, conn, sql: str) -> None:
    result = pq.PQexec(conn, sql.encode())
    try:
        if pq.PQresultStatus(result) not in (1, 2):  # PGRES_COMMAND_OK, PGRES_TUPLES_OK
            raise RuntimeError(f"{sql}: {pq.PQresultErrorMessage(result).decode().strip()}")
    finally:
        pq.PQclear(result)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("conninfo")
    ap.add_argument("statement")
    ap.add_argument("--sessions", type=int, default=11)
    a = ap.parse_args()
    print(first_call_cpu(a.conninfo, a.statement, a.sessions))
