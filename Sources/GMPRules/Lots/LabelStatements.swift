/// What a lot's label statements depend on: its status, intended use and the donor's
/// eligibility, in the vocabulary the database stores.
public struct LabelFacts: Sendable, Equatable {
    /// Lot status: "quarantine", "on_hold", "released", "exceptionally_released" or "rejected".
    public var status: String
    /// "autologous" or "allogeneic".
    public var intendedUse: String
    /// Donor eligibility outcome: "eligible", "ineligible" or "exempt"; nil while the
    /// determination is not complete.
    public var eligibility: String?
    /// Names of the tests with a reactive result, e.g. ["HBsAg"].
    public var reactiveAgents: [String]
    /// The lot is made available under documented urgent medical need before the donor
    /// eligibility determination is complete (21 CFR 1271.60(d)).
    public var urgentReleaseBeforeEligibility: Bool

    public init(
        status: String, intendedUse: String, eligibility: String?,
        reactiveAgents: [String] = [], urgentReleaseBeforeEligibility: Bool = false
    ) {
        self.status = status
        self.intendedUse = intendedUse
        self.eligibility = eligibility
        self.reactiveAgents = reactiveAgents
        self.urgentReleaseBeforeEligibility = urgentReleaseBeforeEligibility
    }
}

/// The statements a lot label must carry (21 CFR 1271.60, 1271.65, 1271.90; 1271.370(b)(4)
/// puts these warnings on the label itself).
public enum LabelStatements: Sendable, Equatable {
    /// Every statement that applies, in label order: status, autologous use, warnings,
    /// then "not evaluated".
    public static func statements(for facts: LabelFacts) -> [String] {
        var statements: [String] = []
        switch facts.status {
        // 1271.60(b): a quarantined HCT/P must be easily told apart from releasable ones.
        case "quarantine", "on_hold": statements.append("QUARANTINE: NOT FOR RELEASE")
        case "rejected": statements.append("REJECTED: NOT FOR USE")
        // FACT-JACIE D11.1.2: an exceptional release is never presented as a plain release.
        case "exceptionally_released":
            statements.append("EXCEPTIONAL RELEASE: DOES NOT MEET RELEASE CRITERIA; FOR THE REQUESTING PHYSICIAN'S PATIENT ONLY")
        default: break
        }

        let autologous = facts.intendedUse == "autologous"
        if autologous {
            statements.append("FOR AUTOLOGOUS USE ONLY")  // 1271.90(c)(1)
        }

        let ineligible = facts.eligibility == "ineligible"
        let urgentUndetermined = facts.urgentReleaseBeforeEligibility && facts.eligibility == nil
        // Reactive results are named for an ineligible donor (1271.65(b)(2)), under urgent
        // need before determination (1271.60(d)(2)) and for autologous use (1271.90(c)(3)).
        if ineligible || urgentUndetermined || autologous {
            statements += facts.reactiveAgents.map { "WARNING: Reactive test results for \($0)" }
        }
        // 1271.65(b)(2) and 1271.60(d)(2); autologous use alone does not call for it.
        if ineligible || urgentUndetermined {
            statements.append("WARNING: Advise patient of communicable disease risks")
        }

        if facts.intendedUse == "allogeneic" && facts.eligibility == nil {
            statements.append("NOT EVALUATED FOR INFECTIOUS SUBSTANCES")  // 1271.60(d)(2)
        }
        return statements
    }
}
