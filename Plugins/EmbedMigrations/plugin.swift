import Foundation
import PackagePlugin

/// Embeds the numbered migrations (`sql/migrations/`) and the routines' homes
/// (`sql/code/`) into the target that uses this plugin, so that each gmp binary carries
/// exactly the schema versions and the rules it was built with.
@main
struct EmbedMigrations: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        func sqlFiles(_ folder: String) throws -> [URL] {
            try FileManager.default
                .contentsOfDirectory(at: context.package.directoryURL.appending(path: "sql/\(folder)"),
                                     includingPropertiesForKeys: nil)
                .filter { $0.pathExtension == "sql" }
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
        }
        let migrations = try sqlFiles("migrations")
        let code = try sqlFiles("code")
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedMigrations.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(migrations.count) migration(s) and \(code.count) code file(s) from sql/",
                executable: try context.tool(named: "MigrationEmbedder").url,
                arguments: [output.path, "--migrations"] + migrations.map(\.path) + ["--code"] + code.map(\.path),
                inputFiles: migrations + code,
                outputFiles: [output]
            ),
        ]
    }
}
