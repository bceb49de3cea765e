import PostgresClient
import Testing

@Suite("Server notices: the level they are shown at")
struct NoticeLevelTests {
    @Test("a warning is a warning, except the shutdown warning that precedes a lost connection's one error line")
    func levels() {
        #expect(PostgresNotice(severity: "WARNING", sqlState: "01000", message: "x").logLevel.rawValue == "warning")
        #expect(PostgresNotice(severity: "WARNING", sqlState: "57P01",
                               message: "terminating connection due to immediate shutdown command").logLevel.rawValue == "info")
        #expect(PostgresNotice(severity: "NOTICE", sqlState: "00000", message: "x").logLevel.rawValue == "info")
        #expect(PostgresNotice(severity: "DEBUG", sqlState: "00000", message: "x").logLevel.rawValue == "debug")
    }
}
