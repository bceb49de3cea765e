import Foundation
import PostgresClient
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Issue 18, "during the outage a client gets a clear error and a documented exit code
/// within the connect timeout, never a hang": a server stopped outright refuses the
/// connection at once (`CrashTests`); one that is hung, or behind a broken network, takes
/// the connection and never answers. libpq then waits for `connect_timeout`, which gmp
/// sets (5 s unless configured): without it, the command would wait for ever.
extension DatabaseFailureTests {
    /// A TCP port on 127.0.0.1 whose kernel completes every connection while nothing ever
    /// answers on it: a hung server, as a client sees it.
    final class SilentListener {
        let descriptor: Int32
        let port: UInt16

        init() throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw TestSetupError("socket() failed: \(errno)") }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    bind(fd, socketAddress, length) == 0 && listen(fd, 64) == 0 && getsockname(fd, socketAddress, &length) == 0
                }
            }
            guard bound else {
                close(fd)
                throw TestSetupError("could not listen on 127.0.0.1: \(errno)")
            }
            descriptor = fd
            port = UInt16(bigEndian: address.sin_port)
        }

        deinit { close(descriptor) }
    }

    /// The connect timeout gmp sets when nothing else does (Settings, `database.connect_timeout`).
    static let defaultConnectTimeout: TimeInterval = 5

    @Test("a server that takes the connection and never answers: a read and a write each exit 69 with a clear error once the connect timeout (5 s) has passed, never a hang")
    func hungServer() throws {
        let listener = try SilentListener()
        let database = "host=127.0.0.1 port=\(listener.port) dbname=gmp user=gmp_nobody"
        for arguments in [["db", "status", "--json"],
                          ["donor", "register", "--use", "allogeneic", "--name", "Written During The Outage"]] {
            let started = Date()
            // Killed after a minute: a hang fails the test instead of stalling the suite.
            let run = try GMPBinary.run(arguments + ["--database", database], environment: ["PGPASSWORD": "unused-Pass-1"],
                                        killAfter: 60)
            let waited = Date().timeIntervalSince(started)
            #expect(!run.killed, "\(arguments) hung on a server that never answers: \(run)")
            expectOneLineError(run, exit: 69, mentioning: ["cannot reach the database server", "timeout",
                                                           "make sure the server is running"])
            // It is the connect timeout that ended the wait: not sooner, and not much later.
            #expect(waited >= Self.defaultConnectTimeout - 0.5 && waited < Self.defaultConnectTimeout + 15,
                    "\(arguments) waited \(waited) s, not the connect timeout's \(Self.defaultConnectTimeout) s")
        }
    }

    @Test("a hung first server of a multi-host string costs the connect timeout, then the next server answers")
    func hungFirstHost() throws {
        let listener = try SilentListener()
        var parameters = try ConnectionString.parse(try TestServer.connectionString(database: "postgres"))
        let host = try #require(parameters["host"], "the test server's string names its host")
        parameters["host"] = "127.0.0.1,\(host)"
        parameters["port"] = "\(listener.port),\(parameters["port"] ?? "5432")"
        let both = ConnectionString.make(parameters.sorted { $0.key < $1.key }.map { (key: $0.key, value: $0.value) })
        let started = Date()
        let run = try GMPBinary.run(["db", "status", "--json", "--database", both], killAfter: 60)
        let waited = Date().timeIntervalSince(started)
        #expect(run.status == 0, "\(run)")
        #expect(waited >= Self.defaultConnectTimeout - 0.5, "the first host was tried for its connect timeout: \(waited) s")
    }
}
