#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRules
import PostgresClient

/// The audit trail as a whole: its head, its health, and signed reviews.
/// Verification is ``AuditTrail/verify(checkpoints:progress:)``.
public struct AuditTrail {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// The last event's seq and hash as the database records them (seq 0 and 32 zero
    /// bytes for an empty trail).
    public struct Head: Sendable, Equatable {
        public let seq: Int64
        public let hash: [UInt8]
    }

    public func head() throws -> Head {
        let row = try connection.query("SELECT seq, hash FROM gmp_audit.chain_head")[0]
        return Head(seq: try row.decode("seq"), hash: try row.decode("hash", as: ByteString.self).bytes)
    }

    /// This installation's id: checkpoints name it, so one site's checkpoint is never
    /// checked against another's trail.
    public func installationID() throws -> UUID {
        try connection.query("SELECT id FROM gmp_meta.installation")[0].decode("id")
    }

    /// Anything that would let a change go unrecorded (a table without its audit
    /// trigger, a protective trigger disabled); empty when auditing is whole.
    public func machineryProblems() throws -> [String] {
        try connection.query("SELECT problem FROM gmp_audit.machinery_problems() AS problem")
            .map { try $0.decode("problem") }
    }

    /// Signs QA's review of the trail through `seq` (meaning "reviewed"). Call inside
    /// ``SignatureCeremony/sign(password:_:)``; returns the signature id.
    public static func signReview(on db: PostgresConnection, challenge: UUID, through seq: Int64,
                                  statement: String?) throws -> Int64 {
        try db.query("SELECT gmp.sign_audit_review(\(challenge), \(seq), \(statement)) AS id")[0].decode("id")
    }

    /// Notes in the database that a checkpoint was exported (the signed file is the proof).
    public func recordCheckpoint(seq: Int64, hash: [UInt8], keyFingerprint: String) throws {
        try connection.execute("SELECT gmp.record_checkpoint(\(seq), \(ByteString(hash)), \(keyFingerprint))")
    }
}
