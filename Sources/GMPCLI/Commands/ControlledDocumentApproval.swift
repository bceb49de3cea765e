#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PostgresClient

/// `gmp spec approve` and `gmp process approve`: QA approves a draft version of a
/// controlled document with an e-signature ("approved"); one behaviour, two documents.
protocol ControlledDocumentApproval: GMPCommand {
    /// The document in words, "specification" or "master batch record".
    static var document: String { get }
    /// The database function that approves, as `Privileges.mayExecute` names it.
    static var function: String { get }
    /// Approves inside the signing ceremony; returns the signature's id.
    static func approve(on db: PostgresConnection, challenge: UUID, id: String, statement: String?) throws -> Int64
    var id: String { get }
    var statement: String? { get }
    var passwordStdin: Bool { get }
}

extension ControlledDocumentApproval {
    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        try SignedAction.runAndReport(connection, function: Self.function, refusal: "approve \(Self.document)s",
                                      fix: "QA approves \(Self.document)s",
                                      signing: SigningIntent(record: "\(Self.document) \(id)", meaning: .approved, statement: statement),
                                      passwordStdin: passwordStdin, record: id, done: "approved \(Self.document) \(id)",
                                      in: context) { db, challenge in
            try Self.approve(on: db, challenge: challenge, id: id, statement: statement)
        }
    }
}
