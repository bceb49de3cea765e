import PostgresClient
import Testing
import TestSupport

/// Issue 20, item 10: numeric takes 'NaN' and ±'Infinity', and NaN compares above every
/// number, so it passed CHECK (value >= 0) and a criterion's lower limit. Every numeric
/// value that enters a GMP record must be a finite number.
@Suite("NaN and Infinity are refused in every numeric GMP value")
struct FiniteNumberTests {
    typealias Rules = DonorAndLotRulesTests
    static let notFinite = ["NaN", "Infinity", "-Infinity"]

    @Test("the rules refuse NaN and ±Infinity where a number enters (GM002), and the record stays as it was",
          arguments: FiniteNumberTests.notFinite)
    func rulesRefuse(bad: String) throws {
        try QCReleaseSite.with { q in
            let s = q.site
            let din = try q.lot()
            try s.expectRefused("GM002", naming: ["finite"], "a QC result value \(bad)") {
                _ = try q.record(din, "cd105", bad, unit: "%")
            }
            try s.expectRefused("GM002", naming: ["finite"], "an endotoxin result \(bad)") {
                _ = try q.record(din, "endotoxin", bad, unit: "EU/mL")
            }
            for (cells, viability, doublings) in [(bad, "92.5", "2"), ("2000000", bad, "2"), ("2000000", "92.5", bad)] {
                try s.expectRefused("GM002", naming: ["finite"], "a step value \(bad)") {
                    try s.operatorSession.execute("""
                        SELECT gmp.record_step(\(din), 'passage', NULL, \(cells)::numeric, \(viability)::numeric,
                                               \(doublings)::numeric, NULL, NULL, NULL)
                        """)
                }
            }
            try s.expectRefused("GM002", naming: ["finite"], "a unit volume \(bad)") {
                try s.operatorSession.execute("""
                    SELECT gmp.record_step(\(din), 'fill', NULL, NULL, NULL, NULL, 20, \(bad)::numeric, NULL)
                    """)
            }
            try s.expectRefused("GM002", naming: ["finite"], "a device's temperature limit \(bad)") {
                try s.operatorSession.execute("""
                    SELECT gmp.add_location('SITE-NAN', 'site', NULL, 'Site', \(bad)::numeric, NULL, NULL, NULL)
                    """)
            }
            try s.expectRefused("GM002", naming: ["finite"], "the facility's doubling limit \(bad)") {
                try s.superuser.execute("SELECT gmp.configure_facility('G1234', 10, \(bad)::numeric, 'test')")
            }
            let (_, collection) = try s.receivedCollection()
            let other = try s.createLot(collection: collection, stage: "drug_product")
            try s.expectRefused("GM002", naming: ["finite"], "a maximum dose \(bad)") {
                try s.qcSession.execute("SELECT gmp.assign_specification(NULL, \(other), \(q.specification), \(bad)::numeric, false, NULL)")
            }
            let donor = try s.registerDonor()
            try s.consent(donor)
            try s.expectRefused("GM002", naming: ["finite"], "a collected amount \(bad)") {
                try s.operatorSession.execute("""
                    SELECT gmp.collect_tissue(\(donor), 'adipose', 'recovery site', now() - interval '1 day',
                                              'Dr Recovery', \(bad)::numeric, 'mL', 'chilled')
                    """)
            }
            Rules.expectSQLState("GM002", "a verdict on a value \(bad)") {
                _ = try s.superuser.query("""
                    SELECT gmp_rules.criterion_verdict(c, '=', \(bad)::numeric, NULL, 0.4, false) AS v
                    FROM gmp.criterion c WHERE c.specification_id = \(q.specification) AND c.test = 'cd105'
                    """)
            }
        }
    }

    @Test("every numeric column of a GMP table has a CHECK that refuses NaN and ±Infinity")
    func everyColumnChecked() throws {
        try TestServer.withMigratedDatabase { database in
            let unchecked = try TestServer.connect(database).query("""
                SELECT string_agg(format('%s.%s', a.attrelid::regclass, a.attname), ', ' ORDER BY 1) AS columns
                FROM pg_attribute a JOIN pg_class t ON t.oid = a.attrelid JOIN pg_namespace n ON n.oid = t.relnamespace
                WHERE n.nspname IN ('gmp', 'gmp_meta', 'gmp_audit', 'gmp_rules') AND t.relkind IN ('r', 'p')
                  AND a.attnum > 0 AND NOT a.attisdropped AND a.atttypid = 'numeric'::regtype
                  AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conrelid = t.oid AND c.contype = 'c'
                                  AND c.conkey = ARRAY[a.attnum] AND pg_get_constraintdef(c.oid) LIKE '%NaN%'
                                  AND pg_get_constraintdef(c.oid) LIKE '%-Infinity%')
                """)[0].decode("columns", as: String?.self)
            #expect(unchecked == nil, "numeric columns without a finite check: \(unchecked ?? "")")
        }
    }

    @Test("a superuser writing NaN directly, with the rules' triggers off, is refused by the table's CHECK (23514)",
          arguments: FiniteNumberTests.notFinite)
    func superuserRefused(bad: String) throws {
        try Rules.Site.with { s in
            for statement in [
                "UPDATE gmp.facility SET max_population_doublings = '\(bad)'",
                "INSERT INTO gmp_meta.unit VALUES ('zz/mL', 'attack', '\(bad)')",
                "INSERT INTO gmp_meta.unit_conversion VALUES ('%', 'cells', '\(bad)')",
            ] {
                Rules.expectSQLState("23514", statement) {
                    try s.superuser.execute(script: SQLScript(shippedWithBinary: """
                        BEGIN;
                        SET LOCAL session_replication_role = replica;
                        SET LOCAL gmp.reason = 'attack run';
                        \(statement);
                        COMMIT;
                        """))
                }
                _ = try? s.superuser.execute("ROLLBACK")
            }
        }
    }
}
