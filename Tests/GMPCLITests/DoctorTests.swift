import Testing
@testable import GMPCLI

@Suite("doctor: the transport to the server")
struct DoctorTransportTests {
    @Test("a Unix socket is fine; the network needs verified TLS", arguments: [
        ("/var/lib/gmp/run", true, false, String?("prefer"), DoctorCheck.Status.ok),
        ("db.example.org", false, true, "verify-full", .ok),
        ("db.example.org", false, true, "require", .warning),
        ("db.example.org", false, true, "prefer", .warning),
        ("db.example.org", false, false, "disable", .warning),
        ("127.0.0.1", false, false, nil, .warning),
    ])
    func transport(host: String, local: Bool, tls: Bool, mode: String?, status: DoctorCheck.Status) {
        let result = DoctorChecks.transport(host: host, isLocalSocket: local, usesTLS: tls, sslMode: mode)
        #expect(result.status == status)
        #expect((result.fix?.contains("sslmode=verify-full") ?? false) == (status == .warning))
    }
}

@Suite("doctor: a fix for every weakened protection")
struct DoctorProtectionFixTests {
    @Test("each kind of machinery problem gets its own fix", arguments: [
        ("trigger audit on gmp.lot is disabled or does not fire always", "ALTER TABLE gmp.lot ENABLE ALWAYS TRIGGER audit"),
        ("event trigger gmp_guard_drop is disabled or does not fire always", "ALTER EVENT TRIGGER gmp_guard_drop ENABLE ALWAYS"),
        ("event trigger gmp_record_ddl is missing", "CREATE EVENT TRIGGER"),
        ("table gmp.lot is not audited", "gmp_audit.audit_table('gmp.lot'"),
        ("routine gmp.code_in_force(timestamp with time zone) has no definition in the code record",
         "gmp db code gmp.code_in_force(timestamp with time zone)"),
        ("routine gmp_rules.password_min_length() differs from its definition in the code record (audit event 12)",
         "gmp db code gmp_rules.password_min_length()"),
    ])
    func fix(problem: String, expected: String) {
        #expect(DoctorChecks.protectionFix(for: problem).contains(expected))
    }
}

/// The problems' names, matched by hand since issue 18 took the regex literals out: the
/// regexes' forms, and nothing else (anything else gets the general fix).
@Suite("doctor: the names in a machinery problem")
struct MachineryProblemTests {
    static let general = "restore it as the database owner, then gmp audit verify"

    @Test("the forms the regexes refused get the general fix", arguments: [
        "trigger audit on gmp.lot is disabled",                              // suffix cut short
        "trigger  on gmp.lot is disabled or does not fire always",          // empty trigger name
        "trigger audit on  is disabled or does not fire always",            // empty table
        "trigger audit  on gmp.lot is disabled or does not fire always",    // two spaces
        "trigger audit of gmp.lot is disabled or does not fire always",     // not "on"
        "trigger audit on gmp lot is disabled or does not fire always",     // a space in a name
        "trigger is disabled or does not fire always",                      // prefix and suffix overlap
        "event trigger  is missing", "event trigger a b is missing", "event trigger is missing",
        "event trigger x\tz is disabled or does not fire always",
        "table  is not audited", "table gmp.lot is not audited yet", "the table gmp.lot is not audited",
        "routine  has no definition in the code record",                    // one space: no name
        "routine has no definition in the code record",
        "routine f() has no definition in the code",
        "routine f()\n has no definition in the code record",              // a newline
        "routine f() has no definition in the code record\n(audit event 3)",
        "something else",
        "",
    ])
    func refused(problem: String) {
        #expect(DoctorChecks.protectionFix(for: problem) == Self.general)
    }

    @Test("names are taken whole, the routine's up to the first phrase")
    func names() {
        #expect(MachineryProblem.words(in: "trigger a on b is disabled or does not fire always", between: "trigger ",
                                       and: " is disabled or does not fire always", count: 3) == ["a", "on", "b"])
        #expect(MachineryProblem.words(in: "event trigger on is missing", between: "event trigger ", and: " is missing", count: 1) == ["on"])
        #expect(MachineryProblem.routine(in: "routine f(a text, b int) differs from its definition in the code record (audit event 12)")
                == "f(a text, b int)")
        #expect(MachineryProblem.routine(in: "routine x has no definition in the code record has no definition in the code record")
                == "x")
        #expect(MachineryProblem.routine(in: "routine  has no definition in the code record has no definition in the code record")
                == " has no definition in the code record")
        #expect(MachineryProblem.routine(in: "routine é has no definition in the code record") == "é")
    }
}

/// The number forms of the command line and CSV output, matched by hand since issue 18.
@Suite("number forms: a negative argument, a plain CSV number")
struct NumberTextTests {
    @Test("negative numbers: -[0-9]+(\\.[0-9]*)?|-\\.[0-9]+", arguments: [
        ("-3", true), ("-30", true), ("-3.", true), ("-3.25", true), ("-.5", true), ("-0", true),
        ("-", false), ("-.", false), ("3", false), ("--3", false), ("-3.2.1", false), ("-3a", false), ("-a", false),
        ("- 3", false), ("-3 ", false), ("-٣", false), ("-3\u{301}", false), ("", false), ("-e5", false), ("-1e5", false),
    ])
    func negative(text: String, accepted: Bool) {
        #expect(NumberText.isNegativeNumber(text) == accepted)
    }

    @Test("plain numbers: -?[0-9]+(\\.[0-9]+)?", arguments: [
        ("3", true), ("-3", true), ("3.25", true), ("-0.5", true), ("007", true),
        ("-", false), ("3.", false), (".5", false), ("-.5", false), ("+3", false), ("=1+2", false), ("3.2.1", false),
        ("1e5", false), (" 3", false), ("3\n", false), ("", false), ("３", false),
    ])
    func plain(text: String, accepted: Bool) {
        #expect(NumberText.isPlainNumber(text) == accepted)
    }
}
