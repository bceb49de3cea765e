import PostgresClient
import Testing
import TestSupport

/// gmp_rules.record_content finds a signed record by its key through the key column's
/// index (V0011) and matches exactly the rows the text comparison of V0004 matched,
/// so no signature's content hash changes.
@Suite("the content a signature covers is looked up by key, in the key's own type")
struct RecordContentTests {
    @Test("a numeric key finds its row; a key that is not a number, or not canonical, finds none")
    func numericKeys() throws {
        try TestServer.withMigratedDatabase { database in
            let db = try TestServer.connect(database)
            let seq: Int64 = try db.query("SELECT max(seq) AS seq FROM gmp_audit.event")[0].decode("seq")
            func content(_ key: String) throws -> String? {
                try db.query("SELECT gmp_rules.record_content('gmp_audit.event', \(key))::text AS c")[0].decode("c")
            }
            #expect(try content(String(seq))?.contains("\"seq\": \(seq)") == true)
            #expect(try content("0\(seq)") == nil, "a non-canonical spelling matched no row before V0011 either")
            #expect(try content("not a number") == nil)
            #expect(try content("99999999999999999999999") == nil)
        }
    }

    @Test("a text key still finds every row under it")
    func textKeys() throws {
        try TestServer.withMigratedDatabase { database in
            let db = try TestServer.connect(database)
            let content: String? = try db.query("""
                SELECT gmp_rules.record_content('gmp.screening_test', 'hbsag')::text AS c
                """)[0].decode("c")
            #expect(content?.contains("\"code\": \"hbsag\"") == true)
            let missing: Bool = try db.query("""
                SELECT gmp_rules.record_content('gmp.screening_test', 'no-such-test') IS NULL AS missing
                """)[0].decode("missing")
            #expect(missing)
        }
    }

    @Test("a record's content is its whole row, even in a table with a column named t")
    func columnNamedT() throws {
        try TestServer.withMigratedDatabase { database in
            let db = try TestServer.connect(database)
            try db.execute("CREATE TABLE public.t_probe (id integer PRIMARY KEY, t text, other text)")
            try db.execute("INSERT INTO public.t_probe VALUES (1, 'same', 'first')")
            // Read as gmp_definer (issue 20, definer owner), which reads only gmp's tables.
            try db.execute("GRANT SELECT ON public.t_probe TO gmp_definer")
            let content: String? = try db.query("SELECT gmp_rules.record_content('public.t_probe', '1')::text AS c")[0]
                .decode("c")
            #expect(content == #"[{"t": "same", "id": 1, "other": "first"}]"#)
        }
    }
}
