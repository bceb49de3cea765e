import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp unit show UNIT`: the unit, its lot, state, holder and the label text for its state.
struct UnitShow: GMPCommand {
    static let path = "unit show"
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a unit: lot, state, holder, a pending hand-over, and the label text it needs now.",
        discussion: """
            The label statements follow the lot's status, intended use and donor \
            eligibility (as 'gmp lot label'), and the unit's own state (thawed, discarded).

            Examples:
              gmp unit show G1234260000014-001
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: UnitArgument.help, completion: ObjectCompletion.units) var unit: String

    struct Document: Encodable {
        let unit: StorageLocations.UnitPlace
        let lot: TraceDocument.Lot
        let label: [String]
    }

    func execute(in context: CommandContext) throws {
        let id = try UnitArgument.id(unit)
        let connection = try context.connect(startingEmbedded: false)
        let (place, lot) = try connection.transaction(.repeatableRead, readOnly: true) { db in
            (try StorageLocations(db).find(id), try Traceability(db).lotAndSteps(id.din).lot)
        }
        let product = "\(lot.productKind.replacing("_", with: " ")), \(lot.stage.replacing("_", with: " "))"
        let label = [id.eyeReadable, product, "\(place.volumeMl) mL \(place.container)", "EXP \(lot.expiresOn)"]
            + UnitLabel.statements(lot: LotText.labelFacts(lot), unitState: place.state)
        try context.output.document(Document(unit: place, lot: lot, label: label))
        var lines = [
            "unit           \(id.value)  (\(place.container), \(place.volumeMl) mL)",
            "lot            \(lot.eyeReadable)  (\(lot.stage), \(lot.productKind)), \(lot.status)",
            "state          \(place.state.replacing("_", with: " "))",
            "holder         \(place.holder)",
        ]
        if let transfer = place.pendingTransfer {
            lines.append("hand-over      transfer \(transfer) awaits its receiver: the unit is frozen until then")
        }
        lines.append("label")
        lines += label.map { "  " + $0 }
        context.output.data(lines.joined(separator: "\n"))
    }
}

/// Text lines for units, shared by unit show, storage find and custody history.
enum UnitText {
    /// ["G123426000001-001", "stored", "SITE-A › LN2-01 › R1 › B01 C7"]: a row of storage find's table.
    static func placeRow(_ place: StorageLocations.UnitPlace) -> [String] {
        [place.unit, place.state, place.holder + (place.pendingTransfer.map { "  (hand-over \($0) pending)" } ?? "")]
    }
}

extension UnitShow: DirectlyParsed {
    static let directArguments = DirectArguments<Self>([.globalOptions, .argument { $0.unit = $1 }])
}
