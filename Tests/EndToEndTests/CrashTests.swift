import Foundation
import PostgresClient
import Testing
import TestSupport

/// Issue 18: what gmp holds when things break. A gmp process killed (SIGKILL) at random
/// points of every kind of write; a connection lost after a command committed; the server
/// stopped immediately under concurrent writers, then restarted. Afterwards every command
/// that exited 0 has its record, none is partial, and `gmp audit verify` (reconciliation
/// included) exits 0; a command that lost its connection says what is known about its
/// record, and never "nothing was committed" when it was.
@Suite("crash tests: gmp killed, the connection lost, the server stopped immediately", .serialized)
struct CrashTests {
    typealias Site = DonorLotCommandTests.Site

    /// Wall time spent killing gmp processes at random points (the set-up comes on top).
    static let killBudget: TimeInterval = 30

    /// One command of the kill loop and how to tell that its record is there.
    struct Attempt {
        let kind: String
        let person: TestAccount
        let arguments: [String]
        let signed: Bool
        /// Asked, as the superuser, only when the command exited 0.
        let recorded: (PostgresConnection, GMPRun) throws -> Bool
    }

    static func count(_ db: PostgresConnection, _ query: SQLQuery) throws -> Int64 {
        try db.query(query)[0].decode("n", as: Int64.self)
    }

