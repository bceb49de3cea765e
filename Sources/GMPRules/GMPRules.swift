/// The GMP rules of gmp that need no database: pure functions and plain values.
///
/// What it is: ISBT 128 donation and facility identification numbers with their ISO 7064
/// MOD 37-2 check characters; the statements a label must carry; audit encoding v1, the
/// audit chain verifier and signed checkpoints; the signing proof computed from a
/// password; specification files (parsed and checked, and the import document built
/// from them); temperature readings files; unit ids, storage positions and box grids;
/// the closed vocabularies (roles, lot status and stages, units, outcomes, screening
/// tests …); ``Refusal``; and the documents the server returns (release check,
/// certificate, custody history, shipment, traces) as plain data.
///
/// What it is not: it holds no connection and sends no query, so everything here runs,
/// and is tested, without a server. Whether a record may be written — eligibility, a
/// lot's state machine, a QC verdict, a release — is decided by the database's functions,
/// which `GMPRecords` calls. It depends on PostgresClient only for its value types
/// (`ExactDecimal`, `Timestamp`, the binary COPY row the chain verifier reads) and one
/// string helper (`trimmingWhitespace`): moving them into a module of their own would
/// touch every layer for no change in behaviour. Instead `LayerTests` fails if a source
/// here names one of PostgresClient's connection, query, result or error types.
public enum GMPRules {}
