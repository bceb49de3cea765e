import ArgumentParser
import GMPRules

/// `gmp donor`: donors, consent, screening and eligibility (21 CFR 1271 Subpart C).
struct Donor: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "donor",
        abstract: "Register donors, record consent and screening, determine eligibility.",
        discussion: """
            A donor is known by a code gmp issues (D26-000001) that carries no personal \
            identifier. Personal data, if kept at all, is stored apart and only directors \
            and admins can read it (gmp donor identity).

            For newborn tissue (umbilical cord, placenta, amnion, cord blood) register the \
            birth mother first, then the newborn with --birth-mother: the mother is the \
            one tested.

            Required screening tests (21 CFR 1271.85): every donor \
            \(ScreeningTest.allCases.prefix(8).map { $0.rawValue }.joined(separator: ", ")); \
            leukocyte-rich tissue (bone marrow, cord blood, peripheral blood) adds htlv and \
            cmv; living donors add wnv-nat. Specimens must be drawn within 7 days of the \
            recovery (from 30 days before it for bone marrow).

            Typical order: register, consent, (tissue collect), screen, determine.
            """,
        subcommands: [DonorRegister.self, DonorConsent.self, DonorWithdrawConsent.self, DonorScreen.self,
                      DonorDetermine.self, DonorShow.self, DonorList.self, DonorIdentityCommand.self]
    )
}
