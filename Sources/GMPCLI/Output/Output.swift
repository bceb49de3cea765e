#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRules

/// Where a command writes: data to stdout (a table or, with `--json`, one JSON
/// document), diagnostics and progress to stderr.
struct Output {
    let json: Bool
    let quiet: Bool
    /// `-v` count: from 2 (debug) the error report adds where in the server it arose.
    var verbose = 0
    let stdoutStyle: Style
    let stderrStyle: Style

    /// Human-readable data, to stdout. Ignored with `--json` (the document says it all),
    /// and then not even built: commands write their document, then their text.
    func data(_ text: @autoclosure () -> String) {
        guard !json else { return }
        StandardStream.output.write(text() + "\n")
    }

    /// A page of text, to stdout, as it was written (its lines end in a line break);
    /// nothing with `--json`.
    func data(_ page: TextPage) {
        guard !json else { return }
        StandardStream.output.write(page.bytes)
    }

    /// The command's JSON document, to stdout; written only with `--json`, whole, in one
    /// write, in gmp's one shape (`JSONDocument`: sorted keys, one timestamp form).
    func document(_ value: some Encodable) throws {
        guard json else { return }
        try serverDocument(String(decoding: try Self.encoder.encode(value), as: UTF8.self))
    }

    /// The command's JSON document built by hand (`JSONEncodable`: no `JSONEncoder`, whose
    /// generic paths cost a cold command the runtime's conformance scans, issue 18), to
    /// stdout in the same one shape; written only with `--json`.
    func document(_ value: some JSONEncodable) throws {
        guard json else { return }
        StandardStream.output.write(JSONDocument(value.jsonValue).bytes(end: UInt8(ascii: "\n")))
    }

    /// A JSON document written elsewhere (the server's jsonb), to stdout in gmp's one
    /// shape; written only with `--json`.
    func serverDocument(_ text: String) throws {
        var text = text
        try text.withUTF8 { try serverDocument(bytes: $0) }
    }

    /// The same from the text's UTF-8 bytes where they lie (libpq's result, issue 14).
    func serverDocument(bytes: UnsafeBufferPointer<UInt8>) throws {
        guard json else { return }
        // Straight from the bytes; the tree only for what that pass leaves to it (issue 14).
        let end = UInt8(ascii: "\n")
        if JSONDocument.rewrite(bytes, end: end, to: StandardStream.output.write) { return }
        StandardStream.output.write(try JSONDocument(parsing: String(decoding: bytes, as: UTF8.self)).bytes(end: end))
    }

    /// A `show` command's answer: with `--json` the server's document, otherwise the lines
    /// made from it; only the form asked for is fetched.
    func serverDocument(_ text: () throws -> String, orLines lines: () throws -> [String]) throws {
        if json { return try serverDocument(try text()) }
        let text = try lines().joined(separator: "\n")
        data(text)
    }

    /// A progress or information line, to stderr; silent with `--quiet` or `--json`.
    func note(_ text: String) {
        guard !quiet, !json else { return }
        StandardStream.error.write(stderrStyle.dim(text) + "\n")
    }

    /// A warning, to stderr, shown even with `--json` (it is not data).
    func warning(_ text: String) {
        guard !quiet else { return }
        StandardStream.error.write(stderrStyle.yellow("warning:") + " " + text + "\n")
    }

    /// The one-line error report, to stderr; with `-vv`, followed by the server's
    /// context (the PL/pgSQL call stack) when there is one.
    func error(_ failure: Failure) {
        StandardStream.error.write(stderrStyle.red("error:") + " " + failure.line + "\n")
        if verbose >= 2, let context = failure.serverContext {
            for line in context.split(separator: "\n") {
                StandardStream.error.write(stderrStyle.dim("  server context: " + line) + "\n")
            }
        }
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }()
}
