import PostgresClient
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What every gmp command's fresh backend pays before its statements run, lowered by the
/// embedded server's settings (issue 18; docs/server-settings.md, measured in
/// docs/benchmarks.md "Start-up (issue 18)"). Every gmp command is a new connection, so
/// a new backend forked from the postmaster that faults in every page of shared and
/// private memory it touches and loads every library it calls.
extension EmbeddedCluster {
    static let freshBackendMarker = "# --- gmp fresh backends ---"

    /// Whether this installation has gmp_audit_native (scripts/lib/server-extensions.sh).
    var nativeAuditAvailable: Bool { hasServerLibrary("gmp_audit_native") }

    /// Written after the chainer's block, whose `shared_preload_libraries` line it repeats
    /// with gmp_audit_native added when installed (the last line wins).
    ///
    /// - `huge_pages = try`: the shared memory on 2 MiB pages when the machine reserved
    ///   them (vm.nr_hugepages), else on ordinary pages; a backend then faults in a few
    ///   huge pages instead of a 4 kB page for each buffer descriptor, lock or slot it
    ///   touches. PostgreSQL's default too, written so that the file says it.
    /// - gmp_audit_native preloaded: the audit trigger's library is mapped once in the
    ///   postmaster, and every backend that writes inherits it instead of loading it.
    static func freshBackendSettings(authDelay: Bool, chainer: Bool, nativeAudit: Bool) -> String {
        var text = """

            \(freshBackendMarker)
            # Shared memory on huge pages when the machine reserved enough of them (sysctl
            # vm.nr_hugepages; docs/server-settings.md), on ordinary pages otherwise.
            huge_pages = try

            """
        if nativeAudit {
            let libraries = ["plpgsql"] + (authDelay ? ["auth_delay"] : []) + (chainer ? ["gmp_chainer"] : [])
                + ["gmp_audit_native"]
            text += """
                # The audit trigger's library loaded once at server start, not by every writing connection.
                shared_preload_libraries = '\(libraries.joined(separator: ","))'

                """
        }
        return text
    }

    /// A cluster made before these settings gets them at its next start; one that has them
    /// is left as it is.
    func addFreshBackendSettingsIfMissing() throws {
        let path = layout.dataDirectory + "/postgresql.conf"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              !text.contains(Self.freshBackendMarker) else { return }
        try account.writeFile(path, Self.freshBackendSettings(authDelay: authDelayAvailable, chainer: chainerAvailable,
                                                              nativeAudit: nativeAuditAvailable),
                              append: true)
    }

    /// The glibc tunable the server is started with: malloc asks for transparent huge
    /// pages (`madvise`) on its heap, so a backend's private memory (catalog caches,
    /// plans, the document it builds) faults in 2 MiB at a time instead of 4 kB. Only
    /// where the kernel's transparent huge pages are `madvise` or `always`; glibc before
    /// 2.35 ignores it. A tunable the caller already set for malloc's huge pages is kept.
    static let mallocHugePagesTunable = "glibc.malloc.hugetlb=1"

    /// The server programs' environment: the caller's, with `GLIBC_TUNABLES` carrying
    /// ``mallocHugePagesTunable``.
    static func serverEnvironment(from environment: [String: String]) -> [String: String] {
        var result = environment
        let existing = environment["GLIBC_TUNABLES"] ?? ""
        if !existing.contains("glibc.malloc.hugetlb") {
            result["GLIBC_TUNABLES"] = existing.isEmpty ? mallocHugePagesTunable : existing + ":" + mallocHugePagesTunable
        }
        return result
    }
}

/// What the running embedded server's shared memory lives on. PostgreSQL 15 has no
/// setting that tells (`huge_pages_status` is 17's), so this reads the postmaster's
/// `/proc/PID/status`, which any local account may read: `HugetlbPages` counts the huge
/// pages the postmaster has mapped, and its only such mapping is the shared memory.
public enum SharedMemoryPages: Equatable, Sendable {
    /// On huge pages; `kilobytes` of them are in use by the postmaster now.
    case huge(kilobytes: Int)
    /// On ordinary pages (no huge pages reserved, or too few when the server started).
    case ordinary

    /// Read for the server whose postmaster.pid is under `layout`; nil when no server
    /// runs there or the kernel does not say (no /proc, or a pid reused by another program).
    public static func of(_ layout: EmbeddedLayout) -> SharedMemoryPages? {
        guard let pidText = POSIXFile.contents(of: layout.pidFile),
              let firstLine = pidText.split(separator: "\n", maxSplits: 1).first,
              let pid = Int32(firstLine.trimmingWhitespace), pid > 0,
              let status = POSIXFile.contents(of: "/proc/\(pid)/status") else { return nil }
        return parse(status: status)
    }

    /// From the text of a `/proc/PID/status`: nil unless it is a postgres process whose
    /// kernel reports `HugetlbPages` (Linux 4.4 and later).
    ///
    /// Read as UTF-8 bytes: the file is ASCII, and splitting its ~60 lines into
    /// `Character`s cost `db status` 1.3 M instructions, 4% of the cold command (issue 18).
    static func parse(status: String) -> SharedMemoryPages? {
        var name: Substring?
        var kilobytes: Int?
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        for line in status.utf8.split(separator: UInt8(ascii: "\n")) {
            // "Name:\tpostgres", "HugetlbPages:\t   16384 kB": the first two fields of those two
            // lines are all that is read, so no other line is split.
            guard let first = line.first(where: { !isBlank($0) }),
                  first == UInt8(ascii: "N") || first == UInt8(ascii: "H") else { continue }
            let fields = line.split(maxSplits: 2, whereSeparator: isBlank)
            guard fields.count >= 2 else { continue }
            if fields[0].elementsEqual("Name:".utf8) { name = Substring(fields[1]) }
            if fields[0].elementsEqual("HugetlbPages:".utf8) { kilobytes = Int(Substring(fields[1])) }
        }
        guard name == "postgres", let kilobytes else { return nil }
        return kilobytes > 0 ? .huge(kilobytes: kilobytes) : .ordinary
    }
}
