import Testing
@testable import PostgresClient

@Suite("SQLQuery: values travel only as bind parameters")
struct SQLQueryTests {
    @Test("each interpolated value becomes $N and is bound, not spliced")
    func interpolationBinds() {
        let code = "D-001'; DROP TABLE donor; --"
        let limit = 10
        let query: SQLQuery = "SELECT * FROM donor WHERE code = \(code) LIMIT \(limit)"
        #expect(query.sql == "SELECT * FROM donor WHERE code = $1 LIMIT $2")
        #expect(query.bindings == [code, "10"])
    }

    @Test("nil binds SQL NULL")
    func nilIsNull() {
        let missing: String? = nil
        let query: SQLQuery = "SELECT \(missing)::text"
        #expect(query.sql == "SELECT $1::text")
        #expect(query.bindings == [nil])
    }

    @Test("appending renumbers the second query's parameters")
    func appendRenumbers() {
        var query: SQLQuery = "SELECT * FROM lot WHERE status = \("quarantine")"
        query.append(" AND site = \("A") AND kind = \("cells")")
        #expect(query.sql == "SELECT * FROM lot WHERE status = $1 AND site = $2 AND kind = $3")
        #expect(query.bindings == ["quarantine", "A", "cells"])
        let joined: SQLQuery = "SELECT \(1)" + " + \(2)"
        #expect(joined.sql == "SELECT $1 + $2")
    }

    @Test("description shows the SQL and a count, never the values")
    func descriptionHidesValues() {
        let secret = "Jane Doe, MRN 123456"
        let query: SQLQuery = "SELECT \(secret)"
        #expect(!query.description.contains("Jane"))
        #expect(query.description.contains("1 bound value"))
    }

    @Test("values keep their exact text form", arguments: [
        (ExactDecimal("0.1000000000000000000001")!.postgresText, "0.1000000000000000000001"),
        (ExactDecimal("95.0")!.postgresText, "95.0"),
        (true.postgresText, "true"),
        (Int64.min.postgresText, "-9223372036854775808"),
        (Timestamp(microsecondsSinceEpoch: 1).postgresText, "1970-01-01T00:00:00.000001Z"),
        (CalendarDate(year: 2068, month: 2, day: 29)!.postgresText, "2068-02-29"),
        (ByteString([0, 255, 16]).postgresText, "\\x00ff10"),
    ])
    func encodings(encoded: String?, expected: String) {
        #expect(encoded == expected)
    }

    @Test("identifiers: only plain lower-case names are accepted", arguments: [
        ("gmp", true), ("t_0123abc", true), ("_x", true),
        ("Gmp", false), ("1abc", false), ("a b", false), ("a\"b", false), ("", false),
        ("x; drop table y", false), (String(repeating: "a", count: 64), false),
    ])
    func identifiers(name: String, accepted: Bool) {
        #expect((SQLIdentifier(name) != nil) == accepted)
    }

    @Test("an identifier is spliced double-quoted")
    func identifierSplice() {
        let query: SQLQuery = "CREATE DATABASE \(identifier: SQLIdentifier("t_1")!)"
        #expect(query.sql == "CREATE DATABASE \"t_1\"")
        #expect(query.bindings.isEmpty)
    }

    @Test("bytea hex text round-trips and rejects malformed input")
    func byteString() {
        #expect(ByteString(postgresHex: "\\x00ff10")?.bytes == [0, 255, 16])
        #expect(ByteString(postgresHex: "\\xABcd")?.hex == "abcd")
        #expect(ByteString(postgresHex: "00ff") == nil)
        #expect(ByteString(postgresHex: "\\x0") == nil)
        #expect(ByteString(postgresHex: "\\xzz") == nil)
    }
}
