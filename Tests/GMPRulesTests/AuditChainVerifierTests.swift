@testable import GMPRules
import Testing

@Suite("Audit chain verification")
struct AuditChainVerifierTests {
    static let chain = Fixtures.chain(count: 10)
    static let head = Fixtures.head(of: chain)

    /// The break found in `events`, or nil (recording an issue) if the chain verifies.
    private func chainBreak(
        _ events: [AuditEvent], checkpoints: [AuditChainVerifier.Checkpoint] = [],
        head: AuditChainVerifier.Checkpoint?
    ) -> ChainBreak? {
        let verdict = Fixtures.verify(events, checkpoints: checkpoints, head: head)
        guard case .broken(let chainBreak) = verdict else {
            Issue.record("expected a break, got \(verdict)")
            return nil
        }
        return chainBreak
    }

    // MARK: Intact chains

    @Test("an untouched chain is intact, with its count, end and checkpoints")
    func intact() {
        let checkpoints = [Fixtures.checkpoint(4, of: Self.chain), Fixtures.checkpoint(10, of: Self.chain)]
        let verdict = Fixtures.verify(Self.chain, checkpoints: checkpoints, head: Self.head)
        guard case .intact(let summary) = verdict else {
            Issue.record("expected an intact chain, got \(verdict)")
            return
        }
        #expect(summary.eventCount == 10)
        #expect(summary.lastSeq == 10)
        #expect(summary.lastHash.bytes == Self.chain[9].hash)
        #expect(summary.lastHashHex == Self.chain[9].hash.hex)
        #expect(summary.checkpointsMatched == 2)
        #expect(summary.description.contains("intact: 10 events"))
    }

    @Test("an empty chain without a head is intact, with 0 events")
    func empty() {
        guard case .intact(let summary) = Fixtures.verify([], head: nil) else {
            Issue.record("expected an intact empty chain")
            return
        }
        #expect(summary.eventCount == 0)
        #expect(summary.lastSeq == 0)
        #expect(summary.lastHash == .zero)
    }

