/// Paths in this repository, found from this file's path (Tests/GMPRulesTests/…), for
/// tests that read shipped files or sources.
enum RepositoryFiles {
    /// The absolute path of `relative` (e.g. "config/specs") in the repository.
    static func path(_ relative: String) -> String {
        let parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        return (parts.dropLast(3) + [Substring(relative)]).joined(separator: "/")
    }
}
