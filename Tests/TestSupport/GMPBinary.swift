import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What one run of the gmp binary produced.
public struct GMPRun: Sendable, CustomStringConvertible {
    public let status: Int32
    public let stdout: String
    public let stderr: String
    /// Ended by a signal (the `killAfter` of ``GMPBinary/run``), not by exiting: `status`
    /// is then the signal's number.
    public let killed: Bool

    public init(status: Int32, stdout: String, stderr: String, killed: Bool = false) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
        self.killed = killed
    }

    /// The non-empty lines of stderr.
    public var stderrLines: [Substring] { stderr.split(separator: "\n") }

    /// stdout parsed as one JSON object.
    public func json() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any] else {
            throw TestSetupError("stdout is not a JSON object: \(stdout)")
        }
        return object
    }

    public var description: String { "\(killed ? "killed by signal" : "exit") \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
}

/// Runs the built `gmp` executable, as a user would.
public enum GMPBinary {
    /// `GMP_BINARY`, else the `gmp` beside the test bundle (swift build puts them together).
    public static func path() throws -> String {
        if let explicit = ProcessInfo.processInfo.environment["GMP_BINARY"], !explicit.isEmpty { return explicit }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        // On Linux the test runner is <build>/debug/gmpPackageTests.xctest.
        for _ in 0..<3 {
            let candidate = directory.appendingPathComponent("gmp").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        throw TestSetupError("cannot find the gmp binary next to \(CommandLine.arguments[0]); build it or set GMP_BINARY")
    }

    /// Runs gmp with `arguments` in a clean environment: PATH and HOME from this process,
    /// no PG* or GMP_* variables unless given in `environment`.
    /// `executable` names another program built beside gmp (e.g. `MigrationEmbedder`);
    /// `workingDirectory` is where it runs (default: this process's). With `killAfter`, a
    /// process still running after that many seconds is killed with SIGKILL (a crash test's
    /// random point, or a hang's bound): the run then says `killed`. `started` (with
    /// `killAfter`) hears the process id as soon as gmp runs, for a test that stops,
    /// continues or kills it at a moment it chooses.
    public static func run(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil,
                           executable: String? = nil, workingDirectory: String? = nil,
                           killAfter: TimeInterval? = nil, started: ((Int32) -> Void)? = nil) throws -> GMPRun {
        let gmp = URL(fileURLWithPath: try path())
        let program = executable.map { gmp.deletingLastPathComponent().appendingPathComponent($0) } ?? gmp
        var base = ProcessInfo.processInfo.environment.filter { key, _ in
            !key.hasPrefix("PG") && !key.hasPrefix("GMP_") && key != "NO_COLOR"
        }
        // No stray configuration file from the machine running the tests.
        base["XDG_CONFIG_HOME"] = "/nonexistent-gmp-test-config"
        let childEnvironment = base.merging(environment) { _, new in new }

        // Temporary files, not pipes: nothing can block on a full pipe, and a server
        // started by gmp cannot hold our end open.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gmp-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("stdout"), err = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let input = directory.appendingPathComponent("stdin")
        if let stdin { try Data(stdin.utf8).write(to: input) }
        func read(_ file: URL) -> String {
            // Decoded as is: String(contentsOf:encoding:) would drop a byte order mark.
            String(decoding: (try? Data(contentsOf: file)) ?? Data(), as: UTF8.self)
        }
        if let killAfter {
            // posix_spawn and waitpid (Spawn): the crash tests run gmp while servers start
            // and stop, where Foundation's Process sometimes never saw a child exit.
            precondition(workingDirectory == nil, "killAfter runs in this process's directory")
            let outcome = try Spawn.run(program.path, arguments, environment: childEnvironment,
                                        stdin: stdin == nil ? "/dev/null" : input.path, stdout: out.path, stderr: err.path,
                                        killAfter: killAfter, started: started)
            return GMPRun(status: outcome.status, stdout: read(out), stderr: read(err), killed: outcome.killed)
        }
        precondition(started == nil, "started needs killAfter (posix_spawn)")
        let process = Process()
        process.executableURL = program
        process.arguments = arguments
        if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        process.environment = childEnvironment
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = stdin == nil ? FileHandle.nullDevice : try FileHandle(forReadingFrom: input)
        try process.run()
        process.waitUntilExit()
        return GMPRun(status: process.terminationStatus, stdout: read(out), stderr: read(err))
    }
}
