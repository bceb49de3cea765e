#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Writes a printed document's text (HTML, ZPL) to the path a person gave.
enum PrintedFile {
    static func write(_ text: String, to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else {
            throw Failure(exitCode: .usage, problem: "cannot write \(path)", fix: "give a writable path")
        }
    }
}
