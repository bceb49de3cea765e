import GMPRules
import PostgresClient

/// A security event QA reviews (`gmp audit alerts`): failed signing attempts, failed
/// logins, lockouts, unlocks, disabled accounts, password resets and role changes (21 CFR 11.300(d)).
public struct SecurityEvent: Sendable, Equatable {
    /// Nil for a wrong signing password whose check was rolled back or never made: it
    /// counts toward the lock but has no event row until the next check or an unlock
    /// records it (gmp_audit.unrecorded_signing_failure).
    public let id: Int64?
    public let occurredAt: Timestamp
    public let account: String
    /// signing_failed, login_failed, login_succeeded (after failed logins), account_locked,
    /// account_unlocked, account_disabled, account_enabled, password_reset, password_changed,
    /// identity_confirmed, role_proposed, role_granted, role_declined or role_revoked.
    public let kind: String
    public let detail: String?
    public let recordedBy: String

    /// Kinds that call for QA's attention, as opposed to routine administration:
    /// attempted misuse, and the administrator's powers that could put someone else's
    /// signature or a signing role in the wrong hands (password resets, role changes;
    /// issue 20, items 5 and 6).
    public static let alertKinds: Set<String> = [
        "signing_failed", "login_failed", "account_locked", "password_reset", "role_proposed", "role_granted", "role_revoked",
    ]

    /// Kinds listed with the alerts without being alerts themselves: a successful login
    /// that ended a run of failed logins tells whether the person or a guesser got in.
    public static let contextKinds: Set<String> = ["login_succeeded"]

    /// Security events in time order, optionally from an instant on.
    public static func list(on connection: PostgresConnection, since: Timestamp?) throws -> [SecurityEvent] {
        try connection.query("""
            SELECT id, occurred_at, account_id, kind, detail, recorded_by FROM gmp_audit.security_event
            WHERE \(since)::timestamptz IS NULL OR occurred_at >= \(since)
            UNION ALL
            SELECT NULL, proof_submitted_at, account_id, 'signing_failed',
                   'wrong password entered; its check was rolled back or never made (counted toward the lock)',
                   account_id
            FROM gmp_audit.unrecorded_signing_failure
            WHERE \(since)::timestamptz IS NULL OR proof_submitted_at >= \(since)
            ORDER BY 2, 1 NULLS LAST
            """).map { row in
            SecurityEvent(id: try row.decode("id"), occurredAt: try row.decode("occurred_at"),
                          account: try row.decode("account_id"), kind: try row.decode("kind"),
                          detail: try row.decode("detail"), recordedBy: try row.decode("recorded_by"))
        }
    }
}
