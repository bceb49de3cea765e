import ArgumentParser

/// `gmp docs [TOPIC]` (also `gmp help TOPIC`): the documentation built into gmp, so that
/// what help and errors point to is there wherever the binary is.
struct Docs: ContextFreeCommand {
    static let path = "docs"
    static let configuration = CommandConfiguration(
        commandName: "docs",
        abstract: "Print a documentation topic built into gmp (also: gmp help TOPIC); without one, list them.",
        discussion: """
            The topics are the gmp documentation (docs/*.md in the sources) as this \
            binary was built; errors and help name them as 'gmp help TOPIC'. \
            --spec NAME prints a specification file shipped as an example, to start \
            your own from.

            Examples:
              gmp help signatures
              gmp docs errors | less
              gmp docs --spec uc-msc > uc-msc.yaml
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The topic, e.g. signatures or errors.", valueName: "topic"),
              completion: .list(Documentation.topics.map(\.name)))
    var topic: String?
    @Option(help: ArgumentHelp("Print a shipped example specification instead.", valueName: "name"),
            completion: .list(Documentation.specifications.map(\.name)))
    var spec: String?

    struct Topic: Encodable {
        let name: String
        let title: String
    }

    struct Document: Encodable {
        let name: String
        let path: String
        let text: String
    }

    func perform(_ output: Output) throws {
        if let spec {
            guard let document = Documentation.specifications.first(where: { $0.name == spec })?.document else {
                throw Failure(exitCode: .usage, problem: "no shipped specification '\(spec)'",
                              fix: "use one of: \(Documentation.specifications.map(\.name).joined(separator: ", "))")
            }
            try output.document(Document(name: spec, path: document.path, text: document.text))
            output.data(document.text.hasSuffix("\n") ? String(document.text.dropLast()) : document.text)
            return
        }
        guard let topic else {
            let topics = Documentation.topics.map { Topic(name: $0.name, title: Documentation.title(of: $0.document)) }
            try output.document(["topics": topics])
            output.data(textTable(header: ["TOPIC", "TITLE"], rows: topics.map { [$0.name, $0.title] })
                                + "\n\nRead one with: gmp help TOPIC")
            return
        }
        guard let document = Documentation.topic(topic) else {
            throw Failure(exitCode: .usage, problem: "no documentation topic '\(topic)'",
                          fix: "use one of: \(Documentation.topics.map(\.name).joined(separator: ", "))")
        }
        try output.document(Document(name: topic, path: document.path, text: document.text))
        output.data(document.text.hasSuffix("\n") ? String(document.text.dropLast()) : document.text)
    }
}
