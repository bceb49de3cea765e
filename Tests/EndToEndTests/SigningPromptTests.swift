import Foundation
import Testing
import TestSupport

/// Runs the gmp binary on a pseudo-terminal (python3's pty module, which scripts/test
/// installs), answering each password prompt in turn: what a person at a terminal sees.
enum PseudoTerminal {
    static let driver = #"""
        import json, os, pty, select, sys, time
        argv, env, answers = json.loads(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3])
        pid, fd = pty.fork()
        if pid == 0:
            os.execve(argv[0], argv, env)
        out, since, deadline = b"", 0, time.time() + 60
        while time.time() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.1)
            if not ready:
                # A prompt waits for input: answer once gmp has turned echo off.
                if answers and out[since:].rstrip().endswith(b":"):
                    time.sleep(0.3)
                    os.write(fd, (answers.pop(0) + "\n").encode())
                    since = len(out)
                continue
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            out += data
        _, status = os.waitpid(pid, 0)
        sys.stdout.write(out.decode("utf-8", "replace"))
        sys.exit(os.waitstatus_to_exitcode(status))
        """#

    /// What the terminal showed and the exit status.
    static func run(_ arguments: [String], environment: [String: String], answers: [String]) throws -> GMPRun {
        var base = ProcessInfo.processInfo.environment.filter { key, _ in !key.hasPrefix("PG") && !key.hasPrefix("GMP_") }
        base["XDG_CONFIG_HOME"] = "/nonexistent-gmp-test-config"
        base["TERM"] = "dumb"
        let env = base.merging(environment) { _, new in new }
        func json(_ value: Any) throws -> String { String(decoding: try JSONSerialization.data(withJSONObject: value), as: UTF8.self) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", driver, try json([try GMPBinary.path()] + arguments), try json(env), try json(answers)]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return GMPRun(status: process.terminationStatus, stdout: text.replacingOccurrences(of: "\r\n", with: "\n"), stderr: "")
    }
}

/// Issue 16, item 1: the signing prompt shows what is being signed before it asks, and
/// `user passwd` asks for the current password as what it is, not as a signature.
@Suite("prompts on a terminal: what a signature covers; the current password")
struct SigningPromptTests {
    @Test("a signing prompt shows the record, the meaning and the statement before asking for the password")
    func signingShowsWhatIsSigned() throws {
        try TestServer.withMigratedDatabase { database in
            let qa = try TestAccount.create(in: database, roles: ["qa"])
            let run = try PseudoTerminal.run(["audit", "review", "--statement", "weekly check of alerts", "-d", database, "-U", qa.id],
                                             environment: ["PGPASSWORD": qa.password], answers: [qa.password])
            #expect(run.status == 0, "\(run)")
            let prompt = try #require(run.stdout.range(of: "Password for \(qa.id) (signing):"), "\(run)")
            let before = run.stdout[..<prompt.lowerBound]
            #expect(before.contains("You are signing as \(qa.id):"), "\(run)")
            #expect(before.contains("record     the audit trail through event "), "\(run)")
            #expect(before.contains("meaning    reviewed"), "\(run)")
            #expect(before.contains("statement  weekly check of alerts"), "\(run)")
            #expect(run.stdout.contains("signed: \(qa.id) reviewed the audit trail"), "\(run)")
        }
    }

    @Test("user passwd asks for the current password, not for a signature")
    func passwdPrompt() throws {
        try TestServer.withMigratedDatabase { database in
            let person = try TestAccount.create(in: database, roles: ["qc"], temporary: true)
            let new = "a new and long passphrase"
            let run = try PseudoTerminal.run(["user", "passwd", "-d", database, "-U", person.id],
                                             environment: ["PGPASSWORD": person.password], answers: [person.password, new, new])
            #expect(run.status == 0, "\(run)")
            #expect(run.stdout.contains("Current password for \(person.id):"), "\(run)")
            #expect(!run.stdout.contains("(signing)"), "\(run)")
            #expect(run.stdout.contains("\(person.id): password changed"), "\(run)")
        }
    }
}
