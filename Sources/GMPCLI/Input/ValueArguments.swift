import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

// Typed command-line values: a malformed number or an impossible date is refused by
// the parser (exit 64) with the option's name, before anything reaches the database.

extension CalendarDate: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
    public static var defaultCompletionKind: CompletionKind { .default }
}

extension ExactDecimal: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

extension IntendedUse: ExpressibleByArgument {}
extension ScreeningOutcome: ExpressibleByArgument {}
extension ScreeningTest: ExpressibleByArgument {}
extension EligibilityOutcome: ExpressibleByArgument {}
extension ReceiptCondition: ExpressibleByArgument {}
extension LotStage: ExpressibleByArgument {}
extension ProductKind: ExpressibleByArgument {}
extension LotStatus: ExpressibleByArgument {}
extension ManufacturingStepKind: ExpressibleByArgument {}

/// A lot id as a person types it: the 13-character DIN and its check character.
///
/// Each lot command declares the lot as its own positional argument,
/// `@Argument(help: LotArgument.help, completion: ObjectCompletion.lots) var lot: String`,
/// not as an `@OptionGroup` of a type of its own: such a group cost every lot command five
/// more conformance scans of the argument parser at start-up (~1.5 M instructions; issue
/// 18, docs/benchmarks.md). Help, completions and errors are the same either way.
enum LotArgument {
    static let help = ArgumentHelp(
        "The lot's DIN followed by its check character: G1234260000014, or \"G1234 26 000001 4\" as printed.",
        valueName: "lot")

    /// Parsed and checked; a wrong check character is refused (exit 65) with the reason.
    static func din(_ lot: String) throws -> DonationIdentificationNumber {
        try DonationIdentificationNumber(keyed: lot)
    }
}
