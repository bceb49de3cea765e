import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp donor register`: a new donor code.
struct DonorRegister: GMPCommand {
    static let path = "donor register"
    static let configuration = CommandConfiguration(
        commandName: "register",
        abstract: "Register a donor and print the donor code gmp issued (operators, directors).",
        discussion: """
            Personal data (--name, --birth-date, --contact, --mrn) is optional and is kept \
            apart from the donor code; the audit trail records that it changed, never its \
            values.

            Examples:
              gmp donor register --use allogeneic --reason "bone-marrow donor, consent to follow"
              gmp donor register --use allogeneic --birth-mother D26-000001 --reason "newborn (umbilical cord)"
            """)

    @OptionGroup var options: GlobalOptions
    @Option(name: .customLong("use"), help: "allogeneic (a donor for others) or autologous (the patient's own cells).")
    var intendedUse: IntendedUse
    @Option(help: ArgumentHelp("For newborn tissue: the birth mother's donor code (she is the one tested).", valueName: "code"))
    var birthMother: String?
    @Flag(help: "The donor is deceased (no WNV NAT requirement for living donors).") var deceased = false
    @Option(help: ArgumentHelp("Full name (kept apart; directors and admins only).", valueName: "text")) var name: String?
    @Option(help: ArgumentHelp("Date of birth, YYYY-MM-DD (kept apart).", valueName: "date")) var birthDate: CalendarDate?
    @Option(help: ArgumentHelp("Contact details (kept apart).", valueName: "text")) var contact: String?
    @Option(help: ArgumentHelp("Medical record number (kept apart).", valueName: "text")) var mrn: String?
    @Option(help: ArgumentHelp("Why, for the audit trail (default: donor registered).", valueName: "text")) var reason: String?

    struct Document: Encodable {
        let donor: String
        let intendedUse: String
        let birthMother: String?
        let personalDataKept: Bool
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let identity = DonorIdentity(fullName: name, dateOfBirth: birthDate, contact: contact, medicalRecordNumber: mrn)
        let code = try connection.transaction(WriteIsolation.lockedRows) { db in
            try DonorRegistry(db).register(use: intendedUse, living: !deceased, birthMother: birthMother,
                                           identity: identity, reason: reason)
        }
        try context.output.document(Document(donor: code, intendedUse: intendedUse.rawValue, birthMother: birthMother,
                                             personalDataKept: !identity.isEmpty))
        context.output.data("registered donor \(code) (\(intendedUse.rawValue)"
                            + (birthMother.map { ", birth mother \($0)" } ?? "") + ")")
    }
}
