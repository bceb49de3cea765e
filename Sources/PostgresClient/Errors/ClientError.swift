/// A mistake caught on the client before or after talking to the server: a value that
/// cannot be sent, a column that cannot be read as the requested type, an API misuse.
public struct ClientError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A bound value cannot be sent (text containing a NUL byte).
        case unsendableValue
        /// A column is missing, NULL where a value was required, or not of the requested type.
        case decoding
        /// The API was used in a way it does not allow (nested transaction, COPY with parameters …).
        case misuse
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// A transaction that kept failing on serialization conflicts or deadlocks.
public struct TransactionRetryExhausted: Error, Sendable, CustomStringConvertible {
    public let attempts: Int
    public let lastError: PostgresError

    public init(attempts: Int, lastError: PostgresError) {
        self.attempts = attempts
        self.lastError = lastError
    }

    public var description: String {
        "the transaction conflicted with concurrent work \(attempts) times in a row (last: \(lastError))"
    }
}
