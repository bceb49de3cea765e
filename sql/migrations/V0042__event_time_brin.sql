-- V0042 the trail's time index becomes a BRIN (issue 18: the audit write's cost).
--
-- Every audited write is written twice: staged by its writer, then chained by the
-- background chainer into gmp_audit.event, whose seven indexes cost most of that second
-- write (docs/benchmarks.md, "Audit trail (issue 3)"). event_time (occurred_at) served
-- `gmp audit report --since/--until` only. The chain appends in write order, which is the
-- order the events occurred in, near enough (a long transaction's events are chained at its
-- commit, a little after their time): occurred_at follows the table's physical order, so a
-- block-range index finds a time window as well, at a fraction of the cost of a B-tree entry
-- per event (a range's summary is updated, if at all, once the range fills). It is lossy,
-- never wrong: each row found is checked again, and a range not summarized yet (the newest
-- events) is always read. Eight pages a range: with the default 128 the planner judged a
-- range too coarse and read the whole trail in seq order for a one-minute --since
-- (0.6 s at 1,000,000 events; 3 ms with this index, as with the B-tree). autosummarize: a
-- filled range is summarized by autovacuum soon after, not only by the next VACUUM.
-- The other indexes stay: event_actor serves --actor, event_record_seq the record's
-- history and prev_seq, event_write_order the staging guard, the two DDL indexes are
-- partial (a non-DDL event pays a predicate check only).

DROP INDEX gmp_audit.event_time;
CREATE INDEX event_time ON gmp_audit.event USING brin (occurred_at) WITH (pages_per_range = 8, autosummarize = on);
