/// Checkpoint files on disk: written once (never overwritten), readable by anyone —
/// a checkpoint is evidence to share, not a secret.
extension AuditCheckpoint {
    public func write(to path: String) throws {
        try KeyFileIO.create(path, bytes: Array(render().utf8), mode: 0o644)
    }

    public static func read(from path: String) throws -> AuditCheckpoint {
        try parse(String(decoding: KeyFileIO.read(path, requirePrivate: false), as: UTF8.self))
    }
}
