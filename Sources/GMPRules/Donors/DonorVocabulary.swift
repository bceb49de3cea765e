/// Who a donor's cells are for (21 CFR 1271.90): an autologous donor's cells return to
/// the same person and are exempt from the eligibility determination.
public enum IntendedUse: String, Sendable, CaseIterable, Codable {
    case allogeneic
    case autologous
}

/// A screening test's result, as the kit reports it.
public enum ScreeningOutcome: String, Sendable, CaseIterable, Codable {
    case reactive
    case nonreactive
    case indeterminate
}

/// What a responsible person determines about a donor for one recovery (1271.50).
public enum EligibilityOutcome: String, Sendable, CaseIterable, Codable {
    /// Every required test nonreactive inside its specimen window; the database refuses
    /// this outcome otherwise.
    case eligible
    /// Any reactive result, or the responsible person's judgement.
    case ineligible
    /// Autologous use only: no determination is required (1271.90(a)(1)).
    case exempt
}

/// The required infectious-disease tests (21 CFR 1271.85), by the codes the database
/// uses. Which apply depends on the tissue and the donor (docs/donors-and-lots.md).
public enum ScreeningTest: String, Sendable, CaseIterable, Codable {
    case hiv1Antibody = "hiv1-ab"
    case hiv1NAT = "hiv1-nat"
    case hiv2Antibody = "hiv2-ab"
    case hbsag = "hbsag"
    case antiHBc = "anti-hbc"
    case antiHCV = "anti-hcv"
    case hcvNAT = "hcv-nat"
    case syphilis = "syphilis"
    /// Leukocyte-rich tissue (bone marrow, cord blood, peripheral blood).
    case htlv = "htlv"
    /// Leukocyte-rich tissue.
    case cmv = "cmv"
    /// Living donors.
    case wnvNAT = "wnv-nat"
}
