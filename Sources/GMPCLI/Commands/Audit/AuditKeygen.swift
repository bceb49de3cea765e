import ArgumentParser
import GMPRules

/// `gmp audit keygen --out PATH`: QA's Ed25519 key for signing checkpoints.
struct AuditKeygen: GMPCommand {
    static let path = "audit keygen"
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Make an Ed25519 key pair for signing audit checkpoints (QA keeps it outside the database).",
        discussion: """
            Writes the private key to PATH (mode 600, never overwritten) and the public \
            key to PATH.pub. Keep the private key off the database server (e.g. on QA's \
            own media); give the public key to anyone who verifies.

            Examples:
              gmp audit keygen --out ~/qa.key
            """)

    @OptionGroup var options: GlobalOptions
    @Option(help: ArgumentHelp("Where to write the private key.", valueName: "path")) var out: String

    struct Document: Encodable {
        let privateKey: String
        let publicKey: String
        let fingerprint: String
    }

    func execute(in context: CommandContext) throws {
        let key = CheckpointKey.generate()
        try key.write(to: out)
        try key.publicKey.write(to: out + ".pub")
        try context.output.document(Document(privateKey: out, publicKey: out + ".pub", fingerprint: key.fingerprint))
        context.output.data("private key \(out) (keep it secret), public key \(out).pub, fingerprint \(key.fingerprint)")
    }
}
