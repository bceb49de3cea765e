import CLibPQ

/// Feeds data to a running `COPY … FROM STDIN`.
public struct CopyWriter: ~Copyable {
    let connection: PostgresConnection
    /// Bytes handed to libpq so far.
    public private(set) var bytesSent = 0

    /// Sends bytes. libpq counts bytes, not characters: "µg/mL" is 6 bytes.
    public mutating func write(_ bytes: some Collection<UInt8>) throws {
        if try bytes.withContiguousStorageIfAvailable({ try send($0) }) == nil {
            try Array(bytes).withUnsafeBufferPointer { try send($0) }
        }
        bytesSent += bytes.count
    }

    /// Sends a string's UTF-8 bytes.
    public mutating func write(_ text: String) throws {
        var text = text
        try text.withUTF8 { try send($0) }
        bytesSent += text.utf8.count
    }

    private func send(_ buffer: UnsafeBufferPointer<UInt8>) throws {
        guard buffer.count > 0 else { return }
        let status = buffer.withMemoryRebound(to: CChar.self) {
            PQputCopyData(connection.handle, $0.baseAddress, Int32(buffer.count))
        }
        if status != 1 { throw connection.connectionFailure() }
    }
}

/// What a COPY moved.
public struct CopyOutcome: Sendable, Equatable {
    /// Rows the server reports it copied.
    public let rows: Int
    /// Bytes sent (COPY FROM) or received (COPY TO).
    public let bytes: Int
}

extension PostgresConnection {
    /// Runs `COPY … FROM STDIN` and lets `feed` write the data. If `feed` throws, the
    /// COPY is aborted, nothing is loaded, and the error is rethrown.
    public func copyIn(_ statement: SQLQuery, _ feed: (inout CopyWriter) throws -> Void) throws -> CopyOutcome {
        try startCopy(statement, expecting: PGRES_COPY_IN)
        var writer = CopyWriter(connection: self)
        do {
            try feed(&writer)
        } catch {
            abandonCopy(PGRES_COPY_IN, reason: "aborted by the client")
            throw error
        }
        guard PQputCopyEnd(handle, nil) == 1 else { throw connectionFailure() }
        let rows = try finishCopy()
        return CopyOutcome(rows: rows, bytes: writer.bytesSent)
    }

    /// Runs `COPY … TO STDOUT` and hands each chunk of bytes (one row in text and CSV
    /// formats) to `consume`, without holding the whole output in memory.
    public func copyOut(_ statement: SQLQuery, _ consume: (UnsafeRawBufferPointer) throws -> Void) throws -> CopyOutcome {
        try startCopy(statement, expecting: PGRES_COPY_OUT)
        var bytes = 0
        var failure: Error?
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(handle, &buffer, 0)
            if length == -1 { break }
            if length == -2 { throw connectionFailure() }
            guard let buffer else { continue }
            defer { PQfreemem(buffer) }
            bytes += Int(length)
            // Keep draining after a consumer error: libpq must reach the end of the COPY.
            if failure == nil {
                do { try consume(UnsafeRawBufferPointer(start: buffer, count: Int(length))) } catch { failure = error }
            }
        }
        let rows = try finishCopy()
        if let failure { throw failure }
        return CopyOutcome(rows: rows, bytes: bytes)
    }

    private func startCopy(_ statement: SQLQuery, expecting status: ExecStatusType) throws {
        guard statement.bindings.isEmpty else {
            throw ClientError(.misuse, "COPY takes no bind parameters; filter in a query or a staging table instead")
        }
        sendDeferredStatements()   // a COPY is sent alone (no COPY in pipeline mode)
        guard let result = PQexec(handle, statement.sql) else { throw connectionFailure() }
        defer { PQclear(result) }
        let actual = PQresultStatus(result)
        if actual == status { return }
        if actual == PGRES_FATAL_ERROR || actual == PGRES_NONFATAL_ERROR {
            throw serverError(from: result)
        }
        if actual == PGRES_COPY_IN || actual == PGRES_COPY_OUT { abandonCopy(actual, reason: "wrong COPY direction") }
        throw ClientError(.misuse, "the statement is not the expected COPY direction")
    }

    /// Reads the COPY's final result; returns the row count or throws its error.
    private func finishCopy() throws -> Int {
        var outcome: Result<Int, Error> = .failure(connectionFailure())
        while let result = PQgetResult(handle) {
            defer { PQclear(result) }
            if PQresultStatus(result) == PGRES_COMMAND_OK {
                outcome = .success(Int(String(cString: PQcmdTuples(result))) ?? 0)
            } else {
                outcome = .failure(serverError(from: result))
            }
        }
        return try outcome.get()
    }
}
