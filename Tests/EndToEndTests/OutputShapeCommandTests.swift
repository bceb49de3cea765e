import Foundation
import PostgresClient
import Testing
import TestSupport

/// What docs/json-output.md promises of every `--json` document (issue 16, items 3 and
/// 6): keys sorted, one timestamp shape (RFC 3339 UTC, six fractional digits, `Z`), lot
/// ids that gmp takes back as input, and never a document cut short on stdout.
@Suite("JSON output: one shape everywhere, ids that work as input, nothing cut short")
struct OutputShapeCommandTests {
    /// A JSON value with its objects' keys in the order the text gives them.
    indirect enum Ordered {
        case object([(String, Ordered)])
        case array([Ordered])
        case scalar(Any)
        /// A number, true, false or null, as written.
        case literal(String)
    }

    /// Reads `text` keeping key order (JSONSerialization does not).
    static func ordered(_ text: String) throws -> Ordered {
        var scalars = Array(text.unicodeScalars)[...]
        func skip() { while let c = scalars.first, c == " " || c == "\n" || c == "\r" || c == "\t" { scalars.removeFirst() } }
        func string() throws -> String {
            guard scalars.popFirst() == "\"" else { throw TestSetupError("a string expected") }
            var raw = "\""
            var escaped = false
            while let c = scalars.popFirst() {
                raw.unicodeScalars.append(c)
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { break }
            }
            return try JSONSerialization.jsonObject(with: Data(raw.utf8), options: .fragmentsAllowed) as? String ?? ""
        }
        func value() throws -> Ordered {
            skip()
            switch scalars.first {
            case "{":
                scalars.removeFirst(); skip()
                var members: [(String, Ordered)] = []
                if scalars.first == "}" { scalars.removeFirst(); return .object(members) }
                while true {
                    skip()
                    let key = try string()
                    skip()
                    guard scalars.popFirst() == ":" else { throw TestSetupError("':' expected") }
                    members.append((key, try value()))
                    skip()
                    let next = scalars.popFirst()
                    if next == "}" { return .object(members) }
                    guard next == "," else { throw TestSetupError("',' or '}' expected") }
                }
            case "[":
                scalars.removeFirst(); skip()
                var elements: [Ordered] = []
                if scalars.first == "]" { scalars.removeFirst(); return .array(elements) }
                while true {
                    elements.append(try value())
                    skip()
                    let next = scalars.popFirst()
                    if next == "]" { return .array(elements) }
                    guard next == "," else { throw TestSetupError("',' or ']' expected") }
                }
            case "\"":
                return .scalar(try string())
            default:
                var token = ""
                while let c = scalars.first, !",]} \n\r\t".unicodeScalars.contains(c) { token.unicodeScalars.append(scalars.removeFirst()) }
                return .literal(token)
            }
        }
        let result = try value()
        skip()
        guard scalars.isEmpty else { throw TestSetupError("text after the document") }
        return result
    }

    static var timestampLike: Regex<Substring> { /[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}.*/ }
    static var canonicalTimestamp: Regex<Substring> { /[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z/ }
    static let lotKeys: Set<String> = ["lot", "lots", "parent"]

    /// Every problem of one document: unsorted keys, another timestamp shape; the lot
    /// ids it prints go into `lots`.
    static func problems(_ value: Ordered, at path: String, lots: inout [String: String]) -> [String] {
        switch value {
        case .object(let members):
            var found: [String] = []
            let keys = members.map(\.0)
            if keys != keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                found.append("\(path): keys not sorted: \(keys)")
            }
            for (key, member) in members {
                if lotKeys.contains(key) {
                    switch member {
                    case .scalar(let text as String): lots[text] = path + "." + key
                    case .array(let elements):
                        for case .scalar(let text as String) in elements { lots[text] = path + "." + key }
                    default: break
                    }
                }
                found += problems(member, at: path + "." + key, lots: &lots)
            }
            return found
        case .array(let elements):
            return elements.enumerated().flatMap { problems($1, at: path + "[\($0)]", lots: &lots) }
        case .literal:
            return []
        case .scalar(let scalar):
            guard let text = scalar as? String, text.wholeMatch(of: timestampLike) != nil,
                  text.wholeMatch(of: canonicalTimestamp) == nil else { return [] }
            return ["\(path): timestamp \(text.debugDescription) is not RFC 3339 UTC with six digits and Z"]
        }
    }

