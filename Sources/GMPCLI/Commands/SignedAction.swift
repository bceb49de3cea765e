#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRecords
import PostgresClient

/// The steps every signed command takes, in this order: the grant is checked before a
/// password is asked for (a person without the role is told so at once), then the
/// password is read and the server checks it inside the transaction that signs.
enum SignedAction {
    static func run<T>(_ connection: PostgresConnection, function: String, refusal: String, fix: String,
                       signing intent: SigningIntent, passwordStdin: Bool,
                       isolation: IsolationLevel = WriteIsolation.serializable,
                       _ operation: (PostgresConnection, UUID) throws -> T) throws -> T {
        try requireGrant(connection, function: function, refusal: refusal, fix: fix)
        return try sign(connection, signing: intent, passwordStdin: passwordStdin, isolation: isolation, operation)
    }

    /// A signed command on one record: `run`, then the report every such command gives,
    /// the `SignedDocument` (--json) and the line "signed: USER DONE (signature N)" with
    /// `next` (what happens now) after it. One home, so that the shape cannot drift.
    static func runAndReport(_ connection: PostgresConnection, function: String, refusal: String, fix: String,
                             signing intent: SigningIntent, passwordStdin: Bool, record: String, done: String,
                             next: String = "", isolation: IsolationLevel = WriteIsolation.serializable,
                             in context: CommandContext,
                             _ operation: (PostgresConnection, UUID) throws -> Int64) throws {
        let signature = try run(connection, function: function, refusal: refusal, fix: fix, signing: intent,
                                passwordStdin: passwordStdin, isolation: isolation, operation)
        try report(signature, record: record, signing: intent, done: done, next: next, on: connection, in: context)
    }

    /// The report of `runAndReport`, for a command that signs without a grant to check first.
    static func report(_ signature: Int64, record: String, signing intent: SigningIntent, done: String, next: String = "",
                       on connection: PostgresConnection, in context: CommandContext) throws {
        try context.output.document(SignedDocument(record: record, signature: signature, signer: connection.userName,
                                                   meaning: intent.meaning))
        context.output.data("signed: \(connection.userName) \(done) (signature \(signature))\(next)")
    }

    /// Refuses (exit 77) before any password is asked for when the person lacks the grant.
    static func requireGrant(_ connection: PostgresConnection, function: String, refusal: String, fix: String) throws {
        guard try Privileges.mayExecute(function, on: connection) else {
            throw Failure(exitCode: .permissionDenied, problem: "permission denied: \(connection.userName) may not \(refusal)",
                          fix: fix)
        }
    }

    /// Reads the password, then signs in one transaction, at `isolation` (docs/concurrency.md).
    static func sign<T>(_ connection: PostgresConnection, signing intent: SigningIntent, passwordStdin: Bool,
                        isolation: IsolationLevel = WriteIsolation.serializable,
                        _ operation: (PostgresConnection, UUID) throws -> T) throws -> T {
        let password = try PasswordReader.forSignature(account: connection.userName, signing: intent,
                                                       fromStandardInput: passwordStdin)
        return try SignatureCeremony(connection).sign(password: password, isolation: isolation, operation)
    }
}

/// What a signed command reports: the record, the signature and its meaning.
struct SignedDocument: Encodable {
    let record: String
    let signature: Int64
    let signer: String
    let meaning: String
}
