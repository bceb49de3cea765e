import Foundation
import GMPRecords
import GMPRules
import PostgresClient
import Testing
import TestSupport

/// The rules of V0017 (readings, excursions and release), tried through gmp's own
/// functions and as psql users and a superuser would meet them.
@Suite("Temperature readings and excursions: rules held by the database")
struct ReadingsAndExcursionsTests {
    typealias Rules = DonorAndLotRulesTests

    /// A QC-and-release site with two tanks (limit -150 °C), a box in each, and a lot
    /// whose unit 001 is stored in tank A and unit 002 in tank B.
    final class Storage {
        let qc: QCReleaseSite
        let tankA: String, tankB: String
        let lot: String
        let placedMinute: Timestamp
        var unitInA: String { lot + "-001" }
        var unitInB: String { lot + "-002" }
        var site: DonorAndLotRulesTests.Site { qc.site }

        static func with(_ body: (Storage) throws -> Void) throws {
            try QCReleaseSite.with { qc in try body(try Storage(qc)) }
        }

        private init(_ qc: QCReleaseSite) throws {
            self.qc = qc
            let op = qc.site.operatorSession
            try op.execute("SELECT gmp.add_location('SITE-T', 'site', NULL, 'Test site', NULL, NULL, NULL, NULL)")
            for tank in ["LN2-A", "LN2-B"] {
                try op.execute("SELECT gmp.add_location(\(tank), 'tank', 'SITE-T', 'Tank', -150, '{cells}', NULL, NULL)")
                try op.execute("SELECT gmp.add_location(\(tank + "-BOX"), 'box', \(tank), 'Box', NULL, NULL, 9, 9)")
            }
            tankA = "LN2-A"
            tankB = "LN2-B"
            lot = try qc.lot()
            for kind in ["isolation", "passage", "harvest", "formulation", "fill", "cryopreservation"] {
                try qc.site.step(lot, kind)
            }
            try op.execute("SELECT gmp.place_unit(\(lot + "-001"), 'LN2-A-BOX', 1, 1, 'stored')")
            try op.execute("SELECT gmp.place_unit(\(lot + "-002"), 'LN2-B-BOX', 1, 1, 'stored')")
            placedMinute = try qc.site.superuser.query("SELECT date_trunc('minute', clock_timestamp()) AS t")[0].decode("t")
        }

        /// ISO 8601 time of reading `step`: `step` ten-second steps after the minute that
        /// follows the one the units were placed in (readings after placing; one clock
        /// reading, so a test never straddles a minute). Steps up to 12 stay within the
        /// few minutes ahead of the server's clock that a reading may be.
        func time(_ step: Int) -> String { instant(step).iso8601 }

        func instant(_ step: Int) -> Timestamp {
            Timestamp(microsecondsSinceEpoch: placedMinute.microsecondsSinceEpoch + 60_000_000 + Int64(step) * 10_000_000)
        }

        /// Loads `readings` (device, step, celsius) as `session` through gmp's import.
        @discardableResult
        func load(_ readings: [(String, Int, String)], as session: PostgresConnection? = nil) throws
            -> [TemperatureReadings.Imported] {
            var text = "device,read_at,celsius\n"
            for (device, minutes, celsius) in readings { text += "\(device),\(time(minutes)),\(celsius)\n" }
            let file = try TemperatureReadingsFile(bytes: Array(text.utf8), knownDevices: nil)
            return try (session ?? site.operatorSession).transaction(.readCommitted) { db in
                try TemperatureReadings(db).load(file)
            }
        }

        func count(_ sql: StaticString) throws -> Int64 {
            try site.superuser.query(SQLQuery(stringLiteral: sql))[0].decode("n")
        }

        func excursions() throws -> [Excursions.Row] {
            try Excursions(site.superuser).list(openOnly: false, device: nil)
        }

