import GMPRecords

/// A progress line on stderr, rewritten in place, only when stderr is a terminal and
/// the output is not --json or --quiet.
final class Progress {
    private let enabled: Bool
    private var shown = false

    init(output: Output) {
        enabled = !output.json && !output.quiet && Terminal.isTerminal(2)
    }

    func update(_ progress: VerificationProgress) {
        guard enabled else { return }
        switch progress {
        case .events(let count): StandardStream.error.write("\r\u{1B}[Kverified \(count) events…")
        case .rows(let count, let table): StandardStream.error.write("\r\u{1B}[Kreconciled \(count) rows… (\(table))")
        }
        shown = true
    }

    func finish() {
        if shown { StandardStream.error.write("\r\u{1B}[K") }
    }
}
