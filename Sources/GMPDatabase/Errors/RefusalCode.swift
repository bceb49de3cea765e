/// The SQLSTATEs gmp's rules raise, one per kind of refusal (class `GM`, which
/// PostgreSQL leaves to applications). Part of the schema's interface, like the tables:
/// a script or a client branches on the code, never on the message text. The table in
/// docs/errors.md is checked against this enum and against every `ERRCODE` in sql/code/.
public enum RefusalCode: String, CaseIterable, Sendable {
    case notFound = "GM001"
    case invalidInput = "GM002"
    case outOfSequence = "GM003"
    case recordClosed = "GM004"
    case wrongPerson = "GM005"
    case criteriaUnmet = "GM006"
    case custodyViolation = "GM007"
    case reasonRequired = "GM008"
    case signatureRefused = "GM009"
    case changedConcurrently = "GM010"

    /// The condition name docs/errors.md gives it.
    public var name: String {
        switch self {
        case .notFound: "not_found"
        case .invalidInput: "invalid_input"
        case .outOfSequence: "out_of_sequence"
        case .recordClosed: "record_closed"
        case .wrongPerson: "wrong_person"
        case .criteriaUnmet: "criteria_unmet"
        case .custodyViolation: "custody_violation"
        case .reasonRequired: "reason_required"
        case .signatureRefused: "signature_refused"
        case .changedConcurrently: "changed_concurrently"
        }
    }

    /// What it means, in one line.
    public var meaning: String {
        switch self {
        case .notFound: "an id names no record"
        case .invalidInput: "a value the rules refuse: a date in the future, an unknown term, a missing field"
        case .outOfSequence: "not allowed in the record's present state or at this point of the order (11.10(f))"
        case .recordClosed: "the record is final, closed or append-only: it is never edited or deleted"
        case .wrongPerson: "another person must do this: a second person, the named receiver, the holder"
        case .criteriaUnmet: "release, shipping or eligibility criteria are not met"
        case .custodyViolation: "the chain of custody does not allow it: one holder, no gap, every move an event"
        case .reasonRequired: "the change needs its reason, cause or assessment"
        case .signatureRefused: "the signing ceremony failed: the challenge is unknown, used or expired"
        case .changedConcurrently: "the record changed since it was read: run the command again"
        }
    }
}