    @Test("the fast path (borrowed bytes) reaches the same verdict as the readable path")
    func fastPath() {
        var verifier = AuditChainVerifier(checkpoints: [Fixtures.checkpoint(5, of: Self.chain)])
        for event in Self.chain {
            #expect(Fixtures.withBytes(of: event) { verifier.consume($0) })
        }
        #expect(verifier.finish(head: Self.head) == Fixtures.verify(
            Self.chain, checkpoints: [Fixtures.checkpoint(5, of: Self.chain)], head: Self.head
        ))
    }

    // MARK: Each kind of break

    @Test("an edited event: hash mismatch at that event")
    func edited() {
        var events = Self.chain
        events[3].reason = "QA review 4, amended"
        let found = chainBreak(events, head: Self.head)
        #expect(found == ChainBreak(.hashMismatch(seq: 4)))
        #expect(found?.seq == 4)
        #expect(found?.description.contains("event 4") == true)
        #expect(found?.description.contains("edited") == true)
    }

    @Test("a forged stored hash: hash mismatch at that event")
    func forgedHash() {
        var events = Self.chain
        events[6].hash[0] ^= 1
        #expect(chainBreak(events, head: Self.head) == ChainBreak(.hashMismatch(seq: 7)))
    }

    @Test("a stored hash that is not 32 bytes: hash mismatch")
    func truncatedHash() {
        var events = Self.chain
        events[1].hash.removeLast()
        #expect(chainBreak(events, head: Self.head) == ChainBreak(.hashMismatch(seq: 2)))
        // The fast path too: the stored bytes are compared whole.
        var verifier = AuditChainVerifier()
        #expect(Fixtures.withBytes(of: events[0]) { verifier.consume($0) })
        #expect(!Fixtures.withBytes(of: events[1]) { verifier.consume($0) })
        #expect(verifier.firstBreak == ChainBreak(.hashMismatch(seq: 2)))
    }

    @Test("a deleted event: a gap, named by the first missing number")
    func deleted() {
        var events = Self.chain
        events.remove(at: 3)
        let found = chainBreak(events, head: Self.head)
        #expect(found == ChainBreak(.missing(expected: 4, found: 5)))
        #expect(found?.seq == 4)
        #expect(found?.description == "audit trail broken at event 4: after event 3 comes event 5: event 4 is missing (deleted)")
    }

    @Test("several deleted events: the whole gap is named")
    func deletedRange() {
        let events = Array(Self.chain[0..<3] + Self.chain[6...])
        let found = chainBreak(events, head: Self.head)
        #expect(found == ChainBreak(.missing(expected: 4, found: 7)))
        #expect(found?.description.contains("events 4 to 6 are missing") == true)
    }

    @Test("deleted first events: the chain starts late, at event 1")
    func startsLate() {
        let found = chainBreak(Array(Self.chain.dropFirst(2)), head: Self.head)
        #expect(found == ChainBreak(.startsLate(firstSeq: 3)))
        #expect(found?.seq == 1)
        #expect(found?.description.contains("events 1 to 2 are missing") == true)
    }

    @Test("a first event numbered below 1 is a start at the wrong number")
    func startsBelowOne() {
        var first = Fixtures.event(seq: 0)
        first.hash = first.computedHash(previousHash: .zero).bytes
        let found = chainBreak([first], head: nil)
        #expect(found == ChainBreak(.startsLate(firstSeq: 0)))
        #expect(found?.seq == 0)
    }

    @Test("an inserted event with a duplicate number: out of order")
    func insertedDuplicate() {
        var events = Self.chain
        var forged = events[3]
        forged.reason = "backdated approval"
        events.insert(forged, at: 4)
        let found = chainBreak(events, head: Self.head)
        #expect(found == ChainBreak(.outOfOrder(previous: 4, found: 4)))
        #expect(found?.description.contains("duplicate") == true)
    }

    @Test("an inserted event with the later ones renumbered: hash mismatch after it")
    func insertedRenumbered() {
        var forged = Fixtures.event(seq: 4)
        forged.reason = "backdated approval"
        forged.hash = forged.computedHash(previousHash: AuditHash(bytes: Self.chain[2].hash)!).bytes
        let renumbered = Self.chain[3...].map { event in
            var event = event
            event.seq += 1
            return event
        }
        let events = Array(Self.chain[0..<3]) + [forged] + renumbered
        #expect(chainBreak(events, head: Self.head) == ChainBreak(.hashMismatch(seq: 5)))
    }

    @Test("two events swapped and renumbered to keep the order: hash mismatch at the first")
    func swappedContents() {
        var events = Self.chain
        events.swapAt(4, 5)
        events[4].seq = 5
        events[5].seq = 6
        #expect(chainBreak(events, head: Self.head) == ChainBreak(.hashMismatch(seq: 5)))
    }

    @Test("two events read in swapped order: a gap at the first")
    func swappedOrder() {
        var events = Self.chain
        events.swapAt(4, 5)
        #expect(chainBreak(events, head: Self.head) == ChainBreak(.missing(expected: 5, found: 6)))
    }

    @Test("a number going backwards: out of order")
    func backwards() {
        let events = Array(Self.chain[0..<6]) + [Self.chain[2]]
        let found = chainBreak(events, head: Self.head)
        #expect(found == ChainBreak(.outOfOrder(previous: 6, found: 3)))
        #expect(found?.seq == 3)
    }

    @Test("the tail cut off, the head left alone: head mismatch after the last event")
    func truncatedTail() {
        let found = chainBreak(Array(Self.chain.prefix(8)), head: Self.head)
        #expect(found == ChainBreak(.headMismatch(headSeq: 10, lastSeq: 8)))
        #expect(found?.seq == 9)
        #expect(found?.description.contains("events 9 to 10 are missing") == true)
    }

    @Test("every event deleted, the head left alone: head mismatch from event 1")
    func everythingDeleted() {
        let found = chainBreak([], head: Self.head)
        #expect(found == ChainBreak(.headMismatch(headSeq: 10, lastSeq: 0)))
        #expect(found?.seq == 1)
    }

    @Test("an event appended outside the chain (head not moved): head mismatch at it")
    func appendedOutside() {
        let events = Fixtures.chain(count: 11)
        let found = chainBreak(events, head: Self.head)
        #expect(found == ChainBreak(.headMismatch(headSeq: 10, lastSeq: 11)))
        #expect(found?.seq == 11)
        #expect(found?.description.contains("outside the audit chain") == true)
    }

    @Test("the last event rewritten with a self-consistent hash: head mismatch at it")
    func lastRewritten() {
        var events = Self.chain
        events[9].reason = "rewritten"
        let found = chainBreak(Fixtures.chained(events), head: Self.head)
        #expect(found == ChainBreak(.headMismatch(headSeq: 10, lastSeq: 10)))
        #expect(found?.seq == 10)
    }

    @Test("no head recorded for a chain with events: head mismatch")
    func headMissing() {
        let found = chainBreak(Self.chain, head: nil)
        #expect(found == ChainBreak(.headMismatch(headSeq: nil, lastSeq: 10)))
        #expect(found?.seq == 1)
    }

    @Test("history rewritten and rehashed, head moved too: checkpoint mismatch")
    func rewrittenBeforeCheckpoint() {
        var events = Self.chain
        events[2].newValues = #"{"id": 3, "status": "rejected"}"#
        let forged = Fixtures.chained(events)
        let found = chainBreak(forged, checkpoints: [Fixtures.checkpoint(5, of: Self.chain)], head: Fixtures.head(of: forged))
        #expect(found == ChainBreak(.checkpointMismatch(checkpointSeq: 5)))
        #expect(found?.description.contains("checkpoint taken at event 5") == true)
    }

    @Test("tail removed and head moved back: the checkpoint beyond the end catches it")
    func checkpointBeyondEnd() {
        let events = Array(Self.chain.prefix(6))
        let found = chainBreak(events, checkpoints: [Fixtures.checkpoint(8, of: Self.chain)], head: Fixtures.head(of: events))
        #expect(found == ChainBreak(.checkpointBeyondEnd(checkpointSeq: 8, lastSeq: 6)))
        #expect(found?.seq == 7)
    }

    @Test("a checkpoint hash of the wrong length matches nothing")
    func malformedCheckpoint() {
        let found = chainBreak(Self.chain, checkpoints: [(seq: 2, hash: [1, 2, 3])], head: Self.head)
        #expect(found == ChainBreak(.checkpointMismatch(checkpointSeq: 2)))
    }

    // MARK: Only the first break

    @Test("only the first break is reported, and consume says to stop")
    func firstBreakOnly() {
        var events = Self.chain
        events[2].actor = "mallory"
        events.remove(at: 7)
        var verifier = AuditChainVerifier()
        let accepted = events.map { verifier.consume($0) }
        #expect(accepted == [true, true] + Array(repeating: false, count: 7))
        #expect(verifier.firstBreak == ChainBreak(.hashMismatch(seq: 3)))
        #expect(verifier.finish(head: nil) == .broken(ChainBreak(.hashMismatch(seq: 3))))
    }

    @Test("every kind explains itself with the first broken number", arguments: [
        ChainBreak.Kind.startsLate(firstSeq: 2), .missing(expected: 9, found: 10), .outOfOrder(previous: 9, found: 9),
        .hashMismatch(seq: 9), .headMismatch(headSeq: 9, lastSeq: 8), .headMismatch(headSeq: 8, lastSeq: 9),
        .headMismatch(headSeq: 9, lastSeq: 9), .checkpointMismatch(checkpointSeq: 9),
        .checkpointBeyondEnd(checkpointSeq: 12, lastSeq: 8),
    ])
    func descriptions(kind: ChainBreak.Kind) {
        let chainBreak = ChainBreak(kind)
        #expect(chainBreak.description.hasPrefix("audit trail broken at event \(chainBreak.seq): "))
        #expect([1, 9].contains(chainBreak.seq))
    }
}
