/// GMP records as the database keeps them: the operations that read and write donors,
/// tissue collections, lots, specifications, QC results, deviations, dispositions,
/// storage and custody, readings and excursions, shipments, accounts and the audit trail.
///
/// What it is: thin, typed calls of the database's guarded functions (schema `gmp`), one
/// type per kind of record, each over a `PostgresConnection`, decoding the answers into
/// typed rows and `GMPRules` documents; and the signature ceremony around a signed call.
///
/// What it is not: the rules themselves. The database decides — it refuses what the
/// rules forbid, judges QC results, and records every change in the audit trail — and
/// its refusals come back as `PostgresError`s. (One thing is checked here on purpose:
/// `AuditTrail.verify` streams the trail and recomputes its chain with the `GMPRules`
/// verifier, so that a rewritten database cannot vouch for itself.) Pure checks made before anything is sent
/// (a typed DIN, a result's unit, a specification file) belong to `GMPRules`. It leaves
/// transactions to its callers unless an operation says otherwise.
public enum GMPRecords {}
