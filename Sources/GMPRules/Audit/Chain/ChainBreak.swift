/// The first place where an audit chain is not what was recorded, and what is wrong there.
///
/// Only the first break is ever reported: past it, every later hash depends on the broken
/// one, so further findings would be consequences, not evidence.
public struct ChainBreak: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong. Sequence numbers are the audit table's `seq`.
    public enum Kind: Sendable, Hashable {
        /// The first event is not number 1: the events before it were deleted (or, when
        /// `firstSeq` < 1, the numbering was altered).
        case startsLate(firstSeq: Int64)
        /// A gap: after event `expected` − 1 comes `found`; the events between were deleted.
        case missing(expected: Int64, found: Int64)
        /// `found` is not after `previous`: a duplicated or renumbered event.
        case outOfOrder(previous: Int64, found: Int64)
        /// Event `seq`'s stored hash is not the hash of its contents and its predecessor's
        /// hash: the event was edited, forged, or swapped with another.
        case hashMismatch(seq: Int64)
        /// The recorded chain head names event `headSeq` (nil: no head is recorded), but the
        /// events end at `lastSeq` (0: there are none), or end there with another hash.
        case headMismatch(headSeq: Int64?, lastSeq: Int64)
        /// The events' hash at `checkpointSeq` is not the checkpoint's: the chain up to it
        /// was rewritten (and its hashes recomputed) after the checkpoint was taken.
        case checkpointMismatch(checkpointSeq: Int64)
        /// A checkpoint vouches for event `checkpointSeq`, but the events end at `lastSeq`.
        case checkpointBeyondEnd(checkpointSeq: Int64, lastSeq: Int64)
    }

    /// The first sequence number that is wrong: the event that is missing, altered or
    /// unexpected. Derived from `kind`, so the two always agree.
    public let seq: Int64
    public let kind: Kind

    public init(_ kind: Kind) {
        self.kind = kind
        self.seq = kind.firstBrokenSeq
    }

    public var description: String {
        "audit trail broken at event \(seq): \(kind.explanation)"
    }
}

extension ChainBreak.Kind {
    var firstBrokenSeq: Int64 {
        switch self {
        case .startsLate(let first): min(first, 1)
        case .missing(let expected, _): expected
        case .outOfOrder(_, let found): found
        case .hashMismatch(let seq): seq
        case .headMismatch(let head, let last): head.map { $0 == last ? last : min($0, last) + 1 } ?? 1
        case .checkpointMismatch(let checkpoint): checkpoint
        case .checkpointBeyondEnd(_, let last): last + 1
        }
    }

    /// Plain words for whoever reviews the audit trail: what was found, and what it means.
    var explanation: String {
        switch self {
        case .startsLate(let first) where first < 1:
            "the first event is numbered \(first), but numbering starts at 1: the sequence numbers were altered"
        case .startsLate(let first):
            "the first event is number \(first), not 1: \(range(1, first - 1)) missing (deleted)"
        case .missing(let expected, let found):
            "after event \(expected - 1) comes event \(found): \(range(expected, found - 1)) missing (deleted)"
        case .outOfOrder(let previous, let found):
            "event \(found) follows event \(previous): numbers must rise by one, so event \(found) is a duplicate or was renumbered"
        case .hashMismatch(let seq):
            "event \(seq) does not match its stored hash: it was edited, forged, or swapped with another event"
        case .headMismatch(nil, let last):
            "no chain head is recorded, yet there are events up to \(last): the head record was deleted"
        case .headMismatch(let head?, let last) where head > last:
            "the recorded chain head is event \(head), but the events end at \(last): \(range(last + 1, head)) missing (the end of the trail was cut off)"
        case .headMismatch(let head?, let last) where head < last:
            "the recorded chain head is event \(head), but there are events up to \(last): \(range(head + 1, last)) added outside the audit chain"
        case .headMismatch(_, let last):
            "event \(last) is the last, as the chain head records, but its hash is not the recorded one: the trail was rewritten or the head altered"
        case .checkpointMismatch(let checkpoint):
            "the events up to \(checkpoint) do not match the checkpoint taken at event \(checkpoint): the history was rewritten after it"
        case .checkpointBeyondEnd(let checkpoint, let last):
            "a checkpoint vouches for event \(checkpoint), but the events end at \(last): at least \(range(last + 1, checkpoint)) missing (removed)"
        }
    }

    /// "event 5 is" or "events 5 to 9 are".
    private func range(_ first: Int64, _ last: Int64) -> String {
        first == last ? "event \(first) is" : "events \(first) to \(last) are"
    }
}
