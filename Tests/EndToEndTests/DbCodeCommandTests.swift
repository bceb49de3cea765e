import Foundation
import Testing
import TestSupport

@Suite("db code: the source of the rules in force, now or at a past time")
struct DbCodeCommandTests {
    @Test("lists what is in force with each routine's home; shows one definition; --at and --history; --json")
    func listShowAndTime() throws {
        try TestServer.withMigratedDatabase { database in
            let list = try GMPBinary.run(["db", "code", "--database", database])
            #expect(list.status == 0, "\(list)")
            #expect(list.stdout.hasPrefix("KIND  "))
            let blockers = try #require(list.stdout.split(separator: "\n").first { $0.hasSuffix("gmp_rules.blockers_of(text,jsonb)") })
            #expect(blockers.contains("sql/code/10_release.sql:"))
            #expect(list.stdout.contains(" routine(s) in force"))

            let one = try GMPBinary.run(["db", "code", "blockers_of", "--database", database])
            #expect(one.status == 0, "\(one)")
            #expect(one.stdout.hasPrefix("-- gmp_rules.blockers_of(text,jsonb): "))
            #expect(one.stdout.contains("CREATE OR REPLACE FUNCTION gmp_rules.blockers_of(lot_din text, evaluation jsonb)"))
            #expect(one.stdout.contains("-- home in this gmp: sql/code/10_release.sql:"))

            let json = try GMPBinary.run(["db", "code", "gmp.code_in_force", "--json", "--database", database])
            #expect(json.status == 0, "\(json)")
            let routines = try #require(try json.json()["routines"] as? [[String: Any]])
            #expect(routines.count == 1)
            #expect(routines[0]["routine"] as? String == "gmp.code_in_force(timestamp with time zone)")
            #expect((routines[0]["definition"] as? String)?.contains("gmp_audit.event") == true)
            #expect((routines[0]["sha256"] as? String)?.count == 64)
            #expect(routines[0]["command"] as? String == "CREATE FUNCTION")

            // record_ddl changed in this release: the baseline body, then the new one.
            let history = try GMPBinary.run(["db", "code", "record_ddl", "--history", "--json", "--database", database])
            let versions = try #require(try history.json()["routines"] as? [[String: Any]])
            #expect(versions.map { $0["command"] as? String } == ["BASELINE", "CREATE FUNCTION"])
            let baselineAt = try #require(versions[0]["recorded_at"] as? String)
            let old = try GMPBinary.run(["db", "code", "record_ddl", "--at", baselineAt, "--json", "--database", database])
            let oldBody = try #require((try old.json()["routines"] as? [[String: Any]])?.first?["definition"] as? String)
            #expect(!oldBody.contains("catalog_routines"))
            let now = try GMPBinary.run(["db", "code", "record_ddl", "--json", "--database", database])
            let newBody = try #require((try now.json()["routines"] as? [[String: Any]])?.first?["definition"] as? String)
            #expect(newBody.contains("catalog_routines"))
        }
    }

    @Test("an unknown routine or a time before the record is refused with a fix (65); bad input is a usage error (64)")
    func refusals() throws {
        try TestServer.withMigratedDatabase { database in
            let unknown = try GMPBinary.run(["db", "code", "no_such_rule", "--database", database])
            #expect(unknown.status == 65)
            #expect(unknown.stderrLines == ["error: no routine called no_such_rule was in force now; fix: gmp db code lists what is in force; give its identity, schema.name or the bare name"])
            let early = try GMPBinary.run(["db", "code", "--at", "2001-01-01", "--database", database])
            #expect(early.status == 65)
            #expect(early.stderr.contains("the code record begins at schema version 19"))
            let badTime = try GMPBinary.run(["db", "code", "--at", "yesterday", "--database", database])
            #expect(badTime.status == 64, "\(badTime)")
            let historyWithoutName = try GMPBinary.run(["db", "code", "--history", "--database", database])
            #expect(historyWithoutName.status == 64)
            #expect(historyWithoutName.stderr.contains("--history needs a NAME"))
        }
    }
}
