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
