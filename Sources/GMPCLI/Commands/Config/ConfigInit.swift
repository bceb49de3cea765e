import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `gmp config init [PATH]`: writes the configuration file gmp was built with (every key,
/// commented) where gmp will read it, so that set-up needs no source tree.
struct ConfigInit: ContextFreeCommand {
    static let path = "config init"
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a starter configuration file (every key, commented) to PATH or where gmp reads it.",
        discussion: """
            Without PATH the file goes where gmp looks first: --config, GMP_CONFIG, else \
            $XDG_CONFIG_HOME/gmp/gmp.yaml (~/.config/gmp/gmp.yaml). An existing file is \
            never overwritten unless --force is given. Edit the facility section (your \
            ISBT 128 facility number and validated culture limits), then an \
            administrator runs gmp facility apply.

            Examples:
              gmp config init
              gmp config init /etc/gmp/gmp.yaml
              gmp config init ./gmp.yaml --force --json
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: ArgumentHelp("Where to write the file (default: where gmp reads it).", valueName: "path"))
    var target: String?
    @Flag(help: "Replace an existing file.") var force = false

    struct Document: Encodable {
        let path: String
        let replaced: Bool
    }

    /// Reads no configuration first: the file to write may be missing or broken
    /// (that is why one runs init --force).
    func perform(_ output: Output) throws {
        let environment = ProcessInfo.processInfo.environment
        let path = target ?? options.config ?? environment["GMP_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ConfigLocator.defaultPaths(environment: environment)[0]
        let exists = FileManager.default.fileExists(atPath: path)
        if exists && !force {
            throw Failure(exitCode: .refused, problem: "\(path) already exists; nothing was written",
                          fix: "edit it, or pass --force to replace it with the starter file")
        }
        do {
            if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
                let directory = String(path[..<slash])
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            try Documentation.starterConfiguration.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw Failure(exitCode: .configuration, problem: "cannot write \(path): \(String(describing: error))",
                          fix: "choose a path you may write, e.g. gmp config init ./gmp.yaml")
        }
        try output.document(Document(path: path, replaced: exists))
        output.data("wrote \(path)\(exists ? " (replaced)" : "")")
        output.note("next: set facility.isbt128_facility and the culture limits in it, then gmp facility apply --reason …; "
                    + "before labels leave the facility, set product_codes to the codes ICCBBA assigned to your products")
    }
}
