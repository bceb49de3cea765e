/// Binary COPY data that cannot be decoded, or a field that is not of the type asked for.
public struct CopyBinaryError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The data does not start with binary COPY's signature `PGCOPY\n\xff\r\n\0`.
        case badSignature
        /// The header sets a flag this decoder does not support (OIDs, or a future
        /// incompatible format).
        case unsupportedFormat
        /// A field count or field length that the format does not allow.
        case malformed
        /// A row with another number of fields than expected.
        case fieldCountMismatch
        /// Bytes after the end-of-data trailer.
        case trailingData
        /// The data ended inside the header or a row, or without the end-of-data trailer.
        case truncated
        /// NULL where a value is required.
        case unexpectedNull
        /// A field's bytes are not a value of the type asked for (wrong length, jsonb
        /// version, an infinite timestamp).
        case invalidValue
    }

    public let kind: Kind
    /// What is wrong and where: the byte offset in the stream, or the row and field.
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// Field `field` (from 0) of row `row` (from 1) is NULL where a value is required.
    public static func unexpectedNull(row: Int, field: Int) -> CopyBinaryError {
        CopyBinaryError(.unexpectedNull, "binary COPY row \(row), field \(field): NULL where a value is required")
    }
}
