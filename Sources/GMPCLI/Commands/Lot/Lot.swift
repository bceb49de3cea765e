import ArgumentParser
import GMPRules

/// `gmp lot` (alias `gmp batch`): lots, their manufacturing steps and status.
struct Lot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lot",
        abstract: "Create lots, record manufacturing steps, hold or reject, print labels.",
        discussion: """
            "Lot" and "batch" are the same thing; 'gmp batch' works too.

            A lot is identified by an ISBT 128 Donation Identification Number: the \
            facility's number (gmp facility), the year and a sequence, e.g. G1234 26 000001, \
            printed with its ISO 7064 MOD 37-2 check character. Whenever you type a lot id, \
            type the check character too (G1234260000014): a mistyped id is refused.

            Steps, in the order the database enforces: isolation (lots from tissue), \
            passage (repeatable: cell count, viability, population doublings), harvest, \
            formulation, fill (units and volume), cryopreservation. Passage numbers and \
            population doublings continue from the parent cell bank, up to the facility's limits.

            Status: every lot starts in quarantine.
            \(LotStatus.allCases.map { status in
                let next = status.allowedNext
                return "  \(status.rawValue.padding(11))→ " + (next.isEmpty ? "(final)" : next.map { $0.rawValue }.joined(separator: ", "))
            }.joined(separator: "\n"))
            Release and rejection are dispositions: gmp release (QC results: gmp qc).
            """,
        subcommands: [LotCreate.self, LotStep.self, LotStepCheck.self, LotShow.self, LotRecord.self, LotList.self, LotLabel.self, LotHold.self, LotUnhold.self, LotReject.self],
        aliases: ["batch"])
}
