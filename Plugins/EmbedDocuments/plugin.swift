import Foundation
import PackagePlugin

/// Embeds what a user reads without the sources: the starter configuration
/// (`config/gmp.yaml`), the shipped specifications (`config/specs/*.yaml`) and master batch
/// records (`config/processes/*.yaml`) and the
/// documentation (`docs/*.md`), so that `gmp config init` and `gmp help TOPIC` work from
/// the binary alone.
@main
struct EmbedDocuments: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL
        func files(_ folder: String, _ suffix: String) throws -> [URL] {
            try FileManager.default
                .contentsOfDirectory(at: root.appending(path: folder), includingPropertiesForKeys: nil)
                .filter { $0.lastPathComponent.hasSuffix(suffix) }
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
        }
        let inputs = [root.appending(path: "config/gmp.yaml")] + (try files("config/specs", ".yaml"))
            + (try files("config/processes", ".yaml")) + (try files("docs", ".md"))
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedDocuments.swift")
        // Each input goes by its path relative to the package, e.g. docs/errors.md.
        let prefix = root.path.hasSuffix("/") ? root.path : root.path + "/"
        return [
            .buildCommand(
                displayName: "Embedding \(inputs.count) document(s) from config/ and docs/",
                executable: try context.tool(named: "DocumentEmbedder").url,
                arguments: [output.path, prefix] + inputs.map(\.path),
                inputFiles: inputs,
                outputFiles: [output]
            ),
        ]
    }
}
