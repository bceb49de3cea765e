#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Runs a helper program (weasyprint, zint) to completion: `posix_spawn` with the
/// arguments as an array and no shell, so no value in a path or a document can become a
/// command; input and output through unlinked temporary files, so a large output cannot
/// dead-lock a pipe.
enum ChildProcess {
    struct Run {
        /// The exit status (128 + N for signal N).
        let status: Int32
        let output: [UInt8]
        let errors: [UInt8]
    }

    /// Runs `program` with `arguments`, `input` on its stdin.
    /// - Parameter fix: the fix printed when the program cannot be started.
    static func run(_ program: String, _ arguments: [String], input: String, fix: String) throws -> Run {
        let stdin = try temporaryFile(holding: input)
        defer { close(stdin) }
        let output = try temporaryFile(holding: "")
        defer { close(output) }
        let errors = try temporaryFile(holding: "")
        defer { close(errors) }
        let status = try spawn(program, arguments, stdin: stdin, output: output, errors: errors, fix: fix)
        lseek(output, 0, SEEK_SET)
        lseek(errors, 0, SEEK_SET)
        return Run(status: status, output: readAll(output), errors: readAll(errors))
    }

    /// Runs `program` to completion; returns its exit status (128 + N for signal N).
    private static func spawn(_ program: String, _ arguments: [String], stdin: Int32, output: Int32, errors: Int32,
                              fix: String) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        posix_spawn_file_actions_adddup2(&actions, output, 1)
        posix_spawn_file_actions_adddup2(&actions, errors, 2)
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
                          fix: fix)
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
        var template = Array("\(directory)/gmp-child.XXXXXX".utf8CString)
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
