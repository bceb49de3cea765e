/// gmp's exit codes, from BSD sysexits. The table is part of the interface: scripts
/// branch on it, so a code's meaning never changes.
enum GMPExitCode: Int32, CaseIterable {
    case success = 0
    case usage = 64
    case refused = 65
    case unavailable = 69
    case software = 70
    case retryExhausted = 75
    case permissionDenied = 77
    case configuration = 78

    /// A stable word for the code, used in `--json` error objects.
    var name: String {
        switch self {
        case .success: "ok"
        case .usage: "usage"
        case .refused: "refused"
        case .unavailable: "unavailable"
        case .software: "internal"
        case .retryExhausted: "retry-exhausted"
        case .permissionDenied: "permission-denied"
        case .configuration: "configuration"
        }
    }

    /// One line (at most 72 characters), as the table in `gmp --help` shows it.
    var meaning: String {
        switch self {
        case .success: "success"
        case .usage: "wrong command line: unknown option, missing argument"
        case .refused: "refused by a rule or bad input; nothing was changed"
        case .unavailable: "server unreachable, a read-only standby, or PostgreSQL not installed"
        case .software: "internal error in gmp: please report it"
        case .retryExhausted: "concurrent work kept conflicting; nothing changed; run it again"
        case .permissionDenied: "login refused, or your role may not do this"
        case .configuration: "configuration wrong: file, connection string, unknown database"
        }
    }

    /// The table as shown in `gmp --help` and the README.
    static var table: String {
        allCases.map { code in
            let number = String(code.rawValue)
            return "  " + number + String(repeating: " ", count: 4 - number.count) + code.meaning
        }.joined(separator: "\n")
    }
}
