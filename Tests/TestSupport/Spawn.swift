import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a program with posix_spawn and reaps it with waitpid on its own pid, for the
/// tests that start and stop servers while other programs run: there Foundation's
/// `Process` now and then never noticed a child's exit (a zombie `gmp`, or the
/// `runuser` of a `pg_ctl start`, left unreaped), and `waitUntilExit` waited for ever.
enum Spawn {
    struct Outcome {
        /// The exit status, or the signal's number when `killed`.
        let status: Int32
        let killed: Bool
    }

    /// Runs `executable` with stdin, stdout and stderr from and to the given files; kills
    /// it with SIGKILL if it still runs after `killAfter` seconds. `started` hears its pid
    /// as soon as it runs (a test that stops or kills it at a chosen moment).
    static func run(_ executable: String, _ arguments: [String], environment: [String: String],
                    stdin: String, stdout: String, stderr: String, killAfter: TimeInterval?,
                    started: ((pid_t) -> Void)? = nil) throws -> Outcome {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard spawned == 0 else { throw TestSetupError("cannot start \(executable): error \(spawned)") }
        started?(pid)
        let deadline = killAfter.map { Date().addingTimeInterval($0) }
        var status: Int32 = 0
        while true {
            let reaped = waitpid(pid, &status, deadline == nil ? 0 : WNOHANG)
            if reaped == pid { break }
            if reaped < 0 && errno != EINTR { throw TestSetupError("waitpid \(pid): errno \(errno)") }
            if let deadline, Date() >= deadline {
                kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                break
            }
            if deadline != nil { usleep(2_000) }
        }
        // WIFSIGNALED / WTERMSIG / WEXITSTATUS, which Swift does not import (macros).
        let signal = status & 0x7f
        return signal != 0 && signal != 0x7f ? Outcome(status: signal, killed: true)
                                             : Outcome(status: (status >> 8) & 0xff, killed: false)
    }
}
