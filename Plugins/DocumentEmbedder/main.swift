// Writes text files into a Swift source as raw string literals, keyed by their path
// relative to the package.
// Usage: DocumentEmbedder OUTPUT.swift PACKAGE_ROOT/ FILE…
import Foundation

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    exit(1)
}

/// A raw multi-line literal holding `text` exactly: its delimiter has one more `#` than
/// the longest run of `#` in the text, so nothing inside can end it or interpolate.
func rawLiteral(_ text: String) -> String {
    var longest = 0, run = 0
    for character in text {
        run = character == "#" ? run + 1 : 0
        longest = max(longest, run)
    }
    let hashes = String(repeating: "#", count: longest + 1)
    // The line break after the opening and before the closing delimiter are not part of
    // the value; the closing delimiter at column 0 strips no indentation.
    return "\(hashes)\"\"\"\n\(text)\n\"\"\"\(hashes)"
}

var arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 2 else { fail("usage: DocumentEmbedder OUTPUT.swift PACKAGE_ROOT/ FILE…") }
let outputPath = arguments.removeFirst()
let root = arguments.removeFirst()
var entries: [String] = []
for path in arguments {
    guard path.hasPrefix(root) else { fail("\(path) is not under \(root)") }
    guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
        fail("\(path): not readable as UTF-8")
    }
    if text.contains("\r") { fail("\(path): has carriage returns; documents use Unix line endings") }
    entries.append("    EmbeddedDocument(path: \"\(path.dropFirst(root.count))\", text: \(rawLiteral(text))),")
}
let source = """
// Generated at build time by the EmbedDocuments plugin from config/ and docs/. Do not edit.

/// The documents this binary was built with, by path in the sources.
let embeddedDocuments: [EmbeddedDocument] = [
\(entries.joined(separator: "\n"))
]

"""
do {
    try source.write(toFile: outputPath, atomically: true, encoding: .utf8)
} catch {
    fail("cannot write \(outputPath): \(error)")
}
