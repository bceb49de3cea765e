import Foundation
import Testing
import PostgresClient
import TestSupport

@Suite("Server errors carry SQLSTATE, fields and a kind")
struct ServerErrorTests {
    private func schema(_ connection: PostgresConnection) throws {
        try connection.execute(script: SQLScript(shippedWithBinary: """
            CREATE TABLE donor (code text PRIMARY KEY);
            CREATE TABLE lot (din text PRIMARY KEY, donor text NOT NULL REFERENCES donor (code),
                              viability numeric CONSTRAINT viability_is_a_percentage CHECK (viability BETWEEN 0 AND 100));
            CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'lot % is released and cannot change', OLD.din USING HINT = 'open a deviation'; END $$;
            CREATE TRIGGER lot_frozen BEFORE UPDATE ON lot FOR EACH ROW EXECUTE FUNCTION refuse();
            INSERT INTO donor VALUES ('D1');
            INSERT INTO lot VALUES ('L1', 'D1', 90);
            """))
    }

    @Test("duplicate, missing reference, check, not-null and a rule's refusal")
    func constraintKinds() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            try schema(connection)
            #expect { try connection.execute("INSERT INTO donor VALUES (\("D1"))") } throws: { error in
                let error = error as? PostgresError
                return error?.kind == .duplicate && error?.constraint == "donor_pkey" && error?.sqlState == "23505"
                    && error?.detail?.contains("D1") == true && error?.description.contains("D1") == false
            }
            #expect { try connection.execute("INSERT INTO lot VALUES (\("L2"), \("D9"), NULL)") } throws: {
                ($0 as? PostgresError)?.kind == .missingReference
            }
            #expect { try connection.execute("INSERT INTO lot VALUES (\("L3"), \("D1"), \(ExactDecimal("100.1")!))") } throws: {
                ($0 as? PostgresError)?.kind == .checkViolation && ($0 as? PostgresError)?.constraint == "viability_is_a_percentage"
            }
            #expect { try connection.execute("INSERT INTO lot (din) VALUES (\("L4"))") } throws: {
                ($0 as? PostgresError)?.kind == .notNullViolation && ($0 as? PostgresError)?.column == "donor"
            }
            #expect { try connection.execute("UPDATE lot SET viability = 91") } throws: {
                ($0 as? PostgresError)?.kind == .refusedByRule && ($0 as? PostgresError)?.hint == "open a deviation"
            }
        }
    }

    @Test("permission denied for a role without the privilege")
    func permissionDenied() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            try schema(connection)
            // Roles belong to the whole cluster, not to this test's database: a unique name.
            let role = SQLIdentifier("reader_" + UUID().uuidString.prefix(8).lowercased())!
            try connection.execute("CREATE ROLE \(identifier: role) NOLOGIN")
            defer {
                _ = try? connection.execute("RESET ROLE")
                _ = try? connection.execute("DROP OWNED BY \(identifier: role)")
                _ = try? connection.execute("DROP ROLE \(identifier: role)")
            }
            try connection.execute("SET ROLE \(identifier: role)")
            #expect { try connection.execute("INSERT INTO donor VALUES (\("D2"))") } throws: {
                ($0 as? PostgresError)?.kind == .permissionDenied
            }
        }
    }

    @Test("a bound value the server quotes back is not in the error's description")
    func valuesStayOut() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            let secret = "Jane Doe MRN-778899"
            #expect { try connection.query("SELECT \(secret)::integer") } throws: { error in
                let error = error as? PostgresError
                return error?.kind == .invalidValue && error?.description.contains("MRN-778899") == false
            }
        }
    }

    @Test("the connection is usable after an error")
    func usableAfterError() throws {
        try TestServer.withDatabase { database in
            let connection = try TestServer.connect(database)
            _ = try? connection.query("SELECT 1/0")
            #expect(try connection.query("SELECT 2 AS two")[0].decode("two", as: Int.self) == 2)
        }
    }
}
