/// A node of a YAML document as gmp's own files write YAML (`config/gmp.yaml`,
/// `config/specs/*.yaml`, `config/processes/*.yaml`), read by `YAMLReader`.
///
/// Every scalar keeps its original text and its style, never a resolved type: `95.0`
/// stays `95.0`, and a quoted `"95"` can be told from a plain `95`.
public struct YAMLNode: Sendable {
    /// How a scalar was written.
    public enum Style: Sendable, Equatable {
        case plain, singleQuoted, doubleQuoted, literal, folded
    }

    /// A scalar: its text (quotes removed, escapes decoded) and its style.
    public struct Scalar: Sendable, Equatable {
        public let string: String
        public let style: Style
    }

    public enum Content: Sendable {
        case scalar(Scalar)
        case sequence([YAMLNode])
        /// The pairs in the order written (keys are unique: the reader refuses a repeat).
        case mapping([(key: YAMLNode, value: YAMLNode)])
    }

    public let content: Content
    /// The line (from 1) where the node starts.
    public let line: Int

    public var scalar: Scalar? {
        if case .scalar(let scalar) = content { return scalar }
        return nil
    }

    /// The scalar's text; nil for a list or a mapping.
    public var string: String? { scalar?.string }

    public var sequence: [YAMLNode]? {
        if case .sequence(let items) = content { return items }
        return nil
    }

    public var mapping: [(key: YAMLNode, value: YAMLNode)]? {
        if case .mapping(let pairs) = content { return pairs }
        return nil
    }

    /// A plain empty value, `~` or `null`: no value. A quoted `"null"` is text.
    public var isNull: Bool {
        guard let scalar, scalar.style == .plain else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }
}

/// Why a YAML text could not be read, with the line (from 1) of the problem.
public struct YAMLError: Error, Equatable, CustomStringConvertible {
    public let line: Int
    public let problem: String

    public var description: String { "line \(line): \(problem)" }
}
