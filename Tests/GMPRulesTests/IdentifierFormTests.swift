import GMPRules
import Testing

/// The equipment and material lot ids' forms, matched by hand since issue 18 took the
/// regex literals out (no `_StringProcessing` in gmp): what the regexes accepted, and no more.
@Suite("Identifier forms: equipment ids and material lot ids")
struct IdentifierFormTests {
    @Test("equipment ids: [A-Z0-9][A-Z0-9._-]{0,31}", arguments: [
        ("A", true), ("7", true), ("BSC-01", true), ("INC.2_B-3", true), ("F-", true), ("0.", true),
        (String(repeating: "A", count: 32), true), ("Z" + String(repeating: "_", count: 31), true),
        ("", false), (String(repeating: "A", count: 33), false), ("-BSC", false), (".A", false), ("_A", false),
        ("bsc-01", false), ("BSC 01", false), (" BSC", false), ("BSC\n", false), ("BSC/1", false),
        ("É", false), ("A\u{301}", false), ("ＡＢ", false), ("A\u{0}", false),
    ])
    func equipmentIDs(text: String, accepted: Bool) {
        #expect(EquipmentVocabulary.isEquipmentID(text) == accepted)
    }

    @Test("material lot ids: MAT[0-9]{2}-[0-9]{5,}", arguments: [
        ("MAT26-00001", true), ("MAT00-12345", true), ("MAT26-123456789", true),
        ("MAT26-0001", false), ("MAT2-00001", false), ("MAT267-00001", false), ("MAT26_00001", false),
        ("mat26-00001", false), ("MAT26-00001 ", false), (" MAT26-00001", false), ("MAT26-0000A", false),
        ("MATAB-00001", false), ("MAT26-", false), ("MAT", false), ("", false), ("XMAT26-00001", false),
        ("MAT26-00001\n", false), ("MAT２６-00001", false), ("MAT26-00001\u{301}", false), ("MAT26--00001", false),
    ])
    func materialLotIDs(text: String, accepted: Bool) {
        #expect(MaterialVocabulary.isMaterialLotID(text) == accepted)
    }
}

/// A unit id as `gmp storage find` and `gmp custody history` tell it from a lot id.
@Suite("Identifier forms: a unit id rather than a lot id")
struct UnitLooksTests {
    @Test("one line ending in a dash and three digits (.*-[0-9]{3}), around white space", arguments: [
        ("W123426000001-001", true), ("-001", true), ("  W1-123 ", true), ("é-123", true), ("a-b-123", true),
        ("W123426000001", false), ("W1-12", false), ("W1-1234", false), ("W1-12a", false), ("W1_123", false),
        ("a\nb-123", false), ("W1-123\u{301}", false), ("W1-١٢٣", false), ("", false), ("123", false),
    ])
    func unit(text: String, accepted: Bool) {
        #expect(UnitIdentifier.looksLikeUnit(text) == accepted)
    }
}
