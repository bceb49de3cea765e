// swift-tools-version: 6.0
// gmp — GMP records for MSC manufacturing, over PostgreSQL through libpq.
//
// Layers, with dependencies pointing one way only:
//   CLibPQ (system library) → PostgresClient (safe libpq client)
//     → GMPDatabase (schema migrations, embedded server)
//     → GMPRules (pure GMP rules and values) → GMPRecords (GMP records, through the database's functions)
//       → GMPCLI (parsing, output) → gmp (the executable)
import PackageDescription
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")

// How the release gmp is linked (issue 18: a cold command's loader and page-fault cost;
// figures in docs/benchmarks.md "Linking"). Release only: the debug build and the tests
// link as SwiftPM does by default. scripts/bench checks the result (check_release_link).
// - Not position-independent: the objects are PIC anyway, and a fixed load address lets
//   the linker resolve the ~63,000 relative relocations that ld.so otherwise writes into
//   ~300 pages at every start (130-195 page faults and 0.8 M instructions less).
// - libstdc++ and libgcc linked statically (Linking/static-libstdc++ explains the
//   how): ld.so no longer loads and relocates libstdc++.so.6 and libgcc_s.so.1.
// - No dynamic export of gmp's own ~13,000 symbols: nothing loads gmp's symbols by name
//   (Swift's runtime finds types and conformances through its own sections), and each
//   library symbol ld.so looks up no longer checks the executable's table first.
// - lld (the toolchain's), not gold: with SwiftPM's --gc-sections, gold refuses
//   libstdc++.a's SystemTap note when the Swift runtime is linked dynamically (a release
//   build without --static-swift-stdlib did not link; docs/benchmarks.md "A release build
//   without --static-swift-stdlib"). The static build links and starts alike with either.
let releaseLinking: [LinkerSetting] = [
    .unsafeFlags([
        "-use-ld=lld",
        "-Xclang-linker", "-no-pie",
        "-Xclang-linker", "-static-libgcc",
        "-L\(Context.packageDirectory)/Linking/static-libstdc++",
        "-Xlinker", "--no-export-dynamic",
        "-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/Linking/hot-text.txt",
        "-Xlinker", "--no-warn-symbol-ordering",
    ], .when(platforms: [.linux], configuration: .release)),
]

// The release gmp's hot code together (issue 18, docs/benchmarks.md "Hot code together"):
// each Swift function in a section of its own, so that the link can lay out the ones a
// cold command runs (Linking/hot-text.txt, from scripts/hot_text.py) side by side.
let releaseFunctionSections: [SwiftSetting] = [
    .unsafeFlags(["-Xfrontend", "-function-sections"], .when(platforms: [.linux], configuration: .release)),
]

// libpq's link (issue 18, docs/benchmarks.md "libpq linked in"). libpq.so.5 brings 21 more
// shared libraries (libssl, libcrypto, GSSAPI/Kerberos, LDAP, SASL, GnuTLS …) that ld.so
// loads, relocates and initialises at every start: ~2 ms of each cold command. So gmp
// links libpq's static archive with the pgcommon and pgport it needs (Debian's
// postgresql-server-dev-N, of libpq's own major and minor version), and libssl and
// libcrypto's; libpq's GSSAPI and LDAP calls go through CLibPQLink's forwarders, which
// load those libraries when a connection first uses them. Debug and release alike, so
// the tests run the shipped link. Security updates of libpq5 or libssl3 then need a
// rebuild of gmp (gmp doctor says how it is linked).
// Falls back to libpq.so and libcrypto.so when an archive is missing or pgcommon's
// version is not libpq's; GMP_LIBPQ_LINK=dynamic forces that.
struct LibPQLink {
    /// The archives, in link order; empty: link the shared libraries.
    let archives: [String]

