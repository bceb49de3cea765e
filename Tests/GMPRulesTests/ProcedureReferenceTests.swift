import GMPRules
import Testing

/// `CODE@VERSION` and `--covers` as typed, checked before anything is sent.
@Suite("Procedure references and coverage parse as the database stores them")
struct ProcedureReferenceTests {
    @Test("CODE and CODE@VERSION parse", arguments: [
        ("SOP-MFG-004", "SOP-MFG-004", nil), ("SOP-MFG-004@2", "SOP-MFG-004", 2), ("SOP1@10", "SOP1", 10),
        ("A", "A", nil),
    ] as [(String, String, Int?)])
    func parses(_ text: String, _ code: String, _ version: Int?) {
        let reference = ProcedureReference(parsing: text)
        #expect(reference == ProcedureReference(code: code, version: version))
        #expect(reference?.description == text)
    }

    @Test("malformed references are refused", arguments: [
        "", "sop-mfg-004", "SOP--4", "-SOP", "SOP-", "4SOP", "SOP@", "SOP@0", "SOP@-1", "SOP@+2", "SOP@02", "SOP@x",
        "SOP@1@2", "SÖP", "SOP MFG", String(repeating: "A", count: 41),
    ])
    func refused(_ text: String) {
        #expect(ProcedureReference(parsing: text) == nil, "\(text)")
    }

    @Test("--covers names a step kind or a test code")
    func coverage() {
        #expect(ProcedureCoverage(parsing: "isolation") == .step(.isolation))
        #expect(ProcedureCoverage(parsing: "endotoxin") == .test("endotoxin"))
        #expect(ProcedureCoverage(parsing: "cd105") == .test("cd105"))
        for bad in ["", "CD105", "cell dose", "endotoxin;", String(repeating: "a", count: 41)] {
            #expect(ProcedureCoverage(parsing: bad) == nil, "\(bad)")
        }
        let split = ProcedureCoverage.split([.step(.harvest), .test("sterility"), .step(.fill)])
        #expect(split.stepKinds == ["harvest", "fill"])
        #expect(split.tests == ["sterility"])
    }

    @Test("matrix cells say where a person stands; only the first two may work")
    func states() {
        #expect(QualificationState.qualified.text(version: 2, trainedVersion: 2, windowEndsOn: nil) == "qualified (v2)")
        #expect(QualificationState.lapsed.text(version: 2, trainedVersion: 1, windowEndsOn: "2026-12-01") == "lapsed (v1)")
        #expect(QualificationState.allCases.filter(\.mayWork) == [.qualified, .retrainingWindow])
    }
}
