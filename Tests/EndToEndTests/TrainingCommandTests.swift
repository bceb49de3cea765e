import Foundation
import PostgresClient
import Testing
import TestSupport

/// `gmp sop …`, `gmp training …` and `--procedure` on `gmp lot step` and `gmp qc record`
/// as people run them (issue 15, training): the built binary, its output, `--json` and exit
/// codes; every refusal one line, leaving the audit trail as it was. The rules themselves
/// are tried in SQL by TrainingRulesTests.
@Suite("sop and training commands, end to end")
struct TrainingCommandTests {
    typealias Site = DonorLotCommandTests.Site

    static func today() -> String { DonorLotCommandTests.day(0) }

    /// The trainer records, the trainee acknowledges: both signed; returns the training id.
    @discardableResult
    static func train(_ site: Site, _ trainee: TestAccount, _ procedure: String, by trainer: TestAccount) throws -> Int {
        let recorded = try site.expectSuccess { try site.signed(trainer, ["training", "record", trainee.id, procedure, "--json"]) }
        let id = try #require(try recorded.json()["id"] as? Int, "\(recorded)")
        #expect(try recorded.json()["trainer_signature"] as? Int != nil, "\(recorded)")
        let acknowledged = try site.expectSuccess { try site.signed(trainee, ["training", "acknowledge", String(id)]) }
        #expect(acknowledged.stdout.contains("signed: \(trainee.id) acknowledged training \(id) on \(procedure.split(separator: "@")[0])"),
                "\(acknowledged)")
        return id
    }

    static func matrix(_ site: Site, _ arguments: [String]) throws -> [[String: Any]] {
        let run = try site.expectSuccess { try site.gmp(site.qa, ["training", "matrix", "--json"] + arguments) }
        return try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]], "\(run)")
    }

    @Test("register and revise SOPs, train and acknowledge, refuse the untrained performer, analyst and verifier, and the matrix")
    func sopTrainingAndMatrix() throws {
        try DonorLotCommandTests.withSite { site in
            let qcSite = try QCReleaseCommandTests.QCSite(site)
            try qcSite.approvedSpecification()

            // Registered by QA, signed; nobody else may; malformed codes exit 64.
            let registered = try site.expectSuccess {
                try site.signed(site.qa, ["sop", "register", "SOP-MFG-004", "--title", "Isolation of MSC from tissue",
                                          "--effective", DonorLotCommandTests.day(-10), "--covers", "isolation", "--json"])
            }
            #expect(try registered.json()["version"] as? Int == 1, "\(registered)")
            #expect(try registered.json()["covers"] as? [String] == ["isolation"], "\(registered)")
            try site.expectSuccess {
                try site.signed(site.qa, ["sop", "register", "SOP-QC-012", "--title", "Flow cytometry panel",
                                          "--effective", DonorLotCommandTests.day(-10), "--covers", "cd105"])
            }
            _ = try site.expectRefused(exit: 77, mentioning: ["approve procedures"]) {
                try site.signed(site.operatorAccount, ["sop", "register", "SOP-X-1", "--title", "x", "--effective", Self.today()])
            }
            _ = try site.expectRefused(exit: 64, mentioning: ["procedure code"]) {
                try site.signed(site.qa, ["sop", "register", "sop-mfg-4", "--title", "x", "--effective", Self.today()])
            }
            _ = try site.expectRefused(exit: 65, mentioning: ["isolation", "SOP-MFG-004"]) {
                try site.signed(site.qa, ["sop", "register", "SOP-MFG-005", "--title", "x", "--effective", Self.today(),
                                          "--covers", "isolation"])
            }
            let list = try site.expectSuccess { try site.gmp(site.operatorAccount, ["sop", "list", "--csv"]) }
            #expect(list.stdout.hasPrefix("code,version,title,effective_on,retrain_within_days,in_force,covers\r\n"), "\(list)")
            #expect(list.stdout.contains("SOP-MFG-004,1,Isolation of MSC from tissue,"), "\(list)")

            // The untrained operator's step is refused (GM005: exit 77), naming the fix.
            let lot = try qcSite.assignedLot()
            _ = try site.expectRefused(exit: 77, mentioning: [site.operatorAccount.id, "SOP-MFG-004 version 1", "not trained",
                                                              "gmp training matrix --sop SOP-MFG-004"]) {
                try DonorLotCommandTests.step(in: site, lot, "isolation")
            }
            let missing = try Self.matrix(site, ["--sop", "SOP-MFG-004", "--missing"])
            #expect(missing.contains { $0["person"] as? String == site.operatorAccount.id && $0["state"] as? String == "not_trained" },
                    "\(missing)")

            // Recorded by QA, not yet signed by the trainee: still refused, and the matrix says so.
            let recorded = try site.expectSuccess {
                try site.signed(site.qa, ["training", "record", site.operatorAccount.id, "SOP-MFG-004"])
            }
            #expect(recorded.stdout.contains("signed: \(site.qa.id) trained \(site.operatorAccount.id) on SOP-MFG-004 version 1"),
                    "\(recorded)")
            let awaiting = try Self.matrix(site, ["--sop", "SOP-MFG-004", "--person", site.operatorAccount.id])
            #expect(awaiting.first?["state"] as? String == "awaiting_trainee", "\(awaiting)")
            let training = try #require(awaiting.first?["awaiting_training_id"] as? Int, "\(awaiting)")
            _ = try site.expectRefused(exit: 77, mentioning: ["awaits"]) { try DonorLotCommandTests.step(in: site, lot, "isolation") }
            _ = try site.expectRefused(exit: 77, mentioning: ["only \(site.operatorAccount.id) acknowledges"]) {
                try site.signed(site.qc, ["training", "acknowledge", String(training)])
            }
            try site.expectSuccess { try site.signed(site.operatorAccount, ["training", "acknowledge", String(training)]) }

            // A wrong --procedure is refused; the right one, or none, is accepted.
            _ = try site.expectRefused(exit: 65, mentioning: ["SOP-MFG-004", "SOP-QC-012"]) {
                try DonorLotCommandTests.step(in: site, lot, "isolation", ["--procedure", "SOP-QC-012"])
            }
            _ = try site.expectRefused(exit: 64, mentioning: ["procedure code"]) {
                try DonorLotCommandTests.step(in: site, lot, "isolation", ["--procedure", "sop 4"])
            }
            try site.expectSuccess { try DonorLotCommandTests.step(in: site, lot, "isolation", ["--procedure", "SOP-MFG-004"]) }

            // QC: the analyst and the verifier must be trained on SOP-QC-012.
            _ = try site.expectRefused(exit: 77, mentioning: [site.qc.id, "SOP-QC-012"]) {
                try site.gmp(site.qc, ["qc", "record", lot.keyed, "cd105", "98.2", "--unit", "%", "--method", "Flow"])
            }
            try Self.train(site, site.qc, "SOP-QC-012@1", by: site.qa)
            let result = try qcSite.record(lot, "cd105", "98.2", unit: "%", ["--procedure", "SOP-QC-012"])
            _ = try site.expectRefused(exit: 77, mentioning: [qcSite.qc2.id, "SOP-QC-012", "verification"]) {
                try site.signed(qcSite.qc2, ["qc", "verify", String(result.id)])
            }
            // A qualified analyst may train a colleague.
            try Self.train(site, qcSite.qc2, "SOP-QC-012", by: site.qc)
            try qcSite.verify([result.id])

            // A revision with no retraining window lapses the version-1 qualification at once;
            // it also covers passages from now on.
            let revised = try site.expectSuccess {
                try site.signed(site.qa, ["sop", "revise", "SOP-MFG-004", "--effective", Self.today(), "--retrain-within", "0",
                                          "--covers", "passage"])
            }
            #expect(revised.stdout.contains("covers isolation, passage"), "\(revised)")
            #expect(revised.stdout.contains("approved SOP-MFG-004 version 2"), "\(revised)")
            let lapsed = try Self.matrix(site, ["--sop", "SOP-MFG-004", "--person", site.operatorAccount.id])
            #expect(lapsed.first?["state"] as? String == "lapsed" && lapsed.first?["trained_version"] as? Int == 1, "\(lapsed)")
            _ = try site.expectRefused(exit: 77, mentioning: ["SOP-MFG-004 version 2", "version 1 only"]) {
                try DonorLotCommandTests.step(in: site, lot, "passage", DonorLotCommandTests.passage)
            }

            // The text matrix and CSV, and show.
            let text = try site.expectSuccess { try site.gmp(site.qa, ["training", "matrix", "--sop", "SOP-QC-012"]) }
            #expect(text.stdout.contains("qualified (v1)"), "\(text)")
            let csv = try site.expectSuccess { try site.gmp(site.qa, ["training", "matrix", "--csv"]) }
            #expect(csv.stdout.hasPrefix("person,full_name,procedure,version,state,reads\r\n"), "\(csv)")
            #expect(csv.stdout.contains("\(site.operatorAccount.id),"), "\(csv)")
            let show = try site.expectSuccess { try site.gmp(site.qa, ["sop", "show", "SOP-MFG-004"]) }
            #expect(show.stdout.contains("version 2") && show.stdout.contains("(in force)"), "\(show)")
            _ = try site.expectRefused(exit: 65, mentioning: ["no procedure SOP-NONE"]) {
                try site.gmp(site.qa, ["sop", "show", "SOP-NONE"])
            }
            _ = try site.expectRefused(exit: 64, mentioning: ["--missing goes with --sop"]) {
                try site.gmp(site.qa, ["training", "matrix", "--missing"])
            }
        }
    }
}
