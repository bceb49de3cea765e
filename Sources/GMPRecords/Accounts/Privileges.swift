import GMPRules
import PostgresClient

/// What the connected person may do, asked of the database's own grants, so that a
/// command can refuse before asking for a signing password it would not accept.
public enum Privileges {
    /// Whether the session may execute `function`, given with its argument types,
    /// e.g. `gmp.determine_eligibility(uuid, text, text, text, text)`.
    public static func mayExecute(_ function: String, on connection: PostgresConnection) throws -> Bool {
        try connection.query("SELECT has_function_privilege(\(function), 'EXECUTE') AS may")[0].decode("may")
    }
}
