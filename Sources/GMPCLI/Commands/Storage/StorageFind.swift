import ArgumentParser
import GMPRecords
import GMPRules

/// `gmp storage find UNIT|LOT`: where each unit is now.
struct StorageFind: GMPCommand {
    static let path = "storage find"
    static let configuration = CommandConfiguration(
        commandName: "find",
        abstract: "Where a unit is now, or every unit of a lot: box and position, person, or outside party.",
        discussion: """
            A unit id is its lot's DIN, a dash and the division: G123426000001-001 (or with \
            the DIN's check character, G1234260000014-001). A lot id needs its check character.

            Examples:
              gmp storage find G1234260000014-001
              gmp storage find G1234260000014 --json
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("A unit, or a lot with its check character.", valueName: "unit-or-lot")) var subject: String

    func execute(in context: CommandContext) throws {
        let subject = try UnitOrLot(self.subject)
        let connection = try context.connect(startingEmbedded: false)
        let places = try connection.transaction(.repeatableRead, readOnly: true) { db in try StorageLocations(db).find(subject) }
        try context.output.document(places)
        context.output.data(places.isEmpty ? "lot \(subject) has no units yet (they are made by its fill step)"
                                           : textTable(header: ["UNIT", "STATE", "WHERE"], rows: places.map(UnitText.placeRow)))
    }
}
