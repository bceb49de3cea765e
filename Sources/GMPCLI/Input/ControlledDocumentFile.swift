#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRules

/// A controlled document's file (a specification, a master batch record) read and parsed
/// for import: a file that cannot be read is a usage error naming an example to start
/// from; a parse error is a refusal naming the file, the key path and the line.
enum ControlledDocumentFile {
    /// The parsed document and the file's text, which the import stores with the draft.
    static func read<Document>(_ file: String, example: String,
                               parse: (String) throws -> Document) throws -> (document: Document, source: String) {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw Failure(exitCode: .usage, problem: "cannot read \(file)", fix: "give the path of \(example)")
        }
        let source = String(decoding: data, as: UTF8.self)
        do {
            return (try parse(source), source)
        } catch let error as SpecificationFileError {
            throw Failure(exitCode: .refused, problem: "\(file): \(error.path): \(error.problem)"
                                                           + (error.line.map { " (line \($0))" } ?? ""), fix: error.fix)
        }
    }
}
