import GMPRules
import Testing

@Suite("ISBT 128 data structures on labels")
struct ISBT128DataStructureTests {
    typealias DIN = DonationIdentificationNumber

    @Test("data structure 001: = and the DIN, then type 2 flags: 60 + the check character's value", arguments: [
        ("G123426000001", "=G12342600000164"),   // check character 4 → 64
        ("G123417654321", "=G12341765432170"),   // A → 10 → 70
        ("G123498654321", "=G12349865432177"),   // H → 17 → 77
        ("A999914123458", "=A99991412345879"),   // J → 19 → 79
    ])
    func donationIdentification(stored: String, expected: String) throws {
        let din = try DIN(stored: stored)
        let structure = ISBT128.DonationIdentification(din)
        #expect(structure.data == expected)
        #expect(structure.data.count == 16)
        #expect(ISBT128.DonationIdentification(data: expected)?.din == din)
    }

    @Test("a DIN structure whose flags do not match its check character is not read back")
    func wrongFlags() {
        #expect(ISBT128.DonationIdentification(data: "=G12342600000165") == nil)
        #expect(ISBT128.DonationIdentification(data: "=G12342600000100") == nil)
        #expect(ISBT128.DonationIdentification(data: "G12342600000164=") == nil)
    }

    @Test("the * check character (value 36) gives flags 96")
    func starCheckCharacter() throws {
        // Find a DIN whose check character is *, so the top of the flag range is exercised.
        let facility = try FacilityIdentificationNumber("G1234")
        let din = try #require((1...2000).lazy.compactMap { try? DIN(facility: facility, year: 26, sequence: $0) }
            .first { $0.checkCharacter == "*" })
        #expect(ISBT128.DonationIdentification(din).flags == "96")
    }

    @Test("data structure 003: =<, the product description code, the donation type, the division")
    func productCode() throws {
        let lot = try ISBT128.ProductCode(stage: "master_cell_bank", productKind: "cells", intendedUse: "allogeneic", division: nil)
        #expect(lot.data == "=<S9001V00")
        let autologousUnit = try ISBT128.ProductCode(stage: "drug_product", productKind: "cells", intendedUse: "autologous",
                                                     division: 3)
        #expect(autologousUnit.data == "=<S90031Ab")
        #expect(autologousUnit.data.count == 10)
    }

    @Test("unit divisions map onto ISBT 128's two-level division codes in order", arguments: [
        (1, "A0"), (2, "Aa"), (3, "Ab"), (27, "Az"), (28, "B0"), (702, "Zz"),
    ])
    func divisionCodes(division: Int, code: String) {
        #expect(ISBT128.ProductCode.divisionCode(division) == code)
    }

    @Test("a division outside 1…702 has no code and is refused")
    func divisionOutOfRange() {
        #expect(ISBT128.ProductCode.divisionCode(0) == nil)
        #expect(ISBT128.ProductCode.divisionCode(703) == nil)
        #expect(throws: LabelError.divisionOutOfRange) {
            try ISBT128.ProductCode(stage: "drug_product", productKind: "cells", intendedUse: "allogeneic", division: 703)
        }
    }

    @Test("data structure 004: =>, the year's last three digits, the day of the year", arguments: [
        ("2026-12-31", "=>026365"), ("2028-12-31", "=>028366"), ("2026-03-01", "=>026060"),
        ("2028-03-01", "=>028061"), ("2027-01-01", "=>027001"),
    ])
    func expirationDate(date: String, expected: String) throws {
        #expect(try ISBT128.ExpirationDate(isoDate: date).data == expected)
    }

    @Test("an impossible date is refused", arguments: ["2026-02-29", "2026-13-01", "26-01-01", "2026-1-x"])
    func badDate(date: String) {
        #expect(throws: LabelError.badDate(date)) { try ISBT128.ExpirationDate(isoDate: date) }
    }

    @Test("data structure 023 heads the DataMatrix's concatenation with the count and 000")
    func compoundMessage() {
        #expect(ISBT128.compoundMessage(["=G12342600000164", "=<S9001V00", "=>026365"])
                == "=+03000=G12342600000164=<S9001V00=>026365")
    }

    @Test("a label's text and ZPL carry exactly the three data structures; field data cannot start a ZPL command")
    func productLabel() throws {
        let label = try ProductLabel(din: DIN(stored: "G123426000001"), division: 3, stage: "drug_product",
                                     productKind: "cells", intendedUse: "allogeneic", expiresOn: "2026-12-31",
                                     statements: ["QUARANTINE: NOT FOR RELEASE", "caret ^XZ ~JR"])
        #expect(label.id == "G1234 26 000001 4-003")
        #expect(label.product == "Mesenchymal stromal cells (MSC), drug product")
        #expect(label.compoundData == "=+03000=G12342600000164=<S9003VAb=>026365")
        let zpl = label.zpl
        #expect(zpl.hasPrefix("^XA") && zpl.hasSuffix("^XZ\n"))
        #expect(zpl.contains("^FD>:=G12342600000164^FS"))
        #expect(zpl.contains("^FD>:=<S9003VAb^FS"))
        #expect(zpl.contains("^FD>:=>026365^FS"))
        #expect(zpl.contains("caret _5EXZ _7EJR"))
        #expect(zpl.ranges(of: "^XZ").count == 1, "only the label's own end")
    }
}
