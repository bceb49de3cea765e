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
