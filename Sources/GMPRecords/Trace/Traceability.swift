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

    /// The donor's trace as the server wrote it (indented JSON): the `--json` output,
    /// passed through untouched.
    public func donorJSON(_ code: String) throws -> String {
        try connection.query("SELECT jsonb_pretty(gmp.trace_donor(\(code))) AS trace")[0].decode("trace")
    }

    public func lotJSON(_ lot: DonationIdentificationNumber) throws -> String {
        try connection.query("SELECT jsonb_pretty(gmp.trace_lot(\(lot.value))) AS trace")[0].decode("trace")
    }

    public func donor(_ code: String) throws -> TraceDocument.DonorTrace {
        try Self.decode(try donorJSON(code))
    }

    public func lot(_ lot: DonationIdentificationNumber) throws -> TraceDocument.LotTrace {
        try Self.decode(try lotJSON(lot))
    }

    static func decode<T: Decodable>(_ json: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(T.self, from: Data(json.utf8))
    }
}
