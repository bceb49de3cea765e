/// The statements a unit's label carries now: its lot's (status, intended use, donor
/// warnings, from ``LabelStatements``), then what the unit's own state adds. A thawed
/// or discarded unit must never be taken for one that can still be issued.
public enum UnitLabel {
    public static func statements(lot facts: LabelFacts, unitState: String) -> [String] {
        var statements = LabelStatements.statements(for: facts)
        switch unitState {
        case "discarded": statements.insert("DISCARDED: NOT FOR USE", at: 0)
        case "thawed": statements.insert("THAWED: DO NOT REFREEZE", at: 0)
        default: break
        }
        return statements
    }
}