        /// QA voids readings import `id`, signed; returns the signature.
        @discardableResult
        func void(_ id: Int64, reason: String = "logger clock set to 2099: readings unusable",
                  by account: TestAccount? = nil, session: PostgresConnection? = nil) throws -> Int64 {
            let who = account ?? site.qa
            return try SignatureCeremony(session ?? site.qaSession).sign(password: who.password) { db, challenge in
                try TemperatureReadings.void(on: db, challenge: challenge, importID: id, reason: reason)
            }
        }

        func assess(_ id: String, by account: TestAccount? = nil, session: PostgresConnection? = nil) throws {
            let who = account ?? site.qa
            try SignatureCeremony(session ?? site.qaSession).sign(password: who.password) { db, challenge in
                _ = try Excursions.assess(on: db, challenge: challenge, excursion: id,
                                          assessment: "peak -120 °C for 2 min; units stayed below -130 °C: no impact")
            }
        }
    }

    @Test("an over-limit reading opens an excursion listing the unit in that device then, not the unit elsewhere")
    func excursionListsUnits() throws {
        try Storage.with { s in
            let imported = try s.load([("LN2-A", 1, "-190"), ("LN2-A", 2, "-120"), ("LN2-A", 3, "-140.5"),
                                       ("LN2-A", 4, "-185"), ("LN2-B", 1, "-190")])
            #expect(imported.map(\.rows) == [4, 1])
            let opened = imported[0].excursionsOpened
            #expect(opened.count == 1 && imported[1].excursionsOpened.isEmpty)
            let x = try #require(try s.excursions().first)
            #expect(x.id == opened.first && x.device == "LN2-A" && x.status == "open")
            let (two, four) = (s.instant(2), s.instant(4))
            #expect(x.startedAt == two && x.endedAt == four)
            #expect(x.peakCelsius == "-120.00" && x.limitCelsius == "-150.00")
            #expect(x.units.map(\.unit) == [s.unitInA])
            let affected: [String] = try s.site.superuser.query("""
                SELECT u FROM unnest(gmp_rules.open_excursions_of_unit(\(s.unitInB))) u
                UNION ALL SELECT u FROM unnest(gmp_rules.open_excursions_of_unit(\(s.unitInA))) u
                """).map { try $0.decode("u") }
            #expect(affected == [x.id])
        }
    }

    @Test("a run of out-of-limit readings is one excursion; a later import extends an ongoing one and ends it")
    func runsAndExtension() throws {
        try Storage.with { s in
            try s.load([("LN2-A", 1, "-190"), ("LN2-A", 2, "-140"), ("LN2-A", 3, "-130")])
            var rows = try s.excursions()
            #expect(rows.count == 1 && rows[0].endedAt == nil && rows[0].peakCelsius == "-130.00")
            try s.load([("LN2-A", 4, "-110"), ("LN2-A", 5, "-190"), ("LN2-A", 6, "-149"), ("LN2-A", 7, "-190")])
            rows = try s.excursions()
            #expect(rows.count == 2, "\(rows)")
            let first = try #require(rows.last), second = try #require(rows.first)
            let (five, six) = (s.instant(5), s.instant(6))
            #expect(first.peakCelsius == "-110.00" && first.endedAt == five)
            #expect(second.startedAt == six && second.endedAt != nil)
            // -150.00 is within a limit of -150: no excursion.
            try s.load([("LN2-A", 8, "-150.00")])
            #expect(try s.excursions().count == 2)
        }
    }

