/// A file of the gmp sources built into the binary (the EmbedDocuments plugin), so that
/// what help and errors point to ships with gmp itself.
struct EmbeddedDocument: Sendable {
    /// Its path in the sources, e.g. `docs/errors.md` or `config/gmp.yaml`.
    let path: String
    let text: String
}

/// The documents built into gmp: the starter configuration, the shipped specifications
/// and the documentation topics that `gmp help TOPIC` prints.
enum Documentation {
    /// `config/gmp.yaml`: every key, commented; what `gmp config init` writes.
    static var starterConfiguration: String {
        embeddedDocuments.first { $0.path == "config/gmp.yaml" }?.text ?? ""
    }

    /// The documentation topics: `docs/signatures.md` is the topic `signatures`.
    static var topics: [(name: String, document: EmbeddedDocument)] {
        embeddedDocuments.compactMap { document in
            guard document.path.hasPrefix("docs/"), document.path.hasSuffix(".md") else { return nil }
            return (String(document.path.dropFirst("docs/".count).dropLast(".md".count)), document)
        }
    }

    /// The specifications shipped as examples: `config/specs/uc-msc.yaml` is `uc-msc`.
    static var specifications: [(name: String, document: EmbeddedDocument)] { examples(in: "config/specs/") }

    /// The master batch records shipped: `config/processes/uc-msc.yaml` is `uc-msc`.
    static var processes: [(name: String, document: EmbeddedDocument)] { examples(in: "config/processes/") }

    private static func examples(in folder: String) -> [(name: String, document: EmbeddedDocument)] {
        embeddedDocuments.compactMap { document in
            guard document.path.hasPrefix(folder), document.path.hasSuffix(".yaml") else { return nil }
            return (String(document.path.dropFirst(folder.count).dropLast(".yaml".count)), document)
        }
    }

    /// A topic's text, by name (`signatures`) or by its path in the sources (`docs/signatures.md`).
    static func topic(_ name: String) -> EmbeddedDocument? {
        let bare = name.hasPrefix("docs/") && name.hasSuffix(".md") ? String(name.dropFirst(5).dropLast(3)) : name
        return topics.first { $0.name == bare }?.document
    }

    /// The first line of a topic (its `# Title`), without the marker.
    static func title(of document: EmbeddedDocument) -> String {
        let first = document.text.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? document.path
        return first.drop { $0 == "#" || $0 == " " }.description
    }
}
