import GMPRules

/// What a signature is about to cover, shown on the terminal before the password is
/// asked for: the record, the meaning of the signature and the signer's own statement.
struct SigningIntent {
    /// The record in words, e.g. "lot G1234 26 000004 X" or "QC result 17".
    let record: String
    let meaning: String
    /// The signer's statement, reason or outcome, as recorded with the signature.
    let statement: String?

    init(record: String, meaning: SignatureMeaning, statement: String? = nil) {
        self.record = record
        self.meaning = meaning.rawValue
        self.statement = statement
    }

    /// The lines shown before the password prompt.
    func summary(account: String) -> String {
        var lines = ["You are signing as \(account):",
                     "  record     \(record)",
                     "  meaning    \(meaning)"]
        if let statement, !statement.isEmpty { lines.append("  statement  \(statement)") }
        return lines.joined(separator: "\n") + "\n"
    }
}
