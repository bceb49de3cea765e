#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRules
import PostgresClient

/// Personal data kept apart from the donor code (1271.55); readable by directors and
/// admins only.
public struct DonorIdentity: Sendable, Equatable {
    public var fullName: String?
    public var dateOfBirth: CalendarDate?
    public var contact: String?
    public var medicalRecordNumber: String?

    public init(fullName: String? = nil, dateOfBirth: CalendarDate? = nil, contact: String? = nil,
                medicalRecordNumber: String? = nil) {
        self.fullName = fullName
        self.dateOfBirth = dateOfBirth
        self.contact = contact
        self.medicalRecordNumber = medicalRecordNumber
    }

    public var isEmpty: Bool { fullName == nil && dateOfBirth == nil && contact == nil && medicalRecordNumber == nil }
}

/// Donors, their consent and screening, and the eligibility determination. Every rule
/// is the database's (sql/code/04_donors.sql, 05_collections.sql); these calls name the operations.
public struct DonorRegistry {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// Registers a donor and returns the distinct donor code the database issued.
    public func register(use: IntendedUse, living: Bool, birthMother: String?, identity: DonorIdentity,
                         reason: String?) throws -> String {
        try connection.query("""
            SELECT gmp.register_donor(\(use.rawValue), \(living), \(birthMother), \(reason), \(identity.fullName),
                                      \(identity.dateOfBirth), \(identity.contact), \(identity.medicalRecordNumber)) AS code
            """)[0].decode("code")
    }

    public func recordConsent(donor: String, givenOn: CalendarDate, scope: String, takenBy: String) throws -> Int64 {
        try connection.query("SELECT gmp.record_consent(\(donor), \(givenOn), \(scope), \(takenBy)) AS id")[0].decode("id")
    }

    /// Records the withdrawal of every consent in force; returns how many.
    public func withdrawConsent(donor: String, on date: CalendarDate, reason: String) throws -> Int {
        try connection.query("SELECT gmp.withdraw_consent(\(donor), \(date), \(reason)) AS n")[0].decode("n")
    }

    public func recordScreening(donor: String, test: ScreeningTest, outcome: ScreeningOutcome, kit: String,
                                specimenOn: CalendarDate) throws -> Int64 {
        try connection.query("""
            SELECT gmp.record_screening_result(\(donor), \(test.rawValue), \(outcome.rawValue), \(kit), \(specimenOn)) AS id
            """)[0].decode("id")
    }

    /// Everything that stands between the donor and an "eligible" determination for
    /// the collection; empty when the rules allow it.
    public func eligibilityProblems(donor: String, collection: String) throws -> [String] {
        let text: String = try connection.query("""
            SELECT array_to_json(gmp.eligibility_problems(\(donor), \(collection)))::text AS problems
            """)[0].decode("problems")
        return try JSONText(text).decode([String].self)
    }

    /// The donor's collection ids, oldest first.
    public func collections(of donor: String) throws -> [String] {
        try connection.query("SELECT id FROM gmp.tissue_collection WHERE donor_code = \(donor) ORDER BY id")
            .map { try $0.decode("id") }
    }

    /// The personal data, if any was kept (directors and admins; others get 42501).
    public func identity(of donor: String) throws -> DonorIdentity? {
        let rows = try connection.query("""
            SELECT full_name, date_of_birth, contact, medical_record_number
            FROM gmp_private.donor_identity WHERE donor_code = \(donor)
            """)
        guard let row = rows.first else { return nil }
        return DonorIdentity(fullName: try row.decode("full_name"), dateOfBirth: try row.decode("date_of_birth"),
                             contact: try row.decode("contact"), medicalRecordNumber: try row.decode("medical_record_number"))
    }

    /// Records and signs (meaning "determined") a director's determination. Call inside
    /// ``SignatureCeremony/sign(password:_:)``; returns the determination id.
    public static func determine(on db: PostgresConnection, challenge: UUID, donor: String, collection: String,
                                 outcome: EligibilityOutcome, statement: String?) throws -> Int64 {
        try db.query("""
            SELECT gmp.determine_eligibility(\(challenge), \(donor), \(collection), \(outcome.rawValue), \(statement)) AS id
            """)[0].decode("id")
    }
}
