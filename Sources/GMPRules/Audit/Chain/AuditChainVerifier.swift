/// Checks an audit chain event by event, in `seq` order, and reports its first break.
///
/// A pure state machine: it does no I/O, so the caller streams events from wherever they are
/// (a binary COPY, a test array) and memory stays constant however long the chain is.
/// For each event it checks the numbering (1, 2, 3 … without gaps), recomputes the hash from
/// the contents and the previous event's hash, compares it with the stored hash, and
/// compares it with any checkpoint at that event. `finish(head:)` then checks that the
/// chain ends where the recorded chain head says it does and reaches every checkpoint.
///
///     var verifier = AuditChainVerifier(checkpoints: checkpoints)
///     for event in events where !verifier.consume(event) { break }
///     let verdict = verifier.finish(head: head)
public struct AuditChainVerifier {
    /// A trusted (seq, hash) pair recorded apart from the chain, e.g. signed or exported.
    public typealias Checkpoint = (seq: Int64, hash: [UInt8])

    /// How a verification ended.
    public enum Verdict: Sendable, Hashable, CustomStringConvertible {
        case intact(Summary)
        case broken(ChainBreak)

        public var description: String {
            switch self {
            case .intact(let summary): summary.description
            case .broken(let chainBreak): chainBreak.description
            }
        }
    }

    /// What an intact chain holds.
    public struct Summary: Sendable, Hashable, CustomStringConvertible {
        /// Events verified.
        public let eventCount: Int
        /// The last event's seq; 0 for an empty chain.
        public let lastSeq: Int64
        /// The last event's hash; all zeros for an empty chain (what event 1 chains from).
        public let lastHash: AuditHash
        /// Checkpoints whose hash the chain reproduced.
        public let checkpointsMatched: Int

        /// `lastHash` as 64 lowercase hexadecimal digits.
        public var lastHashHex: String { lastHash.hex }

        public var description: String {
            "audit trail intact: \(eventCount) events, last event \(lastSeq) with hash \(lastHashHex), \(checkpointsMatched) checkpoints matched"
        }
    }

    private var hasher = AuditEventHasher()
    /// Sorted by seq; a hash of the wrong length is nil and matches nothing.
    private let checkpoints: [(seq: Int64, hash: AuditHash?)]
    private var nextCheckpoint = 0
    private var checkpointsMatched = 0
    private var eventCount = 0
    private var lastSeq: Int64 = 0
    private var lastHash = AuditHash.zero
    /// The first break, once found; every later event is then ignored.
    public private(set) var firstBreak: ChainBreak?

    public init(checkpoints: [Checkpoint] = []) {
        self.checkpoints = checkpoints
            .map { (seq: $0.seq, hash: AuditHash(bytes: $0.hash)) }
            .sorted { $0.seq < $1.seq }
    }

    /// Checks the next event (the fast path: bytes borrowed from a COPY row). Returns whether
    /// the chain is still intact; once it returns false, stop feeding events.
    @discardableResult
    public mutating func consume(_ event: AuditEventBytes) -> Bool {
        guard admit(seq: event.seq) else { return false }
        let computed = hasher.hash(event, previousHash: lastHash)
        return link(seq: event.seq, computed: computed, storedMatches: computed.matches(event.storedHash))
    }

    /// Checks the next event (readable form). Returns whether the chain is still intact.
    @discardableResult
    public mutating func consume(_ event: AuditEvent) -> Bool {
        guard admit(seq: event.seq) else { return false }
        let computed = hasher.hash(event, previousHash: lastHash)
        return link(seq: event.seq, computed: computed, storedMatches: AuditHash(bytes: event.hash) == computed)
    }

    /// The verdict, once every event has been consumed. `head` is the chain head recorded
    /// alongside the events (nil if none is recorded); it must name the last event and its hash.
    public mutating func finish(head: Checkpoint?) -> Verdict {
        if firstBreak == nil {
            if !headMatches(head) {
                fail(.headMismatch(headSeq: head?.seq, lastSeq: lastSeq))
            } else if nextCheckpoint < checkpoints.count {
                // Every checkpoint at or below lastSeq was matched on the way: this one is past the end.
                fail(.checkpointBeyondEnd(checkpointSeq: checkpoints[nextCheckpoint].seq, lastSeq: lastSeq))
            }
        }
        if let firstBreak { return .broken(firstBreak) }
        return .intact(Summary(
            eventCount: eventCount, lastSeq: lastSeq, lastHash: lastHash, checkpointsMatched: checkpointsMatched
        ))
    }

    // MARK: - Steps

    /// Whether an event numbered `seq` may come next; records the break if not.
    private mutating func admit(seq: Int64) -> Bool {
        guard firstBreak == nil else { return false }
        let expected = lastSeq + 1
        if seq == expected { return true }
        if eventCount == 0 {
            fail(.startsLate(firstSeq: seq))
        } else if seq > expected {
            fail(.missing(expected: expected, found: seq))
        } else {
            fail(.outOfOrder(previous: lastSeq, found: seq))
        }
        return false
    }

    /// Appends an admitted event whose hash is `computed`, after checking it against the
    /// stored hash and any checkpoint at `seq`.
    private mutating func link(seq: Int64, computed: AuditHash, storedMatches: Bool) -> Bool {
        guard storedMatches else { return fail(.hashMismatch(seq: seq)) }
        while nextCheckpoint < checkpoints.count, checkpoints[nextCheckpoint].seq <= seq {
            // A checkpoint below `seq` was skipped (it names seq < 1): it matches no event.
            let checkpoint = checkpoints[nextCheckpoint]
            guard checkpoint.seq == seq, checkpoint.hash == computed else {
                return fail(.checkpointMismatch(checkpointSeq: checkpoint.seq))
            }
            checkpointsMatched += 1
            nextCheckpoint += 1
        }
        eventCount += 1
        lastSeq = seq
        lastHash = computed
        return true
    }

    /// An empty chain needs no head; any other needs the head to name its last event exactly.
    private func headMatches(_ head: Checkpoint?) -> Bool {
        guard let head else { return eventCount == 0 }
        return head.seq == lastSeq && AuditHash(bytes: head.hash) == lastHash
    }

    @discardableResult
    private mutating func fail(_ kind: ChainBreak.Kind) -> Bool {
        firstBreak = ChainBreak(kind)
        return false
    }
}
