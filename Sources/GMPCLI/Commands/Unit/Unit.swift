import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp unit`: a lot's vials and bags going into, between and out of storage.
struct UnitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unit",
        abstract: "Place, move, withdraw, thaw or discard a unit (vial or bag); show one with its label.",
        discussion: """
            A lot's fill step makes its units, numbered by division: G123426000001-001, \
            -002, …; they start in the hands of whoever filled them. You may also type the \
            lot's check character: G1234260000014-001.

            Every action is a custody event recording who, when, from and to; a unit is \
            never deleted. Placing, thawing and discarding need the unit in your hands \
            (withdrawn, or handed over to you: gmp custody hand-over); a stored unit may \
            be moved or withdrawn by anyone with the role, and the event names them.
              in hand  → place → stored → move → stored
              stored   → withdraw → in hand → thaw → thawed
              in hand, stored or thawed → discard (final)
            One unit per position, one position per unit: a taken position is refused, \
            even when two people place at the same moment.
            """,
        subcommands: [UnitPlace.self, UnitMove.self, UnitWithdraw.self, UnitThaw.self, UnitDiscard.self, UnitShow.self, UnitList.self])
}

/// A unit id as a person types it.
///
/// Each command declares it as its own positional argument, not as an `@OptionGroup` of a
/// type of its own, which cost the command five more conformance scans at start-up
/// (issue 18; see `LotArgument`).
enum UnitArgument {
    static let help = ArgumentHelp("The unit: its lot's DIN, a dash and the division (G123426000001-001).", valueName: "unit")

    static func id(_ unit: String) throws -> UnitIdentifier { try UnitIdentifier(unit) }
}

/// Where a unit goes: a box and a position in it.
struct PositionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The box.", valueName: "box")) var box: String
    @Option(help: ArgumentHelp("The position: row letter and column number, such as C7.", valueName: "position"))
    var position: String

    func parsed() throws -> StoragePosition { try StoragePosition(position) }
}

/// What every unit command reports: the unit, what was done, the custody event, and
/// where the unit is now.
struct UnitEventDocument: Encodable {
    let unit: String
    let action: String
    let event: Int64
    let place: StorageLocations.UnitPlace
}

extension Units.Storing {
    var action: String {
        switch self {
        case .place: "placed"
        case .move: "moved"
        }
    }
}

/// Runs one custody action and reports it the same way for every unit command.
enum UnitEvent {
    static func report(_ unit: UnitIdentifier, action: String, event: Int64, on connection: PostgresConnection,
                       in context: CommandContext) throws {
        let place = try StorageLocations(connection).find(unit)
        try context.output.document(UnitEventDocument(unit: unit.value, action: action, event: event, place: place))
        context.output.data("\(unit.value) \(action): \(place.holder) (custody event \(event))")
    }
}

/// `gmp unit place UNIT --box BOX --position C7`
struct UnitPlace: GMPCommand {
    static let path = "unit place"
    static let configuration = CommandConfiguration(
        commandName: "place", abstract: "Put a unit from your hands into a free position of a box.",
        discussion: """
            Examples:
              gmp unit place G1234260000014-001 --box LN2-01-R1-B01 --position A1
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: UnitArgument.help, completion: ObjectCompletion.units) var unit: String
    @OptionGroup var target: PositionOptions
    @Option(help: ArgumentHelp("Why (default: placed in storage).", valueName: "text")) var reason: String?

    func execute(in context: CommandContext) throws {
        try UnitStoring.run(unit: unit, target: target, .place(reason: reason), in: context)
    }
}

/// `gmp unit move UNIT --box BOX --position C7 --reason …`
struct UnitMove: GMPCommand {
    static let path = "unit move"
    static let configuration = CommandConfiguration(
        commandName: "move", abstract: "Move a stored unit to another free position (any box, any device that may hold it).",
        discussion: """
            Examples:
              gmp unit move G1234260000014-001 --box LN2-01-R1-B02 --position C4 --reason "box B01 consolidated"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: UnitArgument.help, completion: ObjectCompletion.units) var unit: String
    @OptionGroup var target: PositionOptions
    @Option(help: ArgumentHelp("Why it moves.", valueName: "text")) var reason: String

    func execute(in context: CommandContext) throws {
        try UnitStoring.run(unit: unit, target: target, .move(reason: reason), in: context)
    }
}

/// Place and move: the same steps, one transaction, a taken position explained.
enum UnitStoring {
    static func run(unit: String, target: PositionOptions, _ storing: Units.Storing, in context: CommandContext) throws {
        let id = try UnitArgument.id(unit), position = try target.parsed()
        let connection = try context.connect(startingEmbedded: false)
        let event = try Units.store(id, in: target.box, at: position, storing, on: connection)
        try UnitEvent.report(id, action: storing.action, event: event, on: connection, in: context)
    }
}

/// `gmp unit withdraw|thaw|discard UNIT --reason …`: one command per action.
protocol UnitActionCommand: GMPCommand {
    static var action: Units.Action { get }
    static var done: String { get }
    var unit: String { get }
    var reason: String { get }
}

extension UnitActionCommand {
    func execute(in context: CommandContext) throws {
        let id = try UnitArgument.id(unit)
        let connection = try context.connect(startingEmbedded: false)
        let event = try connection.transaction(WriteIsolation.lockedRows) { db in try Units(db).perform(Self.action, on: id, reason: reason) }
        try UnitEvent.report(id, action: Self.done, event: event, on: connection, in: context)
    }
}

struct UnitWithdraw: UnitActionCommand {
    static let path = "unit withdraw"
    static let action = Units.Action.withdraw
    static let done = "withdrawn"
    static let configuration = CommandConfiguration(
        commandName: "withdraw", abstract: "Take a stored unit out of storage into your hands.",
        discussion: """
            Examples:
              gmp unit withdraw G1234260000014-001 --reason "for shipment SHP26-00001"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: UnitArgument.help, completion: ObjectCompletion.units) var unit: String
    @Option(help: ArgumentHelp("Why.", valueName: "text")) var reason: String
}

struct UnitThaw: UnitActionCommand {
    static let path = "unit thaw"
    static let action = Units.Action.thaw
    static let done = "thawed"
    static let configuration = CommandConfiguration(
        commandName: "thaw", abstract: "Record that a unit in your hands was thawed (it cannot go back into storage).",
        discussion: """
            Examples:
              gmp unit thaw G1234260000014-001 --reason "for administration to patient P-0042"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: UnitArgument.help, completion: ObjectCompletion.units) var unit: String
    @Option(help: ArgumentHelp("Why (e.g. for administration, for a QC retest).", valueName: "text")) var reason: String
}

struct UnitDiscard: UnitActionCommand {
    static let path = "unit discard"
    static let action = Units.Action.discard
    static let done = "discarded"
    static let configuration = CommandConfiguration(
        commandName: "discard", abstract: "Discard a unit in your hands, stored or thawed, with the reason; final.",
        discussion: """
            Examples:
              gmp unit discard G1234260000014-001 --reason "label damaged in the thaw bath"
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: UnitArgument.help, completion: ObjectCompletion.units) var unit: String
    @Option(help: ArgumentHelp("Why.", valueName: "text")) var reason: String
}
