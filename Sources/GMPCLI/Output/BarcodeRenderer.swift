#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Bar code symbols as SVG, drawn by zint (Debian's `zint`), a maintained encoder of
/// Code 128 and DataMatrix: gmp encodes no symbology itself.
enum BarcodeRenderer {
    static let installFix = "install it: apt-get install -y zint"

    enum Symbology: String {
        case code128 = "20"
        case dataMatrix = "71"
    }

    /// The symbol for `data` as an SVG document, without human-readable text (the label
    /// prints its own eye-readable line).
    static func svg(_ data: String, as symbology: Symbology,
                    searchPath: String? = ProcessInfo.processInfo.environment["PATH"]) throws -> String {
        guard let zint = PDFConverter.executable(named: "zint", path: searchPath) else {
            throw Failure(exitCode: .unavailable, problem: "zint was not found on PATH", fix: installFix)
        }
        var arguments = ["--barcode=\(symbology.rawValue)", "--direct", "--filetype=svg", "--notext"]
        if symbology == .dataMatrix { arguments.append("--square") }
        arguments.append("--data=\(data)")
        let run = try ChildProcess.run(zint, arguments, input: "", fix: installFix)
        let svg = String(decoding: run.output, as: UTF8.self)
        guard run.status == 0, svg.contains("<svg") else {
            let message = String(decoding: run.errors, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init)
            throw Failure(exitCode: .unavailable, problem: "zint could not encode \(data) (status \(run.status)): \(message ?? "no output")",
                          fix: "zint --help shows its options; check the zint package")
        }
        return svg
    }

    /// The SVG as a data: URI for an <img>, so the page stays self-contained.
    static func dataURI(_ svg: String) -> String {
        "data:image/svg+xml;base64," + Data(svg.utf8).base64EncodedString()
    }
}
