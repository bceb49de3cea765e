#!/usr/bin/env python3
"""Reference implementation of gmp's audit encodings v1 and v2 and hash chain (stdlib only).

An independent second implementation of the normative encoding, to cross-check the Swift
code (Sources/GMPRules/Audit/Chain) and the PostgreSQL function that writes the chain. It is written
from the spec, not from either of them:

    field(x) = 4-byte unsigned big-endian byte length of x, then x's bytes;
               NULL is FF FF FF FF and nothing else
    hash_n   = SHA-256( field("gmp-audit-v1") || field(seq) || field(occurred_at)
               || field(transaction_id) || field(actor) || field(action) || field(table_name)
               || field(record_key) || field(old_values) || field(new_values) || field(reason)
               || field(previous_hash) )

Encoding v2 (since issue 19: events are staged, then chained in commit order) is v1 with
the tag "gmp-audit-v2" and field(write_order) right after field(seq). An event is v2
exactly when it has a write_order; the first v2 event chains from the last v1 hash.

Run it to print the test vectors; `--markdown` prints test-vectors.md.
"""
import hashlib
import struct
import sys
from datetime import datetime, timezone

VERSION_TAG = b"gmp-audit-v1"
VERSION_TAG_V2 = b"gmp-audit-v2"
NULL_FIELD = b"\xff\xff\xff\xff"
GENESIS_HASH = bytes(32)  # what seq 1 chains from

# The text fields, in encoding order after the three numbers.
TEXT_FIELDS = ("actor", "action", "table_name", "record_key", "old_values", "new_values", "reason")


def field(value):
    """Length-prefixed bytes; None is the NULL marker. Text is UTF-8."""
    if value is None:
        return NULL_FIELD
    if isinstance(value, str):
        value = value.encode("utf-8")
    return struct.pack(">I", len(value)) + value


def encode_event(event, previous_hash):
    """The canonical encoding (v1, or v2 with a write_order) of one event (a dict of the audit row's columns)."""
    assert len(previous_hash) == 32
    if event.get("write_order") is None:
        parts = [VERSION_TAG, str(event["seq"])]
    else:
        parts = [VERSION_TAG_V2, str(event["seq"]), str(event["write_order"])]
    parts += [event["occurred_at"], str(event["transaction_id"])]
    parts += [event[name] for name in TEXT_FIELDS]
    parts.append(previous_hash)
    return b"".join(field(part) for part in parts)


def chain_hashes(events):
    """Each event's hash, chaining from 32 zero bytes."""
    previous = GENESIS_HASH
    hashes = []
    for event in events:
        previous = hashlib.sha256(encode_event(event, previous)).digest()
        hashes.append(previous)
    return hashes