    @Test("every --json command of a populated database prints sorted keys, one timestamp shape and lot ids gmp takes back")
    func everyDocumentHasOneShape() throws {
        try ShipCommandTests.withShipSite { ship in
            let site = ship.site
            let qs = ship.qs
            var runs: [(String, GMPRun)] = []
            func json(_ person: TestAccount, _ arguments: [String], signed: Bool = false, exit: Int32 = 0) throws -> GMPRun {
                let run = signed ? try site.signed(person, arguments + ["--json"]) : try site.gmp(person, arguments + ["--json"])
                #expect(run.status == exit, "\(run)")
                runs.append((arguments.prefix(3).joined(separator: " "), run))
                return run
            }

            let lot = try ship.releasedLot()
            let quarantined = try ship.filledLot()
            let donor = try #require(try Self.rows(try json(site.qa, ["donor", "list"])).first?["donor"] as? String)
            let deviation = try #require(try json(site.qa, ["deviation", "open", "--title", "Shape check",
                                                            "--lot", quarantined.keyed]).json()["id"] as? String)
            let certificate = try qs.file("coa.pdf", "%PDF-1.4 certificate\n")
            _ = try json(site.operatorAccount, ["material", "type", "add", "MEM-ALPHA", "--name", "alpha-MEM",
                                                "--category", "culture_medium", "--storage", "2-8 C"])
            let material = try MaterialCommandTests.receive(site, certificate: certificate)
            _ = try json(site.qa, ["material", "release", material], signed: true)
            let unit = ship.unit(lot, 1)
            _ = try json(site.operatorAccount, ["custody", "hand-over", "--unit", ship.unit(quarantined, 1), "--to", site.qc.id,
                                                "--reason", "to the lab"], signed: true)
            let shipment = try #require(try json(site.operatorAccount, ["ship", "create", "--consignee", "Clinic",
                                                                        "--address", "1 Main St", "--receiver", ship.receiver.id,
                                                                        "--shipper", "DS-01", "--qualification", "PQ-1"])
                .json()["id"] as? String)

            for (person, arguments) in [
                (site.qa, ["facility", "show"]), (site.qa, ["donor", "show", donor]), (site.qa, ["lot", "list"]),
                (site.qa, ["batch", "list"]), (site.qa, ["lot", "show", lot.keyed]), (site.qa, ["lot", "label", lot.keyed]),
                (site.qa, ["trace", "lot", lot.keyed]), (site.qa, ["trace", "donor", donor]), (site.qa, ["qc", "list", lot.keyed]),
                (site.qa, ["spec", "list"]), (site.qa, ["spec", "show", "E2E-DP@1"]), (site.qa, ["deviation", "list"]),
                (site.qa, ["material", "type", "list"]), (site.qa, ["material", "list"]), (site.qa, ["material", "show", material]),
                (site.qa, ["material", "trace", material]),
                (site.qa, ["coa", lot.keyed]), (site.qa, ["unit", "list"]), (site.qa, ["unit", "show", unit]),
                (site.qa, ["custody", "history", unit]), (site.qc, ["custody", "pending"]),
                (site.qa, ["storage", "occupancy", "SITE-A"]), (site.qa, ["excursion", "list"]),
                (site.qa, ["storage", "readings", "list"]), (site.qa, ["ship", "list"]), (site.qa, ["ship", "show", shipment]),
                (site.qa, ["audit", "report", "--table", "gmp.lot"]), (site.qa, ["audit", "verify"]), (site.admin, ["user", "list"]),
                (site.admin, ["user", "show", site.qa.id]), (site.admin, ["user", "pending"]), (site.qa, ["todo"]),
                (site.qc, ["inbox"]), (site.qa, ["db", "status"]),
            ] {
                _ = try json(person, arguments)
            }
            // Not releasable (exit 65), the document still printed: once released, once in quarantine.
            _ = try json(site.qa, ["release", "check", lot.keyed], exit: 65)
            _ = try json(site.qa, ["release", "check", quarantined.keyed], exit: 65)
            _ = deviation

            var lots: [String: String] = [:]
            for (name, run) in runs {
                let document = try Self.ordered(run.stdout)
                let found = Self.problems(document, at: name, lots: &lots)
                #expect(found.isEmpty, "\(found.joined(separator: "\n"))\n\(run)")
            }
            #expect(lots.keys.contains { $0.replacingOccurrences(of: " ", with: "") == lot.keyed }, "\(lots)")
            // Every lot id printed is one gmp takes back.
            for (printed, path) in lots {
                let show = try site.gmp(site.qa, ["lot", "show", printed])
                #expect(show.status == 0, "\(path): \(printed.debugDescription) does not work as input\n\(show)")
            }
        }
    }

    static func rows(_ run: GMPRun) throws -> [[String: Any]] {
        try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]], "\(run)")
    }

    @Test("an audit report that fails part-way leaves stdout empty with --json, not a document cut short")
    func failedReportPrintsNothing() throws {
        try DonorLotCommandTests.withSite { site in
            // Enough events that the first batch of 1000 is out before the broken one is read.
            let superuser = try TestServer.connect(site.database)
            try site.operatorAccount.connect().execute("""
                DO $$ BEGIN
                    FOR i IN 1..1200 LOOP PERFORM gmp.register_donor('allogeneic', true, NULL, NULL); END LOOP;
                END $$
                """)
            let last: Int64 = try superuser.query("SELECT max(seq) AS n FROM gmp_audit.event")[0].decode("n")
            #expect(last > 1_100, "\(last) events")
            // A signature event whose id is not a number: the report's join fails there.
            try Tampering.asSuperuser(site.database, """
                UPDATE gmp_audit.event SET table_name = 'gmp.signature', action = 'INSERT',
                       new_values = '{"id": "not a number"}' WHERE seq = \(last)
                """)
            let report = try site.gmp(site.qa, ["audit", "report", "--json"])
            #expect(report.status != 0, "\(report)")
            #expect(report.stdout.isEmpty, "stdout must hold nothing, not part of a document:\n\(report.stdout.suffix(300))")
            expectOneLineError(report, exit: report.status)
            // The text form streams: its lines are out before the failure.
            let text = try site.gmp(site.qa, ["audit", "report"])
            #expect(text.status == report.status && text.stdout.contains("SEQ"), "\(text)")
        }
    }
}
