import ArgumentParser

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: [.customShort("d"), .long], help: ArgumentHelp(
        "libpq connection string or postgresql:// URI of a configured server (default: the embedded server).",
        discussion: "Overrides GMP_DATABASE, PG* variables and the configuration file. Passwords belong in ~/.pgpass or PGPASSWORD.",
        valueName: "conninfo"))
    var database: String?

    @Option(name: [.customShort("U"), .long], help: ArgumentHelp(
        "Your personal account: the database login every change is attributed to (default: GMP_USER, PGUSER).",
        discussion: "The login password comes from ~/.pgpass or PGPASSWORD, or is asked for on a terminal.",
        valueName: "id"))
    var user: String?

    @Option(name: .long, help: ArgumentHelp("Configuration file (default: GMP_CONFIG, ~/.config/gmp/gmp.yaml, /etc/gmp/gmp.yaml).",
                                            valueName: "path"))
    var config: String?

    @Flag(name: .long, help: "Print one JSON document on stdout instead of text (no color, no progress).")
    var json = false

    @Option(name: .long, help: "Color: auto (terminals only, honours NO_COLOR and TERM=dumb), always or never.")
    var color: ColorChoice?

    @Flag(name: .shortAndLong, help: "More diagnostics on stderr (-v info, -vv debug, -vvv trace).")
    var verbose: Int

    @Flag(name: .shortAndLong, help: "Only errors on stderr.")
    var quiet = false
}