    @Test("SIGKILL at random points of every kind of write: whatever exited 0 is recorded, nothing is partial, the trail verifies")
    func killedAtRandomPoints() throws {
        try QCReleaseCommandTests.withQCSite { qs in
            let site = qs.site
            let op = site.operatorAccount
            let db = try TestServer.connect(site.database)
            let box = "CRASH-B01"
            for arguments in [["CRASH-SITE", "--kind", "site", "--name", "Crash site"],
                              ["CRASH-LN2", "--kind", "tank", "--in", "CRASH-SITE", "--max-celsius", "-150", "--holds", "cells"],
                              ["CRASH-R1", "--kind", "rack", "--in", "CRASH-LN2"],
                              [box, "--kind", "box", "--in", "CRASH-R1", "--rows", "9", "--columns", "9"]] {
                try site.expectSuccess { try site.gmp(op, ["storage", "add"] + arguments) }
            }
            try qs.approvedSpecification()
            let donation = try DonorLotCommandTests.donation(in: site)
            try DonorLotCommandTests.screen(in: site, donation.tested, DonorLotCommandTests.livingDonorPanel)
            try site.expectSuccess { try site.signed(site.director, ["donor", "determine", donation.donor, "--outcome", "eligible"]) }
            let origin = ["--collection", donation.collection]
            func newLot() throws -> DonorLotCommandTests.CreatedLot {
                try DonorLotCommandTests.createLot(in: site, origin, stage: "drug_product")
            }
            // A lot filled with 30 units in the operator's hands, to be placed.
            let filled = try newLot()
            for (kind, extra) in [("isolation", []), ("harvest", []), ("fill", ["--units", "30", "--unit-volume", "1.5"]),
                                  ("cryopreservation", [])] {
                try site.expectSuccess { try DonorLotCommandTests.step(in: site, filled, kind, extra) }
            }
            let stepLots = try (0..<4).map { _ in try newLot() }
            let qcLots = try (0..<5).map { _ in
                let lot = try newLot()
                try site.expectSuccess { try site.signed(site.qc, ["spec", "assign", lot.keyed, "E2E-DP", "--max-dose", "0.4"]) }
                return lot
            }
            let screened = try #require(try site.gmp(op, ["donor", "register", "--use", "allogeneic", "--name", "Crash Example",
                                                          "--json"]).json()["donor"] as? String)
            // Lots for the signed kinds: a specification assigned (QC), then a rejection (QA),
            // the disposition whose signature must never be missing.
            let decisionLots = try (0..<8).map { _ in try newLot() }
            try site.expectSuccess {
                try site.gmp(op, ["material", "type", "add", "CRASH-MEM", "--name", "alpha-MEM", "--category", "culture_medium",
                                  "--storage", "2-8 C"])
            }
            let certificate = try qs.file("coa-crash.pdf", "%PDF-1.4 certificate of analysis\n")

            let steps: [(String, [String])] = [("isolation", []), ("harvest", []), ("fill", ["--units", "2", "--unit-volume", "1.5"]),
                                               ("cryopreservation", [])]
            var serial = 0
            // Each kind picks its next target from what the database holds now, so a killed
            // command that did commit is not run into again.
            let kinds: [() throws -> Attempt?] = [
                {
                    Attempt(kind: "lot create", person: op, arguments: ["lot", "create"] + origin + [
                        "--stage", "drug_product", "--use", "allogeneic", "--expires", DonorLotCommandTests.day(365), "--json"],
                            signed: false) { db, run in
                        let din = try #require(try run.json()["din"] as? String, "\(run)")
                        return try Self.count(db, "SELECT count(*) AS n FROM gmp.lot WHERE din = \(din)") == 1
                    }
                },
                {
                    for lot in stepLots {
                        let done = try Self.count(db, "SELECT count(*) AS n FROM gmp.manufacturing_step WHERE din = \(lot.din)")
                        guard done < steps.count else { continue }
                        let (kind, extra) = steps[Int(done)]
                        return Attempt(kind: "lot step", person: op, arguments: ["lot", "step", lot.keyed, kind] + extra + ["--json"],
                                       signed: false) { db, _ in
                            try Self.count(db, "SELECT count(*) AS n FROM gmp.manufacturing_step WHERE din = \(lot.din) AND kind = \(kind)") == 1
                        }
                    }
                    return nil
                },
                {
                    serial += 1
                    let test = DonorLotCommandTests.livingDonorPanel[serial % DonorLotCommandTests.livingDonorPanel.count]
                    let kit = "Crash kit \(serial)"
                    return Attempt(kind: "donor screen", person: site.qc, arguments: [
                        "donor", "screen", screened, test, "nonreactive", "--kit", kit, "--specimen-on", DonorLotCommandTests.collectionDay],
                                   signed: false) { db, _ in
                        try Self.count(db, "SELECT count(*) AS n FROM gmp.screening_result WHERE test_kit = \(kit)") == 1
                    }
                },
                {
                    for lot in qcLots {
                        for value in QCReleaseCommandTests.passing {
                            let taken = try Self.count(db, "SELECT count(*) AS n FROM gmp.qc_result WHERE din = \(lot.din) AND test = \(value.test)")
                            guard taken == 0 else { continue }
                            serial += 1
                            let method = "SOP-crash-\(serial)"
                            return Attempt(kind: "qc record", person: site.qc, arguments: [
                                "qc", "record", lot.keyed, value.test, value.value, "--method", method, "--json"]
                                + (value.unit.map { ["--unit", $0] } ?? []), signed: false) { db, _ in
                                try Self.count(db, "SELECT count(*) AS n FROM gmp.qc_result WHERE method = \(method)") == 1
                            }
                        }
                    }
                    return nil
                },
                {
                    let open = try db.query("""
                        SELECT min(r.id) AS id FROM gmp.qc_result r
                        WHERE NOT EXISTS (SELECT FROM gmp.qc_verification v WHERE v.result_id = r.id)
                        """)[0].decode("id", as: Int64?.self)
                    guard let id = open else { return nil }
                    return Attempt(kind: "qc verify", person: qs.qc2, arguments: ["qc", "verify", String(id), "--json"],
                                   signed: true) { db, _ in
                        try Self.count(db, """
                            SELECT count(*) AS n FROM gmp.qc_verification v JOIN gmp.signature g
                              ON g.record_table = 'gmp.qc_result' AND g.record_key = v.result_id::text AND g.meaning = 'reviewed'
                            WHERE v.result_id = \(id)
                            """) == 1
                    }
                },
                {
                    let free = try db.query("""
                        SELECT u.id, (SELECT min(p) FROM generate_series(0, 80) p
                                      WHERE NOT EXISTS (SELECT FROM gmp.unit o WHERE o.box_id = \(box)
                                                        AND o.box_row = p / 9 + 1 AND o.box_column = p % 9 + 1)) AS p
                        FROM gmp.unit u WHERE u.din = \(filled.din) AND u.box_id IS NULL ORDER BY u.id LIMIT 1
                        """)
                    guard let row = free.first, let p = try row.decode("p", as: Int32?.self) else { return nil }
                    let unit: String = try row.decode("id")
                    let position = "\(Character(UnicodeScalar(UInt8(65 + p / 9))))\(p % 9 + 1)"
                    return Attempt(kind: "unit place", person: op, arguments: ["unit", "place", unit, "--box", box,
                                                                               "--position", position, "--json"],
                                   signed: false) { db, _ in
                        try Self.count(db, """
                            SELECT count(*) AS n FROM gmp.unit u JOIN gmp.custody_event e
                              ON e.unit_id = u.id AND e.action = 'placed' AND e.box_id = u.box_id
                            WHERE u.id = \(unit) AND u.box_id = \(box) AND u.box_row = \(p / 9 + 1) AND u.box_column = \(p % 9 + 1)
                            """) == 1
                    }
                },
                {
                    serial += 1
                    let title = "Crash deviation \(serial)"
                    return Attempt(kind: "deviation open", person: op, arguments: [
                        "deviation", "open", "--lot", stepLots[0].keyed, "--title", title, "--json"], signed: false) { db, _ in
                        try Self.count(db, "SELECT count(*) AS n FROM gmp.deviation WHERE title = \(title)") == 1
                    }
                },
                {
                    let open = try db.query("""
                        SELECT min(id) AS id FROM gmp.deviation WHERE status = 'open' AND title LIKE 'Crash deviation %'
                        """)[0].decode("id", as: String?.self)
                    guard let id = open else { return nil }
                    return Attempt(kind: "deviation close", person: site.qa, arguments: [
                        "deviation", "close", id, "--outcome", "no impact: crash test", "--json"], signed: true) { db, _ in
                        try Self.count(db, """
                            SELECT count(*) AS n FROM gmp.deviation d JOIN gmp.signature g
                              ON g.record_table = 'gmp.deviation' AND g.record_key = d.id
                            WHERE d.id = \(id) AND d.status = 'closed'
                            """) == 1
                    }
                },
                {
                    Attempt(kind: "donor register", person: op, arguments: [
                        "donor", "register", "--use", "allogeneic", "--name", "Crash Register Example", "--json"], signed: false) { db, run in
                        let donor = try #require(try run.json()["donor"] as? String, "\(run)")
                        return try Self.count(db, "SELECT count(*) AS n FROM gmp.donor WHERE code = \(donor)") == 1
                    }
                },
                {
                    serial += 1
                    let supplierLot = "CRASH-\(serial)"
                    return Attempt(kind: "material receive", person: op, arguments: [
                        "material", "receive", "CRASH-MEM", "--supplier", "Gibco", "--manufacturer", "Gibco", "--supplier-lot", supplierLot,
                        "--quantity", "500", "--unit", "mL", "--expires", DonorLotCommandTests.day(100), "--condition", "intact, 4 C",
                        "--certificate", certificate, "--json"], signed: false) { db, _ in
                        try Self.count(db, "SELECT count(*) AS n FROM gmp.material_lot WHERE supplier_lot = \(supplierLot)") == 1
                    }
                },
                {
                    serial += 1
                    let id = "CRASH-EQ-\(serial)"
                    return Attempt(kind: "equipment register", person: op, arguments: [
                        "equipment", "register", id, "--kind", "biosafety_cabinet", "--name", "Class II cabinet",
                        "--calibration-interval", "30", "--json"], signed: false) { db, _ in
                        try Self.count(db, "SELECT count(*) AS n FROM gmp.equipment WHERE id = \(id)") == 1
                    }
                },
                {
                    for lot in decisionLots where try Self.count(db, "SELECT count(*) AS n FROM gmp.lot_specification WHERE din = \(lot.din)") == 0 {
                        return Attempt(kind: "spec assign", person: site.qc, arguments: [
                            "spec", "assign", lot.keyed, "E2E-DP", "--max-dose", "0.4", "--json"], signed: true) { db, _ in
                            try Self.count(db, """
                                SELECT count(*) AS n FROM gmp.lot_specification s JOIN gmp.signature g
                                  ON g.record_table = 'gmp.lot_specification' AND g.record_key = s.din
                                WHERE s.din = \(lot.din)
                                """) == 1
                        }
                    }
                    return nil
                },
                {
                    for lot in decisionLots where try Self.count(db, """
                        SELECT count(*) AS n FROM gmp.lot_specification s WHERE s.din = \(lot.din)
                        AND NOT EXISTS (SELECT FROM gmp.disposition d WHERE d.din = s.din)
                        """) == 1 {
                        return Attempt(kind: "release reject", person: site.qa, arguments: [
                            "release", "reject", lot.keyed, "--reason", "crash test: rejected", "--json"], signed: true) { db, _ in
                            try Self.count(db, """
                                SELECT count(*) AS n FROM gmp.disposition d JOIN gmp.signature g
                                  ON g.record_table = 'gmp.disposition' AND g.record_key = d.id::text
                                WHERE d.din = \(lot.din) AND d.decision = 'rejected'
                                """) == 1
                        }
                    }
                    return nil
                },
            ]

            // Kill each command after a random delay up to twice that kind's average run, so
            // that the kills land anywhere from start-up to exit. Until a kind has finished once,
            // its guess grows with every kill: on a loaded machine the first guess is too short and
            // would kill every run. The loop runs its budget, and longer (up to a cap) until
            // enough commands were both killed and completed to mean something.
            var durations: [String: (total: TimeInterval, runs: Int)] = [:]
            var guesses: [String: TimeInterval] = [:]
            var killed: [String: Int] = [:], completed: [String: Int] = [:]
            var missing: [String] = [], unexpected: [String] = []
            let deadline = Date().addingTimeInterval(Self.killBudget)
            let cap = Date().addingTimeInterval(Self.killBudget * 6)
            let signedKinds: Set = ["qc verify", "deviation close", "spec assign", "release reject"]
            func enough() -> Bool {
                killed.values.reduce(0, +) >= 20 && completed.values.reduce(0, +) >= 20 && Set(killed.keys).count >= 10
                    && signedKinds.isSubset(of: killed.keys)
            }
            var round = 0
            while Date() < deadline || (!enough() && Date() < cap) {
                round += 1
                guard let attempt = try kinds[round % kinds.count]() else { continue }
                let average = durations[attempt.kind].map { $0.total / Double($0.runs) }
                    ?? guesses[attempt.kind, default: 0.3]
                // A kind not killed yet is killed within its average run, so that a kind whose
                // records run out (a signed assignment completes once per lot) is still killed.
                let spread = killed[attempt.kind] == nil ? average : average * 2
                let started = Date()
                let run = try site.gmp(attempt.person, attempt.arguments + (attempt.signed ? ["--password-stdin"] : []),
                                       stdin: attempt.signed ? attempt.person.password + "\n" : nil,
                                       killAfter: Double.random(in: 0...spread))
                if run.killed {
                    killed[attempt.kind, default: 0] += 1
                    if durations[attempt.kind] == nil { guesses[attempt.kind] = min(average * 1.5, 20) }
                    continue
                }
                durations[attempt.kind, default: (0, 0)].total += Date().timeIntervalSince(started)
                durations[attempt.kind, default: (0, 0)].runs += 1
                completed[attempt.kind, default: 0] += 1
                if run.status == 0 {
                    if try !attempt.recorded(db, run) { missing.append("\(attempt.kind) \(attempt.arguments): \(run)") }
                } else {
                    unexpected.append("\(attempt.kind) \(attempt.arguments): \(run)")
                }
            }
            #expect(missing.isEmpty, "exited 0 without its record:\n\(missing.joined(separator: "\n"))")
            #expect(unexpected.isEmpty, "a command not killed failed:\n\(unexpected.joined(separator: "\n"))")
            #expect(killed.values.reduce(0, +) >= 20 && completed.values.reduce(0, +) >= 20,
                    "the kills landed both before and after the commands finished: killed \(killed), completed \(completed)")
            #expect(Set(killed.keys).count >= 10, "most kinds were killed at least once: \(killed)")
            #expect(signedKinds.isSubset(of: killed.keys), "every signed kind was killed at least once: \(killed)")
            #expect(completed["release reject", default: 0] + completed["spec assign", default: 0] > 0,
                    "signed dispositions and assignments also completed: \(completed)")

            try Self.expectWhole(site)
        }
    }

    @Test("a connection lost after the command committed (unit place reads the place back): exit 69, the record said to be kept, never 'nothing was committed'")
    func connectionLostAfterCommit() throws {
        try StorageCommandTests.withStoredLot { site, lot in
            let unit = "\(lot.din)-001"
            // The chaining that follows a write commit when it is due (here after every
            // commit: gmp.audit_chain_events = 1 for the database) waits for the chain
            // head's table: the command has committed and not yet read the unit's place
            // back when its session is ended.
            try TestServer.connect(site.database).execute("""
                DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET gmp.audit_chain_events = 1', current_database()); END $$
                """)
            let holder = try TestServer.connect(site.database)
            try holder.execute("BEGIN")
            try holder.execute("LOCK TABLE gmp_audit.chain_head IN ACCESS EXCLUSIVE MODE")
            let result = Locked<GMPRun?>(nil)
            let done = DispatchSemaphore(value: 0)
            DispatchQueue.global().async {
                let run = try? site.gmp(site.operatorAccount, ["unit", "place", unit, "--box", StorageCommandTests.box,
                                                               "--position", "A1"], killAfter: 60)
                result.mutate { $0 = run }
                done.signal()
            }
            let watcher = try TestServer.connect(site.database)
            var terminated = false
            for _ in 0..<600 where !terminated {
                let waiting = try watcher.query("""
                    SELECT pid FROM pg_stat_activity
                    WHERE datname = current_database() AND application_name = 'gmp unit place' AND wait_event_type = 'Lock'
                    """)
                if let row = waiting.first {
                    let pid: Int32 = try row.decode("pid")
                    _ = try watcher.query("SELECT pg_terminate_backend(\(pid)) AS ended")
                    terminated = true
                } else {
                    usleep(50_000)
                }
            }
            try holder.execute("ROLLBACK")
            done.wait()
            #expect(terminated, "the command's session was seen waiting after its commit")
            let run = try #require(result.value)
            expectOneLineError(run, exit: 69, mentioning: ["committed (transaction", "its record is kept", "gmp db transaction"])
            #expect(!run.stderr.contains("nothing was committed"), "\(run)")
            let placed = try Self.count(watcher, """
                SELECT count(*) AS n FROM gmp.unit WHERE id = \(unit) AND box_id = \(StorageCommandTests.box) AND box_row = 1 AND box_column = 1
                """)
            #expect(placed == 1, "the placement was kept")
            // The lookup the error names (its receipt's token) says it committed.
            let token = try #require(run.stderr.firstMatch(of: /'gmp db transaction (\d+:[0-9a-f-]{36})'/)?.1, "\(run)")
            let asked = try site.gmp(site.qa, ["db", "transaction", String(token), "--json"])
            #expect(try asked.json()["status"] as? String == "committed", "\(asked)")
            #expect(try asked.json()["exact"] as? Bool == true, "\(asked)")
            try Self.expectWhole(site)
        }
    }

    @Test("the server stopped immediately under concurrent writers and restarted: exit 0 means recorded; a lost connection tells the truth; the outage answers 69 at once")
    func serverStoppedImmediately() throws {
        let root = try PrivateCluster.makeRoot()
        let cluster = try PrivateCluster.migrated(in: root, name: "crash")
        defer { PrivateCluster.removeRoot(root, clusters: [cluster]) }
        let site = try Self.site(on: cluster)
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: site.configPath).deletingLastPathComponent().path) }
        let writers = 8
        let donors = try (0..<writers).map { _ in
            try #require(try site.gmp(site.operatorAccount, ["donor", "register", "--use", "allogeneic", "--name", "Crash Example",
                                                             "--json"], killAfter: 60).json()["donor"] as? String)
        }
        let panel = DonorLotCommandTests.livingDonorPanel
        @Sendable func screen(_ donor: String, _ test: String, kit: String) throws -> GMPRun {
            // A hang is killed after a minute, and fails the test below.
            try site.gmp(site.qc, ["donor", "screen", donor, test, "nonreactive", "--kit", kit,
                                   "--specimen-on", DonorLotCommandTests.collectionDay], killAfter: 60)
        }
        let runs = Locked<[(kit: String, run: GMPRun)]>([])
        let stop = Locked(false)
        let group = DispatchGroup()
        for writer in 0..<writers {
            DispatchQueue.global().async(group: group) {
                var round = 0
                while !stop.value {
                    round += 1
                    let kit = "Crash kit w\(writer) r\(round)"
                    guard let run = try? screen(donors[writer], panel[round % panel.count], kit: kit) else { continue }
                    runs.mutate { $0.append((kit, run)) }
                    if run.status != 0 { usleep(100_000) }
                }
            }
        }
        Thread.sleep(forTimeInterval: 2)
        try cluster.stopImmediately()
        // During the outage: the documented exit code and a clear message, at once.
        let outage = try screen(donors[0], "hbsag", kit: "Crash kit during the outage")
        #expect(!outage.killed, "a command hung while the server was down: \(outage)")
        expectOneLineError(outage, exit: 69, mentioning: ["cannot reach the database server", "make sure the server is running"])
        Thread.sleep(forTimeInterval: 1)
        try cluster.start()
        Thread.sleep(forTimeInterval: 2)
        stop.mutate { $0 = true }
        group.wait()

        let db = try cluster.connect()
        var statuses: [Int32: Int] = [:]
        var unknown = 0
        for (kit, run) in runs.value {
            statuses[run.status, default: 0] += 1
            #expect(!run.killed, "a writer hung: \(run)")
            let present = try Self.count(db, "SELECT count(*) AS n FROM gmp.screening_result WHERE test_kit = \(kit)")
            switch run.status {
            case 0:
                #expect(present == 1, "exited 0 without its record: \(run)")
            case 69 where run.stderr.contains("whether it was recorded is unknown"):
                unknown += 1
                // The receipt answers, and agrees with the record's presence even when the
                // restarted server handed the transaction's id to another (issue 19).
                let token = try #require(run.stderr.firstMatch(of: /'gmp db transaction (\d+:[0-9a-f-]{36})'/)?.1, "\(run)")
                let asked = try site.gmp(site.qc, ["db", "transaction", String(token), "--json"], killAfter: 60)
                #expect(try asked.json()["status"] as? String == (present == 1 ? "committed" : "aborted"), "\(asked)\n\(run)")
                #expect(try asked.json()["exact"] as? Bool == true, "\(asked)")
            case 69 where run.stderr.contains("its record is kept"):
                #expect(present == 1, "said its record is kept: \(run)")
            case 69:
                #expect(present == 0, "said nothing was committed, or never reached the server, yet recorded: \(run)")
                expectOneLineError(run, exit: 69, allowingShutdownWarning: true)
            default:
                Issue.record("neither success nor the documented 69: \(run)")
            }
        }
        #expect((statuses[0] ?? 0) > writers && (statuses[69] ?? 0) > 0,
                "writers succeeded before and after the crash and met the outage: \(statuses), \(unknown) unknown at COMMIT")
        try Self.expectWhole(site)
    }

    /// A site on a private cluster: the accounts, the facility applied, a configuration file.
    static func site(on cluster: PrivateCluster) throws -> Site {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gmp-crash-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let configPath = "\(directory)/gmp.yaml"
        try "facility:\n  isbt128_facility: G1234\n  max_passage: 3\n  max_population_doublings: 12\n"
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let database = cluster.connectionString()
        let site = Site(database: database, configPath: configPath,
                        operatorAccount: try TestAccount.create(in: database, roles: ["operator"]),
                        qc: try TestAccount.create(in: database, roles: ["qc"]),
                        director: try TestAccount.create(in: database, roles: ["director"]),
                        qa: try TestAccount.create(in: database, roles: ["qa"]),
                        admin: try TestAccount.create(in: database, roles: ["admin"]))
        try site.expectSuccess { try site.gmp(site.admin, ["facility", "apply", "--reason", "crash test set-up"], killAfter: 60) }
        return site
    }

    /// Nothing partial: a unit has its custody events and is where its last one says; a
    /// fill made exactly its units; a closed deviation and a verified result have their
    /// signatures and no signature lacks its record; the trail verifies, tables reconciled.
    static func expectWhole(_ site: Site, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let db = try TestServer.connect(site.database)
        let checks: [(String, SQLQuery)] = [
            ("units without a custody event", """
                SELECT count(*) AS n FROM gmp.unit u WHERE NOT EXISTS (SELECT FROM gmp.custody_event e WHERE e.unit_id = u.id)
                """),
            ("units not where their last custody event puts them", """
                SELECT count(*) AS n FROM gmp.unit u
                WHERE (u.box_id, u.box_row, u.box_column) IS DISTINCT FROM
                      (SELECT (e.box_id, e.box_row, e.box_column) FROM gmp.custody_event e
                       WHERE e.unit_id = u.id ORDER BY e.id DESC LIMIT 1)
                """),
            ("fills whose units are not all there", """
                SELECT count(*) AS n FROM gmp.manufacturing_step s
                WHERE s.kind = 'fill' AND s.units <> (SELECT count(*) FROM gmp.unit u WHERE u.din = s.din)
                """),
            ("closed deviations without their signature", """
                SELECT count(*) AS n FROM gmp.deviation d WHERE d.status = 'closed' AND NOT EXISTS
                  (SELECT FROM gmp.signature g WHERE g.record_table = 'gmp.deviation' AND g.record_key = d.id)
                """),
            ("signatures of deviations still open", """
                SELECT count(*) AS n FROM gmp.signature g JOIN gmp.deviation d ON g.record_table = 'gmp.deviation' AND g.record_key = d.id
                WHERE d.status <> 'closed'
                """),
            ("verified results without their signature", """
                SELECT count(*) AS n FROM gmp.qc_verification v WHERE NOT EXISTS
                  (SELECT FROM gmp.signature g WHERE g.record_table = 'gmp.qc_result' AND g.record_key = v.result_id::text
                   AND g.meaning = 'reviewed')
                """),
            ("review signatures without their verification", """
                SELECT count(*) AS n FROM gmp.signature g WHERE g.record_table = 'gmp.qc_result' AND g.meaning = 'reviewed'
                AND NOT EXISTS (SELECT FROM gmp.qc_verification v WHERE v.result_id::text = g.record_key)
                """),
            ("dispositions without their signature", """
                SELECT count(*) AS n FROM gmp.disposition d WHERE NOT EXISTS
                  (SELECT FROM gmp.signature g WHERE g.record_table = 'gmp.disposition' AND g.record_key = d.id::text)
                """),
            ("lots released or rejected without their disposition", """
                SELECT count(*) AS n FROM gmp.lot l WHERE l.status IN ('released', 'rejected', 'exceptionally_released')
                AND NOT EXISTS (SELECT FROM gmp.disposition d WHERE d.din = l.din AND d.decision = l.status)
                """),
            ("maximum doses without their signature", """
                SELECT count(*) AS n FROM gmp.lot_specification s WHERE s.max_dose_ml_per_kg_h IS NOT NULL AND NOT EXISTS
                  (SELECT FROM gmp.signature g WHERE g.record_table = 'gmp.lot_specification' AND g.record_key = s.din)
                """),
        ]
        for (name, query) in checks {
            #expect(try Self.count(db, query) == 0, "\(name)", sourceLocation: sourceLocation)
        }
        let verify = try site.gmp(site.qa, ["audit", "verify", "--json"], killAfter: 120)
        #expect(verify.status == 0, "\(verify)", sourceLocation: sourceLocation)
        #expect(try verify.json()["intact"] as? Bool == true, "\(verify)", sourceLocation: sourceLocation)
    }
}
