import GMPRules

/// A sheet of product labels as a self-contained HTML page for WeasyPrint: A4, two
/// columns of 95 × 62 mm labels, each with the DIN, product code and expiry as Code 128
/// symbols (ISBT 128 data structures 001, 003, 004), all three in a DataMatrix, the
/// eye-readable lines and the label statements. Symbols are zint's SVG as data: URIs.
enum LabelSheet {
    /// One label's symbols, drawn before the page is assembled.
    struct Symbols {
        let din: String
        let product: String
        let expiry: String
        let matrix: String

        static func draw(_ label: ProductLabel) throws -> Symbols {
            Symbols(din: try BarcodeRenderer.svg(label.dinData, as: .code128),
                    product: try BarcodeRenderer.svg(label.productCodeData, as: .code128),
                    expiry: try BarcodeRenderer.svg(label.expirationData, as: .code128),
                    matrix: try BarcodeRenderer.svg(label.compoundData, as: .dataMatrix))
        }
    }

    static func html(_ labels: [(ProductLabel, Symbols)], facility: String) -> String {
        let escape = CertificateRendering.escape
        let cells = labels.map { label, symbols in
            let statements = label.statements.map { "<li>\(escape($0))</li>" }.joined()
            return """
                <div class="label">
                <img class="matrix" alt="DataMatrix" src="\(BarcodeRenderer.dataURI(symbols.matrix))">
                <img class="bar" alt="DIN \(escape(label.dinData))" src="\(BarcodeRenderer.dataURI(symbols.din))">
                <p class="din">\(escape(label.id))</p>
                <img class="bar" alt="Product \(escape(label.productCodeData))" src="\(BarcodeRenderer.dataURI(symbols.product))">
                <p class="product">\(escape(label.product)) <span>\(escape(label.productCodeData))</span></p>
                <img class="bar" alt="Expiry \(escape(label.expirationData))" src="\(BarcodeRenderer.dataURI(symbols.expiry))">
                <p class="expiry">EXP \(escape(label.expiresOn))</p>
                <ul>\(statements)</ul>
                \(label.placeholderProductCode ? "<p class=\"placeholder\">\(escape(ProductLabel.placeholderWarning))</p>" : "")
                <p class="facility">\(escape(facility))</p>
                </div>
                """
        }.joined(separator: "\n")
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Labels</title>
            <style>\(style)</style></head>
            <body>
            \(cells)
            </body></html>

            """
    }

    private static let style = """
        @page { size: A4 portrait; margin: 10mm; }
        * { box-sizing: border-box; }
        body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 7pt; margin: 0; }
        .label { float: left; width: 92mm; height: 64mm; margin: 0 1mm 2mm 0; padding: 2mm 3mm;
          border: 0.4pt dashed #999; vertical-align: top; position: relative; page-break-inside: avoid; overflow: hidden; }
        .bar { display: block; height: 9mm; width: auto; max-width: 62mm; margin-top: 1mm; }
        .matrix { position: absolute; right: 3mm; top: 3mm; width: 20mm; height: 20mm; }
        p { margin: 0.3mm 0 0; }
        .din { font-family: "DejaVu Sans Mono", monospace; font-size: 10pt; font-weight: bold; }
        .product { font-weight: bold; }
        .product span, .facility { font-weight: normal; color: #333; font-family: "DejaVu Sans Mono", monospace; }
        .expiry { font-weight: bold; font-size: 8pt; }
        ul { margin: 0.8mm 0 0; padding: 0; list-style: none; font-weight: bold; }
        .placeholder { margin-top: 0.8mm; padding: 0.5mm 1mm; border: 0.6pt solid #000; font-weight: bold; font-size: 7.5pt; }
        .facility { position: absolute; right: 3mm; bottom: 2mm; font-size: 6pt; }
        """
}
