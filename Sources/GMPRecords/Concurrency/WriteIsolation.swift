import PostgresClient

/// The isolation a command's write transaction runs at, named for why (docs/concurrency.md
/// has the table, command by command; issue 19).
///
/// SERIALIZABLE guards against every anomaly, but PostgreSQL's predicate locks are coarse
/// (index pages, whole relations once they are many), so two people writing *different*
/// records can still get 40001 and the command retries, and may give up. Where the
/// database rule locks every row it decides from (`FOR UPDATE` / `FOR SHARE`) and unique
/// indexes hold the rest, READ COMMITTED gives the same guarantee without those false
/// conflicts: a second writer on the *same* record waits for the first, then sees its
/// work (each PL/pgSQL statement takes a fresh snapshot) and gets the rule's refusal.
public enum WriteIsolation {
    /// READ COMMITTED, for writes whose rules lock what they decide from (reviewed per
    /// command in docs/concurrency.md). Only a deadlock (40P01) is retried.
    public static let lockedRows: IsolationLevel = .readCommitted
    /// SERIALIZABLE, for writes whose rules read rows they do not lock (a predicate, a
    /// count, a join over records others may write): PostgreSQL detects the conflict, and
    /// the command retries (40001, 5 attempts).
    public static let serializable: IsolationLevel = .serializable
}
