import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp donor screen CODE TEST RESULT`: one infectious-disease test result.
struct DonorScreen: GMPCommand {
    static let path = "donor screen"
    static let configuration = CommandConfiguration(
        commandName: "screen",
        abstract: "Record an infectious-disease screening result (QC analysts).",
        discussion: """
            Results are never edited: a correction is a new result. For a newborn donor, \
            record the birth mother's results on her code.

            Tests: \(ScreeningTest.allCases.map(\.rawValue).joined(separator: ", ")).

            Examples:
              gmp donor screen D26-000001 hiv_1_2_ab nonreactive --kit "Kit X lot 42" --specimen-on 2026-11-30
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The donor code of the person tested.", completion: ObjectCompletion.donors) var donor: String
    @Argument(help: ArgumentHelp("The test.", valueName: "test")) var test: ScreeningTest
    @Argument(help: ArgumentHelp("reactive, nonreactive or indeterminate.", valueName: "result")) var result: ScreeningOutcome
    @Option(help: ArgumentHelp("The test kit (name and lot).", valueName: "text")) var kit: String
    @Option(help: ArgumentHelp("The date the specimen was drawn, YYYY-MM-DD.", valueName: "date")) var specimenOn: CalendarDate

    struct Document: Encodable {
        let donor: String
        let test: String
        let result: String
        let specimenOn: String
        let id: Int64
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let id = try connection.transaction(WriteIsolation.lockedRows) { db in
            try DonorRegistry(db).recordScreening(donor: donor, test: test, outcome: result, kit: kit, specimenOn: specimenOn)
        }
        try context.output.document(Document(donor: donor, test: test.rawValue, result: result.rawValue,
                                             specimenOn: specimenOn.description, id: id))
        context.output.data("\(donor): \(test.rawValue) \(result.rawValue) (specimen \(specimenOn)) recorded")
    }
}
