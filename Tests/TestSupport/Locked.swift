import Foundation

/// A value shared between the threads of a concurrency test; the lock makes the
/// unchecked `Sendable` true.
public final class Locked<Value>: @unchecked Sendable {
    private var stored: Value
    private let lock = NSLock()

    public init(_ value: Value) { stored = value }

    public var value: Value { lock.withLock { stored } }

    public func mutate(_ body: (inout Value) -> Void) { lock.withLock { body(&stored) } }
}