    @Test("excursions come from the import's own readings: several runs in one file, an ongoing one extended by a whole file")
    func runsWithinOneImport() throws {
        try Storage.with { s in
            try s.load([("LN2-A", 1, "-190"), ("LN2-A", 2, "-120"), ("LN2-A", 3, "-130"), ("LN2-A", 4, "-190"),
                        ("LN2-A", 5, "-140"), ("LN2-A", 6, "-190"), ("LN2-A", 7, "-100")])
            var rows = try s.excursions().sorted { $0.startedAt.microsecondsSinceEpoch < $1.startedAt.microsecondsSinceEpoch }
            #expect(rows.map(\.startedAt) == [s.instant(2), s.instant(5), s.instant(7)], "\(rows)")
            #expect(rows.map(\.endedAt) == [s.instant(4), s.instant(6), nil])
            #expect(rows.map(\.peakCelsius) == ["-120.00", "-140.00", "-100.00"])
            // A file wholly out of limit extends the ongoing excursion and raises its peak.
            try s.load([("LN2-A", 8, "-90"), ("LN2-A", 9, "-95")])
            rows = try s.excursions().sorted { $0.startedAt.microsecondsSinceEpoch < $1.startedAt.microsecondsSinceEpoch }
            #expect(rows.count == 3 && rows[2].endedAt == nil && rows[2].peakCelsius == "-90.00", "\(rows)")
            // The next file ends it at its first reading back within the limit, then opens another.
            try s.load([("LN2-A", 10, "-80"), ("LN2-A", 11, "-190"), ("LN2-A", 12, "-120")])
            rows = try s.excursions().sorted { $0.startedAt.microsecondsSinceEpoch < $1.startedAt.microsecondsSinceEpoch }
            #expect(rows.count == 4, "\(rows)")
            #expect(rows[2].endedAt == s.instant(11) && rows[2].peakCelsius == "-80.00")
            #expect(rows[3].startedAt == s.instant(12) && rows[3].endedAt == nil)
        }
    }

    @Test("a release is refused while an excursion affecting a unit of the lot is open; allowed once QA assessed it")
    func releaseBlocked() throws {
        try Storage.with { s in
            try s.qc.passAll(s.lot)
            try s.load([("LN2-A", 1, "-120")])
            let id = try #require(try s.excursions().first?.id)
            #expect(try s.qc.blockers(s.lot).contains { $0.hasPrefix("temperature excursion \(id) of LN2-A is open") })
            Rules.expectSQLState("GM006", "release with an open excursion") { try s.qc.release(s.lot) }
            Rules.expectSQLState("GM003", "assessing an ongoing excursion") { try s.assess(id) }
            try s.load([("LN2-A", 2, "-190")])
            try s.assess(id)
            #expect(try s.qc.blockers(s.lot).isEmpty)
            try s.qc.release(s.lot)
            #expect(try s.site.status(s.lot) == "released")
        }
    }

    @Test("only QA assesses; an assessed excursion never changes, whoever asks")
    func assessment() throws {
        try Storage.with { s in
            try s.load([("LN2-A", 1, "-120"), ("LN2-A", 2, "-190")])
            let id = try #require(try s.excursions().first?.id)
            for (account, session) in [(s.site.operatorAccount, s.site.operatorSession), (s.site.qc, s.site.qcSession),
                                       (s.site.director, s.site.directorSession)] {
                Rules.expectSQLState("42501", "\(account.id) assessing") { try s.assess(id, by: account, session: session) }
            }
            #expect(try s.excursions().first?.status == "open")
            try s.assess(id)
            let closed = try #require(try s.excursions().first)
            #expect(closed.status == "closed" && closed.assessedBy == s.site.qa.id)
            let intact: Bool = try s.site.superuser.query("""
                SELECT intact FROM gmp.signature_status WHERE record_table = 'gmp.excursion' AND record_key = \(id)
                AND meaning = 'approved'
                """)[0].decode("intact")
            #expect(intact)
            Rules.expectSQLState("GM004", "assessing twice") { try s.assess(id) }
            for statement in ["UPDATE gmp.excursion SET assessment = 'rewritten'", "UPDATE gmp.excursion SET peak_celsius = -100",
                              "DELETE FROM gmp.excursion"] {
                Rules.expectSQLState("GM004", "superuser: \(statement)") {
                    try s.site.superuser.transaction { db in
                        try db.execute("SELECT set_config('gmp.reason', 'tampering test', true)")
                        try db.execute(script: SQLScript(shippedWithBinary: statement))
                    }
                }
            }
            Rules.expectSQLState("42501", "superuser: TRUNCATE gmp.excursion") {
                try s.site.superuser.execute(script: SQLScript(shippedWithBinary: "TRUNCATE gmp.excursion CASCADE"))
            }
            #expect(try s.excursions().first == closed)
        }
    }

