/// Finds the units of binary COPY data — the header, then one tuple per row, then the
/// end-of-data trailer — in bytes that start at a unit boundary.
///
/// It never buffers: given too few bytes it says how many the unit needs at least, and
/// `CopyBinaryDecoder` gathers them. The format (all integers big-endian):
///
///     header:  "PGCOPY\n\xff\r\n\0"  int32 flags  int32 extension length  extension bytes
///     tuple:   int16 field count, then per field: int32 length (-1 = NULL), that many bytes
///     trailer: int16 -1
struct CopyBinaryFraming {
    enum Phase { case header, tuples, ended }

    /// The outcome of one step: a whole unit was read, or at least `needs` bytes are needed.
    enum Step {
        case consumed(Int)
        case needs(Int)
    }

    static let signature: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00]
    static let headerFixedLength = 19  // signature, flags, extension length

    private(set) var phase = Phase.header
    /// Fields per row: given by the caller, or else taken from the first row (PostgreSQL
    /// writes the same count in every row, so a change means corrupt data).
    private(set) var fieldCount: Int?
    private(set) var rowCount = 0
    /// Bytes of the stream in completed units: where the current unit starts, for messages.
    private(set) var streamOffset = 0
    /// The current row's field positions; reused, so rows allocate nothing.
    private var fields: [CopyBinaryRow.Field] = []

    init(fieldCount: Int?) {
        self.fieldCount = fieldCount
    }

    /// Reads the unit at the start of `bytes`, calling `onRow` if it is a row.
    mutating func step(_ bytes: UnsafeRawBufferPointer, onRow: (CopyBinaryRow) throws -> Void) throws -> Step {
        let step: Step
        switch phase {
        case .header:
            step = try scanHeader(bytes)
            if case .consumed = step { phase = .tuples }
        case .tuples:
            step = try scanTuple(bytes, onRow: onRow)
        case .ended:
            throw failure(.trailingData, "data after the end-of-data trailer")
        }
        if case .consumed(let count) = step { streamOffset += count }
        return step
    }

    private func scanHeader(_ bytes: UnsafeRawBufferPointer) throws -> Step {
        // Check as much of the signature as has arrived, so that other data fails at once.
        let checked = min(bytes.count, Self.signature.count)
        guard bytes.prefix(checked).elementsEqual(Self.signature.prefix(checked)) else {
            throw failure(.badSignature, "not binary COPY data (the PGCOPY signature is missing)")
        }
        guard bytes.count >= Self.headerFixedLength else { return .needs(Self.headerFixedLength) }
        // Bits 16–31 are critical: 16 means OIDs follow (never since PostgreSQL 12), the rest are reserved.
        let flags = bytes.loadBigEndian(UInt32.self, at: 11)
        guard flags & 0xFFFF_0000 == 0 else {
            throw failure(.unsupportedFormat, "unsupported header flags 0x\(String(flags, radix: 16))")
        }
        let extensionLength = Int(bytes.loadBigEndian(Int32.self, at: 15))
        guard extensionLength >= 0 else {
            throw failure(.malformed, "negative header extension length \(extensionLength)")
        }
        let length = Self.headerFixedLength + extensionLength
        return bytes.count >= length ? .consumed(length) : .needs(length)
    }

    private mutating func scanTuple(_ bytes: UnsafeRawBufferPointer, onRow: (CopyBinaryRow) throws -> Void) throws -> Step {
        guard bytes.count >= 2 else { return .needs(2) }
        let count = Int(bytes.loadBigEndian(Int16.self, at: 0))
        if count == -1 {
            phase = .ended
            return .consumed(2)
        }
        try checkFieldCount(count)
        let scan = try scanFields(bytes, count: count)
        guard case .consumed(let length) = scan else { return scan }
        rowCount += 1
        fieldCount = count
        let tuple = UnsafeRawBufferPointer(rebasing: bytes[0..<length])
        try fields.withUnsafeBufferPointer { try onRow(CopyBinaryRow(tuple: tuple, fields: $0, number: rowCount)) }
        return .consumed(length)
    }

    private func checkFieldCount(_ count: Int) throws {
        guard count >= 0 else { throw failure(.malformed, "invalid field count \(count)") }
        if let fieldCount, count != fieldCount {
            throw failure(.fieldCountMismatch, "row \(rowCount + 1) has \(count) fields, expected \(fieldCount)")
        }
    }

    /// Records the positions of the tuple's `count` fields, or says how many bytes it needs.
    private mutating func scanFields(_ bytes: UnsafeRawBufferPointer, count: Int) throws -> Step {
        fields.removeAll(keepingCapacity: true)
        var offset = 2
        for _ in 0..<count {
            guard bytes.count >= offset + 4 else { return .needs(offset + 4) }
            let length = Int(bytes.loadBigEndian(Int32.self, at: offset))
            offset += 4
            guard length >= -1 else {
                throw failure(.malformed, "row \(rowCount + 1) has a field of invalid length \(length)")
            }
            fields.append(CopyBinaryRow.Field(start: offset, length: length))
            offset += max(length, 0)
            guard bytes.count >= offset else { return .needs(offset) }
        }
        return .consumed(offset)
    }

    func failure(_ kind: CopyBinaryError.Kind, _ problem: String) -> CopyBinaryError {
        CopyBinaryError(kind, "binary COPY data at byte \(streamOffset): \(problem)")
    }
}
