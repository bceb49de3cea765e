/// A controlled procedure as typed on the command line: `SOP-MFG-004` (its latest version)
/// or `SOP-MFG-004@2` (version 2). Checked before anything is sent, with the rule the
/// database's `gmp.procedure.code` constraint states, so a typo exits 64 with its fix.
public struct ProcedureReference: Sendable, Equatable, CustomStringConvertible {
    public let code: String
    /// nil: the latest registered version.
    public let version: Int?

    public init(code: String, version: Int? = nil) {
        self.code = code
        self.version = version
    }

    /// Parses `CODE` or `CODE@VERSION`; nil when either part is malformed.
    public init?(parsing text: String) {
        let parts = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        guard Self.isCode(String(parts[0])) else { return nil }
        if parts.count == 2 {
            guard let number = Int(parts[1]), number >= 1, parts[1].allSatisfy(\.isASCII),
                  parts[1].first != "+", parts[1].first != "0" else { return nil }
            version = number
        } else {
            version = nil
        }
        code = String(parts[0])
    }

    /// Upper-case letters and digits in hyphen-separated groups, starting with a letter, up
    /// to 40 characters: `SOP-MFG-004`, `SOP-QC-012`.
    public static func isCode(_ text: String) -> Bool {
        guard !text.isEmpty, text.count <= 40, let first = text.first, first.isASCII, first.isUppercase else { return false }
        let groups = text.split(separator: "-", omittingEmptySubsequences: false)
        return groups.allSatisfy { group in
            !group.isEmpty && group.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber) }
        }
    }

    public var description: String { version.map { "\(code)@\($0)" } ?? code }
}

/// What a procedure covers, as typed after `--covers`: a manufacturing step kind
/// (`isolation` … `cryopreservation`) or a QC test code of a specification (`endotoxin`).
public enum ProcedureCoverage: Sendable, Equatable {
    case step(ManufacturingStepKind)
    case test(String)

    /// A step kind when it names one, else a test code (`[a-z0-9_]{1,40}`); nil otherwise.
    public init?(parsing text: String) {
        if let kind = ManufacturingStepKind(rawValue: text) {
            self = .step(kind)
        } else if !text.isEmpty, text.count <= 40,
                  text.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }) {
            self = .test(text)
        } else {
            return nil
        }
    }

    /// The step kinds and the test codes of a list, apart, in the order given.
    public static func split(_ coverage: [ProcedureCoverage]) -> (stepKinds: [String], tests: [String]) {
        var kinds: [String] = [], tests: [String] = []
        for item in coverage {
            switch item {
            case .step(let kind): kinds.append(kind.rawValue)
            case .test(let test): tests.append(test)
            }
        }
        return (kinds, tests)
    }
}

/// Where a person stands on a procedure, as `gmp training matrix` shows it (the database's
/// `gmp_rules.qualification`): the first two may do the work.
public enum QualificationState: String, Sendable, CaseIterable, Codable {
    case qualified
    case retrainingWindow = "retraining_window"
    case awaitingTrainee = "awaiting_trainee"
    case lapsed
    case notTrained = "not_trained"

    /// May do work under the procedure now.
    public var mayWork: Bool { self == .qualified || self == .retrainingWindow }

    /// How a cell of the matrix reads.
    public func text(version: Int?, trainedVersion: Int?, windowEndsOn: String?) -> String {
        switch self {
        case .qualified: return "qualified (v\(version ?? 0))"
        case .retrainingWindow:
            return "v\(trainedVersion ?? 0), retrain by \(windowEndsOn ?? "?")"
        case .awaitingTrainee: return "awaiting trainee's signature"
        case .lapsed: return "lapsed (v\(trainedVersion ?? 0))"
        case .notTrained: return "not trained"
        }
    }
}
