import Testing
import TestSupport

/// The contract of every failure: the documented exit code, and stderr holding exactly
/// one line, `error: <problem>; fix: <fix>`, with no stack trace.
func expectOneLineError(_ run: GMPRun, exit code: Int32, mentioning words: [String] = [],
                        sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(run.status == code, "\(run)", sourceLocation: sourceLocation)
    #expect(run.stderrLines.count == 1, "\(run)", sourceLocation: sourceLocation)
    let line = run.stderrLines.first.map(String.init) ?? ""
    #expect(line.hasPrefix("error: "), "\(run)", sourceLocation: sourceLocation)
    #expect(line.contains("; fix: "), "\(run)", sourceLocation: sourceLocation)
    for word in words {
        #expect(line.contains(word), "expected '\(word)' in: \(line)", sourceLocation: sourceLocation)
    }
    for trace in ["Fatal error", "Stack dump", "Current stack trace", "backtrace"] {
        #expect(!run.stderr.contains(trace), sourceLocation: sourceLocation)
    }
}
