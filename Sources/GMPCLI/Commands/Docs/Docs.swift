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
            your own from; --process NAME a shipped master batch record.

            Examples:
              gmp help signatures
              gmp docs errors | less
              gmp docs --spec uc-msc > uc-msc.yaml
              gmp docs --process uc-msc > uc-msc-process.yaml
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("The topic, e.g. signatures or errors.", valueName: "topic"),
              completion: .list(Documentation.topics.map(\.name)))
    var topic: String?
    @Option(help: ArgumentHelp("Print a shipped example specification instead.", valueName: "name"),
            completion: .list(Documentation.specifications.map(\.name)))
    var spec: String?
    @Option(help: ArgumentHelp("Print a shipped master batch record instead.", valueName: "name"),
            completion: .list(Documentation.processes.map(\.name)))
    var process: String?

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
            try printExample(spec, from: Documentation.specifications, what: "specification", output)
            return
        }
        if let process {
            try printExample(process, from: Documentation.processes, what: "master batch record", output)
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

    private func printExample(_ name: String, from examples: [(name: String, document: EmbeddedDocument)], what: String,
                              _ output: Output) throws {
        guard let document = examples.first(where: { $0.name == name })?.document else {
            throw Failure(exitCode: .usage, problem: "no shipped \(what) '\(name)'",
                          fix: "use one of: \(examples.map(\.name).joined(separator: ", "))")
        }
        try output.document(Document(name: name, path: document.path, text: document.text))
        output.data(document.text.hasSuffix("\n") ? String(document.text.dropLast()) : document.text)
    }
}
