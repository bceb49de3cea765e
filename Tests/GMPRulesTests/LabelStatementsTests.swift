import GMPRules
import Testing

@Suite("Lot label statements")
struct LabelStatementsTests {
    static let quarantine = "QUARANTINE: NOT FOR RELEASE"
    static let rejected = "REJECTED: NOT FOR USE"
    static let autologous = "FOR AUTOLOGOUS USE ONLY"
    static let advise = "WARNING: Advise patient of communicable disease risks"
    static let notEvaluated = "NOT EVALUATED FOR INFECTIOUS SUBSTANCES"
    static let exceptional = "EXCEPTIONAL RELEASE: DOES NOT MEET RELEASE CRITERIA; FOR THE REQUESTING PHYSICIAN'S PATIENT ONLY"
    static func reactive(_ agent: String) -> String { "WARNING: Reactive test results for \(agent)" }

    private func statements(
        _ status: String, _ use: String, _ eligibility: String?,
        reactive: [String] = [], urgent: Bool = false
    ) -> [String] {
        LabelStatements.statements(for: LabelFacts(
            status: status, intendedUse: use, eligibility: eligibility,
            reactiveAgents: reactive, urgentReleaseBeforeEligibility: urgent))
    }

    // MARK: Status

    @Test("quarantine and on hold say not for release; rejected says not for use; an exceptional release says so; released says nothing",
          arguments: [
              ("quarantine", [quarantine]), ("on_hold", [quarantine]), ("rejected", [rejected]),
              ("released", []),
              ("exceptionally_released", [exceptional]),
          ])
    func status(status: String, expected: [String]) {
        #expect(statements(status, "allogeneic", "eligible") == expected)
    }

    // MARK: Intended use

    @Test("autologous use is stated, after the status", arguments: [
        ("released", [autologous]), ("quarantine", [quarantine, autologous]),
        ("on_hold", [quarantine, autologous]), ("rejected", [rejected, autologous]),
    ])
    func autologousUse(status: String, expected: [String]) {
        #expect(statements(status, "autologous", "exempt") == expected)
    }

    @Test("autologous use needs no eligibility determination, so none is not 'not evaluated'")
    func autologousUndetermined() {
        #expect(statements("released", "autologous", nil) == [Self.autologous])
    }

    @Test("autologous reactive results are named, without the advise-patient warning (1271.90(c)(3))")
    func autologousReactive() {
        #expect(statements("released", "autologous", "exempt", reactive: ["HBsAg"])
            == [Self.autologous, Self.reactive("HBsAg")])
    }

    // MARK: Ineligible donor

    @Test("an ineligible donor: each reactive agent in order, then advise the patient")
    func ineligibleReactive() {
        #expect(statements("exceptionally_released", "allogeneic", "ineligible", reactive: ["HBsAg", "anti-HCV"])
            == [Self.exceptional, Self.reactive("HBsAg"), Self.reactive("anti-HCV"), Self.advise])
    }

    @Test("an ineligible donor without reactive results (screening): advise the patient only")
    func ineligibleScreening() {
        #expect(statements("released", "allogeneic", "ineligible") == [Self.advise])
    }

    @Test("an ineligible donor's rejected lot carries status and warnings")
    func ineligibleRejected() {
        #expect(statements("rejected", "allogeneic", "ineligible", reactive: ["HIV-1/2"])
            == [Self.rejected, Self.reactive("HIV-1/2"), Self.advise])
    }

    @Test("an ineligible autologous donor: each warning once, after the autologous statement")
    func ineligibleAutologous() {
        #expect(statements("released", "autologous", "ineligible", reactive: ["HBsAg"])
            == [Self.autologous, Self.reactive("HBsAg"), Self.advise])
    }

    @Test("eligible and exempt allogeneic donors carry no warnings, whatever was reactive",
          arguments: ["eligible", "exempt"])
    func noWarnings(eligibility: String) {
        #expect(statements("released", "allogeneic", eligibility, reactive: ["CMV"]) == [])
    }

    // MARK: Eligibility not determined

    @Test("allogeneic without a determination is not evaluated, after the status",
          arguments: [("quarantine", [quarantine, notEvaluated]), ("on_hold", [quarantine, notEvaluated]),
                      ("released", [notEvaluated]), ("rejected", [rejected, notEvaluated])])
    func allogeneicUndetermined(status: String, expected: [String]) {
        #expect(statements(status, "allogeneic", nil) == expected)
    }

    @Test("urgent release before determination: reactive results, advise, not evaluated (1271.60(d)(2))")
    func urgentRelease() {
        #expect(statements("exceptionally_released", "allogeneic", nil, reactive: ["HTLV-I/II"], urgent: true)
            == [Self.exceptional, Self.reactive("HTLV-I/II"), Self.advise, Self.notEvaluated])
        #expect(statements("exceptionally_released", "allogeneic", nil, urgent: true)
            == [Self.exceptional, Self.advise, Self.notEvaluated])
    }

    @Test("reactive results before determination are named only under urgent release")
    func undeterminedReactiveWithoutUrgency() {
        #expect(statements("quarantine", "allogeneic", nil, reactive: ["HBsAg"])
            == [Self.quarantine, Self.notEvaluated])
    }

    @Test("once eligibility is determined, the urgent-release flag adds nothing")
    func urgentAfterDetermination() {
        #expect(statements("released", "allogeneic", "eligible", urgent: true) == [])
        #expect(statements("released", "allogeneic", "ineligible", reactive: ["HBsAg"], urgent: true)
            == [Self.reactive("HBsAg"), Self.advise])
    }
}
