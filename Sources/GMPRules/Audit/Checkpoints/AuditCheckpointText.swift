/// The checkpoint file format (UTF-8, LF line endings). Version 2, written since the
/// tables are reconciled with the trail (issue 20, item 12), ten lines:
///
///     gmp-audit-checkpoint-v2
///     installation: 3f2a8c1e-0b6d-4e7a-9c55-2d1f0e4b7a90
///     seq: 12345
///     hash: <64 lowercase hex digits>
///     tables: <64 lowercase hex digits: the record tables as the trail replays them at seq>
///     rows: 9050
///     created-at: 2026-11-22T05:26:25.107456Z
///     signer: alice
///     key: 0123456789abcdef
///     signature: <base64 of the 64-byte Ed25519 signature>
///
/// Version 3 (`gmp-audit-checkpoint-v3`, issue 18) adds, after `rows`, the snapshot the
/// tables were reconciled in: `cluster: <system identifier>`, `xmin: <full transaction
/// id>`, `schema: <64 hex>` (``Snapshot``), what an incremental verification needs.
/// Version 1 (`gmp-audit-checkpoint-v1`) is the same without the `tables` and `rows`
/// lines; v1 files stay readable and verifiable. The signature covers the UTF-8 bytes of
/// every line before `signature:`, each with its LF. Parsing accepts only text that
/// ``AuditCheckpoint/render()`` would write for the values read, so the bytes verified
/// are exactly the bytes in the file: there is no second spelling of a checkpoint
/// (spaces, case, CRLF, a leading zero) to argue about.
extension AuditCheckpoint {
    static let header = "gmp-audit-checkpoint-v1"
    static let headerV2 = "gmp-audit-checkpoint-v2"
    static let headerV3 = "gmp-audit-checkpoint-v3"
    /// The keys of the lines after the header, in order, per version.
    static let keys = ["installation", "seq", "hash", "created-at", "signer", "key", "signature"]
    static let keysV2 = ["installation", "seq", "hash", "tables", "rows", "created-at", "signer", "key", "signature"]
    static let keysV3 = ["installation", "seq", "hash", "tables", "rows", "cluster", "xmin", "schema", "created-at",
                         "signer", "key", "signature"]

    /// The text the signature covers: every line before `signature:`, each LF-terminated.
    public var signedText: String {
        Self.signedText(of: statement, keyFingerprint: keyFingerprint)
    }

    static func signedText(of statement: Statement, keyFingerprint: String) -> String {
        let tables = statement.tables.map { "tables: \($0.hex)\nrows: \($0.rows)\n" } ?? ""
        let snapshot = statement.snapshot.map { "cluster: \($0.cluster)\nxmin: \($0.xmin)\nschema: \(Hex.encode($0.schema))\n" } ?? ""
        return """
        \(statement.snapshot != nil ? headerV3 : statement.tables == nil ? header : headerV2)
        installation: \(statement.installation)
        seq: \(statement.seq)
        hash: \(Hex.encode(statement.hash))
        \(tables)\(snapshot)created-at: \(statement.createdAt)
        signer: \(statement.signer)
        key: \(keyFingerprint)

        """
    }

    /// The checkpoint file's text.
    public func render() -> String {
        signedText + "signature: \(Base64.encode(signature))\n"
    }

