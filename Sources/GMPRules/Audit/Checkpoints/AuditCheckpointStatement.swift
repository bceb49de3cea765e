extension AuditCheckpoint {
    /// What a checkpoint states, before it is signed: "at `createdAt`, the audit chain of
    /// `installation` ended at event `seq`, whose hash is `hash`; `signer` vouches for it".
    public struct Statement: Sendable, Equatable {
        /// The installation's id (`gmp_meta.installation`), a lowercase UUID.
        public let installation: String
        /// The sequence number of the last audit event covered.
        public let seq: Int64
        /// That event's chain hash, 32 bytes.
        public let hash: [UInt8]
        /// When the checkpoint was taken, canonical UTC text `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
        public let createdAt: String
        /// Who signed, free text on one line (the person's account id, say).
        public let signer: String
        /// What the record tables held at `seq` as the trail replays them, when the tables
        /// were reconciled before signing (format v2); nil in a v1 checkpoint.
        public let tables: TablesDigest?
        /// Where the tables were reconciled, physically (format v3, issue 18): what an
        /// incremental reconciliation from this checkpoint needs. nil in v1 and v2.
        public let snapshot: Snapshot?

        /// Throws ``CheckpointFormatError`` listing every field that cannot be written into
        /// a checkpoint file and read back as the same value.
        public init(installation: String, seq: Int64, hash: [UInt8], createdAt: String, signer: String,
                    tables: TablesDigest? = nil, snapshot: Snapshot? = nil) throws {
            var problems: [String] = []
            if let problem = CheckpointField.installationProblem(installation) { problems.append("installation \(problem)") }
            if let problem = CheckpointField.seqProblem(seq) { problems.append("seq \(problem)") }
            if hash.count != 32 { problems.append("hash must be 32 bytes, not \(hash.count)") }
            if let problem = CheckpointField.createdAtProblem(createdAt) { problems.append("created-at \(problem)") }
            if let problem = CheckpointField.signerProblem(signer) { problems.append("signer \(problem)") }
            if let tables, tables.digest.count != 32 || tables.rows < 0 {
                problems.append("tables must be a 32-byte digest and a row count of 0 or more")
            }
            if snapshot != nil && tables == nil { problems.append("a snapshot (format v3) needs the tables' digest") }
            if let snapshot, snapshot.schema.count != 32 { problems.append("schema must be a 32-byte digest") }
            guard problems.isEmpty else { throw CheckpointFormatError(problems: problems) }
            self.installation = installation
            self.seq = seq
            self.hash = hash
            self.createdAt = createdAt
            self.signer = signer
            self.tables = tables
            self.snapshot = snapshot
        }

        /// Signs the statement: the signature covers ``AuditCheckpoint/signedText(of:keyFingerprint:)``,
        /// which includes the key's fingerprint, so a checkpoint cannot be relabelled with
        /// another key's name.
        public func sign(with key: CheckpointKey) throws -> AuditCheckpoint {
            let fingerprint = key.fingerprint
            let message = Array(AuditCheckpoint.signedText(of: self, keyFingerprint: fingerprint).utf8)
            let signature = try key.privateKey.signature(for: message)
            return AuditCheckpoint(statement: self, keyFingerprint: fingerprint, signature: Array(signature))
        }
    }
}

extension AuditCheckpoint {
    /// The record tables as the trail replays them at a checkpoint's event: a SHA-256
    /// over every row, and how many rows (``AuditReconciler/tablesDigest()``).
    public struct TablesDigest: Sendable, Equatable {
        public let digest: [UInt8]
        public let rows: Int64

        public init(digest: [UInt8], rows: Int64) {
            self.digest = digest
            self.rows = rows
        }

        /// The digest as 64 lowercase hexadecimal digits.
        public var hex: String { Hex.encode(digest) }
    }
}

extension AuditCheckpoint {
    /// The reconciled snapshot of a v3 checkpoint (issue 18): with it, a later verify
    /// re-renders only the rows written since (``IncrementalReconciliation``).
    public struct Snapshot: Sendable, Equatable {
        /// The cluster's `system_identifier` (`pg_control_system()`): a tuple's `xmin` is
        /// comparable only within one cluster's history of transaction ids.
        public let cluster: UInt64
        /// The snapshot's `xmin` as a full 64-bit transaction id (`pg_snapshot_xmin`):
        /// every transaction below it had ended when the tables were reconciled.
        public let xmin: UInt64
        /// SHA-256 of how the compared tables' rows print as `to_jsonb` (columns, types,
        /// output functions, enum labels, casts to json; ``IncrementalReconciliation``):
        /// a change there changes every row's text without writing a tuple.
        public let schema: [UInt8]

        public init(cluster: UInt64, xmin: UInt64, schema: [UInt8]) {
            self.cluster = cluster
            self.xmin = xmin
            self.schema = schema
        }
    }
}
