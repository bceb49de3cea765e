import ArgumentParser

/// `gmp config`: the configuration file, written from the copy built into gmp, and the
/// values in force with where each came from.
struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Write a starter configuration file, or show each setting in force and where it came from.",
        subcommands: [ConfigInit.self, ConfigShow.self])
}
