#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Runs one program to completion and captures everything it printed.
///
/// Two things make the obvious tools unsafe for `pg_ctl start`, which leaves a server
/// running in the background:
/// - Foundation's `Process` learns that its child exited when a socket it hands the
///   child is closed; the server inherits that socket, so `waitUntilExit()` would wait
///   for the *server* to exit (seen here: `runuser` a zombie, gmp hung). So this spawns
///   with `posix_spawn`, closes every descriptor above 2 in the child, and waits with
///   `waitpid`.
/// - A pipe inherited by the daemon would never reach end-of-file, and one nobody drains
///   blocks a chatty program. Output goes to an unlinked temporary file instead, which
///   has neither problem and leaves nothing behind after a crash.
struct Subprocess {
    /// How a program ended.
    struct Result: Sendable {
        /// The command line, for error messages.
        var command: String
        /// The exit status; 128 + N when killed by signal N, as shells report it.
        var status: Int32
        /// Standard output and standard error, interleaved as written.
        var output: String
    }

    /// Runs `executable` (an absolute path) with `arguments`, waiting for it to exit.
    ///
    /// - Parameter environment: the child's whole environment; this process's when nil.
    /// - Throws: `EmbeddedServerError.commandFailed` (status 127) when the program cannot
    ///   be started at all, or `.fileSystem` when no capture file can be made.
    static func run(
        _ executable: String,
        _ arguments: [String],
        workingDirectory: String? = nil,
        environment: [String: String]? = nil
    ) throws -> Result {
        let capture = try captureFile()
        defer { close(capture) }
        let command = commandLine(executable, arguments)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, capture, 1)
        posix_spawn_file_actions_adddup2(&actions, capture, 2)
        try GNUSpawnActions.closeFrom(3, in: &actions)
        if let workingDirectory { try GNUSpawnActions.changeDirectory(to: workingDirectory, in: &actions) }

        // Start from default signal handling and an empty mask, whatever this thread had.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var signals = sigset_t()
        sigemptyset(&signals)
        posix_spawnattr_setsigmask(&attributes, &signals)
        sigfillset(&signals)
        posix_spawnattr_setsigdefault(&attributes, &signals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let environment = environment ?? ProcessInfo.processInfo.environment
        let argv = CStringArray([executable] + arguments)
        let envp = CStringArray(environment.map { "\($0.key)=\($0.value)" })
        var pid = pid_t()
        let spawnError = posix_spawn(&pid, executable, &actions, &attributes, argv.pointers, envp.pointers)
        guard spawnError == 0 else {
            throw EmbeddedServerError.commandFailed(
                command: command, status: 127, output: "could not start it: \(EmbeddedServerError.systemMessage(spawnError))")
        }

        var waitStatus: Int32 = 0
        while waitpid(pid, &waitStatus, 0) < 0 {
            guard errno == EINTR else {
                throw EmbeddedServerError.commandFailed(
                    command: command, status: -1, output: "could not wait for it: \(EmbeddedServerError.systemMessage(errno))")
            }
        }
        // The W* macros are not imported: low 7 bits are the terminating signal (0 for a
        // normal exit), the next byte the exit status.
        let signal = waitStatus & 0x7f
        let status = signal == 0 ? (waitStatus >> 8) & 0xff : 128 + signal

        lseek(capture, 0, SEEK_SET)
        return Result(command: command, status: status, output: String(decoding: POSIXFile.readToEnd(capture), as: UTF8.self))
    }

    /// The command as a person would type it, for error messages.
    private static func commandLine(_ executable: String, _ arguments: [String]) -> String {
        ([executable] + arguments).joined(separator: " ")
    }

    /// An anonymous read-write file in the temporary directory, close-on-exec so that
    /// only the child's stdout and stderr refer to it.
    private static func captureFile() throws -> Int32 {
        let directory = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(directory)/gmp-output.XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw EmbeddedServerError.fileSystem(directory, "create a temporary file in")
        }
        unlink(template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)  // mkostemp, which would do this at once, is not imported
        return fd
    }
}

extension Subprocess.Result {
    /// The error describing this run's failure: the command, its status and the tail of
    /// its output.
    var failure: EmbeddedServerError {
        .commandFailed(command: command, status: status, output: EmbeddedServerError.excerpt(output))
    }

    /// This result, or `failure` thrown when the program exited unsuccessfully.
    @discardableResult
    func checked() throws -> Subprocess.Result {
        guard status == 0 else { throw failure }
        return self
    }
}

/// A NULL-terminated array of C strings for `posix_spawn`, freed with the value.
private final class CStringArray {
    let pointers: [UnsafeMutablePointer<CChar>?]

    init(_ strings: [String]) {
        pointers = strings.map { strdup($0) } + [nil]
    }

    deinit {
        pointers.forEach { free($0) }
    }
}

/// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34) and `…_addchdir_np` (2.29).
/// Swift's Glibc module does not declare these GNU extensions, so they are looked up at
/// run time; Debian 12 has glibc 2.36.
private enum GNUSpawnActions {
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32
    typealias ChangeDirectory = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, UnsafePointer<CChar>?) -> Int32

    static func closeFrom(_ lowest: Int32, in actions: inout posix_spawn_file_actions_t) throws {
        let function = try symbol("posix_spawn_file_actions_addclosefrom_np", as: CloseFrom.self)
        try check(function(&actions, lowest), "posix_spawn_file_actions_addclosefrom_np")
    }

    static func changeDirectory(to path: String, in actions: inout posix_spawn_file_actions_t) throws {
        let function = try symbol("posix_spawn_file_actions_addchdir_np", as: ChangeDirectory.self)
        try check(function(&actions, path), "posix_spawn_file_actions_addchdir_np")
    }

    private static func symbol<F>(_ name: String, as type: F.Type) throws -> F {
        guard let address = dlsym(nil, name) else {
            throw EmbeddedServerError.commandFailed(
                command: name, status: -1, output: "this C library lacks it (glibc 2.34 or newer is needed)")
        }
        return unsafeBitCast(address, to: type)
    }

    private static func check(_ result: Int32, _ name: String) throws {
        guard result == 0 else {
            throw EmbeddedServerError.commandFailed(command: name, status: -1, output: EmbeddedServerError.systemMessage(result))
        }
    }
}
