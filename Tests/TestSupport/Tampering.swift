import PostgresClient
import TestSupport

/// What a superuser with psql can do to the trail: switch the DDL recorder and the
/// append-only trigger off, run `statements`, and switch them on again. The database
/// cannot stop its owner; verification (with checkpoints) must notice.
enum Tampering {
    static func asSuperuser(_ database: String, _ statements: String) throws {
        let admin = try TestServer.connect(database)
        try admin.execute(script: SQLScript(shippedWithBinary: """
            BEGIN;
            ALTER EVENT TRIGGER gmp_record_ddl DISABLE;
            ALTER TABLE gmp_audit.event DISABLE TRIGGER append_only;
            \(statements);
            ALTER TABLE gmp_audit.event ENABLE ALWAYS TRIGGER append_only;
            ALTER EVENT TRIGGER gmp_record_ddl ENABLE ALWAYS;
            COMMIT;
            """))
    }
}
