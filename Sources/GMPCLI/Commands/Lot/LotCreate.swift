import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp lot create`: a new lot in quarantine.
struct LotCreate: GMPCommand {
    static let path = "lot create"
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a lot from a received tissue collection or a parent cell bank (operators).",
        discussion: """
            From tissue: a master cell bank or a drug product. From a parent: master cell \
            bank → working cell bank → drug product; the parent must be cryopreserved and \
            not rejected. The intended use must match the donor's.

            The lot is made under a master batch record (gmp help master-batch-records): \
            --process CODE or CODE@VERSION, which must be approved and not superseded; \
            without it, the latest approved master written for the lot's kind and stage, \
            when there is one, else none (its steps then record no parameters).

            Examples:
              gmp lot create --collection T26-000001 --stage master_cell_bank --use allogeneic --expires 2027-12-31
              gmp batch create --parent G1234260000014 --stage drug_product --use allogeneic --expires 2027-06-30
              gmp lot create --parent G1234260000014 --stage drug_product --use allogeneic --expires 2027-06-30 --process UC-MSC-MBR
            """)

    @OptionGroup var options: GlobalOptions
    @Option(help: ArgumentHelp("The tissue collection (T26-000001).", valueName: "id")) var collection: String?
    @Option(help: ArgumentHelp("The parent cell bank's DIN with check character.", valueName: "lot"),
            completion: ObjectCompletion.lots) var parent: String?
    @Option(help: "master_cell_bank, working_cell_bank or drug_product.") var stage: LotStage
    @Option(help: "cells, conditioned_medium or extracellular_vesicles.") var kind: ProductKind = .cells
    @Option(name: .customLong("use"), help: "allogeneic or autologous (must match the donor).") var intendedUse: IntendedUse
    @Option(help: ArgumentHelp("Expiry date, YYYY-MM-DD.", valueName: "date")) var expires: CalendarDate
    @Option(help: ArgumentHelp("The master batch record, CODE or CODE@VERSION (default: the latest approved for the lot).",
                               valueName: "process")) var process: String?

    func validate() throws {
        guard (collection == nil) != (parent == nil) else {
            throw ValidationError("give exactly one of --collection ID or --parent LOT")
        }
    }

    struct Document: Encodable {
        let lot: String
        let din: String
        let checkCharacter: String
        let status: String
        let stage: String
        /// The master batch record it is made under, CODE@VERSION; nil for none.
        let master: String?
    }

    func execute(in context: CommandContext) throws {
        let origin: LotOrigin = try parent.map { .parent(try DonationIdentificationNumber(keyed: $0)) }
            ?? .collection(collection ?? "")
        let connection = try context.connect(startingEmbedded: false)
        let (din, master) = try connection.transaction(WriteIsolation.lockedRows) { db in
            let din = try Lots(db).create(from: origin, stage: stage, kind: kind, use: intendedUse, expiresOn: expires,
                                          process: process)
            return (din, try MasterRecordRegistry(db).master(of: din))
        }
        try context.output.document(Document(lot: din.eyeReadable, din: din.value, checkCharacter: String(din.checkCharacter),
                                             status: LotStatus.quarantine.rawValue, stage: stage.rawValue, master: master))
        context.output.data("created lot \(din.eyeReadable) (\(stage.rawValue), quarantine)"
                            + (master.map { ", made under \($0)" } ?? "") + "; type it as \(din.value)\(din.checkCharacter)")
    }
}
