#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The audit trail's background chainer (extension/gmp_chainer, docs/audit-trail.md,
/// "Background chaining"; issue 19) in the embedded server: preloaded when this
/// installation has the library, as auth_delay is. Without it the server works as before
/// (gmp's writers and readers chain themselves), so it is never required.
extension EmbeddedCluster {
    static let chainerMarker = "# --- gmp background chainer ---"

    /// Whether this installation has gmp_chainer (installed by scripts/lib/server-extensions.sh).
    var chainerAvailable: Bool { hasServerLibrary("gmp_chainer") }

    /// Written after the preloaded libraries, whose `shared_preload_libraries` line it
    /// repeats with gmp_chainer added (the last line wins). Empty without the library.
    static func chainerSettings(authDelay: Bool, chainer: Bool) -> String {
        guard chainer else { return "" }
        return """

            \(chainerMarker)
            # A background worker chains the audit trail of database \(databaseName) every 200 ms, so
            # that no write has to chain after its commit (docs/audit-trail.md, "Background chaining").
            shared_preload_libraries = '\(authDelay ? "plpgsql,auth_delay" : "plpgsql"),gmp_chainer'
            gmp_chainer.databases = '\(databaseName)'
            gmp_chainer.naptime_ms = 200
            # The worker keeps the pending events few; a write chains by count only if it
            # falls this far behind (the age rule, 2 s, still holds without the worker).
            gmp.audit_chain_events = 20000

            """
    }

    /// A cluster made before the chainer, or before the library was installed, gets it at
    /// its next start; one that has it is left as it is.
    func addChainerIfMissing() throws {
        guard chainerAvailable else { return }
        let path = layout.dataDirectory + "/postgresql.conf"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              !text.contains(Self.chainerMarker) else { return }
        try account.writeFile(path, Self.chainerSettings(authDelay: authDelayAvailable, chainer: true), append: true)
    }
}
