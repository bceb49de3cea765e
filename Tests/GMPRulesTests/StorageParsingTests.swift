import GMPRules
import PostgresClient
import Testing

/// The error `body` throws, or nil (recording an issue) if it throws none.
private func refusal<T>(_ body: () throws(StorageInputError) -> T) -> StorageInputError? {
    do {
        let value = try body()
        Issue.record("expected a refusal, got \(value)")
        return nil
    } catch {
        return error
    }
}

@Suite("Unit ids, box positions and box grids")
struct StorageParsingTests {
    /// G1234 26 000001: its check character is 4 (DonationIdentificationNumberTests).
    static let din = "G123426000001"

    // MARK: Unit ids

    @Test("a unit id as stored and keyed with the DIN's check character name the same unit",
          arguments: ["G123426000001-001", "G1234260000014-001", " g123426000001-001 ", "g1234260000014-001"])
    func unitForms(text: String) throws {
        let unit = try UnitIdentifier(text)
        #expect(unit.din.value == Self.din)
        #expect(unit.division == 1)
        #expect(unit.value == "G123426000001-001")
        #expect(unit.keyed == "G1234260000014-001")
        #expect(unit.eyeReadable == "G1234 26 000001 4-001")
    }

    @Test("the division is the three digits after the last dash")
    func divisions() throws {
        #expect(try UnitIdentifier("G123426000001-999").division == 999)
        #expect(try UnitIdentifier("G123426000001-020").division == 20)
        #expect(refusal { () throws(StorageInputError) in try UnitIdentifier("G123426000001-000") } == .divisionOutOfRange("000"))
    }

    @Test("anything else is refused", arguments: [
        "G123426000001", "G123426000001-1", "G123426000001-0001", "G123426000001-00A", "G123426000001_001",
        "G12342600001-001", "G12342600000145-001", "-001", "", "G123426000001-001-002",
    ])
    func malformedUnits(text: String) {
        guard let error = refusal({ () throws(StorageInputError) in try UnitIdentifier(text) }) else { return }
        switch error {
        case .malformedUnit, .unitDonation: break
        default: Issue.record("\(text): \(error)")
        }
        #expect(error.description.contains("; fix: "))
    }

    @Test("a wrong check character in a keyed unit id is refused, never corrected")
    func wrongCheckCharacter() {
        let error = refusal { () throws(StorageInputError) in try UnitIdentifier("G1234260000015-001") }
        #expect(error == .unitDonation(IdentifierError.checkCharacterMismatch(given: "5", din: Self.din)))
        #expect(error?.description.contains("mistyped") == true)
    }

    @Test("a unit id is told from a lot id by its dash and three digits")
    func looksLikeUnit() {
        #expect(UnitIdentifier.looksLikeUnit("G123426000001-001"))
        #expect(UnitIdentifier.looksLikeUnit(" G1234260000014-017 "))
        #expect(!UnitIdentifier.looksLikeUnit("G1234260000014"))
        #expect(!UnitIdentifier.looksLikeUnit("G1234 26 000001 4"))
    }

    @Test("UNIT|LOT arguments: a unit by its division, a lot only with its check character")
    func unitOrLot() throws {
        #expect(try UnitOrLot("G123426000001-007") == .unit(try UnitIdentifier("G123426000001-007")))
        #expect(try UnitOrLot("G1234260000014") == .lot(try DonationIdentificationNumber(keyed: "G1234260000014")))
        #expect(try UnitOrLot("G1234260000014").stored == "G123426000001")
        #expect(throws: IdentifierError.missingCheckCharacter(din: Self.din)) { try UnitOrLot(Self.din) }
    }

    // MARK: Positions

    @Test("positions are a row letter then a column number", arguments: [
        ("C7", 3, 7), ("A1", 1, 1), ("z99", 26, 99), (" b12 ", 2, 12), ("C07", 3, 7),
    ])
    func positions(text: String, row: Int, column: Int) throws {
        let position = try StoragePosition(text)
        #expect(position.row == row)
        #expect(position.column == column)
        #expect(position.label == "\(StoragePosition.letter(row))\(column)")
    }