    /// Reads a checkpoint file's text, strictly: the exact header (v1 or v2), its keyed
    /// lines in order, each value in its one canonical form, a final newline and nothing after.
    /// Throws ``CheckpointFormatError`` listing every problem, each naming its line.
    /// Parsing does not verify: call ``verify(with:)``.
    public static func parse(_ text: String) throws -> AuditCheckpoint {
        var reader = CheckpointLines(text)
        if reader.lines == [""] { throw CheckpointFormatError(problems: ["the file is empty"]) }

        let version3 = reader.lines.first == headerV3
        let version2 = reader.lines.first == headerV2 || version3
        let keys = version3 ? keysV3 : version2 ? keysV2 : keys
        if let first = reader.lines.first, first != header, first != headerV2, first != headerV3 {
            reader.problems.append("line 1: must be '\(header)', '\(headerV2)' or '\(headerV3)', found \(quoted(first))")
        }
        var values: [String: String] = [:]
        for (offset, key) in keys.enumerated() {
            let number = offset + 2
            guard number <= reader.lines.count else {
                let missing = keys[offset...].joined(separator: ", ")
                reader.problems.append("line \(number): the file ends here, without the lines \(missing)")
                break
            }
            values[key] = reader.value(of: key, line: number, keys: keys)
        }
        if reader.lines.count > keys.count + 1 {
            let number = keys.count + 2
            let extra = reader.lines[number - 1]
            reader.problems.append(extra.isEmpty
                ? "line \(number): an empty line after the signature line; the file must end there"
                : "line \(number): unexpected text after the signature line, \(quoted(extra)); the file must end there")
        }
        /// "line N (key)", N as the key's place in this version.
        func line(_ key: String) -> String { "line \((keys.firstIndex(of: key) ?? 0) + 2) (\(key))" }

        // Each value's rule, where its line was found at all.
        let installation = values["installation"]
        if let installation, let problem = CheckpointField.installationProblem(installation) {
            reader.problems.append("\(line("installation")): \(problem)")
        }
        let seqText = values["seq"]
        let seq = seqText.flatMap { CheckpointField.seq($0) }
        if seqText != nil && seq == nil { reader.problems.append("\(line("seq")): \(CheckpointField.seqProblem)") }
        let hashText = values["hash"]
        let hash = hashText.flatMap { Hex.isLowercase($0, count: 64) ? Hex.decode($0) : nil }
        if hashText != nil && hash == nil { reader.problems.append("\(line("hash")): \(CheckpointField.hashProblem)") }
        var tables: TablesDigest?
        if version2 {
            let digest = values["tables"].flatMap { Hex.isLowercase($0, count: 64) ? Hex.decode($0) : nil }
            if values["tables"] != nil && digest == nil {
                reader.problems.append("\(line("tables")): \(CheckpointField.hashProblem)")
            }
            let rows = values["rows"].flatMap { $0 == "0" ? 0 : CheckpointField.seq($0) }
            if values["rows"] != nil && rows == nil {
                reader.problems.append("\(line("rows")): must be a whole number in plain decimal (no sign, no leading zero)")
            }
            if let digest, let rows { tables = TablesDigest(digest: digest, rows: rows) }
        }
        var snapshot: Snapshot?
        if version3 {
            /// A whole number in plain decimal, 0 included, within UInt64.
            func number(_ key: String) -> UInt64? {
                guard let text = values[key] else { return nil }
                let digits = !text.isEmpty && text.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
                guard digits, text == "0" || text.first != "0", let value = UInt64(text) else {
                    reader.problems.append("\(line(key)): must be a whole number in plain decimal (no sign, no leading zero)")
                    return nil
                }
                return value
            }
            let cluster = number("cluster"), xmin = number("xmin")
            let schema = values["schema"].flatMap { Hex.isLowercase($0, count: 64) ? Hex.decode($0) : nil }
            if values["schema"] != nil && schema == nil { reader.problems.append("\(line("schema")): \(CheckpointField.hashProblem)") }
            if let cluster, let xmin, let schema { snapshot = Snapshot(cluster: cluster, xmin: xmin, schema: schema) }
        }
        let createdAt = values["created-at"]
        if let createdAt, let problem = CheckpointField.createdAtProblem(createdAt) {
            reader.problems.append("\(line("created-at")): \(problem)")
        }
        let signer = values["signer"]
        if let signer, let problem = CheckpointField.signerProblem(signer) {
            reader.problems.append("\(line("signer")): \(problem)")
        }
        let key = values["key"]
        if let key, let problem = CheckpointField.keyProblem(key) {
            reader.problems.append("\(line("key")): \(problem)")
        }
        let signatureText = values["signature"]
        let signature = signatureText.flatMap { Base64.decode($0) }.flatMap { $0.count == signatureByteCount ? $0 : nil }
        if signatureText != nil && signature == nil {
            reader.problems.append("\(line("signature")): must be the base64 of a \(signatureByteCount)-byte Ed25519 signature")
        }

        guard reader.problems.isEmpty, let installation, let seq, let hash, let createdAt, let signer, let key,
              let signature, !version2 || tables != nil, !version3 || snapshot != nil else {
            throw CheckpointFormatError(problems: reader.problems)
        }
        // Cannot throw: the same rules were applied above, with line numbers.
        let statement = try Statement(installation: installation, seq: seq, hash: hash, createdAt: createdAt, signer: signer,
                                      tables: tables, snapshot: snapshot)
        return AuditCheckpoint(statement: statement, keyFingerprint: key, signature: signature)
    }

    /// A line as shown in a message: quoted, escaped, and cut short if long.
    static func quoted(_ line: String) -> String {
        let shown = line.count > 40 ? String(line.prefix(40)) + "…" : line
        return shown.debugDescription
    }
}

/// A checkpoint file's lines, split on LF alone, and the problems found in their layout.
struct CheckpointLines {
    /// The lines without their LF (and without a CR before it, which is reported).
    var lines: [String]
    var problems: [String] = []

    init(_ text: String) {
        // Split the UTF-8 bytes, not Characters: Swift reads "\r\n" as one Character, so a
        // CRLF file would not split on "\n" at all.
        var pieces = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        if pieces.count > 1 && pieces.last == "" {
            pieces.removeLast()
        } else if !text.isEmpty {
            problems.append("line \(pieces.count): the file must end with a newline")
        }
        if let first = pieces.firstIndex(where: { $0.utf8.last == UInt8(ascii: "\r") }) {
            problems.append("line \(first + 1): ends with a carriage return; checkpoint files use LF line endings, not CRLF")
            pieces = pieces.map { $0.utf8.last == UInt8(ascii: "\r") ? String($0.dropLast()) : $0 }
        }
        lines = pieces
    }

    /// The value of line `number` if it is `key: value`; otherwise records why not.
    mutating func value(of key: String, line number: Int, keys: [String]) -> String? {
        let line = lines[number - 1]
        let prefix = key + ": "
        if line.utf8.starts(with: prefix.utf8) {
            return String(decoding: line.utf8.dropFirst(prefix.utf8.count), as: UTF8.self)
        }
        let found = line.utf8.firstIndex(of: UInt8(ascii: ":")).map { String(line[..<$0]) }
        if let found, found != key, keys.contains(found) {
            problems.append("line \(number): expected the \(key) line, found the \(found) line; the order is \(keys.joined(separator: ", "))")
        } else {
            problems.append("line \(number): expected '\(prefix)…', found \(AuditCheckpoint.quoted(line))")
        }
        return nil
    }
}
