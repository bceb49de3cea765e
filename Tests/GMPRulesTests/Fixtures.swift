@testable import GMPRules

/// Chains of audit events for tests: valid ones, and the tools a forger would use on them.
enum Fixtures {
    /// A plausible event with a placeholder hash (see `chained`).
    static func event(seq: Int64) -> AuditEvent {
        AuditEvent(
            seq: seq, occurredAtMicroseconds: 1_795_325_185_107_456 + seq * 1_000_003, transactionID: 700 + seq,
            actor: seq.isMultiple(of: 2) ? "alice" : "bob", action: "UPDATE", tableName: "gmp.lot",
            recordKey: "W1234 26 \(seq)", oldValues: #"{"id": \#(seq), "status": "quarantine"}"#,
            newValues: #"{"id": \#(seq), "status": "released"}"#, reason: seq == 3 ? nil : "QA review \(seq)",
            hash: []
        )
    }

    /// Events 1...count with correct hashes.
    static func chain(count: Int) -> [AuditEvent] {
        chained((0..<count).map { event(seq: Int64($0) + 1) })
    }

    /// The events with every stored hash recomputed in order, as a forger with write access
    /// would do after altering history: the result is self-consistent.
    static func chained(_ events: [AuditEvent]) -> [AuditEvent] {
        var previous = AuditHash.zero
        return events.map { event in
            var event = event
            previous = event.computedHash(previousHash: previous)
            event.hash = previous.bytes
            return event
        }
    }

    /// The chain head that names the last event (nil for no events).
    static func head(of events: [AuditEvent]) -> AuditChainVerifier.Checkpoint? {
        events.last.map { (seq: $0.seq, hash: $0.hash) }
    }

    /// A checkpoint at event `seq` of `events`.
    static func checkpoint(_ seq: Int64, of events: [AuditEvent]) -> AuditChainVerifier.Checkpoint {
        let event = events.first { $0.seq == seq }!
        return (seq: seq, hash: event.hash)
    }

    /// Verifies `events` through the readable path.
    static func verify(
        _ events: [AuditEvent], checkpoints: [AuditChainVerifier.Checkpoint] = [],
        head: AuditChainVerifier.Checkpoint?
    ) -> AuditChainVerifier.Verdict {
        var verifier = AuditChainVerifier(checkpoints: checkpoints)
        for event in events where !verifier.consume(event) { break }
        return verifier.finish(head: head)
    }

    /// Lends `event` as `AuditEventBytes`, the fast path's borrowed form: every text lies in
    /// one buffer, as it would in a COPY row.
    static func withBytes<Result>(of event: AuditEvent, _ body: (AuditEventBytes) -> Result) -> Result {
        var arena: [UInt8] = []
        func place(_ bytes: [UInt8]?) -> Range<Int>? {
            guard let bytes else { return nil }
            arena += bytes
            return arena.count - bytes.count..<arena.count
        }
        let texts = [event.actor, event.action, event.tableName, event.recordKey, event.oldValues, event.newValues, event.reason]
            .map { place($0.map { Array($0.utf8) }) }
        let hash = place(event.hash)!
        return arena.withUnsafeBytes { buffer in
            func lend(_ range: Range<Int>?) -> UnsafeRawBufferPointer? {
                range.map { UnsafeRawBufferPointer(rebasing: buffer[$0]) }
            }
            return body(AuditEventBytes(
                seq: event.seq, occurredAtMicroseconds: event.occurredAtMicroseconds, transactionID: event.transactionID,
                actor: lend(texts[0])!, action: lend(texts[1])!, tableName: lend(texts[2])!,
                recordKey: lend(texts[3]), oldValues: lend(texts[4]), newValues: lend(texts[5]), reason: lend(texts[6]),
                storedHash: lend(hash)!, writeOrder: event.writeOrder
            ))
        }
    }
}

extension Array where Element == UInt8 {
    init(hex: String) {
        let digits = Array(hex.utf8)
        self = stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
    }

    var hex: String {
        map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
