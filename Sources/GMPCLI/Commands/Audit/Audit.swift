import ArgumentParser

/// `gmp audit`: the audit trail, its verification, checkpoints and reports.
struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Verify, checkpoint, review and report the audit trail.",
        discussion: """
            Every insert, update and delete of a GMP record, and every schema change, is \
            an audit event: who (the authenticated person), when (server UTC), what \
            (table, record, old and new values) and why. Events are chained by SHA-256 \
            (gmp help audit-trail), so any edit, deletion, insertion or reordering shows.

              verify      recompute the whole chain here, in the client
              keygen      make QA's checkpoint signing key (kept outside the database)
              checkpoint  sign the current chain head into a small file
              report      events by record, person or time: table, --json or --csv
              alerts      failed signing attempts and lockouts
              review      sign that you reviewed the trail (QA, director)
            """,
        subcommands: [AuditVerify.self, AuditKeygen.self, AuditCheckpointCommand.self, AuditReportCommand.self,
                      AuditAlerts.self, AuditReview.self]
    )
}
