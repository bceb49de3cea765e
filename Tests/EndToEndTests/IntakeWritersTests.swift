import Foundation
import PostgresClient
import Testing
import TestSupport

/// Issue 19: the donor-intake writes — `gmp donor consent`, `donor withdraw-consent`,
/// `donor determine`, `tissue collect`, `tissue receive` — ran SERIALIZABLE, whose false
/// conflicts between writers on different donors spend the 5 attempts. They now run READ
/// COMMITTED on the donor's row lock (the collection's, for a receipt; docs/concurrency.md).
extension SameRecordRaceCommandTests {
    /// The intake commands, each with what it needs made first: a consented donor with a
    /// received collection (bone marrow, so the donor is the person tested).
    static let intakeCommands = ["donor consent", "donor withdraw-consent", "tissue collect", "tissue receive",
                                 "donor determine"]

    /// The arguments of `gmp tissue collect` for `donor` (bone marrow, on the collection day).
    static func collectArguments(_ donor: String, hour: Int = 10) -> [String] {
        ["tissue", "collect", donor, "bone_marrow", "--site", "Ward 1",
         "--at", "\(DonorLotCommandTests.collectionDay)T\(hour):15:00Z", "--collector", "Dr. A. Collector",
         "--amount", "60", "--unit", "mL", "--transport", "2-8 °C in transport medium"]
    }

    @Test("gmp donor consent, withdraw-consent, determine and tissue collect / receive wait for a donor (or collection) another session holds at READ COMMITTED: no predicate locks; each records once it is let go",
          arguments: intakeCommands)
    func readCommittedOnTheDonor(command: String) throws {
        try DonorLotCommandTests.withSite { site in
            let donation = try DonorLotCommandTests.donation(in: site, source: "bone_marrow")
            let donor = donation.donor
            let op = site.operatorAccount
            var person = op, stdin: String? = nil
            var held: SQLQuery = "SELECT code FROM gmp.donor WHERE code = \(donor) FOR UPDATE"
            let arguments: [String]
            switch command {
            case "donor consent":
                arguments = ["donor", "consent", donor, "--given-on", DonorLotCommandTests.day(-2), "--scope", "cell banking",
                             "--taken-by", "R. Nurse"]
            case "donor withdraw-consent":
                arguments = ["donor", "withdraw-consent", donor, "--on", DonorLotCommandTests.day(-1),
                             "--reason", "donor withdrew by letter"]
            case "tissue collect":
                arguments = Self.collectArguments(donor)
            case "tissue receive":
                let collect = try site.expectSuccess { try site.gmp(op, Self.collectArguments(donor) + ["--json"]) }
                let collection = try #require(try collect.json()["collection"] as? String, "\(collect)")
                held = "SELECT id FROM gmp.tissue_collection WHERE id = \(collection) FOR UPDATE"
                arguments = ["tissue", "receive", collection, "--condition", "acceptable"]
            default:
                person = site.director
                stdin = person.password + "\n"
                arguments = ["donor", "determine", donor, "--outcome", "ineligible", "--collection", donation.collection,
                             "--password-stdin"]
            }
            try Self.expectWaitsAtReadCommitted(site, person, arguments, stdin: stdin, holding: held,
                                                command: command, record: "the donor")
        }
    }
}

extension ConcurrentWritersTests {
    @Test("16 writers taking in 16 different donors (consent, collect, receive, determine signed, withdraw-consent): no exit 75, every command succeeds, every record is there")
    func sixteenIntakeWriters() throws {
        try DonorLotCommandTests.withSite { site in
            let op = site.operatorAccount
            let donors = try (0..<Self.writers).map { _ in
                let register = try site.expectSuccess {
                    try site.gmp(op, ["donor", "register", "--use", "allogeneic", "--name", "Intake Example", "--json"])
                }
                return try #require(try register.json()["donor"] as? String, "\(register)")
            }
            let tally = Tally()
            Self.concurrently(Self.writers) { writer in
                let donor = donors[writer]
                func run(_ person: TestAccount, _ arguments: [String], signed: Bool = false) -> GMPRun? {
                    guard let run = try? (signed ? site.signed(person, arguments) : site.gmp(person, arguments)) else { return nil }
                    tally.add(run, writer: writer)
                    return run
                }
                _ = run(op, ["donor", "consent", donor, "--given-on", DonorLotCommandTests.day(-10), "--scope", "cell banking",
                             "--taken-by", "R. Nurse"])
                guard let collect = run(op, SameRecordRaceCommandTests.collectArguments(donor) + ["--json"]),
                      let collection = (try? collect.json())?["collection"] as? String else { return }
                _ = run(op, ["tissue", "receive", collection, "--condition", "acceptable"])
                _ = run(site.director, ["donor", "determine", donor, "--outcome", "ineligible", "--collection", collection],
                        signed: true)
                _ = run(op, ["donor", "withdraw-consent", donor, "--on", DonorLotCommandTests.day(-1),
                             "--reason", "donor withdrew by letter"])
            }
            let counts = tally.counts
            let examples = tally.examples.joined(separator: "\n")
            #expect(tally.writers == Self.writers, "all \(Self.writers) writers wrote: \(tally.writers)")
            #expect(counts[75] == nil, "exit 75 (retries exhausted) on different donors: \(counts)\n\(examples)")
            #expect(counts == [0: Self.writers * 5], "every command succeeds: \(counts)\n\(examples)")
            let database = try TestServer.connect(site.database)
            let recorded: Int64 = try database.query("""
                SELECT (SELECT count(*) FROM gmp.consent WHERE withdrawn_on IS NOT NULL)
                     + (SELECT count(*) FROM gmp.tissue_collection WHERE received_at IS NOT NULL)
                     + (SELECT count(*) FROM gmp.eligibility_determination) AS n
                """)[0].decode("n")
            #expect(recorded == Int64(Self.writers * 3), "every consent withdrawn, collection received, donor determined")
            let verify = try site.gmp(site.qa, ["audit", "verify", "--json"])
            #expect(verify.status == 0, "\(verify)")
        }
    }
}
