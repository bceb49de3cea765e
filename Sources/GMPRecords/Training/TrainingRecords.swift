#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRules
import PostgresClient

/// Training records (sql/code/22_training.sql): recorded by the trainer, signed
/// "performed", acknowledged by the trainee, signed "reviewed"; and the training matrix.
/// Who may train and who is qualified when are the database's rules.
public struct TrainingRecords {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// One training record with where it stands.
    public struct Record: Encodable, Sendable, Equatable {
        public let id: Int64
        public let trainee: String
        public let code: String
        public let version: Int
        public let trainedAt: Timestamp
        public let trainer: String
        public let trainerSignature: Int64?
        public let acknowledgedAt: Timestamp?
        public let traineeSignature: Int64?
    }

    /// A cell of the matrix: a person against a procedure.
    public struct Cell: Encodable, Sendable, Equatable {
        public let person: String
        public let fullName: String
        public let code: String
        public let title: String
        public let version: Int?
        public let effectiveOn: String?
        public let state: String
        public let trainedVersion: Int?
        public let windowEndsOn: String?
        public let awaitingTrainingId: Int64?
    }

    /// The trainer records `trainee`'s training on `procedure`, signed "performed";
    /// returns the record's id. Call inside a signature ceremony.
    public static func record(trainee: String, on procedure: ProcedureReference, trainedAt: Timestamp?, note: String?,
                              db: PostgresConnection, challenge: UUID) throws -> Int64 {
        try db.query("""
            SELECT gmp.record_training(\(challenge), \(trainee), \(procedure.code), \(procedure.version.map(Int64.init))::integer,
                                       \(trainedAt)::timestamptz, \(note)) AS id
            """)[0].decode("id")
    }

    /// The trainee acknowledges training `id`, signed "reviewed"; returns the signature's
    /// id. Call inside a signature ceremony.
    public static func acknowledge(_ id: Int64, statement: String?, db: PostgresConnection, challenge: UUID) throws -> Int64 {
        try db.query("SELECT gmp.acknowledge_training(\(challenge), \(id), \(statement)) AS id")[0].decode("id")
    }

    /// One training record; nil when there is none.
    public func record(_ id: Int64) throws -> Record? {
        try connection.query("""
            SELECT t.id, t.trainee, t.code, t.version, t.trained_at, t.trainer, a.acknowledged_at,
                   (SELECT max(s.id) FROM gmp.signature s WHERE s.record_table = 'gmp.training_record'
                    AND s.record_key = t.id::text AND s.signer = t.trainer) AS trainer_signature,
                   (SELECT max(s.id) FROM gmp.signature s WHERE s.record_table = 'gmp.training_acknowledgement'
                    AND s.record_key = t.id::text AND s.signer = t.trainee) AS trainee_signature
            FROM gmp.training_record t LEFT JOIN gmp.training_acknowledgement a ON a.training_id = t.id
            WHERE t.id = \(id)
            """).first.map { row in
            Record(id: try row.decode("id"), trainee: try row.decode("trainee"), code: try row.decode("code"),
                   version: try row.decode("version"), trainedAt: try row.decode("trained_at"),
                   trainer: try row.decode("trainer"), trainerSignature: try row.decode("trainer_signature"),
                   acknowledgedAt: try row.decode("acknowledged_at"), traineeSignature: try row.decode("trainee_signature"))
        }
    }

    /// The matrix now: people holding operator, qc or qa × procedures, narrowed to one
    /// procedure or person when given.
    public func matrix(procedure: String? = nil, person: String? = nil) throws -> [Cell] {
        try connection.query("""
            SELECT person, full_name, code, title, version, effective_on::text AS effective_on, state, trained_version,
                   window_ends_on::text AS window_ends_on, awaiting_training_id
            FROM gmp.training_matrix(NULL)
            WHERE (\(procedure)::text IS NULL OR code = \(procedure)::text) AND (\(person)::text IS NULL OR person = \(person)::text)
            ORDER BY code, person
            """).map { row in
            Cell(person: try row.decode("person"), fullName: try row.decode("full_name"), code: try row.decode("code"),
                 title: try row.decode("title"), version: try row.decode("version"),
                 effectiveOn: try row.decode("effective_on"), state: try row.decode("state"),
                 trainedVersion: try row.decode("trained_version"), windowEndsOn: try row.decode("window_ends_on"),
                 awaitingTrainingId: try row.decode("awaiting_training_id"))
        }
    }
}
