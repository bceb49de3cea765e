import Foundation
import PostgresClient
import Testing
import TestSupport

/// `gmp donor …`, `gmp tissue …`, `gmp lot …` (alias `batch`), `gmp trace …` and
/// `gmp facility apply` as people run them: the built binary, its stdout, --json and exit
/// codes, and for every refusal an audit trail with not one event more.
@Suite("donor, tissue, lot and trace commands, end to end")
struct DonorLotCommandTests {
    /// Every test infectious-disease panel starts from these (21 CFR 1271.85).
    static let everyDonorPanel = ["hiv1-ab", "hiv1-nat", "hiv2-ab", "hbsag", "anti-hbc", "anti-hcv", "hcv-nat", "syphilis"]
    /// A living birth mother, for a newborn's umbilical cord: every donor's tests and WNV NAT.
    static let livingDonorPanel = everyDonorPanel + ["wnv-nat"]
    /// A living donor of leukocyte-rich tissue (bone marrow): adds HTLV and CMV.
    static let leukocyteRichPanel = everyDonorPanel + ["htlv", "cmv", "wnv-nat"]

    static let motherName = "Maria Quintessa Example"
    static let newbornName = "Baby Quintessa Example"

    // MARK: - Set-up

    /// One migrated database with the facility applied from a configuration file and one
    /// account for each role the commands need.
    struct Site {
        let database: String
        let configPath: String
        let operatorAccount: TestAccount
        let qc: TestAccount
        let director: TestAccount
        let qa: TestAccount
        let admin: TestAccount

        /// Runs gmp against the database as `person` (their password in PGPASSWORD), with
        /// the facility's configuration file; `environment` adds variables (COLUMNS);
        /// `killAfter` kills it with SIGKILL if still running then (GMPBinary.run);
        /// `started` hears its process id.
        func gmp(_ person: TestAccount?, _ arguments: [String], stdin: String? = nil,
                 environment: [String: String] = [:], killAfter: TimeInterval? = nil,
                 started: ((Int32) -> Void)? = nil) throws -> GMPRun {
            guard let person else {
                return try GMPBinary.run(arguments + ["--database", database, "--config", configPath],
                                         environment: environment, stdin: stdin, killAfter: killAfter, started: started)
            }
            return try GMPBinary.run(arguments + ["--database", database, "--user", person.id, "--config", configPath],
                                     environment: environment.merging(["PGPASSWORD": person.password]) { $1 }, stdin: stdin,
                                     killAfter: killAfter, started: started)
        }

        /// A signing command: --password-stdin, with the person's password on stdin.
        func signed(_ person: TestAccount, _ arguments: [String]) throws -> GMPRun {
            try gmp(person, arguments + ["--password-stdin"], stdin: person.password + "\n")
        }

        /// Events in the audit trail, counted by the superuser: chained, and pending (gmp
        /// chains lazily, issue 19: a write's events may not be chained yet).
        func auditEvents() throws -> Int64 {
            try TestServer.connect(database).query("""
                SELECT (SELECT count(*) FROM gmp_audit.event) + (SELECT count(*) FROM gmp_audit.pending_event) AS n
                """)[0].decode("n", as: Int64.self)
        }

        /// Runs `command`, expects the one-line error with `code` naming `words`, and that
        /// the audit trail gained no event (nothing was changed).
        @discardableResult
        func expectRefused(exit code: Int32 = 65, mentioning words: [String] = [],
                           sourceLocation: SourceLocation = #_sourceLocation,
                           _ command: () throws -> GMPRun) throws -> GMPRun {
            let before = try auditEvents()
            let run = try command()
            expectOneLineError(run, exit: code, mentioning: words, sourceLocation: sourceLocation)
            let after = try auditEvents()
            #expect(after == before, "the audit trail changed: \(before) → \(after) events\n\(run)",
                    sourceLocation: sourceLocation)
            return run
        }

