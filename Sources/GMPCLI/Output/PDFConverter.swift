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
    /// - Parameter searchPath: where to look for weasyprint; PATH by default.
    /// - Throws: `Failure` (unavailable) when weasyprint is not found or fails.
    static func convert(html: String, to path: String,
                        searchPath: String? = ProcessInfo.processInfo.environment["PATH"]) throws {
        guard let weasyprint = executable(named: "weasyprint", path: searchPath) else {
            throw Failure(exitCode: .unavailable, problem: "weasyprint was not found on PATH", fix: installFix)
        }
        // A path starting with "-" would be read as an option.
        let target = path.hasPrefix("/") ? path : "./" + path
        let partial = target + ".partial-\(getpid())"
        let input = try temporaryFile(holding: html)
        defer { close(input) }
        let output = try temporaryFile(holding: "")
        defer { close(output) }

        let status = try spawn(weasyprint, ["--encoding", "utf-8", "-", partial], stdin: input, output: output)
        guard status == 0, rename(partial, target) == 0 else {
            let renameError = status == 0 ? "could not move it to \(target): \(String(cString: strerror(errno)))" : nil
            unlink(partial)
            lseek(output, 0, SEEK_SET)
            // A Python traceback's last line names the cause ("FileNotFoundError: …").
            let log = renameError ?? String(decoding: readAll(output), as: UTF8.self)
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

    /// Runs `program` to completion; returns its exit status (128 + N for signal N).
    private static func spawn(_ program: String, _ arguments: [String], stdin: Int32, output: Int32) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        posix_spawn_file_actions_adddup2(&actions, output, 1)
        posix_spawn_file_actions_adddup2(&actions, output, 2)
        // The database socket and other descriptors are none of the child's business.
        if let closeFrom = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
            typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32
            _ = unsafeBitCast(closeFrom, to: CloseFrom.self)(&actions, 3)
        }
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        let envp = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }

        var pid = pid_t()
        let error = posix_spawn(&pid, program, &actions, nil, argv, envp)
        guard error == 0 else {
            throw Failure(exitCode: .unavailable, problem: "could not start \(program): \(String(cString: strerror(error)))",
                          fix: installFix)
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { return -1 }
        }
        // WIFEXITED/WEXITSTATUS are not imported: low 7 bits are the signal, the next byte the status.
        return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }

    /// An unlinked, close-on-exec temporary file holding `text`, positioned at its start.
    private static func temporaryFile(holding text: String) throws -> Int32 {
        let directory = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(directory)/gmp-pdf.XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw Failure(exitCode: .configuration, problem: "cannot create a temporary file in \(directory)",
                          fix: "set TMPDIR to a writable directory")
        }
        unlink(template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else {
                close(fd)
                throw Failure(exitCode: .configuration, problem: "cannot write a temporary file in \(directory)",
                              fix: "free space in \(directory) or set TMPDIR")
            }
            bytes = bytes.dropFirst(written)
        }
        lseek(fd, 0, SEEK_SET)
        return fd
    }

    private static func readAll(_ fd: Int32) -> [UInt8] {
        var result: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return result }
            result += buffer[..<count]
        }
    }
}
