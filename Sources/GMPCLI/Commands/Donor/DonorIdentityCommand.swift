import ArgumentParser
import GMPRecords
import PostgresClient

/// `gmp donor identity CODE`: the personal data kept apart (directors and admins).
struct DonorIdentityCommand: GMPCommand {
    static let path = "donor identity"
    static let configuration = CommandConfiguration(
        commandName: "identity",
        abstract: "Show the personal data kept for a donor (directors and admins only).",
        discussion: """
            Examples:
              gmp donor identity D26-000001
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The donor code.", completion: ObjectCompletion.donors) var donor: String

    struct Document: Encodable {
        let donor: String
        let fullName: String?
        let dateOfBirth: String?
        let contact: String?
        let medicalRecordNumber: String?
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let identity = try connection.transaction(.repeatableRead, readOnly: true) { db in
            try DonorRegistry(db).identity(of: donor)
        } ?? DonorIdentity()
        try context.output.document(Document(donor: donor, fullName: identity.fullName,
                                             dateOfBirth: identity.dateOfBirth?.description, contact: identity.contact,
                                             medicalRecordNumber: identity.medicalRecordNumber))
        if identity.isEmpty {
            context.output.data("\(donor): no personal data kept")
        } else {
            context.output.data([
                "donor          \(donor)",
                "name           \(identity.fullName ?? "-")",
                "date of birth  \(identity.dateOfBirth?.description ?? "-")",
                "contact        \(identity.contact ?? "-")",
                "MRN            \(identity.medicalRecordNumber ?? "-")",
            ].joined(separator: "\n"))
        }
    }
}