    @Test("a column first, column 0, two letters, column 100 and stray characters are refused",
          arguments: ["7C", "C0", "AA1", "C100", "C", "7", "", "C-1", "C 7", "Ä1", "C7x"])
    func malformedPositions(text: String) {
        #expect(refusal { () throws(StorageInputError) in try StoragePosition(text) } == .malformedPosition(text))
    }

    @Test("positions sort row by row")
    func positionOrder() throws {
        #expect(try StoragePosition("A9") < StoragePosition("B1"))
        #expect(try StoragePosition("B1") < StoragePosition("B2"))
    }

    // MARK: Box grid

    @Test("a box renders as row letters by column numbers, divisions where units are")
    func grid() throws {
        let grid = BoxGrid(rows: 3, columns: 4, cells: [try StoragePosition("A1"): "001", try StoragePosition("C4"): "020"])
        #expect(grid.render() == """
                1   2   3   4
            A 001   .   .   .
            B   .   .   .   .
            C   .   .   . 020
            """)
    }

    @Test("a wide box keeps its columns aligned under two-digit numbers")
    func wideGrid() throws {
        let grid = BoxGrid(rows: 1, columns: 12, cells: [try StoragePosition("A12"): "007"])
        let lines = grid.render().split(separator: "\n")
        #expect(lines[0] == "    1   2   3   4   5   6   7   8   9  10  11  12")
        #expect(lines[1] == "A   .   .   .   .   .   .   .   .   .   .   . 007")
    }

    @Test("an empty box is all dots")
    func emptyGrid() {
        #expect(BoxGrid(rows: 2, columns: 2, cells: [:]).render() == "    1   2\nA   .   .\nB   .   .")
    }

    // MARK: Locations and labels

    @Test("occupancy rounds the percentage used to one decimal, half up, in integers")
    func percentUsed() {
        func percent(_ occupied: Int64, of positions: Int64) -> String {
            DeviceOccupancy(device: "T", kind: "tank", path: "S › T", maxCelsius: "-150", boxes: 1,
                            positions: positions, occupied: occupied).percentUsed
        }
        #expect(percent(2, of: 9) == "22.2")
        #expect(percent(1, of: 8) == "12.5")
        #expect(percent(1, of: 16) == "6.3")
        #expect(percent(81, of: 81) == "100.0")
        #expect(percent(0, of: 0) == "0.0")
    }

    @Test("storage add names what each kind needs and may not have")
    func newLocationProblems() throws {
        #expect(NewStorageLocation(id: "S", kind: .site).problems.isEmpty)
        #expect(NewStorageLocation(id: "T", kind: .tank, parent: "S", maxCelsius: ExactDecimal("-150"), holds: [.cells]).problems.isEmpty)
        #expect(NewStorageLocation(id: "B", kind: .box, parent: "T", rows: 9, columns: 9).problems.isEmpty)
        #expect(NewStorageLocation(id: "T", kind: .tank, parent: "S").problems.count == 2)
        #expect(NewStorageLocation(id: "B", kind: .box, parent: "T", rows: 9).problems.count == 1)
        #expect(NewStorageLocation(id: "R", kind: .rack).problems.count == 1)
        #expect(NewStorageLocation(id: "R", kind: .rack, parent: "T", maxCelsius: ExactDecimal("-80")).problems.count == 1)
    }

    @Test("a unit's label adds its own state to its lot's statements")
    func unitLabel() {
        let released = LabelFacts(status: "released", intendedUse: "allogeneic", eligibility: "eligible")
        #expect(UnitLabel.statements(lot: released, unitState: "stored").isEmpty)
        #expect(UnitLabel.statements(lot: released, unitState: "discarded") == ["DISCARDED: NOT FOR USE"])
        let quarantined = LabelFacts(status: "quarantine", intendedUse: "autologous", eligibility: nil)
        #expect(UnitLabel.statements(lot: quarantined, unitState: "thawed")
                == ["THAWED: DO NOT REFREEZE", "QUARANTINE: NOT FOR RELEASE", "FOR AUTOLOGOUS USE ONLY"])
    }
}