    static func fileText(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// The value of `#define NAME value` in a pg_config.h.
    static func define(_ name: String, in header: String) -> String? {
        for line in header.split(separator: "\n") {
            let words = line.split(separator: " ", maxSplits: 2)
            if words.count == 3, words[0] == "#define", words[1] == name { return String(words[2]) }
        }
        return nil
    }

    static func detect() -> LibPQLink {
        #if os(Linux)
        if Context.environment["GMP_LIBPQ_LINK"] == "dynamic" { return LibPQLink(archives: []) }
        #if arch(x86_64)
        let libraries = "/usr/lib/x86_64-linux-gnu"
        #else
        let libraries = "/usr/lib/aarch64-linux-gnu"
        #endif
        // libpq-dev's pg_config.h names libpq's version; the server-dev package of that
        // major version ships the pgcommon and pgport libpq.a was built with.
        guard let clientHeader = fileText("/usr/include/postgresql/pg_config.h"),
              let major = define("PG_MAJORVERSION", in: clientHeader)?.filter({ $0 != "\"" }),
              let version = define("PG_VERSION_NUM", in: clientHeader),
              let serverHeader = fileText("/usr/include/postgresql/\(major)/server/pg_config.h"),
              define("PG_VERSION_NUM", in: serverHeader) == version
        else { return LibPQLink(archives: []) }
        let archives = [
            "\(libraries)/libpq.a",
            "/usr/lib/postgresql/\(major)/lib/libpgcommon_shlib.a",
            "/usr/lib/postgresql/\(major)/lib/libpgport_shlib.a",
            "\(libraries)/libssl.a",
            "\(libraries)/libcrypto.a",
        ]
        guard archives.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) else { return LibPQLink(archives: []) }
        return LibPQLink(archives: archives)
        #else
        return LibPQLink(archives: [])
        #endif
    }

    var isStatic: Bool { !archives.isEmpty }

    /// libpq and libcrypto (CLibPQLink's): the archives in one group (gold reads an archive
    /// once, in order), or the shared libraries.
    var linkerSettings: [LinkerSetting] {
        guard isStatic else { return [.linkedLibrary("pq"), .linkedLibrary("crypto")] }
        return [.unsafeFlags(["-Xlinker", "--start-group"] + archives.flatMap { ["-Xlinker", $0] }
            + ["-Xlinker", "--end-group"])]
    }

    var cSettings: [CSetting] { isStatic ? [.define("GMP_LIBPQ_STATIC")] : [] }
}
let libpqLink = LibPQLink.detect()

