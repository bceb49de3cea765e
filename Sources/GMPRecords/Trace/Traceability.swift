#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GMPRules
import PostgresClient

/// Traceability both ways (21 CFR 1271.290): one server-side function and one round
/// trip per report, whatever the size of the facility (sql/code/15_trace.sql).
public struct Traceability {
    let connection: PostgresConnection

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// The donor's trace as the server wrote it (compact JSON), for `--json`, which
    /// re-writes it in gmp's one shape: indenting it on the server too (`jsonb_pretty`)
    /// cost the server ~7% of a large trace and sent a third more bytes (issue 14).
    public func donorJSON(_ code: String) throws -> String {
        try connection.query("SELECT gmp.trace_donor(\(code))::text AS trace")[0].decode("trace")
    }

    /// The lot's trace as the server wrote it (compact JSON), as `donorJSON`.
    public func lotJSON(_ lot: DonationIdentificationNumber) throws -> String {
        try connection.query("SELECT gmp.trace_lot(\(lot.value))::text AS trace")[0].decode("trace")
    }

    /// The lot and its steps, without the rest of its trace: what `gmp lot show` prints.
    /// `gmp.lot_show` reads none of the lineage, tissue, donor, signatures, screening,
    /// materials or equipment that the command would drop (issue 18).
    public func lotAndSteps(_ lot: DonationIdentificationNumber) throws -> TraceDocument.LotAndSteps {
        try TraceDocument.LotAndSteps(jsonText: try connection.query("SELECT gmp.lot_show(\(lot.value))::text AS l")[0].decode("l"))
    }

    public func donor(_ code: String) throws -> TraceDocument.DonorTrace {
        try TraceDocument.DonorTrace(jsonText: try donorJSON(code))
    }

    public func lot(_ lot: DonationIdentificationNumber) throws -> TraceDocument.LotTrace {
        try TraceDocument.LotTrace(jsonText: try lotJSON(lot))
    }
}
