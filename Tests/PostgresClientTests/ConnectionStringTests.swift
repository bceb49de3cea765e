import Testing
import PostgresClient

@Suite("Connection strings are parsed by libpq itself")
struct ConnectionStringTests {
    @Test("values with spaces, quotes and backslashes survive make → parse")
    func roundTrip() throws {
        let text = ConnectionString.make([(key: "host", value: "/tmp/a dir"), (key: "dbname", value: "o'neil\\x"),
                                          (key: "user", value: "gmp")])
        let parsed = try ConnectionString.parse(text)
        #expect(parsed["host"] == "/tmp/a dir")
        #expect(parsed["dbname"] == "o'neil\\x")
        #expect(parsed["user"] == "gmp")
    }

    @Test("URIs are accepted")
    func uri() throws {
        let parsed = try ConnectionString.parse("postgresql://ann@db.example.org:5433/gmp?sslmode=verify-full")
        #expect(parsed["host"] == "db.example.org")
        #expect(parsed["port"] == "5433")
        #expect(parsed["sslmode"] == "verify-full")
    }

    @Test("malformed strings are refused with libpq's reason", arguments: [
        "host=/tmp port", "nonsense_key=1", "host='unterminated", "postgresql://[::1",
    ])
    func malformed(text: String) {
        #expect {
            try ConnectionString.parse(text)
        } throws: { error in
            (error as? ConnectionError)?.kind == .malformedConnectionString
                && (error as? ConnectionError)?.message.hasPrefix("malformed connection string") == true
        }
    }
}
