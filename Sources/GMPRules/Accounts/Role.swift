/// What a person may do. Each role is a PostgreSQL group role (`gmp_<name>`), so the
/// database enforces it; the README's role table says what each may do.
public enum Role: String, CaseIterable, Sendable, Codable, Comparable {
    /// Manufacturing: records donors, tissue and lots, storage and custody.
    case `operator`
    /// QC analyst: records and verifies test results.
    case qc
    /// Quality assurance: reviews, releases and rejects lots; reviews the audit trail.
    case qa
    /// Facility or medical director: eligibility determinations, exceptional release.
    case director
    /// Accounts only: adds, disables and enables people and grants roles. No GMP data.
    case admin
    /// Read-only: reports and audit trail, for internal and external auditors.
    case auditor

    /// One line for help texts and listings.
    public var summary: String {
        switch self {
        case .operator: "manufacturing: donors, tissue, lots, storage, custody"
        case .qc: "QC analyst: records and verifies test results"
        case .qa: "quality assurance: review, release, reject; audit trail review"
        case .director: "facility/medical director: eligibility, exceptional release"
        case .admin: "accounts only: people and their roles, no GMP data"
        case .auditor: "read-only: reports and the audit trail"
        }
    }

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rawValue < rhs.rawValue }
}
