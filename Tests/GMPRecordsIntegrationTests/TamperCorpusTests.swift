import GMPRecords
import GMPRules
import PostgresClient
import Testing
import TestSupport

/// The tamper corpus: what a superuser can do to the trail in SQL, each detected by
/// client-side verification and named by its first broken sequence number.
@Suite("Tamper corpus: every rewrite of the audit trail is detected")
struct TamperCorpusTests {
    /// A migrated database with a few dozen events from real account changes.
    static func withTrail(_ body: (String, PostgresConnection) throws -> Void) throws {
        try TestServer.withMigratedDatabase { database in
            for role in ["qa", "qc", "operator"] { _ = try TestAccount.create(in: database, roles: [role]) }
            try body(database, try TestServer.connect(database))
        }
    }

    static func verify(_ connection: PostgresConnection,
                       checkpoints: [AuditChainVerifier.Checkpoint] = []) throws -> AuditChainVerifier.Verdict {
        try AuditTrail(connection).verify(checkpoints: checkpoints).verdict
    }

    static func lastSeq(_ connection: PostgresConnection) throws -> Int64 {
        try AuditTrail(connection).head().seq
    }

    @Test("an untouched trail verifies, event count and head included")
    func intact() throws {
        try Self.withTrail { _, connection in
            guard case .intact(let summary) = try Self.verify(connection) else {
                Issue.record("an untouched trail did not verify"); return
            }
            #expect(summary.lastSeq == (try Self.lastSeq(connection)))
            #expect(summary.eventCount == Int(summary.lastSeq))
            #expect(summary.lastHash.bytes == (try AuditTrail(connection).head().hash))
        }
    }

    @Test("an edited value breaks the chain at that event")
    func editedValue() throws {
        try Self.withTrail { database, connection in
            try Tampering.asSuperuser(database, "UPDATE gmp_audit.event SET reason = 'nothing to see' WHERE seq = 5")
            #expect(try Self.verify(connection) == .broken(ChainBreak(.hashMismatch(seq: 5))))
        }
    }

    @Test("a deleted event shows as missing")
    func deletedEvent() throws {
        try Self.withTrail { database, connection in
            try Tampering.asSuperuser(database, "DELETE FROM gmp_audit.event WHERE seq = 7")
            #expect(try Self.verify(connection) == .broken(ChainBreak(.missing(expected: 7, found: 8))))
        }
    }

    @Test("a forged event with a made-up hash is detected")
    func forgedGarbage() throws {
        try Self.withTrail { database, connection in
            let next = try Self.lastSeq(connection) + 1
            try Tampering.asSuperuser(database, """
                INSERT INTO gmp_audit.event (seq, occurred_at, transaction_id, actor, action, table_name, record_key, new_values, hash)
                VALUES (\(next), now(), 1, 'mallory', 'INSERT', 'gmp.account', 'mallory', '{}', sha256('forged'))
                """)
            #expect(try Self.verify(connection) == .broken(ChainBreak(.hashMismatch(seq: next))))
        }
    }

    @Test("a forged event with a correctly computed hash but no head update shows at the head")
    func forgedWithValidHash() throws {
        try Self.withTrail { database, connection in
            let last = try Self.lastSeq(connection)
            try Tampering.asSuperuser(database, """
                INSERT INTO gmp_audit.event (seq, occurred_at, transaction_id, actor, action, table_name, record_key, new_values, hash)
                SELECT seq + 1, now(), 1, 'mallory', 'INSERT', 'gmp.account', 'mallory', '{}',
                       gmp_audit.event_hash(seq + 1, now(), 1, 'mallory', 'INSERT', 'gmp.account', 'mallory', NULL, '{}', NULL, hash)
                FROM gmp_audit.event WHERE seq = \(last)
                """)
            #expect(try Self.verify(connection) == .broken(ChainBreak(.headMismatch(headSeq: last, lastSeq: last + 1))))
        }
    }

    @Test("two swapped events break the chain at the first of them")
    func swappedEvents() throws {
        try Self.withTrail { database, connection in
            try Tampering.asSuperuser(database, """
                UPDATE gmp_audit.event e SET occurred_at = o.occurred_at, transaction_id = o.transaction_id, actor = o.actor,
                       action = o.action, table_name = o.table_name, record_key = o.record_key, old_values = o.old_values,
                       new_values = o.new_values, reason = o.reason, hash = o.hash
                FROM gmp_audit.event o WHERE (e.seq, o.seq) IN ((5, 6), (6, 5))
                """)
            #expect(try Self.verify(connection) == .broken(ChainBreak(.hashMismatch(seq: 5))))
        }
    }

    @Test("a truncated tail shows against the recorded head, and against a checkpoint when the head is rewritten too")
    func truncatedTail() throws {
        try Self.withTrail { database, connection in
            let last = try Self.lastSeq(connection)
            let checkpoint = (seq: last, hash: try AuditTrail(connection).head().hash)
            try Tampering.asSuperuser(database, "DELETE FROM gmp_audit.event WHERE seq > \(last - 3)")
            #expect(try Self.verify(connection) == .broken(ChainBreak(.headMismatch(headSeq: last, lastSeq: last - 3))))
            try Tampering.asSuperuser(database, """
                UPDATE gmp_audit.chain_head SET (seq, hash) = (SELECT seq, hash FROM gmp_audit.event ORDER BY seq DESC LIMIT 1)
                """)
            if case .broken = try Self.verify(connection) { Issue.record("a consistent truncation should pass without a checkpoint") }
            #expect(try Self.verify(connection, checkpoints: [checkpoint])
                    == .broken(ChainBreak(.checkpointBeyondEnd(checkpointSeq: last, lastSeq: last - 3))))
        }
    }

    @Test("a whole chain rewritten with recomputed hashes passes alone but fails against a checkpoint")
    func rewrittenChain() throws {
        try Self.withTrail { database, connection in
            let head = try AuditTrail(connection).head()
            try Tampering.rewriteHistory(database, at: 5)
            if case .broken = try Self.verify(connection) { Issue.record("a recomputed chain is self-consistent") }
            #expect(try Self.verify(connection, checkpoints: [(seq: head.seq, hash: head.hash)])
                    == .broken(ChainBreak(.checkpointMismatch(checkpointSeq: head.seq))))
        }
    }

    @Test("disabling an audit trigger, even as superuser, is refused; a dropped event trigger is reported")
    func machinery() throws {
        try Self.withTrail { database, connection in
            #expect { try connection.execute("ALTER TABLE gmp.account DISABLE TRIGGER audit") } throws: {
                ($0 as? PostgresError)?.kind == .permissionDenied
            }
            #expect { try connection.execute("DROP TRIGGER audit ON gmp.account") } throws: {
                ($0 as? PostgresError)?.kind == .permissionDenied
            }
            try connection.execute("ALTER EVENT TRIGGER gmp_guard_drop DISABLE")
            let verification = try AuditTrail(connection).verify()
            #expect(!verification.isIntact)
            #expect(verification.machineryProblems == ["event trigger gmp_guard_drop is disabled or does not fire always"])
        }
    }
}
