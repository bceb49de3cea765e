import ArgumentParser
import GMPRecords
import GMPRules
import PostgresClient

/// `gmp donor show CODE`: consent, collections, eligibility, and what is still missing.
struct DonorShow: GMPCommand {
    static let path = "donor show"
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a donor: consent, collections, eligibility and what it still lacks.",
        discussion: """
            Examples:
              gmp donor show D26-000001
              gmp donor show D26-000001 --json
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The donor code.", completion: ObjectCompletion.donors) var donor: String

    struct Document: Encodable {
        let donor: TraceDocument.Donor
        let newborns: [String]
        let collections: [TraceDocument.Collection]
        /// Per collection: what stands between the donor and "eligible" now.
        let eligibilityProblems: [String: [String]]
    }

    func execute(in context: CommandContext) throws {
        let connection = try context.connect(startingEmbedded: false)
        let (trace, problems) = try connection.transaction(.repeatableRead, readOnly: true) { db in
            let trace = try Traceability(db).donor(donor)
            var problems: [String: [String]] = [:]
            for collection in trace.collections where collection.donor == donor {
                problems[collection.id] = try DonorRegistry(db).eligibilityProblems(donor: donor, collection: collection.id)
            }
            return (trace, problems)
        }
        try context.output.document(Document(donor: trace.donor, newborns: trace.newborns,
                                             collections: trace.collections, eligibilityProblems: problems))
        var lines = DonorText.summary(trace.donor, newborns: trace.newborns)
        for collection in trace.collections {
            lines += DonorText.collection(collection)
            if let open = problems[collection.id], collection.eligibility == nil {
                lines.append(open.isEmpty ? "  eligibility  not determined; the results allow an eligible determination"
                                          : "  eligibility  not determined; missing or failing: " + open.joined(separator: "; "))
            }
        }
        context.output.data(lines.joined(separator: "\n"))
    }
}

/// The text lines shared by donor and trace reports.
enum DonorText {
    static func summary(_ donor: TraceDocument.Donor, newborns: [String]) -> [String] {
        var lines = ["donor          \(donor.code) (\(donor.intendedUse)\(donor.living ? "" : ", deceased"))"]
        if let mother = donor.birthMother { lines.append("birth mother   \(mother) (the one tested)") }
        if !newborns.isEmpty { lines.append("newborns       \(newborns.joined(separator: ", "))") }
        for consent in donor.consents {
            lines.append("consent        given \(consent.givenOn) (\(consent.scope); taken by \(consent.takenBy))"
                         + (consent.withdrawnOn.map { " WITHDRAWN \($0)" } ?? ""))
        }
        if donor.consents.isEmpty { lines.append("consent        none recorded") }
        return lines
    }

    static func collection(_ c: TraceDocument.Collection) -> [String] {
        var lines = ["collection     \(c.id): \(c.source), \(c.amount) \(c.amountUnit), \(c.collectedAt) at \(c.site) by \(c.collector)",
                     "  received     " + (c.receivedAt.map { "\($0) by \(c.receivedBy ?? "?") (\(c.receiptCondition ?? "?"))" } ?? "not yet")]
        if let e = c.eligibility {
            lines.append("  eligibility  \(e.outcome.uppercased()), signed by \(e.signedBy ?? "?") at \(e.signedAt ?? "?")"
                         + (e.signatureIntact == false ? " (signature BROKEN)" : ""))
            if !e.problems.isEmpty { lines.append("  findings     " + e.problems.joined(separator: "; ")) }
        }
        return lines
    }
}

extension DonorShow: DirectlyParsed {
    static let directArguments = DirectArguments<Self>([.globalOptions, .argument { $0.donor = $1 }])
}
