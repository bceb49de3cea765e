import Testing
import TestSupport

/// The contract of every failure: the documented exit code, and stderr holding exactly
/// one line, `error: <problem>; fix: <fix>`, with no stack trace.
/// The server's farewell when it is stopped immediately. libpq prints it itself when it
/// arrives while a connection is still being opened, before gmp's notice receiver is
/// installed, so a crash test may see it before gmp's one error line.
let serverShutdownWarning = "WARNING:  terminating connection due to immediate shutdown"

func expectOneLineError(_ run: GMPRun, exit code: Int32, mentioning words: [String] = [],
                        allowingShutdownWarning: Bool = false,
                        sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(run.status == code, "\(run)", sourceLocation: sourceLocation)
    let lines = run.stderrLines.filter { !(allowingShutdownWarning && $0.hasPrefix(serverShutdownWarning)) }
    #expect(lines.count == 1, "\(run)", sourceLocation: sourceLocation)
    let line = lines.first.map(String.init) ?? ""
    #expect(line.hasPrefix("error: "), "\(run)", sourceLocation: sourceLocation)
    #expect(line.contains("; fix: "), "\(run)", sourceLocation: sourceLocation)
    for word in words {
        #expect(line.contains(word), "expected '\(word)' in: \(line)", sourceLocation: sourceLocation)
    }
    for trace in ["Fatal error", "Stack dump", "Current stack trace", "backtrace"] {
        #expect(!run.stderr.contains(trace), sourceLocation: sourceLocation)
    }
}
