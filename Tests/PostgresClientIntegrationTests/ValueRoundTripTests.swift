import Foundation
import Testing
import PostgresClient
import TestSupport

@Suite("Values survive a round trip through the server exactly")
struct ValueRoundTripTests {
    @Test("numeric keeps every digit and its scale; never a Double")
    func numeric() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            for text in ["95.0", "0.1000000000000000000001", "-12345678901234567890123456789012345678901234.5678", "23.7", "0"] {
                let value = ExactDecimal(text)!
                let read: ExactDecimal = try connection.query("SELECT \(value)::numeric AS v")[0].decode("v")
                #expect(read.description == text)
            }
        }
    }

    @Test("timestamptz keeps microseconds, including dates after 2068")
    func timestamps() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            for text in ["2026-11-22T05:26:25.107456Z", "2099-12-31T23:59:59.999999Z", "1969-12-31T23:59:59.999999Z"] {
                let value = Timestamp(iso8601: text)!
                let read: Timestamp = try connection.query("SELECT \(value)::timestamptz AS v")[0].decode("v")
                #expect(read == value)
                #expect(read.iso8601 == text)
            }
            let now: Timestamp = try connection.query("SELECT clock_timestamp() AS v")[0].decode("v")
            #expect(abs(now.microsecondsSinceEpoch - Timestamp.now().microsecondsSinceEpoch) < 60_000_000)
        }
    }

    @Test("text, integers, booleans, uuid, date, jsonb and bytea")
    func otherTypes() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            let hostile = "Robert'); DROP TABLE lot;-- µg/mL 微 \"q\" \\ \u{1F9EA}"
            let id = UUID()
            let row = try connection.query("""
                SELECT \(hostile)::text AS t, \(Int64.max)::bigint AS i, \(false)::boolean AS b, \(id)::uuid AS u,
                       \(CalendarDate(year: 2024, month: 2, day: 29)!)::date AS d,
                       \(JSONText("{\"b\": 1, \"a\": [true, null]}"))::jsonb AS j,
                       \(ByteString([0, 1, 254]))::bytea AS y
                """)[0]
            #expect(try row.decode("t", as: String.self) == hostile)
            #expect(try row.decode("i", as: Int64.self) == .max)
            #expect(try row.decode("b", as: Bool.self) == false)
            #expect(try row.decode("u", as: UUID.self) == id)
            #expect(try row.decode("d", as: CalendarDate.self).description == "2024-02-29")
            #expect(try row.decode("j", as: JSONText.self).text == "{\"a\": [true, null], \"b\": 1}")
            #expect(try row.decode("y", as: ByteString.self).bytes == [0, 1, 254])
        }
    }

    @Test("a hostile string is stored as data: the table it names survives")
    func injection() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            try connection.execute("CREATE TABLE note (body text)")
            let hostile = "x'); DROP TABLE note; --"
            try connection.execute("INSERT INTO note VALUES (\(hostile))")
            #expect(try connection.query("SELECT body FROM note")[0].decode("body", as: String.self) == hostile)
        }
    }

    @Test("NULL reads as nil into an optional and is refused into a non-optional")
    func nulls() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            let row = try connection.query("SELECT NULL::integer AS n")[0]
            #expect(try row.decode("n", as: Int?.self) == nil)
            #expect(try row.isNull("n"))
            #expect { try row.decode("n", as: Int.self) } throws: { ($0 as? ClientError)?.kind == .decoding }
        }
    }

    @Test("a column is never silently converted to another type")
    func typeMismatch() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            // A timestamp without time zone names no instant.
            let local = try connection.query("SELECT now()::timestamp AS v")[0]
            #expect { try local.decode("v", as: Timestamp.self) } throws: { ($0 as? ClientError)?.kind == .decoding }
            // A numeric is not rounded into an integer.
            let decimal = try connection.query("SELECT 1.5::numeric AS v")[0]
            #expect { try decimal.decode("v", as: Int.self) } throws: { ($0 as? ClientError)?.kind == .decoding }
            // Text is not parsed as a number.
            let text = try connection.query("SELECT '1'::text AS v")[0]
            #expect { try text.decode("v", as: ExactDecimal.self) } throws: { ($0 as? ClientError)?.kind == .decoding }
        }
    }

    @Test("a value with a NUL byte is refused before it is sent")
    func nulByte() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            #expect { try connection.query("SELECT \("a\u{0}b")::text") } throws: { ($0 as? ClientError)?.kind == .unsendableValue }
            #expect(connection.isConnected)
        }
    }

    @Test("a value's bytes borrowed in place: NULL apart from empty, non-ASCII and long text exact, the row keeping its result")
    func borrowedBytes() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            let accents = "µg/mL 微 \"q\" \\ \u{1F9EA}"
            let long = String(repeating: "0123456789abcdéf", count: 10_000)
            // The row alone keeps the result (and its bytes): the query's value is gone.
            let row = try connection.query("""
                SELECT NULL::text AS n, ''::text AS e, \(accents)::text AS a, \(long)::text AS l, 42::int AS i,
                       '{"b": [1, 2]}'::jsonb AS j
                """)[0]
            func bytes(_ column: String) throws -> [UInt8]? {
                try row.withUnsafeBytes(column) { $0.map { Array($0) } }
            }
            #expect(try bytes("n") == nil)
            #expect(try bytes("e") == [])
            #expect(try bytes("a") == Array(accents.utf8))
            #expect(try bytes("l") == Array(long.utf8))
            #expect(try bytes("i") == Array("42".utf8))
            #expect(try bytes("j") == Array(#"{"b": [1, 2]}"#.utf8))
            // The same text `decode` reads, with a null and an empty one told apart.
            #expect(try row.withUnsafeBytes("e") { $0 != nil && $0!.isEmpty })
            #expect(try row.withUnsafeBytes("a") { String(decoding: $0!, as: UTF8.self) } == row.decode("a", as: String.self))
            #expect { try row.withUnsafeBytes("missing") { _ in 0 } } throws: { ($0 as? ClientError)?.kind == .decoding }
            // An error thrown by the body comes out as it is.
            struct Thrown: Error {}
            #expect(throws: Thrown.self) { try row.withUnsafeBytes("a") { _ in throw Thrown() } }
        }
    }

    @Test("an unknown column name is a decoding error naming the columns")
    func unknownColumn() throws {
        try TestServer.withDatabase { database in
            let row = try TestServer.connect(database).query("SELECT 1 AS one")[0]
            #expect { try row.decode("two", as: Int.self) } throws: { error in
                (error as? ClientError)?.message.contains("columns: one") == true
            }
        }
    }
}

@Suite("Text arrays travel as bind parameters")
struct TextArrayRoundTripTests {
    @Test("hostile elements come back exactly, one element each", arguments: [
        ["a", "b"], ["", "with space"], ["quote\"inside", "back\\slash", "comma,brace}{", "NULL"], [],
    ])
    func roundTrip(_ elements: [String]) throws {
        let connection = try TestServer.admin()
        let rows = try connection.query("SELECT unnest(\(elements)::text[]) AS e")
        #expect(try rows.map { try $0.decode("e", as: String.self) } == elements)
        let count: Int = try connection.query("SELECT cardinality(\(elements)::text[]) AS n")[0].decode("n")
        #expect(count == elements.count)
    }
}