    /// Runs `body`, expects the database to refuse it with P0001, and returns its message and hint.
    static func refusal(_ what: String, _ sqlState: String, sourceLocation: SourceLocation = #_sourceLocation,
                        _ body: () throws -> Void) -> (message: String, hint: String) {
        do {
            try body()
            Issue.record("\(what): accepted", sourceLocation: sourceLocation)
        } catch let error as PostgresError {
            #expect(error.sqlState == sqlState, "\(what): \(error)", sourceLocation: sourceLocation)
            return (error.message, error.hint ?? "")
        } catch {
            Issue.record("\(what): \(error)", sourceLocation: sourceLocation)
        }
        return ("", "")
    }

    @Test("an import overlapping, or before, an earlier import of its device is refused whole, naming it; nothing is loaded")
    func overlappingImport() throws {
        try Storage.with { s in
            let first = try s.load([("LN2-A", 1, "-190"), ("LN2-A", 2, "-190"), ("LN2-B", 5, "-190")])
            let before = try s.count("SELECT count(*) AS n FROM gmp.temperature_reading")
            let events = try Rules.eventCount(s.site.superuser)
            let a = first[0].importId
            let overlap = Self.refusal("an import overlapping the last one", "GM003") {
                try s.load([("LN2-A", 2, "-185"), ("LN2-A", 3, "-120")])
            }
            #expect(overlap.message.contains("overlap readings import \(a)"), "\(overlap)")
            #expect(overlap.hint.hasPrefix("import only the readings after "), "\(overlap)")
            // Another device's file in the same load does not get in either.
            _ = Self.refusal("an import lying wholly before the last one", "GM003") {
                try s.load([("LN2-B", 10, "-190"), ("LN2-A", 0, "-190")])
            }
            #expect(try s.count("SELECT count(*) AS n FROM gmp.temperature_reading") == before)
            #expect(try s.count("SELECT count(*) AS n FROM gmp.reading_import") == 2)
            #expect(try s.count("SELECT count(*) AS n FROM gmp.excursion") == 0)
            #expect(try Rules.eventCount(s.site.superuser) == events)
        }
    }

