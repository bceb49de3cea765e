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

    /// A printed record's `--html` and `--pdf` files, each noted once written: the page is
    /// built only when one is asked for. `pdfVariant` is weasyprint's (e.g. "pdf/a-3b").
    static func write(_ page: () -> String, html: String?, pdf: String?, pdfVariant: String? = nil,
                      in context: CommandContext) throws {
        guard html != nil || pdf != nil else { return }
        let page = page()
        if let html {
            try write(page, to: html)
            context.output.note("wrote \(html)")
        }
        if let pdf {
            try PDFConverter.convert(html: page, to: pdf, variant: pdfVariant)
            context.output.note("wrote \(pdf)")
        }
    }
}
