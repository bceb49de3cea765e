import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

/// When to color output: `auto` colors only a terminal, and never with `TERM=dumb`.
enum ColorChoice: String, CaseIterable, ExpressibleByArgument {
    case auto, always, never

    /// The values `--color` takes, for its help and completions. The parser's default
    /// maps the cases through a key path, whose instantiation cost every command (all take
    /// `--color`) a conformance scan of the whole binary (start-up, issue 18).
    static var allValueStrings: [String] { allCases.map { $0.rawValue } }

    /// No value has a description of its own (each one's `defaultValueDescription` is its
    /// raw value), so the parser's default finds none; but it builds the dictionary with a
    /// generic `reduce` for help's sake on every command line: two conformance scans and
    /// ~0.8 M instructions of every cold command (start-up, issue 18). `ColorChoiceTests`
    /// checks that this stays what the parser's default would compute.
    static var allValueDescriptions: [String: String] { [:] }
}

/// Facts about where output goes.
enum Terminal {
    static func isTerminal(_ descriptor: Int32) -> Bool { isatty(descriptor) == 1 }

    /// How many columns a table on stdout may use: `COLUMNS` when set (the user's word,
    /// even for a pipe), else the terminal's width; nil for a pipe or file, where
    /// nothing is cut.
    static func width(environment: [String: String]? = nil) -> Int? {
        let columns = environment.map { $0["COLUMNS"] } ?? getenv("COLUMNS").map { String(cString: $0) }
        if let columns, let value = Int(columns), value > 0 { return value }
        var size = winsize()
        guard isTerminal(1), ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }

    /// Whether to color stderr before any configuration is read (argument errors):
    /// `auto`, honouring `NO_COLOR` and `TERM=dumb` from the process environment.
    static func colorStderrByDefault() -> Bool {
        var environment: [String: String] = [:]
        for name in ["NO_COLOR", "TERM"] {
            if let value = getenv(name) { environment[name] = String(cString: value) }
        }
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return false }
        return useColor(.auto, descriptor: 2, environment: environment)
    }

    /// Whether to color text written to `descriptor`.
    static func useColor(_ choice: ColorChoice, descriptor: Int32, environment: [String: String]) -> Bool {
        switch choice {
        case .always: true
        case .never: false
        case .auto: isTerminal(descriptor) && environment["TERM"] != "dumb"
        }
    }
}

/// ANSI styles, applied only when color is on.
struct Style {
    let enabled: Bool

    func red(_ text: String) -> String { wrap(text, "31") }
    func yellow(_ text: String) -> String { wrap(text, "33") }
    func green(_ text: String) -> String { wrap(text, "32") }
    func bold(_ text: String) -> String { wrap(text, "1") }
    func dim(_ text: String) -> String { wrap(text, "2") }

    /// A verdict coloured by what it says: PASS (and RELEASABLE) green, FAIL (and NOT
    /// RELEASABLE) red, anything else as it is. Padding inside `text` is kept.
    func verdict(_ text: String) -> String {
        let word = text.trimmingPrefix(while: \.isWhitespace).uppercased()
        if word.hasPrefix("PASS") || word.hasPrefix("RELEASABLE") { return green(text) }
        if word.hasPrefix("FAIL") || word.hasPrefix("NOT RELEASABLE") { return red(text) }
        return text
    }

    private func wrap(_ text: String, _ code: String) -> String {
        enabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text
    }
}

/// The standard streams, written with write(2): unbuffered, so stderr and stdout keep
/// their order, and free of the C library's shared `FILE*` globals.
enum StandardStream: Int32 {
    case output = 1
    case error = 2

    func write(_ text: String) {
        var text = text
        text.withUTF8 { write($0) }
    }

    /// Bytes already in UTF-8 (`JSONDocument.bytes`): written as they are, with no String
    /// around them.
    func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { write($0) }
    }

    /// UTF-8 written as it is, from wherever it lies.
    func write(_ buffer: UnsafeBufferPointer<UInt8>) {
        var offset = 0
        while offset < buffer.count {
            let written = Glibc.write(rawValue, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return // A closed pipe: nothing more can be said.
            }
            offset += written
        }
    }
}
