#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The PostgreSQL server programs gmp runs its embedded server with.
///
/// Debian installs each major version side by side under
/// `/usr/lib/postgresql/<N>/bin` and puts only client wrappers on `PATH`, so the server
/// programs are looked for there rather than on `PATH`.
public struct PostgresInstallation: Sendable, Equatable {
    /// The programs the embedded server needs; a directory lacking any of them is not used.
    public static let requiredPrograms = ["initdb", "pg_ctl", "postgres"]

    /// Where Debian's `postgresql-<N>` packages install their server programs.
    static let debianRoot = "/usr/lib/postgresql"

    /// The directory holding `initdb`, `pg_ctl` and `postgres`.
    public let binDirectory: String
    /// The PostgreSQL major version of those programs, e.g. 15.
    public let majorVersion: Int

    init(binDirectory: String, majorVersion: Int) {
        self.binDirectory = binDirectory
        self.majorVersion = majorVersion
    }

    /// Finds the server programs.
    ///
    /// - Parameters:
    ///   - binDirectory: a directory chosen by configuration; when given it is the only
    ///     place looked at.
    ///   - preferringMajorVersion: when searching, try this version first. Pass the
    ///     version of an existing cluster so that installing a newer PostgreSQL alongside
    ///     does not leave gmp trying to run old data with new binaries.
    /// - Throws: `EmbeddedServerError.binariesMissing` when nothing usable is found.
    public static func locate(
        binDirectory: String?,
        preferringMajorVersion: Int? = nil
    ) throws -> PostgresInstallation {
        if let configured = binDirectory {
            let directory = configured.withoutTrailingSlashes
            guard hasRequiredPrograms(directory) else {
                throw EmbeddedServerError.binariesMissing(searched: [directory])
            }
            let version = try debianMajorVersion(of: directory) ?? reportedMajorVersion(of: directory)
            return PostgresInstallation(binDirectory: directory, majorVersion: version)
        }
        for version in installedDebianVersions(preferring: preferringMajorVersion) {
            let directory = "\(debianRoot)/\(version)/bin"
            if hasRequiredPrograms(directory) {
                return PostgresInstallation(binDirectory: directory, majorVersion: version)
            }
        }
        throw EmbeddedServerError.binariesMissing(searched: ["\(debianRoot)/*/bin"])
    }

    /// The full path of one of the installation's programs.
    public func path(of program: String) -> String {
        "\(binDirectory)/\(program)"
    }

    /// Version directories under `/usr/lib/postgresql`, highest first (the preferred one
    /// before all). A client-only install also creates such a directory, without
    /// `initdb`, which is why callers still check for the programs.
    static func installedDebianVersions(preferring preferred: Int?) -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: debianRoot)) ?? []
        let versions = names.compactMap(Int.init).sorted(by: >)
        guard let preferred, versions.contains(preferred) else { return versions }
        return [preferred] + versions.filter { $0 != preferred }
    }

    static func hasRequiredPrograms(_ directory: String) -> Bool {
        requiredPrograms.allSatisfy { FileManager.default.isExecutableFile(atPath: "\(directory)/\($0)") }
    }

    /// The version read off a Debian-style path `…/postgresql/<N>/bin`, which avoids
    /// starting a program just to ask.
    static func debianMajorVersion(of directory: String) -> Int? {
        let parts = directory.split(separator: "/")
        guard parts.count >= 3, parts[parts.count - 1] == "bin", parts[parts.count - 3] == "postgresql" else {
            return nil
        }
        return Int(parts[parts.count - 2])
    }

    /// Asks `postgres --version` (allowed even as root), which prints e.g.
    /// `postgres (PostgreSQL) 15.8 (Debian 15.8-0+deb12u1)`.
    static func reportedMajorVersion(of directory: String) throws -> Int {
        let program = "\(directory)/postgres"
        let output = try Subprocess.run(program, ["--version"]).checked().output
        guard let version = parseMajorVersion(output) else {
            throw EmbeddedServerError.unrecognizedVersion(program: program, output: EmbeddedServerError.excerpt(output))
        }
        return version
    }

    /// The leading digits after "(PostgreSQL) ", so "15.8" and "17beta1" both work.
    static func parseMajorVersion(_ versionOutput: String) -> Int? {
        guard let marker = versionOutput.firstRange(of: "(PostgreSQL) ") else { return nil }
        return Int(versionOutput[marker.upperBound...].prefix(while: \.isNumber))
    }
}
