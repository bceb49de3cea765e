import Foundation
import Testing
import TestSupport
import PostgresClient
#if canImport(Glibc)
import Glibc
#endif

/// Whether this build links libpq's shared library on purpose (Package.swift's fallback).
private let dynamicByRequest = ProcessInfo.processInfo.environment["GMP_LIBPQ_LINK"] == "dynamic"

/// libpq, pgcommon, libssl and libcrypto linked into gmp, GSSAPI and LDAP loaded only when a
/// connection uses them (Package.swift, Sources/CLibPQLink; issue 18's start-up).
@Suite("libpq linked in: no libpq, GSSAPI or LDAP loaded at start, both still answer when used")
struct LibPQLinkTests {
    @Test("the gmp binary needs no libpq, libssl, libcrypto, GSSAPI or LDAP shared library",
          .disabled(if: dynamicByRequest, "GMP_LIBPQ_LINK=dynamic: this build links libpq.so.5 on purpose"))
    func noSharedLibPQ() throws {
        let needed = try Self.neededLibraries(of: GMPBinary.path())
        #expect(needed.contains { $0.hasPrefix("libc.so") }, "readelf's answer was read: \(needed)")
        for prefix in ["libpq.so", "libgssapi", "libldap", "libssl.so", "libcrypto.so", "libkrb5"] {
            #expect(!needed.contains { $0.hasPrefix(prefix) }, "\(prefix) is loaded at every start: \(needed)")
        }
    }

    @Test("over TCP (gssencmode=prefer asks GSSAPI for a credential cache first) gmp connects and works")
    func tcpWithGSSAPIPrefer() throws {
        try TestServer.withDatabase { database in
            let proxy = try TCPToUnixProxy(socketPath: TestServer.socketDirectory() + "/.s.PGSQL.5432")
            defer { proxy.close() }
            let run = try GMPBinary.run(["db", "status", "--json", "--database", "\(database) host=127.0.0.1 port=\(proxy.port)"])
            #expect(run.status == 0, "\(run)")
            #expect((try run.json()["schema"] as? [String: Any])?["version"] as? Int == 0, "\(run)")
        }
    }

    @Test("over TCP with gssencmode=require the refusal is libpq's GSSAPI one")
    func tcpWithGSSAPIRequired() throws {
        let proxy = try TCPToUnixProxy(socketPath: TestServer.socketDirectory() + "/.s.PGSQL.5432")
        defer { proxy.close() }
        let database = try TestServer.connectionString(database: "postgres")
        let run = try GMPBinary.run(["db", "status", "--database", "\(database) host=127.0.0.1 port=\(proxy.port) gssencmode=require"])
        expectOneLineError(run, exit: 69, mentioning: ["GSSAPI encryption required but was impossible"])
    }

    @Test("an ldap:// line in a service file is looked up through libldap (refused on port 1), then the entry's other lines")
    func ldapServiceLookup() throws {
        try TestServer.withDatabase { database in
            let parameters = try ConnectionString.parse(database).sorted { $0.key < $1.key }
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gmp-ldap-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let file = directory.appendingPathComponent("pg_service.conf")
            // libpq: an LDAP server that cannot be reached ("error or network timeout") is
            // not an error: the entry's remaining lines are read instead. Without libldap,
            // ldap_init fails and libpq stops with "could not create LDAP structure".
            try ("[gmpldap]\nldap://127.0.0.1:1/dc=example,dc=org?uri?one?(cn=gmp)\n"
                + parameters.map { "\($0.key)=\($0.value)\n" }.joined()).write(to: file, atomically: true, encoding: .utf8)
            let run = try GMPBinary.run(["db", "status", "--json", "--database", "service=gmpldap"],
                                        environment: ["PGSERVICEFILE": file.path])
            #expect(!run.stderr.contains("could not create LDAP structure"), "libldap was not loaded: \(run)")
            #expect(run.status == 0, "\(run)")
        }
    }

    @Test("gmp doctor says which libpq and OpenSSL gmp runs and how they are linked")
    func doctorSaysHowLinked() throws {
        let run = try GMPBinary.run(["doctor", "--json", "--database", "host=/nonexistent-gmp-dir"])
        let checks = try run.json()["checks"] as? [[String: Any]] ?? []
        let libpq = try #require(checks.first { $0["name"] as? String == "libpq" }, "\(run)")
        let detail = libpq["detail"] as? String ?? ""
        #expect(detail.contains("client library 15."), "\(detail)")
        #expect(detail.contains("OpenSSL 3."), "\(detail)")
        if dynamicByRequest {
            #expect(detail.contains("libpq.so.5"), "\(detail)")
        } else {
            #expect(detail.contains("linked into gmp") && detail.contains("rebuild"), "\(detail)")
        }
    }

    /// The DT_NEEDED entries of an ELF file, as `readelf -d` lists them.
    static func neededLibraries(of path: String) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/readelf")
        process.arguments = ["-d", path]
        process.environment = ["LC_ALL": "C"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "readelf -d \(path)")
        return output.split(separator: "\n").filter { $0.contains("(NEEDED)") }.compactMap { line in
            guard let open = line.firstIndex(of: "["), let close = line.lastIndex(of: "]") else { return nil }
            return String(line[line.index(after: open)..<close])
        }
    }
}

/// Forwards TCP connections on 127.0.0.1 to a Unix socket: the test server listens on no
/// TCP port, and libpq asks GSSAPI for credentials only over TCP.
final class TCPToUnixProxy: @unchecked Sendable {
    let port: Int
    private let listener: Int32

    init(socketPath: String) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && listen(listener, 8) == 0 && getsockname(listener, $0, &length) == 0
            }
        }
        guard listener >= 0, bound else { throw TestSetupError("cannot listen on 127.0.0.1: errno \(errno)") }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread {
            while true {
                let client = accept(listener, nil, nil)
                if client < 0 { return }  // closed
                let server = Self.connectUnix(socketPath)
                guard server >= 0 else { Glibc.close(client); continue }
                // The second pump to end closes both sockets.
                let running = Locked(2)
                let finish: @Sendable () -> Void = {
                    var last = false
                    running.mutate { $0 -= 1; last = $0 == 0 }
                    if last { Glibc.close(client); Glibc.close(server) }
                }
                Thread.detachNewThread { Self.pump(from: client, to: server); finish() }
                Thread.detachNewThread { Self.pump(from: server, to: client); finish() }
            }
        }
    }

    func close() {
        shutdown(listener, Int32(SHUT_RDWR))
        Glibc.close(listener)
    }

    private static func connectUnix(_ path: String) -> Int32 {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { bytes in
            for (index, byte) in path.utf8.prefix(bytes.count - 1).enumerated() { bytes[index] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0
            }
        }
        if !connected { Glibc.close(descriptor); return -1 }
        return descriptor
    }

    /// Copies bytes until `source` ends, then ends `destination`'s writing side too.
    private static func pump(from source: Int32, to destination: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        outer: while true {
            let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            var sent = 0
            while sent < count {
                let written = buffer.withUnsafeBytes { write(destination, $0.baseAddress! + sent, count - sent) }
                if written <= 0 { break outer }
                sent += written
            }
        }
        shutdown(destination, Int32(SHUT_WR))
    }
}
