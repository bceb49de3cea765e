import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp facility`: the facility's ISBT 128 number and manufacturing limits.
struct Facility: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "facility",
        abstract: "Show or apply the facility's ISBT 128 number and culture limits (the configuration file's facility section).",
        subcommands: [FacilityShow.self, FacilityApply.self])
}

struct FacilityDocument: Encodable {
    let isbt128Facility: String?
    let maxPassage: Int?
    let maxPopulationDoublings: String?
    let changed: Bool?
}

/// `gmp facility show`: what the database enforces, and whether the file agrees.
struct FacilityShow: GMPCommand {
    static let path = "facility show"
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show the settings the database enforces.",
        discussion: """
            Examples:
              gmp facility show
            """)

    @OptionGroup var options: GlobalOptions

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let current = try FacilitySettings.current(on: connection)
        try context.output.document(FacilityDocument(isbt128Facility: current?.isbt128Facility, maxPassage: current?.maxPassage,
                                                     maxPopulationDoublings: current?.maxPopulationDoublings.description,
                                                     changed: nil))
        guard let current else {
            context.output.data("not configured: an administrator runs gmp facility apply --reason …")
            return
        }
        context.output.data("""
            ISBT 128 facility          \(current.isbt128Facility)
            max passage                \(current.maxPassage)
            max population doublings   \(current.maxPopulationDoublings)
            """)
    }
}

/// `gmp facility apply --reason …`: copies the configuration file's facility section
/// into the database (administrators).
struct FacilityApply: GMPCommand {
    static let path = "facility apply"
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Make the configuration file's facility section the settings in force (administrators).",
        discussion: """
            Examples:
              gmp config init
              gmp facility apply --reason "facility number G1234 from ICCBBA; validated culture limits"
            """)

    @OptionGroup var options: GlobalOptions
    @Option(help: ArgumentHelp("Why, for the audit trail (required).", valueName: "text")) var reason: String

    func execute(in context: CommandContext) throws {
        let file = context.settings.facility
        guard let fin = file?.isbt128Facility, let passage = file?.maxPassage, let doublings = file?.maxPopulationDoublings else {
            throw Failure(exitCode: .configuration,
                          problem: "the configuration file has no complete facility section"
                              + (context.settings.configPath.map { " (\($0))" } ?? " (none was found)"),
                          fix: "gmp config init writes a starter file: set facility.isbt128_facility, max_passage and max_population_doublings in it")
        }
        let settings = FacilitySettings(isbt128Facility: try FacilityIdentificationNumber(fin), maxPassage: passage,
                                        maxPopulationDoublings: ExactDecimal(doublings))
        let connection = try context.connect(startingEmbedded: false)
        let changed = try connection.transaction { db in try settings.apply(on: db, reason: reason) }
        try context.output.document(FacilityDocument(isbt128Facility: settings.isbt128Facility, maxPassage: passage,
                                                     maxPopulationDoublings: settings.maxPopulationDoublings.description,
                                                     changed: changed))
        context.output.data(changed ? "facility \(fin): applied (max passage \(passage), max \(doublings) population doublings)"
                                    : "facility \(fin): already in force, nothing changed")
    }
}