def microseconds_since_1970(occurred_at):
    """'YYYY-MM-DDTHH:MM:SS.ffffffZ' as integer microseconds (what Swift's AuditEvent holds)."""
    instant = datetime.strptime(occurred_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    delta = instant - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


# old_values/new_values are PostgreSQL's jsonb text output: jsonb sorts keys by length, then
# bytewise, so '{"id": …, "full_name": …, "note": …}' prints with "note" before "full_name".
EVENTS = [
    {
        "seq": 1, "occurred_at": "2026-11-22T05:26:25.107456Z", "transaction_id": 741,
        "actor": "alice", "action": "INSERT", "table_name": "gmp.account", "record_key": "bob",
        "old_values": None, "new_values": '{"id": "bob", "full_name": "Bob Ng"}', "reason": None,
    },
    {
        "seq": 2, "occurred_at": "2026-11-22T05:26:26.000001Z", "transaction_id": 742,
        "actor": "alice", "action": "UPDATE", "table_name": "gmp.account", "record_key": "bob",
        "old_values": '{"id": "bob", "full_name": "Bob Ng"}',
        "new_values": '{"id": "bob", "note": "5 µg/mL", "full_name": "Zoë Ng"}',
        "reason": "name corrected: typo at entry",
    },
    {
        "seq": 3, "occurred_at": "2026-11-22T05:27:00.000000Z", "transaction_id": 743,
        "actor": "carol", "action": "DELETE", "table_name": "gmp.example", "record_key": "42",
        "old_values": '{"id": 42}', "new_values": None, "reason": "entered on the wrong record",
    },
    # v2: chained in commit order, so seq and write_order need not agree (event 4 was
    # written after event 5, by a transaction that committed first), and occurred_at is
    # the time of the change, not of the chaining.
    {
        "seq": 4, "write_order": 9, "occurred_at": "2026-11-22T05:28:00.250000Z", "transaction_id": 745,
        "actor": "dave", "action": "INSERT", "table_name": "gmp.example", "record_key": "43",
        "old_values": None, "new_values": '{"id": 43}', "reason": None,
    },
    {
        "seq": 5, "write_order": 8, "occurred_at": "2026-11-22T05:27:59.999999Z", "transaction_id": 744,
        "actor": "erin", "action": "UPDATE", "table_name": "gmp.example", "record_key": "7",
        "old_values": '{"id": 7}', "new_values": '{"id": 7, "ok": true}', "reason": "checked",
    },
]


def show(value):
    return "NULL" if value is None else f"`{value}`"


def markdown():
    hashes = chain_hashes(EVENTS)
    lines = [
        "# Audit encodings v1 and v2: test vectors",
        "",
        "Produced by `audit_chain_reference.py --markdown` (Python, stdlib only); checked",
        "byte for byte by the Swift tests (`Tests/GMPRulesTests/TestVectorTests.swift`) and by",
        "PostgreSQL 15 (`gmp_audit.event_hash`, `gmp_audit.event_hash_v2`, sql/code/01_audit.sql). Texts are UTF-8; NULL is the field `ffffffff`.",
        "",
        "`old_values`/`new_values` are jsonb *text output*. jsonb orders object keys by length,",
        "then bytewise, so the value written `{\"id\": \"bob\", \"full_name\": \"Zoë Ng\", \"note\": \"5 µg/mL\"}`",
        "is stored and printed — and therefore hashed — as",
        "`{\"id\": \"bob\", \"note\": \"5 µg/mL\", \"full_name\": \"Zoë Ng\"}`.",
        "Events 1–3 are v1; events 4 and 5 are v2 (they have a `write_order`, and the tag",
        "`gmp-audit-v2`), and event 4 chains from event 3's v1 hash.",
        "",
    ]
    previous = GENESIS_HASH
    for event, digest in zip(EVENTS, hashes):
        version = "v1" if event.get("write_order") is None else "v2"
        lines += [f"## Event {event['seq']} ({version})", "", "| field | value |", "| --- | --- |"]
        names = ("seq", "occurred_at") if version == "v1" else ("seq", "write_order", "occurred_at")
        for name in names + ("transaction_id",) + TEXT_FIELDS:
            lines.append(f"| {name} | {show(event[name])} |")
        lines += [
            f"| previous_hash | `{previous.hex()}` |",
            f"| (occurred_at in µs since 1970) | `{microseconds_since_1970(event['occurred_at'])}` |",
            "",
        ]
        encoded = encode_event(event, previous)
        if event["seq"] in (1, 4):
            lines += [f"Encoded bytes ({len(encoded)}), hex:", "", "```", encoded.hex(), "```", ""]
        lines += [f"hash: `{digest.hex()}`", ""]
        previous = digest
    return "\n".join(lines)


def main():
    if "--markdown" in sys.argv:
        print(markdown())
        return
    previous = GENESIS_HASH
    for event, digest in zip(EVENTS, chain_hashes(EVENTS)):
        encoded = encode_event(event, previous)
        print(f"event {event['seq']}: {len(encoded)} bytes, "
              f"occurred_at_us {microseconds_since_1970(event['occurred_at'])}")
        print(f"  encoded {encoded.hex()}")
        print(f"  hash    {digest.hex()}")
        previous = digest


if __name__ == "__main__":
    main()
