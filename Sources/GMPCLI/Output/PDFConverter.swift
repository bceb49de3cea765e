#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// HTML to PDF through WeasyPrint (Debian's `weasyprint`), which lays out print CSS
/// (@page, page counters) as a browser's print dialog would not reliably.
///
/// Spawned with `posix_spawn`, arguments as an array and no shell, so no value in a
/// path or a document can become a command. The HTML goes in on stdin (it names no
/// external resources), and the PDF is written next to `to` and renamed into place,
/// so a failed conversion never leaves a truncated certificate under the real name.
enum PDFConverter {
    static let installFix = "install it: apt-get install -y weasyprint"

    /// Writes `html` (the page's text, e.g. `CertificateRendering.html(_:)`) as a PDF at `path`.
    /// - Parameter variant: a PDF variant weasyprint knows, e.g. "pdf/a-3b" (archival: fonts
    ///   embedded, metadata in XMP), or nil for a plain PDF.
    /// - Parameter searchPath: where to look for weasyprint; PATH by default.
    /// - Throws: `Failure` (unavailable) when weasyprint is not found or fails.
    static func convert(html: String, to path: String, variant: String? = nil,
                        searchPath: String? = ProcessInfo.processInfo.environment["PATH"]) throws {
        guard let weasyprint = executable(named: "weasyprint", path: searchPath) else {
            throw Failure(exitCode: .unavailable, problem: "weasyprint was not found on PATH", fix: installFix)
        }
        // A path starting with "-" would be read as an option.
        let target = path.hasPrefix("/") ? path : "./" + path
        let partial = target + ".partial-\(getpid())"
        let run = try ChildProcess.run(weasyprint, ["--encoding", "utf-8"] + (variant.map { ["--pdf-variant", $0] } ?? []) + ["-", partial], input: html, fix: installFix)
        let status = run.status
        guard status == 0, rename(partial, target) == 0 else {
            let renameError = status == 0 ? "could not move it to \(target): \(String(cString: strerror(errno)))" : nil
            unlink(partial)
            // A Python traceback's last line names the cause ("FileNotFoundError: …").
            let log = renameError ?? String(decoding: run.output + run.errors, as: UTF8.self)
                .split(whereSeparator: \.isNewline).last.map(String.init) ?? "no output"
            throw Failure(exitCode: .unavailable, problem: "weasyprint could not write \(path) (status \(status)): \(log)",
                          fix: "check that the directory is writable; weasyprint --info shows its setup")
        }
    }

    /// The first executable `name` in PATH's directories.
    static func executable(named name: String, path: String? = ProcessInfo.processInfo.environment["PATH"]) -> String? {
        (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":").lazy
            .map { "\($0)/\(name)" }.first { access($0, X_OK) == 0 }
    }
}