let package = Package(
    name: "gmp",
    products: [
        .executable(name: "gmp", targets: ["gmp"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // libpq's and libcrypto's headers (Debian's libpq-dev, libssl-dev); linked by CLibPQLink.
        .systemLibrary(name: "CLibPQ", providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CLibCrypto", providers: [.apt(["libssl-dev"])]),
        // How libpq and libcrypto are linked (libpqLink above), and libpq's GSSAPI and LDAP
        // calls loaded on first use when libpq is linked in (deferred_auth.c).
        .target(name: "CLibPQLink", cSettings: libpqLink.cSettings,
                linkerSettings: libpqLink.linkerSettings + [.linkedLibrary("dl"), .linkedLibrary("pthread")]),

        // What gmp needs of libcrypto, and no more: SHA-256, HMAC-SHA-256, Ed25519, random
        // bytes. Was swift-crypto (issue 18): its BoringSSL was most of a clean build, and its
        // 395 protocol-conformance records were walked by every first-use scan at start-up.
        .target(name: "SystemCrypto", dependencies: ["CLibCrypto", "CLibPQLink"], swiftSettings: releaseFunctionSections),

        // A small, safe PostgreSQL client: bind parameters only, typed text decoding,
        // transactions with bounded retry, COPY, mapped errors. Knows nothing of GMP.
        .target(name: "PostgresClient", dependencies: ["CLibPQ", "CLibPQLink", logging], swiftSettings: releaseFunctionSections),

        // Where gmp's records live: schema migrations (sql/, embedded at build time),
        // the embedded private server, and which server a command talks to.
        .target(
            name: "GMPDatabase",
            dependencies: ["PostgresClient", "SystemCrypto", logging],
            swiftSettings: releaseFunctionSections,
            plugins: ["EmbedMigrations"]
        ),

        // Pure GMP rules and value types, no database I/O: ISBT 128 identifiers, label
        // statements, the audit chain's encoding and verifier, checkpoints, specification
        // and readings files, storage positions, vocabularies, the documents the server
        // returns. PostgresClient only for its value types (ExactDecimal, Timestamp, the
        // binary COPY row the chain verifier reads); never a connection or a query, which
        // Tests/GMPRulesTests/LayerTests.swift checks.
        // Signatures, the audit chain and checkpoints need SHA-256, HMAC and Ed25519:
        // SystemCrypto. Specification files are YAML, read by its own small reader (YAMLReader):
        // a YAML library would link the whole of Foundation and ICU into every command.
        .target(name: "GMPRules", dependencies: ["PostgresClient", "SystemCrypto"], swiftSettings: releaseFunctionSections),

        // GMP records read and written through the database's guarded functions (donors,
        // lots, QC results, dispositions, custody, shipments, accounts, the audit trail …).
        // The database decides; these types name the operations and decode the answers.
        .target(name: "GMPRecords", dependencies: ["GMPRules", "PostgresClient"], swiftSettings: releaseFunctionSections),

        // The command-line interface: parsing, configuration, output, exit codes.
        // The starter configuration and the documentation are embedded at build time
        // (EmbedDocuments), so gmp config init and gmp help TOPIC need no source tree.
        .target(name: "GMPCLI", dependencies: ["GMPRecords", "GMPRules", "GMPDatabase", "PostgresClient", argumentParser, logging],
                swiftSettings: releaseFunctionSections, plugins: ["EmbedDocuments"]),
        .executableTarget(name: "gmp", dependencies: ["GMPCLI"], linkerSettings: releaseLinking),

        // Build-time embedding of sql/V*.sql into the binary, so that a binary knows
        // exactly which schema versions it can run against.
        .executableTarget(name: "MigrationEmbedder", path: "Plugins/MigrationEmbedder"),
        .plugin(name: "EmbedMigrations", capability: .buildTool(), dependencies: ["MigrationEmbedder"]),
        // Build-time embedding of config/gmp.yaml, config/specs/*.yaml and docs/*.md into GMPCLI.
        .executableTarget(name: "DocumentEmbedder", path: "Plugins/DocumentEmbedder"),
        .plugin(name: "EmbedDocuments", capability: .buildTool(), dependencies: ["DocumentEmbedder"]),

        // Shared helpers for the test targets (throwaway databases, running the binary).
        .target(name: "TestSupport", dependencies: ["PostgresClient", "GMPDatabase"], path: "Tests/TestSupport"),

        // Pure unit tests: no database.
        .testTarget(name: "PostgresClientTests", dependencies: ["PostgresClient"]),
        .testTarget(name: "GMPCLITests", dependencies: ["GMPCLI", "GMPDatabase", "GMPRecords", "GMPRules", "PostgresClient"]),
        .testTarget(name: "GMPRulesTests", dependencies: ["GMPRules", "PostgresClient", "SystemCrypto", "CLibCrypto"]),
        .testTarget(name: "SystemCryptoTests", dependencies: ["SystemCrypto"]),
        // Integration tests against a real PostgreSQL (scripts/test starts one).
        .testTarget(name: "PostgresClientIntegrationTests", dependencies: ["PostgresClient", "TestSupport"]),
        .testTarget(name: "GMPDatabaseTests", dependencies: ["GMPDatabase", "PostgresClient", "TestSupport"]),
        // The GMP rules as the database enforces them, through GMPRecords and plain SQL.
        .testTarget(name: "GMPRecordsIntegrationTests", dependencies: ["GMPRecords", "GMPRules", "PostgresClient", "TestSupport"]),
        // End-to-end: the built gmp binary, its stdout, --json and exit codes.
        .testTarget(name: "EndToEndTests", dependencies: ["gmp", "TestSupport", "PostgresClient"]),
    ]
)

// No implicit `import _StringProcessing` (issue 18, docs/benchmarks.md "swift-crypto out,
// OpenSSL's libcrypto in; no regex literal in gmp"): gmp matches its few fixed forms by hand,
// so that none of its code needs `_StringProcessing` and `_RegexParser`, whose ~430
// protocol-conformance records each of a cold command's ~30 first-use conformance scans
// walks. The flag hides the Regex type, not regex literals (`nm -u` of the objects finds
// those). FoundationEssentials (JSONDecoder, string comparison) still links both modules.
let noImplicitStringProcessing: [SwiftSetting] = [
    .unsafeFlags(["-Xfrontend", "-disable-implicit-string-processing-module-import"]),
]
// The tests (which may use Regex) and the build-time embedders are left out: never in gmp.
for target in package.targets where [.regular, .executable].contains(target.type)
    && !["MigrationEmbedder", "DocumentEmbedder"].contains(target.name) {
    target.swiftSettings = (target.swiftSettings ?? []) + noImplicitStringProcessing
}
