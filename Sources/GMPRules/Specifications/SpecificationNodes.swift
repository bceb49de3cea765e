#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PostgresClient

/// A YAML mapping of a specification file, its keys checked against a closed list, with
/// readers that report the key path of any problem.
///
/// Values are read from the scalar's original text (`YAMLNode.Scalar.string`), never
/// through `Double`: `95.0` stays `95.0`.
struct SpecificationMapping {
    let path: String
    let line: Int?
    private let pairs: [(key: String, value: YAMLNode)]

    /// Refuses a non-mapping, a non-scalar key and any key outside `allowed`.
    init(_ node: YAMLNode, path: String, allowed: [String]) throws {
        self.path = path
        self.line = node.line
        guard let mapping = node.mapping else {
            throw SpecificationFileError(path: path, line: line, problem: "expected a mapping of keys to values",
                                         fix: "write one `key: value` per line, as gmp help qc-and-release shows")
        }
        var pairs: [(key: String, value: YAMLNode)] = []
        for (key, value) in mapping {
            let name = key.scalar?.string ?? "?"
            guard allowed.contains(name) else {
                throw SpecificationFileError(path: Self.join(path, name), line: key.line, problem: "unknown key",
                                             fix: "use only: \(allowed.joined(separator: ", "))")
            }
            pairs.append((name, value))
        }
        self.pairs = pairs
    }

    static func join(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    func path(_ key: String) -> String { Self.join(path, key) }

    func has(_ key: String) -> Bool { pairs.contains { $0.key == key } }

    func node(_ key: String) -> YAMLNode? { pairs.first { $0.key == key }?.value }

    func required(_ key: String, _ what: String) throws -> YAMLNode {
        guard let node = node(key) else {
            throw SpecificationFileError(path: path(key), line: line, problem: "missing", fix: "add `\(key):` with \(what)")
        }
        return node
    }

    func error(_ key: String, _ problem: String, fix: String) -> SpecificationFileError {
        SpecificationFileError(path: path(key), line: node(key)?.line ?? line, problem: problem, fix: fix)
    }

    // MARK: Values

    /// Non-empty text (quoted or not).
    func text(_ key: String, _ what: String) throws -> String {
        let node = try required(key, what)
        guard let scalar = node.scalar, !node.isNull else {
            throw error(key, "expected text", fix: "give \(what)")
        }
        let text = scalar.string.trimmingWhitespace
        guard !text.isEmpty else { throw error(key, "is empty", fix: "give \(what)") }
        return text
    }

    /// A value from a closed vocabulary.
    func choice<T: RawRepresentable & CaseIterable>(_ key: String, _: T.Type) throws -> T where T.RawValue == String {
        let choices = T.allCases.map(\.rawValue).joined(separator: " | ")
        let text = try text(key, "one of \(choices)")
        guard let value = T(rawValue: text) else {
            throw error(key, "\"\(text)\" is not one of \(choices)", fix: "use one of \(choices)")
        }
        return value
    }

    /// A non-negative decimal written as a plain YAML number, kept exactly as typed.
    func decimal(_ key: String) throws -> ExactDecimal {
        let node = try required(key, "a number")
        guard let scalar = node.scalar, !node.isNull else {
            throw error(key, "expected a number", fix: "write a decimal such as 95 or 95.0")
        }
        let text = scalar.string
        guard scalar.style == .plain else {
            throw error(key, "\"\(text)\" is quoted text, not a number", fix: "write the number without quotes")
        }
        guard let value = ExactDecimal(text) else {
            throw error(key, "\"\(text)\" is not a decimal",
                        fix: "write digits with an optional decimal point, such as 95 or 95.0 (no exponent, comma or letters)")
        }
        guard !value.isNegative, !text.hasPrefix("-") else {
            throw error(key, "\(text) is negative, and no unit allows a negative value", fix: "give a limit of 0 or more")
        }
        // The import sends the number as typed; a form that would be rewritten is refused.
        guard value.description == text else {
            throw error(key, "\"\(text)\" would be stored as \(value)", fix: "write it as \(value)")
        }
        return value
    }

    /// A whole number in `range`, written as a plain YAML number.
    func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int {
        let node = try required(key, "a whole number")
        let text = node.scalar?.string ?? ""
        guard node.scalar?.style == .plain, text.allSatisfy(\.isASCII), let value = Int(text), !text.hasPrefix("+") else {
            throw error(key, "\"\(text)\" is not a whole number", fix: "write a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        guard range.contains(value) else {
            throw error(key, "\(value) is outside \(range.lowerBound)…\(range.upperBound)",
                        fix: "write a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// A non-empty list of non-empty text items, each with the path `key[i]`.
    func list(_ key: String, _ what: String) throws -> [(text: String, path: String, line: Int?)] {
        let node = try required(key, what)
        guard let sequence = node.sequence, !sequence.isEmpty else {
            throw error(key, "expected a non-empty list", fix: "write a list such as [\(what)]")
        }
        return try sequence.enumerated().map { index, item in
            let itemPath = "\(path(key))[\(index)]"
            guard let text = item.scalar?.string, !item.isNull, !text.isEmpty else {
                throw SpecificationFileError(path: itemPath, line: item.line, problem: "expected a single word",
                                             fix: "write \(what)")
            }
            return (text, itemPath, item.line)
        }
    }
}

/// Checks of the characters of codes: plain loops rather than regular expressions (the
/// byte classes are shared with the equipment and material lot ids' checks).
enum SpecificationSyntax {
    /// `[A-Z0-9][A-Z0-9-]{1,31}`.
    static func isSpecificationCode(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (2...32).contains(bytes.count), bytes[0] != UInt8(ascii: "-") else { return false }
        return bytes.allSatisfy { isUpper($0) || isDigit($0) || $0 == UInt8(ascii: "-") }
    }

    /// `[a-z0-9_]{1,40}`: test codes and part names.
    static func isTestCode(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return (1...40).contains(bytes.count) && bytes.allSatisfy { isLower($0) || isDigit($0) || $0 == UInt8(ascii: "_") }
    }

    static func isUpper(_ byte: UInt8) -> Bool { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) }
    static func isLower(_ byte: UInt8) -> Bool { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) }
    static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
}
