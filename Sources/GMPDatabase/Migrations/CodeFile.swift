/// One home file of `sql/code/`: the current definitions of one concern's routines
/// (functions, trigger functions, views), as shipped inside this binary.
///
/// Unlike a numbered migration, a code file is edited in place: `gmp db migrate`
/// applies it again whenever its checksum differs from the one last applied, and the
/// database keeps the text of every application (`gmp_meta.code_applied`) and the
/// definition of every routine version in force (`gmp db code`).
public struct CodeFile: Sendable, Equatable {
    /// Where it comes in the order of application (the file name's `NN`).
    public let order: Int
    /// The concern it holds: `01_audit.sql` → `audit`.
    public let name: String
    /// The file's exact text.
    public let sql: String
    /// SHA-256 of the file's bytes, lower-case hex.
    public let checksum: String
    /// The routines this file is the home of, in the order it defines them.
    public let routines: [RoutineHome]

    public init(order: Int, name: String, sql: String, routines: [RoutineHome] = []) {
        self.init(order: order, name: name, sql: sql, checksum: sha256Hex(sql), routines: routines)
    }

    /// A shipped file, with the checksum the build computed (`CodeFile.shipped`).
    init(order: Int, name: String, sql: String, checksum: String, routines: [RoutineHome]) {
        self.order = order
        self.name = name
        self.sql = sql
        self.checksum = checksum
        self.routines = routines
    }

    /// The file name: `01_audit.sql`.
    public var fileName: String { Self.fileName(order: order, name: name) }

    static func fileName(order: Int, name: String) -> String {
        (order < 10 ? "0" : "") + String(order) + "_" + name + ".sql"
    }

    /// The code files this binary was built with, in the order they apply, with the
    /// checksums computed when it was built (as `Migration.shipped`).
    public static let shipped: [CodeFile] = embeddedCodeFiles.map { file in
        let fileName = fileName(order: file.order, name: file.name)
        return CodeFile(order: file.order, name: file.name, sql: file.sql, checksum: file.checksum, routines: file.routines.map {
            RoutineHome(identity: $0.identity, kind: $0.kind, fileName: fileName, line: $0.line)
        })
    }

    /// The home of the routine with this identity, if one of the shipped files defines it.
    public static func home(of identity: String) -> RoutineHome? {
        homesByIdentity[identity]
    }

    private static let homesByIdentity: [String: RoutineHome] = Dictionary(
        shipped.flatMap(\.routines).map { ($0.identity, $0) }, uniquingKeysWith: { first, _ in first })
}

/// Where a routine's current definition lives in the source tree.
public struct RoutineHome: Sendable, Equatable {
    /// `schema.name(type,type)` as `regprocedure` prints it with `search_path =
    /// pg_catalog`, or `schema.name` for a view.
    public let identity: String
    /// `function`, `procedure` or `view`.
    public let kind: String
    /// The code file it lives in: `10_release.sql`.
    public let fileName: String
    /// The line its definition starts on.
    public let line: Int

    public init(identity: String, kind: String, fileName: String, line: Int) {
        self.identity = identity
        self.kind = kind
        self.fileName = fileName
        self.line = line
    }

    /// `sql/code/10_release.sql:212`.
    public var location: String { "sql/code/\(fileName):\(line)" }
}

/// The shapes the build-time generator writes (see Plugins/MigrationEmbedder).
struct EmbeddedCodeFile {
    let order: Int
    let name: String
    /// SHA-256 of `sql`'s UTF-8 bytes, lower-case hex, computed by the generator.
    let checksum: String
    let sql: String
    let routines: [EmbeddedRoutine]
}

struct EmbeddedRoutine {
    let identity: String
    let kind: String
    let line: Int
}
