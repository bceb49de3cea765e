/// A progress line on stderr, rewritten in place, only when stderr is a terminal and
/// the output is not --json or --quiet.
final class Progress {
    private let enabled: Bool
    private let label: String
    private var shown = false

    init(output: Output, label: String) {
        enabled = !output.json && !output.quiet && Terminal.isTerminal(2)
        self.label = label
    }

    func update(_ count: Int) {
        guard enabled else { return }
        StandardStream.error.write("\r\(label) \(count) events…")
        shown = true
    }

    func finish() {
        if shown { StandardStream.error.write("\r\u{1B}[K") }
    }
}