    @Test("an import starting right after the device's last reading is accepted; one at that reading is not")
    func importRightAfter() throws {
        try Storage.with { s in
            try s.load([("LN2-A", 1, "-190"), ("LN2-A", 2, "-190")])
            _ = Self.refusal("an import starting at the last reading", "GM003") { try s.load([("LN2-A", 2, "-190")]) }
            let next = try s.load([("LN2-A", 3, "-190"), ("LN2-A", 4, "-190")])
            #expect(next.map(\.rows) == [2])
            #expect(try s.count("SELECT count(*) AS n FROM gmp.temperature_reading") == 4)
            #expect(try s.count("""
                SELECT count(*) AS n FROM (SELECT device_id, read_at FROM gmp.temperature_reading
                                           GROUP BY 1, 2 HAVING count(*) > 1) d
                """) == 0)
        }
    }

    @Test("a psql user cannot insert one reading twice: within a statement, or by a second statement of the import")
    func duplicateInsert() throws {
        try Storage.with { s in
            let op = s.site.operatorSession
            let t1 = s.time(1), t2 = s.time(2)
            func insert(declaring count: Int, _ statements: [[String]]) throws {
                try op.transaction(.readCommitted) { db in
                    let id: Int64 = try db.query("""
                        SELECT gmp.begin_readings_import('LN2-A', repeat('a', 64), \(Int64(count)),
                                                         \(t1)::timestamptz, \(t2)::timestamptz) AS id
                        """)[0].decode("id")
                    for times in statements {
                        let values = times.map { "(\(id), 'LN2-A', '\($0)'::timestamptz, -190)" }.joined(separator: ", ")
                        try db.execute(script: SQLScript(shippedWithBinary: """
                            INSERT INTO gmp.temperature_reading (import_id, device_id, read_at, celsius) VALUES \(values)
                            """))
                    }
                }
            }
            let twice = Self.refusal("one reading twice in one statement", "GM002") { try insert(declaring: 3, [[t1, t1, t2]]) }
            #expect(twice.message.contains("3 readings at 2 instants"), "\(twice)")
            let again = Self.refusal("the import's readings again", "GM004") { try insert(declaring: 2, [[t1, t2], [t1, t2]]) }
            #expect(again.message.contains("has its readings already"), "\(again)")
            #expect(try s.count("SELECT count(*) AS n FROM gmp.temperature_reading") == 0)
            try insert(declaring: 2, [[t1, t2]])
            #expect(try s.count("SELECT count(*) AS n FROM gmp.temperature_reading") == 2)
        }
    }

    @Test("a malformed row in the COPY loads nothing; no device, a rack or a stranger import is refused")
    func refusedLoads() throws {
        try Storage.with { s in
            let op = s.site.operatorSession
            let events = try Rules.eventCount(s.site.superuser)
            func copy(_ device: String, rows: [String], declare: (String, Int, String, String)?, importID: Int64? = nil) throws {
                try op.transaction(.readCommitted) { db in
                    var id = importID ?? 0
                    if let (device, count, first, last) = declare {
                        id = try db.query("""
                            SELECT gmp.begin_readings_import(\(device), repeat('a', 64), \(Int64(count)),
                                                             \(first)::timestamptz, \(last)::timestamptz) AS id
                            """)[0].decode("id")
                    }
                    _ = try db.copyIn("COPY gmp.temperature_reading (import_id, device_id, read_at, celsius) FROM STDIN") { w in
                        for row in rows { try w.write("\(id)\t\(row)\n") }
                    }
                }
            }
            let t1 = s.time(1), t2 = s.time(2)
            Rules.expectSQLState("22007", "a malformed time") {
                try copy("LN2-A", rows: ["LN2-A\t\(t1)\t-190", "LN2-A\tnot a time\t-190"], declare: ("LN2-A", 2, t1, t2))
            }
            Rules.expectSQLState("22P02", "a malformed value") {
                try copy("LN2-A", rows: ["LN2-A\t\(t1)\t-190", "LN2-A\t\(t2)\tNaN,1"], declare: ("LN2-A", 2, t1, t2))
            }
            Rules.expectSQLState("23514", "below absolute zero") {
                try copy("LN2-A", rows: ["LN2-A\t\(t1)\t-190", "LN2-A\t\(t2)\t-273.16"], declare: ("LN2-A", 2, t1, t2))
            }
            Rules.expectSQLState("GM001", "an unknown device") {
                try copy("LN2-Z", rows: ["LN2-Z\t\(t1)\t-190"], declare: ("LN2-Z", 1, t1, t1))
            }
            Rules.expectSQLState("GM002", "a box is no device") {
                try copy("LN2-A-BOX", rows: ["LN2-A-BOX\t\(t1)\t-190"], declare: ("LN2-A-BOX", 1, t1, t1))
            }
            Rules.expectSQLState("GM002", "readings of another device than declared") {
                try copy("LN2-B", rows: ["LN2-B\t\(t1)\t-190"], declare: ("LN2-A", 1, t1, t1))
            }
            Rules.expectSQLState("GM002", "fewer readings than declared") {
                try copy("LN2-A", rows: ["LN2-A\t\(t1)\t-190"], declare: ("LN2-A", 2, t1, t2))
            }
            Rules.expectSQLState("GM002", "readings without an import") {
                try copy("LN2-A", rows: ["LN2-A\t\(t1)\t-190"], declare: nil, importID: 999)
            }
            #expect(try s.count("SELECT count(*) AS n FROM gmp.temperature_reading") == 0)
            #expect(try s.count("SELECT count(*) AS n FROM gmp.reading_import") == 0)
            #expect(try Rules.eventCount(s.site.superuser) == events)
            // A committed import takes no more readings, even through COPY by its own importer.
            let imported = try s.load([("LN2-A", 1, "-190"), ("LN2-A", 3, "-190")])
            Rules.expectSQLState("GM004", "adding to a committed import") {
                try copy("LN2-A", rows: ["LN2-A\t\(t2)\t-190"], declare: nil, importID: imported[0].importId)
            }
            // A QA person has no INSERT on the readings at all.
            Rules.expectSQLState("42501", "QA copying readings") {
                _ = try s.site.qaSession.copyIn("COPY gmp.temperature_reading (import_id, device_id, read_at, celsius) FROM STDIN") { w in
                    try w.write("1\tLN2-A\t\(t2)\t-190\n")
                }
            }
            #expect(try s.count("SELECT count(*) AS n FROM gmp.temperature_reading") == 2)
        }
    }

    @Test("readings and imports are never updated or deleted, not even by a superuser")
    func appendOnly() throws {
        try Storage.with { s in
            try s.load([("LN2-A", 1, "-190")])
            for statement in ["UPDATE gmp.temperature_reading SET celsius = -195", "DELETE FROM gmp.temperature_reading",
                              "TRUNCATE gmp.temperature_reading", "UPDATE gmp.reading_import SET rows = 2",
                              "DELETE FROM gmp.reading_import"] {
                Rules.expectSQLState("42501", "superuser: \(statement)") {
                    try s.site.superuser.transaction { db in
                        try db.execute("SELECT set_config('gmp.reason', 'tampering test', true)")
                        try db.execute(script: SQLScript(shippedWithBinary: statement))
                    }
                }
            }
            #expect(try s.count("SELECT count(*) AS n FROM gmp.temperature_reading WHERE celsius = -190") == 1)
            // The import is in the audit trail with its readings' summary.
            #expect(try s.count("""
                SELECT count(*) AS n FROM gmp_audit.event WHERE action = 'INSERT'
                AND table_name IN ('gmp.reading_import', 'gmp.temperature_reading')
                """) == 2)
            let problems: [String] = try s.site.superuser.query("SELECT p FROM gmp_audit.machinery_problems() p")
                .map { try $0.decode("p") }
            #expect(problems.isEmpty, "\(problems)")
        }
    }

    /// Declares an import of `device` with readings at `times` (timestamptz text) and
    /// inserts them, as `session` in plain SQL; returns the import id.
    @discardableResult
    static func insert(_ device: String, at times: [String], celsius: String = "-190",
                       as session: PostgresConnection) throws -> Int64 {
        try session.transaction(.readCommitted) { db in
            let first = times.min() ?? "", last = times.max() ?? ""
            let id: Int64 = try db.query("""
                SELECT gmp.begin_readings_import(\(device), repeat('a', 64), \(Int64(times.count)),
                                                 \(first)::timestamptz, \(last)::timestamptz) AS id
                """)[0].decode("id")
            for time in times {
                try db.execute("""
                    INSERT INTO gmp.temperature_reading (import_id, device_id, read_at, celsius)
                    VALUES (\(id), \(device), \(time)::timestamptz, \(celsius)::numeric)
                    """)
            }
            return id
        }
    }

    @Test("a reading later than the server's clock plus 5 minutes is refused (GM002, naming it); one within loads; real readings still load")
    func futureReadingRefused() throws {
        try Storage.with { s in
            let op = s.site.operatorSession
            // The operator, in plain SQL, as a logger set to 2099 would have it.
            let refused = Self.refusal("a reading in 2099", "GM002") {
                _ = try Self.insert("LN2-A", at: ["2099-01-01T00:00:00Z"], celsius: "-100", as: op)
            }
            #expect(refused.message.contains("run to 2099-01-01") && refused.message.contains("cannot come from the future"),
                    "\(refused)")
            #expect(refused.hint.contains("logger's clock"), "\(refused)")
            // Several statements cannot sneak one in either: the import row itself is refused.
            #expect(try s.count("SELECT count(*) AS n FROM gmp.reading_import") == 0)
            // The tank still takes its real readings, and a warm one opens an excursion.
            let real = try s.load([("LN2-A", 1, "-190"), ("LN2-A", 2, "-120"), ("LN2-A", 3, "-190")])
            #expect(real[0].excursionsOpened.count == 1)
            // The tolerance: 5 minutes ahead of the server's clock, as the function says.
            let tolerance: Bool = try op.query("""
                SELECT gmp.readings_accepted_until() - clock_timestamp() BETWEEN interval '4 minutes 59 seconds'
                                                                              AND interval '5 minutes' AS ok
                """)[0].decode("ok")
            #expect(tolerance)
            let soon: String = try op.query("SELECT (clock_timestamp() + interval '6 minutes')::text AS t")[0].decode("t")
            _ = Self.refusal("a reading 6 minutes ahead", "GM002") { _ = try Self.insert("LN2-A", at: [soon], as: op) }
            let near: String = try op.query("SELECT (clock_timestamp() + interval '4 minutes')::text AS t")[0].decode("t")
            try Self.insert("LN2-A", at: [near], as: op)
            #expect(try s.count("SELECT count(*) AS n FROM gmp.reading_import") == 2)
        }
    }

    /// Puts a 2099 reading of LN2-A into the database as a gmp before issue 20 accepted
    /// it: the superuser widens the clock tolerance for the one import, then restores
    /// the function as shipped (both changes recorded in the audit trail).
    static func importFromTheFuture(_ s: Storage, celsius: String) throws -> Int64 {
        let su = s.site.superuser
        let shipped: String = try su.query("""
            SELECT pg_get_functiondef('gmp_rules.reading_clock_tolerance()'::regprocedure) AS d
            """)[0].decode("d")
        try su.transaction { db in
            try db.execute("SELECT set_config('gmp.reason', 'test: a database from before issue 20', true)")
            try db.execute("""
                CREATE OR REPLACE FUNCTION gmp_rules.reading_clock_tolerance() RETURNS interval
                LANGUAGE sql IMMUTABLE AS $$ SELECT interval '100 years' $$
                """)
        }
        defer {
            _ = try? su.transaction { db in
                try db.execute("SELECT set_config('gmp.reason', 'test: the shipped rule restored', true)")
                try db.execute(script: SQLScript(shippedWithBinary: shipped))
            }
        }
        return try insert("LN2-A", at: ["2099-01-01T00:00:00Z"], celsius: celsius, as: s.site.operatorSession)
    }

    @Test("QA voids a 2099 import already in the database, signed: the tank takes real readings and opens excursions again; its excursion is voided")
    func voidRecoversBlindedTank() throws {
        try Storage.with { s in
            try s.qc.passAll(s.lot)
            let future = try Self.importFromTheFuture(s, celsius: "-100")
            let blinding = try #require(try s.excursions().first)
            #expect(blinding.startedAt.iso8601.hasPrefix("2099") && blinding.status == "open")
            #expect(try s.qc.blockers(s.lot).contains { $0.contains(blinding.id) })
            // Blinded: every real reading comes "before" 2099; the hint names the way out.
            let blind = Self.refusal("a real reading after a 2099 one", "GM003") { try s.load([("LN2-A", 1, "-190")]) }
            #expect(blind.hint.contains("gmp storage readings void \(future)"), "\(blind)")
            // Only QA voids, with a reason.
            Rules.expectSQLState("42501", "the operator voiding") {
                try s.void(future, by: s.site.operatorAccount, session: s.site.operatorSession)
            }
            Rules.expectSQLState("GM008", "a void without its reason") { try s.void(future, reason: "  ") }
            let readings = try s.count("SELECT count(*) AS n FROM gmp.temperature_reading")
            let signature = try s.void(future)
            let signed: (Bool, String, String) = try {
                let row = try s.site.superuser.query("""
                    SELECT intact, meaning, record_table FROM gmp.signature_status WHERE id = \(signature)
                    """)[0]
                return (try row.decode("intact"), try row.decode("meaning"), try row.decode("record_table"))
            }()
            #expect(signed == (true, "approved", "gmp.reading_import_void"))
            // Nothing deleted; listed as voided, with who and why.
            #expect(try s.count("SELECT count(*) AS n FROM gmp.temperature_reading") == readings)
            let listed = try #require(try TemperatureReadings(s.site.operatorSession).list(device: "LN2-A").first)
            #expect(listed.importId == future && listed.voided?.by == s.site.qa.id
                    && listed.voided?.reason == "logger clock set to 2099: readings unusable")
            // Its excursion is voided: it blocks nothing and is never assessed.
            let voided = try #require(try s.excursions().first { $0.id == blinding.id })
            #expect(voided.status == "voided")
            #expect(try !s.qc.blockers(s.lot).contains { $0.contains(blinding.id) })
            Rules.expectSQLState("GM004", "assessing a voided excursion") { try s.assess(blinding.id) }
            Rules.expectSQLState("GM004", "voiding twice") { try s.void(future) }
            // The tank's real readings load again, after the import before the void, and open excursions.
            let real = try s.load([("LN2-A", 1, "-190"), ("LN2-A", 2, "-120"), ("LN2-A", 3, "-190")])
            #expect(real[0].excursionsOpened.count == 1)
            let previous: Int64 = try s.site.superuser.query("""
                SELECT previous_import_id AS n FROM gmp.reading_import WHERE id = \(real[0].importId)
                """)[0].decode("n")
            #expect(previous == future)
            // Only the device's latest import that counts may be voided.
            try s.load([("LN2-A", 4, "-190")])
            let notLatest = Self.refusal("voiding an import with a later one", "GM003") { try s.void(real[0].importId) }
            #expect(notLatest.message.contains("is not the latest of LN2-A"), "\(notLatest)")
            // Nobody rewrites a void, nor voids an excursion by hand.
            for statement in ["UPDATE gmp.reading_import_void SET reason = 'rewritten'", "DELETE FROM gmp.reading_import_void"] {
                Rules.expectSQLState("42501", "superuser: \(statement)") {
                    try s.site.superuser.transaction { db in
                        try db.execute("SELECT set_config('gmp.reason', 'tampering test', true)")
                        try db.execute(script: SQLScript(shippedWithBinary: statement))
                    }
                }
            }
            let open = try #require(real[0].excursionsOpened.first)
            Rules.expectSQLState("GM003", "superuser voiding an excursion whose import counts") {
                try s.site.superuser.transaction { db in
                    try db.execute("SELECT set_config('gmp.reason', 'tampering test', true)")
                    try db.execute("UPDATE gmp.excursion SET status = 'voided' WHERE id = \(open)")
                }
            }
            let problems: [String] = try s.site.superuser.query("SELECT p FROM gmp_audit.machinery_problems() p")
                .map { try $0.decode("p") }
            #expect(problems.isEmpty, "\(problems)")
        }
    }

    @Test("voiding the import that ended an excursion sets it going again; a corrected file over the voided span ends it")
    func voidReopensEndedExcursion() throws {
        try Storage.with { s in
            try s.load([("LN2-A", 1, "-120")])
            let wrong = try s.load([("LN2-A", 2, "-190"), ("LN2-A", 3, "-190")])
            var x = try #require(try s.excursions().first)
            #expect(x.endedAt == s.instant(2))
            try s.void(wrong[0].importId, reason: "another tank's log")
            x = try #require(try s.excursions().first)
            #expect(x.status == "open" && x.endedAt == nil)
            // The corrected file overlaps the voided one's span: only imports that count are in the way.
            try s.load([("LN2-A", 2, "-125"), ("LN2-A", 3, "-188")])
            let rows = try s.excursions()
            #expect(rows.count == 1 && rows[0].endedAt == s.instant(3) && rows[0].peakCelsius == "-120.00", "\(rows)")
        }
    }
}
