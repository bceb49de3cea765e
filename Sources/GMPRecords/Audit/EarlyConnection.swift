import Dispatch
import PostgresClient

/// The verification's second session, opened on a thread of its own as soon as verify
/// starts (issue 18): its backend starts while the first session chains, reads the head
/// and plans, instead of after. Handed out once (``take()``); a later caller opens its own.
final class EarlyConnection: @unchecked Sendable {
    private let opening: () throws -> PostgresConnection
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<PostgresConnection, Error>?
    private var taken = false

    init(opening: @escaping () throws -> PostgresConnection) {
        self.opening = opening
        DispatchQueue(label: "gmp.verify.second-connection").async { [self] in
            result = Result { try self.opening() }
            done.signal()
        }
    }

    /// The connection opened early (its failure, thrown); then, a new one.
    func take() throws -> PostgresConnection {
        guard !taken else { return try opening() }
        taken = true
        done.wait()
        defer { result = nil }
        return try result!.get()
    }

    /// Waits for the opening when the connection was never taken, and closes it.
    func finish() {
        guard !taken else { return }
        taken = true
        done.wait()
        result = nil
    }
}