        /// Runs `command` and expects it to succeed.
        @discardableResult
        func expectSuccess(sourceLocation: SourceLocation = #_sourceLocation, _ command: () throws -> GMPRun) throws -> GMPRun {
            let run = try command()
            #expect(run.status == 0, "\(run)", sourceLocation: sourceLocation)
            return run
        }
    }

    /// A migrated database with the facility G1234 applied (max passage 3, max 12
    /// population doublings) and an operator, a QC analyst, a director, QA and an admin.
    static func withSite<T>(_ body: (Site) throws -> T) throws -> T {
        try TestServer.withMigratedDatabase { database in
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("gmp-e2e-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let configPath = "\(directory)/gmp.yaml"
            try """
                facility:
                  isbt128_facility: G1234
                  max_passage: 3
                  max_population_doublings: 12

                """.write(toFile: configPath, atomically: true, encoding: .utf8)
            let site = Site(database: database, configPath: configPath,
                            operatorAccount: try TestAccount.create(in: database, roles: ["operator"]),
                            qc: try TestAccount.create(in: database, roles: ["qc"]),
                            director: try TestAccount.create(in: database, roles: ["director"], fullName: "Dana Director"),
                            qa: try TestAccount.create(in: database, roles: ["qa"]),
                            admin: try TestAccount.create(in: database, roles: ["admin"]))
            let apply = try site.gmp(site.admin, ["facility", "apply", "--reason", "x", "--json"])
            guard apply.status == 0 else { throw TestSetupError("facility apply failed: \(apply)") }
            #expect(try apply.json()["isbt128_facility"] as? String == "G1234", "\(apply)")
            #expect(try apply.json()["max_passage"] as? Int == 3, "\(apply)")
            return try body(site)
        }
    }

    /// The date `offset` days from today (UTC), YYYY-MM-DD.
    static func day(_ offset: Int) -> String {
        let date = Date().addingTimeInterval(Double(offset) * 86_400)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
    }

    /// When the tissue was recovered in these tests: three days ago, 09:15 UTC.
    static let collectionDay = day(-3)

    /// A donor with a received collection.
    struct Donation {
        /// The donor the tissue came from (the newborn, for newborn tissue).
        let donor: String
        /// The person tested: the birth mother for newborn tissue, else the donor.
        let tested: String
        let newborn: String?
        let collection: String
    }

    /// Registers a donor (for umbilical cord: a named birth mother and a named newborn),
    /// records consent, the collection on `collectionDay` and its receipt.
    static func donation(in site: Site, source: String = "umbilical_cord") throws -> Donation {
        let op = site.operatorAccount
        let newbornTissue = source == "umbilical_cord"
        let register = try site.expectSuccess {
            try site.gmp(op, ["donor", "register", "--use", "allogeneic", "--name", motherName, "--json"])
        }
        let tested = try #require(try register.json()["donor"] as? String, "\(register)")
        var donor = tested
        var newborn: String?
        if newbornTissue {
            let child = try site.expectSuccess {
                try site.gmp(op, ["donor", "register", "--use", "allogeneic", "--birth-mother", tested,
                                  "--name", newbornName, "--json"])
            }
            #expect(try child.json()["birth_mother"] as? String == tested, "\(child)")
            donor = try #require(try child.json()["donor"] as? String, "\(child)")
            newborn = donor
        }
        try site.expectSuccess {
            try site.gmp(op, ["donor", "consent", tested, "--given-on", day(-10), "--scope", "tissue for cell banking",
                              "--taken-by", "R. Nurse, donor coordinator"])
        }
        let (amount, unit) = newbornTissue ? ("25", "cm") : ("60", "mL")
        let collect = try site.expectSuccess {
            try site.gmp(op, ["tissue", "collect", donor, source, "--site", "Maternity ward 3",
                              "--at", "\(collectionDay)T09:15:00Z", "--collector", "Dr. A. Collector",
                              "--amount", amount, "--unit", unit, "--transport", "2-8 °C in transport medium", "--json"])
        }
        let collection = try #require(try collect.json()["collection"] as? String, "\(collect)")
        #expect(collection.wholeMatch(of: /T\d\d-\d{6}/) != nil, "\(collect)")
        let receive = try site.expectSuccess {
            try site.gmp(op, ["tissue", "receive", collection, "--condition", "acceptable", "--note", "4 °C, sealed", "--json"])
        }
        #expect(try receive.json()["condition"] as? String == "acceptable", "\(receive)")
        return Donation(donor: donor, tested: tested, newborn: newborn, collection: collection)
    }

    /// Records `tests` for `person` as QC: nonreactive unless named in `results`.
    static func screen(in site: Site, _ person: String, _ tests: [String], results: [String: String] = [:],
                       specimenOn: String = collectionDay) throws {
        for test in tests {
            try site.expectSuccess {
                try site.gmp(site.qc, ["donor", "screen", person, test, results[test] ?? "nonreactive",
                                       "--kit", "Kit \(test) lot 42", "--specimen-on", specimenOn])
            }
        }
    }

    /// A lot in quarantine: the DIN, its check character, and the id a person types.
    struct CreatedLot {
        let din: String
        let checkCharacter: String
        var keyed: String { din + checkCharacter }
    }

    static func createLot(in site: Site, _ origin: [String], stage: String = "master_cell_bank") throws -> CreatedLot {
        let create = try site.expectSuccess {
            try site.gmp(site.operatorAccount, ["lot", "create"] + origin + ["--stage", stage, "--use", "allogeneic",
                                                                            "--expires", day(365), "--json"])
        }
        let json = try create.json()
        #expect(json["status"] as? String == "quarantine", "\(create)")
        #expect(json["stage"] as? String == stage, "\(create)")
        let din = try #require(json["din"] as? String, "\(create)")
        let check = try #require(json["check_character"] as? String, "\(create)")
        #expect(din.wholeMatch(of: /G1234\d{8}/) != nil, "\(create)")
        #expect(check.count == 1, "\(create)")
        return CreatedLot(din: din, checkCharacter: check)
    }

    static func step(in site: Site, _ lot: CreatedLot, _ kind: String, _ extra: [String] = []) throws -> GMPRun {
        try site.gmp(site.operatorAccount, ["lot", "step", lot.keyed, kind] + extra + ["--json"])
    }

    static let passage = ["--cell-count", "24000000", "--viability", "95.5", "--doublings", "3.1"]
    static let fill = ["--units", "10", "--unit-volume", "1.5"]

    // MARK: - Tests

    @Test("donor to cryopreserved master cell bank to working cell bank, traced both ways, labelled without the name")
    func happyPath() throws {
        try Self.withSite { site in
            let show = try site.expectSuccess { try site.gmp(site.qa, ["facility", "show", "--json"]) }
            #expect(try show.json()["max_population_doublings"] as? String == "12", "\(show)")

            let donation = try Self.donation(in: site)
            #expect(donation.tested.wholeMatch(of: /D\d\d-\d{6}/) != nil, "\(donation)")
            #expect(donation.donor.wholeMatch(of: /D\d\d-\d{6}/) != nil, "\(donation)")
            #expect(donation.donor != donation.tested)
            try Self.screen(in: site, donation.tested, Self.livingDonorPanel)

            let determine = try site.expectSuccess {
                try site.signed(site.director, ["donor", "determine", donation.donor, "--outcome", "eligible",
                                                "--statement", "all results nonreactive", "--json"])
            }
            let determination = try determine.json()
            #expect(determination["meaning"] as? String == "determined", "\(determine)")
            #expect(determination["outcome"] as? String == "eligible", "\(determine)")
            #expect(determination["collection"] as? String == donation.collection, "\(determine)")
            #expect(determination["signer"] as? String == site.director.id, "\(determine)")

            let parent = try Self.createLot(in: site, ["--collection", donation.collection])
            try site.expectSuccess { try Self.step(in: site, parent, "isolation") }
            let first = try site.expectSuccess { try Self.step(in: site, parent, "passage", Self.passage) }
            #expect(try first.json()["passage"] as? Int == 1, "\(first)")
            try site.expectSuccess { try Self.step(in: site, parent, "harvest") }
            try site.expectSuccess { try Self.step(in: site, parent, "fill", Self.fill) }
            try site.expectSuccess { try Self.step(in: site, parent, "cryopreservation") }

            let child = try Self.createLot(in: site, ["--parent", parent.keyed], stage: "working_cell_bank")
            #expect(child.din != parent.din)
            // Passage numbers continue from the parent cell bank.
            let childPassage = try site.expectSuccess { try Self.step(in: site, child, "passage", Self.passage) }
            #expect(try childPassage.json()["passage"] as? Int == 2, "\(childPassage)")

            // Forward from the birth mother: both lots and her newborn.
            let forward = try site.expectSuccess { try site.gmp(site.qa, ["trace", "donor", donation.tested, "--json"]) }
            let forwardJSON = try forward.json()
            let lots = try #require(forwardJSON["lots"] as? [[String: Any]], "\(forward)")
            #expect(Set(lots.compactMap { $0["din"] as? String }) == [parent.din, child.din], "\(forward)")
            #expect(lots.count == 2, "\(forward)")
            #expect(forwardJSON["newborns"] as? [String] == [donation.donor], "\(forward)")

            // Back from the working cell bank: its parent first in the lineage.
            let back = try site.expectSuccess { try site.gmp(site.qa, ["trace", "lot", child.keyed, "--json"]) }
            let lineage = try #require(try back.json()["lineage"] as? [[String: Any]], "\(back)")
            #expect(lineage.first?["din"] as? String == parent.din, "\(back)")
            #expect(lineage.first?["check_character"] as? String == parent.checkCharacter, "\(back)")

            let csv = try site.expectSuccess { try site.gmp(site.qa, ["trace", "donor", donation.tested, "--csv"]) }
            let rows = csv.stdout.split(separator: "\r\n")
            #expect(rows.first?.hasPrefix("din,check_character") == true, "\(csv)")
            #expect(rows.count == 3, "\(csv)")
            #expect(rows.dropFirst().allSatisfy { $0.hasPrefix(parent.din + ",") || $0.hasPrefix(child.din + ",") }, "\(csv)")

            // "batch" is "lot".
            let batch = try site.expectSuccess { try site.gmp(site.qa, ["batch", "show", parent.keyed]) }
            #expect(batch.stdout.contains("quarantine"), "\(batch)")
            #expect(batch.stdout.contains(parent.checkCharacter), "\(batch)")
            let batchJSON = try site.expectSuccess { try site.gmp(site.qa, ["batch", "show", parent.keyed, "--json"]) }
            let batchLot = try #require(try batchJSON.json()["lot"] as? [String: Any], "\(batchJSON)")
            #expect(batchLot["din"] as? String == parent.din, "\(batchJSON)")
            #expect(batchLot["units"] as? Int == 10, "\(batchJSON)")

            for lot in [parent, child] {
                let label = try site.expectSuccess { try site.gmp(site.operatorAccount, ["lot", "label", lot.keyed]) }
                #expect(label.stdout.contains("QUARANTINE: NOT FOR RELEASE"), "\(label)")
                for name in [Self.motherName, Self.newbornName, "Quintessa"] {
                    #expect(!label.stdout.contains(name), "the label carries a personal name: \(label)")
                }
                let labelJSON = try site.expectSuccess {
                    try site.gmp(site.operatorAccount, ["lot", "label", lot.keyed, "--json"])
                }
                #expect(!labelJSON.stdout.contains("Quintessa"), "\(labelJSON)")
            }
            // Nor do the traces carry the name.
            #expect(!forward.stdout.contains("Quintessa") && !back.stdout.contains("Quintessa") && !csv.stdout.contains("Quintessa"))
        }
    }

    @Test("an eligible determination is refused for a reactive result, a specimen outside its window, a missing test")
    func eligibilityRefusals() throws {
        try Self.withSite { site in
            // a. Bone marrow: the full leukocyte-rich panel, HBsAg reactive.
            let marrow = try Self.donation(in: site, source: "bone_marrow")
            try Self.screen(in: site, marrow.tested, Self.leukocyteRichPanel, results: ["hbsag": "reactive"])
            try site.expectRefused(mentioning: ["HBsAg reactive", marrow.donor]) {
                try site.signed(site.director, ["donor", "determine", marrow.donor, "--outcome", "eligible"])
            }
            // An ineligible determination is what the director can sign.
            let ineligible = try site.expectSuccess {
                try site.signed(site.director, ["donor", "determine", marrow.donor, "--outcome", "ineligible", "--json"])
            }
            #expect(try ineligible.json()["outcome"] as? String == "ineligible", "\(ineligible)")

            // b. Umbilical cord: the panel drawn 10 days before the collection.
            let early = try Self.donation(in: site)
            try Self.screen(in: site, early.tested, Self.livingDonorPanel, specimenOn: Self.day(-13))
            try site.expectRefused(mentioning: ["outside the window"]) {
                try site.signed(site.director, ["donor", "determine", early.donor, "--outcome", "eligible"])
            }

            // c. Umbilical cord: every test but HCV NAT.
            let missing = try Self.donation(in: site)
            try Self.screen(in: site, missing.tested, Self.livingDonorPanel.filter { $0 != "hcv-nat" })
            let run = try site.expectRefused(mentioning: ["HCV NAT: no result"]) {
                try site.signed(site.director, ["donor", "determine", missing.donor, "--outcome", "eligible"])
            }
            #expect(!run.stderr.contains("HIV-1 antibody"), "only the missing test is named: \(run)")
        }
    }

    @Test("a collection is refused without consent, and after the consent is withdrawn")
    func consentRefusals() throws {
        try Self.withSite { site in
            let op = site.operatorAccount
            let register = try site.expectSuccess { try site.gmp(op, ["donor", "register", "--use", "allogeneic", "--json"]) }
            let donor = try #require(try register.json()["donor"] as? String)
            let collect = ["tissue", "collect", donor, "bone_marrow", "--site", "Ward 1", "--at", "\(Self.collectionDay)T09:15:00Z",
                           "--collector", "Dr. A. Collector", "--amount", "60", "--unit", "mL", "--transport", "2-8 °C"]
            try site.expectRefused(mentioning: ["no consent", donor]) { try site.gmp(op, collect) }

            try site.expectSuccess {
                try site.gmp(op, ["donor", "consent", donor, "--given-on", Self.day(-10), "--scope", "bone marrow for cell banking",
                                  "--taken-by", "R. Nurse"])
            }
            let withdraw = try site.expectSuccess {
                try site.gmp(op, ["donor", "withdraw-consent", donor, "--on", Self.day(-5), "--reason", "donor changed their mind",
                                  "--json"])
            }
            #expect(try withdraw.json()["consents_withdrawn"] as? Int == 1, "\(withdraw)")
            try site.expectRefused(mentioning: ["withdrawn consent", donor]) { try site.gmp(op, collect) }
        }
    }

    @Test("lot refusals: a wrong check character, an illegal status change, steps out of order or beyond the limit")
    func lotRefusals() throws {
        try Self.withSite { site in
            let donation = try Self.donation(in: site)
            let lot = try Self.createLot(in: site, ["--collection", donation.collection])

            // e. The last character changed: refused, without saying what it should be.
            let wrong = lot.checkCharacter == "0" ? "1" : "0"
            let mistyped = try site.expectRefused(mentioning: ["check character"]) {
                try site.gmp(site.qa, ["lot", "show", lot.din + wrong])
            }
            #expect(!mistyped.stderr.contains(lot.keyed), "\(mistyped)")
            let words = mistyped.stderr.replacing(lot.din, with: " ")
                .split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "*") })
            #expect(!words.contains { $0 == lot.checkCharacter }, "the right check character is revealed: \(mistyped)")
            #expect(mistyped.stdout.isEmpty, "\(mistyped)")

            // g. Out of order, and beyond the facility's passage limit.
            try site.expectSuccess { try Self.step(in: site, lot, "isolation") }
            let outOfOrder = try site.expectRefused(mentioning: ["no fill before harvest"]) { try Self.step(in: site, lot, "fill", Self.fill) }
            #expect(!outOfOrder.stderr.contains("server context"), "\(outOfOrder)")
            // -vv adds where in the server the refusal arose, after the one-line report.
            let traced = try site.gmp(site.operatorAccount, ["lot", "step", lot.keyed, "fill"] + Self.fill + ["-vv"])
            #expect(traced.status == 65, "\(traced)")
            #expect(traced.stderrLines.first { $0.hasPrefix("error: ") }?.contains("no fill before harvest") == true, "\(traced)")
            #expect(traced.stderr.contains("server context: PL/pgSQL function gmp_rules.check_step() line "), "\(traced)")

            let capped = try Self.createLot(in: site, ["--collection", donation.collection])
            try site.expectSuccess { try Self.step(in: site, capped, "isolation") }
            let small = ["--cell-count", "1000000", "--viability", "90", "--doublings", "1"]
            for expected in 1...3 {
                let run = try site.expectSuccess { try Self.step(in: site, capped, "passage", small) }
                #expect(try run.json()["passage"] as? Int == expected, "\(run)")
            }
            try site.expectRefused(mentioning: ["limit", "passage 4"]) { try Self.step(in: site, capped, "passage", small) }

            let frozen = try Self.createLot(in: site, ["--collection", donation.collection])
            let steps: [(String, [String])] = [("isolation", []), ("harvest", []), ("fill", Self.fill), ("cryopreservation", [])]
            for (kind, extra) in steps {
                try site.expectSuccess { try Self.step(in: site, frozen, kind, extra) }
            }
            try site.expectRefused(mentioning: ["no passage after cryopreservation"]) {
                try Self.step(in: site, frozen, "passage", Self.passage)
            }

            // f. Rejected is final.
            let reject = try site.expectSuccess {
                try site.signed(site.qa, ["lot", "reject", lot.keyed, "--reason", "mycoplasma positive", "--json"])
            }
            #expect(try reject.json()["status"] as? String == "rejected", "\(reject)")
            try site.expectRefused(mentioning: ["cannot go from rejected to on_hold"]) {
                try site.gmp(site.qa, ["lot", "hold", lot.keyed, "--reason", "investigation"])
            }
            let shown = try site.expectSuccess { try site.gmp(site.qa, ["lot", "show", lot.keyed, "--json"]) }
            #expect((try shown.json()["lot"] as? [String: Any])?["status"] as? String == "rejected", "\(shown)")
        }
    }

    @Test("bad input: a unit the source does not allow (65), a malformed number or an impossible date (64)")
    func inputRefusals() throws {
        try Self.withSite { site in
            let op = site.operatorAccount
            let register = try site.expectSuccess { try site.gmp(op, ["donor", "register", "--use", "allogeneic", "--json"]) }
            let donor = try #require(try register.json()["donor"] as? String)
            try site.expectSuccess {
                try site.gmp(op, ["donor", "consent", donor, "--given-on", Self.day(-10), "--scope", "bone marrow",
                                  "--taken-by", "R. Nurse"])
            }
            func collect(amount: String, unit: String) throws -> GMPRun {
                try site.gmp(op, ["tissue", "collect", donor, "bone_marrow", "--site", "Ward 1",
                                  "--at", "\(Self.collectionDay)T09:15:00Z", "--collector", "Dr. A. Collector",
                                  "--amount", amount, "--unit", unit, "--transport", "2-8 °C"])
            }
            try site.expectRefused(mentioning: ["unit g"]) { try collect(amount: "60", unit: "g") }
            try site.expectRefused(exit: 64, mentioning: ["--amount"]) { try collect(amount: "6x0", unit: "mL") }
            try site.expectRefused(exit: 64, mentioning: ["--given-on"]) {
                try site.gmp(op, ["donor", "consent", donor, "--given-on", "2026-02-30", "--scope", "bone marrow",
                                  "--taken-by", "R. Nurse"])
            }
            try site.expectRefused(exit: 64, mentioning: ["--csv", "--json"]) {
                try site.gmp(op, ["trace", "donor", donor, "--csv", "--json"])
            }
            // The right unit is accepted.
            try site.expectSuccess { try collect(amount: "60", unit: "mL") }
        }
    }

    @Test("permissions: QC cannot determine eligibility, an operator cannot read a donor's identity (77)")
    func permissions() throws {
        try Self.withSite { site in
            let donation = try Self.donation(in: site)
            try Self.screen(in: site, donation.tested, Self.livingDonorPanel)
            try site.expectRefused(exit: 77, mentioning: ["permission denied"]) {
                try site.signed(site.qc, ["donor", "determine", donation.donor, "--outcome", "eligible"])
            }
            let identity = try site.expectRefused(exit: 77, mentioning: ["permission denied"]) {
                try site.gmp(site.operatorAccount, ["donor", "identity", donation.tested])
            }
            #expect(!identity.stdout.contains("Quintessa") && !identity.stderr.contains("Quintessa"), "\(identity)")
        }
    }

    @Test("a director reads the personal data kept apart: text and --json")
    func identity() throws {
        try Self.withSite { site in
            let donation = try Self.donation(in: site)
            let text = try site.expectSuccess { try site.gmp(site.director, ["donor", "identity", donation.tested]) }
            #expect(text.stdout.contains(Self.motherName), "\(text)")
            #expect(text.stdout.contains(donation.tested), "\(text)")
            let json = try site.expectSuccess { try site.gmp(site.director, ["donor", "identity", donation.newborn ?? "", "--json"]) }
            #expect(try json.json()["full_name"] as? String == Self.newbornName, "\(json)")
            #expect(try json.json()["donor"] as? String == donation.newborn, "\(json)")
        }
    }
}
