import Foundation
import Testing
import PostgresClient
import TestSupport

@Suite("COPY moves bytes, not characters, and loads all or nothing")
struct CopyTests {
    @Test("COPY FROM STDIN counts bytes and rows; multi-byte text arrives whole")
    func copyIn() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            try connection.execute("CREATE TABLE reading (device text, unit text, value numeric)")
            let lines = ["tank-1,µg/mL,-180.5\n", "tank-1,°C,-150.0\n", "tank-2,微,1\n"]
            let outcome = try connection.copyIn("COPY reading FROM STDIN (FORMAT csv)") { writer in
                for line in lines { try writer.write(line) }
            }
            #expect(outcome.rows == 3)
            #expect(outcome.bytes == lines.map(\.utf8.count).reduce(0, +))
            let units = try connection.query("SELECT unit FROM reading ORDER BY value").map { try $0.decode("unit", as: String.self) }
            #expect(units == ["µg/mL", "°C", "微"])
        }
    }

    @Test("a client error aborts the COPY and loads nothing")
    func clientAbort() throws {
        struct Stop: Error {}
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            try connection.execute("CREATE TABLE reading (value numeric)")
            #expect(throws: Stop.self) {
                try connection.copyIn("COPY reading FROM STDIN (FORMAT csv)") { writer in
                    try writer.write("1\n")
                    throw Stop()
                }
            }
            #expect(try connection.query("SELECT count(*) AS n FROM reading")[0].decode("n", as: Int.self) == 0)
            #expect(try connection.query("SELECT 1 AS ok")[0].decode("ok", as: Int.self) == 1)
        }
    }

    @Test("a malformed row fails the whole COPY with the server's error")
    func badRow() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            try connection.execute("CREATE TABLE reading (value numeric)")
            #expect {
                try connection.copyIn("COPY reading FROM STDIN (FORMAT csv)") { writer in
                    try writer.write(Array("1\n9O.5\n3\n".utf8))
                }
            } throws: { ($0 as? PostgresError)?.kind == .invalidValue }
            #expect(try connection.query("SELECT count(*) AS n FROM reading")[0].decode("n", as: Int.self) == 0)
        }
    }

    @Test("COPY TO STDOUT streams every row")
    func copyOut() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            var received: [UInt8] = []
            let outcome = try connection.copyOut("COPY (SELECT g, 'µ' FROM generate_series(1, 1000) g) TO STDOUT (FORMAT csv)") {
                received += $0
            }
            #expect(outcome.rows == 1000)
            #expect(outcome.bytes == received.count)
            let text = String(decoding: received, as: UTF8.self)
            #expect(text.hasPrefix("1,µ\n2,µ\n"))
            #expect(text.hasSuffix("1000,µ\n"))
        }
    }

    @Test("COPY through query() or with parameters is refused, and the session stays usable")
    func misuse() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            try connection.execute("CREATE TABLE reading (value numeric)")
            #expect { try connection.query("COPY reading FROM STDIN") } throws: { ($0 as? ClientError)?.kind == .misuse }
            #expect { try connection.query("COPY (SELECT g FROM generate_series(1, 5) g) TO STDOUT") } throws: {
                ($0 as? ClientError)?.kind == .misuse
            }
            #expect { try connection.copyIn("COPY (SELECT 1) TO STDOUT") { _ in } } throws: { ($0 as? ClientError)?.kind == .misuse }
            #expect { try connection.copyIn("COPY reading FROM STDIN -- \(1)") { _ in } } throws: {
                ($0 as? ClientError)?.kind == .misuse
            }
            #expect(try connection.query("SELECT 1 AS ok")[0].decode("ok", as: Int.self) == 1)
        }
    }
}
