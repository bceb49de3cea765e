/// Decodes the output of `COPY … TO STDOUT (FORMAT binary)` as it streams in, row by row.
///
/// Chunks may split anywhere: libpq hands over one row per chunk, but nothing here relies
/// on it. A row that lies inside one chunk is handed to `onRow` in place, without copying;
/// only a row split across chunks is gathered in a buffer, which is reused. After the first
/// rows nothing is allocated per row.
///
///     var decoder = CopyBinaryDecoder(expectedFieldCount: 3)
///     try connection.copyOut("COPY (SELECT …) TO STDOUT (FORMAT binary)") { chunk in
///         try decoder.feed(chunk) { row in … }
///     }
///     try decoder.finish()
///
/// After it throws, the decoder's state is undefined: discard it.
public struct CopyBinaryDecoder {
    private var framing: CopyBinaryFraming
    /// The bytes received so far of a unit split across chunks; empty otherwise.
    private var carry: [UInt8] = []
    /// How many bytes `carry` must hold before the unit is worth reading again.
    private var carryTarget = 0

    /// A decoder for rows of `expectedFieldCount` fields (nil: whatever the first row has).
    public init(expectedFieldCount: Int? = nil) {
        framing = CopyBinaryFraming(fieldCount: expectedFieldCount)
    }

    /// Rows decoded so far.
    public var rowCount: Int { framing.rowCount }

    /// Decodes the next chunk of the stream, calling `onRow` for each row completed in it.
    /// The row is valid only during the call. Errors from `onRow` are rethrown.
    public mutating func feed(_ chunk: UnsafeRawBufferPointer, onRow: (CopyBinaryRow) throws -> Void) throws {
        var position = carry.isEmpty ? 0 : try completeCarry(from: chunk, onRow: onRow)
        while position < chunk.count {
            let rest = UnsafeRawBufferPointer(rebasing: chunk[position...])
            switch try framing.step(rest, onRow: onRow) {
            case .consumed(let count):
                position += count
            case .needs(let count):
                // Keep just the incomplete unit, until later chunks complete it.
                carry.append(contentsOf: rest)
                carryTarget = count
                return
            }
        }
    }

    /// Checks that the stream ended where it should: after the end-of-data trailer.
    public func finish() throws {
        switch framing.phase {
        case .ended:
            return
        case .header:
            throw framing.failure(.truncated, "the data ended inside the header")
        case .tuples:
            let partial = carry.isEmpty ? "" : ", inside row \(framing.rowCount + 1) (\(carry.count) bytes of it)"
            throw framing.failure(.truncated, "the data ended without the end-of-data trailer\(partial)")
        }
    }

    /// Adds bytes from `chunk` to the carried unit and reads it once it has enough; returns
    /// how many bytes of `chunk` it took.
    private mutating func completeCarry(from chunk: UnsafeRawBufferPointer, onRow: (CopyBinaryRow) throws -> Void) throws -> Int {
        var taken = 0
        while true {
            let wanted = min(carryTarget - carry.count, chunk.count - taken)
            carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[taken..<taken + wanted]))
            taken += wanted
            guard carry.count == carryTarget else { return taken }  // the chunk ran out first
            switch try carry.withUnsafeBytes({ try framing.step($0, onRow: onRow) }) {
            case .consumed(let count):
                // Each `needs` lies within the unit, so the unit ends exactly at the carry's end.
                assert(count == carry.count, "the carried bytes reach past the unit")
                carry.removeAll(keepingCapacity: true)
                return taken
            case .needs(let count):
                carryTarget = count
            }
        }
    }
}
