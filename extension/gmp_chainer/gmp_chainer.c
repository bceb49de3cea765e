/*
 * gmp_chainer: chains gmp's pending audit events and watches the logins in the background
 * (issues 19 and 18).
 *
 * gmp's writers stage their audit events (gmp_audit.pending_event) and leave the chaining
 * to whoever finds it due (gmp_audit.chain_due: enough events pending, or the last
 * chaining long enough ago) or to the next reader of the trail. With this library in
 * shared_preload_libraries, one background worker per database named in
 * gmp_chainer.databases chains every gmp_chainer.naptime_ms instead, so the last chaining
 * is always recent and no writer ever finds chaining due: none sends a chaining statement
 * after its commit. Correctness never depends on it: without the worker (a server that
 * does not load it, the worker stopped or failing), writers and readers chain as before.
 * docs/audit-trail.md, "Background chaining".
 *
 * The same worker runs the login watch (gmp_audit.record_failed_logins, sql/code/
 * 02_accounts.sql) every naptime too, unless gmp_chainer.login_watch is off: failed logins
 * are recorded, and an account locked, within a naptime or so of the server logging them,
 * with no gmp command run. A pass finds the jsonlog's size first (current_logfiles, a
 * stat): while it has not grown since the last successful watch, nothing new can be in it
 * and the pass ends there, with no transaction; so does every pass on a server that writes
 * no jsonlog, where the watch would answer 0 at once. Each gmp client learns at connection time, with no statement,
 * that it need not send the watch itself: gmp_chainer.login_watch_active is reported to
 * every client (GUC_REPORT, read by libpq's PQparameterStatus) and says "on" only in a
 * database whose worker watched successfully a moment ago (shared memory below). No client
 * can set it (PGC_INTERNAL: a startup option naming it ends the connection). Otherwise
 * (no worker, the watch off, failing or late) it says "off" and gmp sends the watch with
 * its first statement as before. docs/signatures.md, "Logins".
 *
 * Each pass is one short transaction of its own: the chaining calls
 * gmp_audit.chain_in_background (sql/code/01_audit.sql), which never waits for a session
 * holding the chain head (it skips); both wait at most 1 s for any other lock
 * (lock_timeout) and commit without waiting for the disk. A database without the function
 * (not migrated yet, or by an older gmp) is asked again every 5 s, silently. An error is
 * logged (with its context, naming this worker and the pass) and the next pass of that
 * kind waits twice as long as the last, up to a minute, so a lasting fault costs a log
 * line a minute, not a spinning process; the other kind goes on at its pace. SIGTERM ends
 * the worker between or inside passes (an interrupted pass rolls back); SIGHUP rereads the
 * reloadable settings; a crash restarts it with the server, an exit on an error (FATAL)
 * after 5 s. A database that does not exist (yet) is waited for quietly: one LOG line, then
 * checked again after 5 s, 10 s, ... up to every minute, with nothing more logged until
 * it exists (the worker then restarts to connect to it).
 *
 * Runs as the bootstrap superuser (the cluster's owner: gmp_owner in gmp's embedded
 * server): the one role every cluster has, which no client can log in as without the
 * owner's own authentication. It runs nothing but the fixed, schema-qualified statements
 * below, with search_path pinned to pg_catalog; the chaining and the watch run as their
 * SECURITY DEFINER functions' owners, as every gmp session's do.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_database.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "postmaster/syslogger.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include <errno.h>
#include <sys/stat.h>

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void gmp_chainer_main(Datum main_arg);

/* Settings (postgresql.conf). */
static char *chainer_databases = NULL;
static int	chainer_naptime_ms = 200;
static int	chainer_max_events = 10000;
static int	chainer_vacuum_events = 2000;
static bool chainer_login_watch = true;
/* Reported, never set: its show hook answers (login_watch_active). */
static bool chainer_login_watch_active = false;

/* At most this many workers: each holds one of max_worker_processes' slots. */
#define CHAINER_MAX_DATABASES 8
/* After an exit on a FATAL error (the database missing, the worker terminated). */
#define CHAINER_RESTART_SECONDS 5
/* The longest wait after failed passes in a row, or between two looks for a missing database. */
#define CHAINER_MAX_BACKOFF_MS 60000
/* How often a database without the entry point is asked again. */
#define CHAINER_ABSENT_NAP_MS 5000
/*
 * A client leaves the login watch to the worker only if the worker's last successful
 * watch started at most this long ago (or three naptimes, if longer): a worker stopped,
 * failing or starved lets the clients watch again within seconds.
 */
#define CHAINER_WATCH_FRESH_MS 5000

/*
 * What the workers share with every backend (one slot per configured database, in the
 * order of gmp_chainer.databases), so that a backend can tell its client whether the
 * worker of its database watches the logins. Written by the slot's worker only.
 */
typedef struct ChainerSlot
{
	pg_atomic_uint32 database_oid;	/* the database its worker is connected to; 0: none */
	pg_atomic_uint64 watched_at;	/* start of its last successful login watch; 0: none */
	bool		connecting;		/* still set at the worker's next start: it could not connect */
} ChainerSlot;

typedef struct ChainerShared
{
	ChainerSlot slots[CHAINER_MAX_DATABASES];
} ChainerShared;

static ChainerShared *chainer_shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* One kind of pass: the entry point it looks for and the statement that calls it. */
typedef struct PassKind
{
	const char *what;			/* for the error context */
	const char *present;		/* one boolean: is the entry point there */
	const char *call;			/* one row, one integer column; $1: max_events, if any */
	int			nargs;
} PassKind;

static const PassKind chaining = {
	"chaining the audit trail",
	"SELECT pg_catalog.to_regprocedure('gmp_audit.chain_in_background(integer)') IS NOT NULL",
	"SELECT gmp_audit.chain_in_background($1)",
	1
};

static const PassKind login_watch = {
	"watching the logins",
	"SELECT pg_catalog.to_regprocedure('gmp_audit.record_failed_logins()') IS NOT NULL",
	"SELECT gmp_audit.record_failed_logins()",
	0
};

typedef enum PassOutcome
{
	PASS_DONE,					/* ran (maybe finding nothing to do) */
	PASS_ABSENT,				/* no entry point in this database */
	PASS_FAILED					/* an error, logged */
} PassOutcome;

/* When a kind of pass is due next, and how many of it failed in a row. */
typedef struct Schedule
{
	TimestampTz due;
	int			failures;
} Schedule;

typedef struct PassContext
{
	const char *database;
	const PassKind *kind;
} PassContext;

/* Names this worker and its pass in the context of every error a pass logs. */
static void
chainer_error_context(void *arg)
{
	const PassContext *pass = (const PassContext *) arg;

	errcontext("gmp_chainer %s of database \"%s\"", pass->kind->what, pass->database);
}

/* What a pass does inside its transaction (its snapshot and SPI its own business). */
typedef PassOutcome (*PassBody) (const PassKind *kind, int *result);

/*
 * One pass: a transaction of its own that runs `body`. Errors are logged (naming this
 * worker and the pass) and rolled back here; FATAL ones (SIGTERM) end the process.
 */
static PassOutcome
run_in_transaction(const char *database, const PassKind *kind, PassBody body, int *result)
{
	MemoryContext caller = CurrentMemoryContext;
	ErrorContextCallback context;
	PassContext pass = {database, kind};
	volatile PassOutcome outcome = PASS_DONE;

	*result = 0;
	context.callback = chainer_error_context;
	context.arg = (void *) &pass;
	context.previous = error_context_stack;
	error_context_stack = &context;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PG_TRY();
	{
		pgstat_report_activity(STATE_RUNNING, kind->call);
		outcome = body(kind, result);
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		/* Log it (with the context above), roll the pass back, carry on. */
		MemoryContextSwitchTo(caller);
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		outcome = PASS_FAILED;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(caller);
	error_context_stack = context.previous;

	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
	return outcome;
}

/* A chaining or login-watch pass: its entry point looked up, then called. */
static PassOutcome
call_entry_point(const PassKind *kind, int *result)
{
	PassOutcome outcome = PASS_DONE;
	bool		isnull;
	Datum		value;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());

	if (SPI_execute(kind->present, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not look up the entry point: %s", kind->present);
	value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull || !DatumGetBool(value))
		outcome = PASS_ABSENT;
	else
	{
		Oid			types[1] = {INT4OID};
		Datum		values[1];

		values[0] = Int32GetDatum(chainer_max_events);
		if (SPI_execute_with_args(kind->call, kind->nargs, types, values, NULL, false, 1) != SPI_OK_SELECT
			|| SPI_processed != 1)
			elog(ERROR, "no row from: %s", kind->call);
		value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		*result = isnull ? 0 : DatumGetInt32(value);
	}
	SPI_finish();
	PopActiveSnapshot();
	return outcome;
}

static PassOutcome
run_pass(const char *database, const PassKind *kind, int *result)
{
	return run_in_transaction(database, kind, call_entry_point, result);
}

/*
 * When the same kind of pass is due again, after one that started at `started`: a
 * naptime after its start (on a busy machine a slow pass must not stretch the interval),
 * at once after a full chaining batch (more are waiting), 5 s after finding no entry
 * point, and twice as long as the last wait after a failure, up to a minute.
 */
static TimestampTz
next_due(Schedule *schedule, TimestampTz started, PassOutcome outcome, bool more_waiting)
{
	long		nap = chainer_naptime_ms;

	switch (outcome)
	{
		case PASS_DONE:
			schedule->failures = 0;
			if (more_waiting)
				nap = 0;
			break;
		case PASS_ABSENT:
			schedule->failures = 0;
			nap = Max(chainer_naptime_ms, CHAINER_ABSENT_NAP_MS);
			break;
		case PASS_FAILED:
			schedule->failures = Min(schedule->failures + 1, 16);
			nap = Min((long) chainer_naptime_ms << schedule->failures, CHAINER_MAX_BACKOFF_MS);
			break;
	}
	return TimestampTzPlusMilliseconds(started, nap);
}

/*
 * The staging table's vacuum, run by this worker once it has chained
 * gmp_chainer.vacuum_events events since the last one. Every chained event leaves a dead
 * row in gmp_audit.pending_event, and autovacuum visits it at most once a minute
 * (autovacuum_naptime): meanwhile the writers' inserts extend the table instead of reusing
 * its space, and each pass's reads of the staging table (its EXISTS, the batch, the join,
 * the DELETE) scan every page of it: at a steady write rate a minute's dead rows made a
 * pass cost two to three times as much an event, and an idle pass a millisecond
 * (docs/benchmarks.md, "The chainer's share"). VACUUM cannot run inside a function or a
 * transaction block, so it is run here as a top-level utility statement, as a session
 * runs it: SKIP_LOCKED (autovacuum, or anyone, already at it: skipped, tried again after
 * the next batch), and without truncating the table (that waits up to 5 s for a lock the
 * writers keep taking, and the chaining with it: the space is reused anyway); an error is
 * logged and the worker goes on.
 */
static const char *const vacuum_staging_sql = "VACUUM (SKIP_LOCKED, TRUNCATE false) gmp_audit.pending_event";

/* VACUUM keeps its working memory under the portal's, as autovacuum gives it one. */
static MemoryContext vacuum_portal = NULL;

static PassOutcome
vacuum_body(const PassKind *kind, int *result)
{
	List	   *planned;

	/* The statement outlives the transactions VACUUM commits. */
	MemoryContextSwitchTo(vacuum_portal);
	PushActiveSnapshot(GetTransactionSnapshot());
	if (!OidIsValid(RangeVarGetRelid(makeRangeVar("gmp_audit", "pending_event", -1), NoLock, true)))
	{
		PopActiveSnapshot();
		return PASS_ABSENT;
	}
	planned = pg_plan_queries(pg_analyze_and_rewrite_fixedparams(linitial_node(RawStmt, pg_parse_query(kind->call)),
																 kind->call, NULL, 0, NULL),
							  kind->call, CURSOR_OPT_PARALLEL_OK, NULL);
	PopActiveSnapshot();
	/* As exec_simple_query runs it: no snapshot; VACUUM commits and starts its own
	 * transactions, leaving one open for the caller's commit. */
	ProcessUtility(linitial_node(PlannedStmt, planned), kind->call, false,
				   PROCESS_UTILITY_TOPLEVEL, NULL, NULL, None_Receiver, NULL);
	return PASS_DONE;
}

static void
vacuum_staging(const char *database)
{
	PassKind	vacuuming = {"vacuuming the staging table", NULL, vacuum_staging_sql, 0};
	int			unused;

	if (vacuum_portal == NULL)
		vacuum_portal = AllocSetContextCreate(TopMemoryContext, "gmp_chainer vacuum", ALLOCSET_DEFAULT_SIZES);
	PortalContext = vacuum_portal;
	(void) run_in_transaction(database, &vacuuming, vacuum_body, &unused);
	PortalContext = NULL;
	MemoryContextReset(vacuum_portal);
}

/* The server's current jsonlog file and its size: what the login watch reads. */
typedef struct LogMark
{
	char		path[MAXPGPATH];
	off_t		size;
} LogMark;

/* What current_logfiles says of the jsonlog. */
typedef enum LogState
{
	LOG_SEEN,					/* named, and its size read */
	LOG_NONE,					/* the server writes none: no current_logfiles, or no jsonlog line */
	LOG_UNSEEN					/* named but not stat-able, or current_logfiles unreadable */
} LogState;

/*
 * Where the jsonlog stands now (current_logfiles, in the data directory, which is the
 * working directory). LOG_NONE exactly when pg_current_logfile('jsonlog') is NULL, for
 * which gmp_audit.record_failed_logins returns 0 at once and writes nothing.
 */
static LogState
current_log_mark(LogMark *mark)
{
	FILE	   *file = fopen(LOG_METAINFO_DATAFILE, "r");
	char		line[MAXPGPATH + 16];
	struct stat status;
	bool		found = false;

	if (file == NULL)
		return errno == ENOENT ? LOG_NONE : LOG_UNSEEN;
	while (!found && fgets(line, sizeof(line), file) != NULL)
	{
		if (strncmp(line, "jsonlog ", 8) == 0)
		{
			strlcpy(mark->path, line + 8, sizeof(mark->path));
			mark->path[strcspn(mark->path, "\n")] = '\0';
			found = mark->path[0] != '\0';
		}
	}
	fclose(file);
	if (!found)
		return LOG_NONE;
	if (stat(mark->path, &status) != 0)
		return LOG_UNSEEN;
	mark->size = status.st_size;
	return LOG_SEEN;
}

/* Whether `database` exists and takes connections: read from the shared catalog pg_database. */
static bool
database_ready(const char *database)
{
	Relation	relation;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	bool		ready = false;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	relation = table_open(DatabaseRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_database_datname, BTEqualStrategyNumber, F_NAMEEQ, CStringGetDatum(database));
	/* Not the index: with no database selected only the shared catalogs themselves are open. */
	scan = systable_beginscan(relation, DatabaseNameIndexId, false, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
		ready = ((Form_pg_database) GETSTRUCT(tuple))->datallowconn;
	systable_endscan(scan);
	table_close(relation, AccessShareLock);
	CommitTransactionCommand();
	return ready;
}

/*
 * The last start of this worker could not connect to its database (it does not exist
 * yet, or takes no connections): connected to no database, look for it quietly, with a
 * longer wait each time, and once it is there exit so as to be started again (5 s later)
 * and connect to it. Without this, each start would log a FATAL every 5 s.
 */
static void
wait_for_database(ChainerSlot *slot, const char *database)
{
	long		nap = CHAINER_RESTART_SECONDS * 1000L;
	bool		said = false;

	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	pgstat_report_appname("gmp_chainer");
	for (;;)
	{
		if (database_ready(database))
		{
			slot->connecting = false;
			ereport(LOG,
					(errmsg("gmp_chainer: database \"%s\" is there now: the worker restarts to serve it", database)));
			proc_exit(1);
		}
		if (!said)
		{
			ereport(LOG,
					(errmsg("gmp_chainer: database \"%s\" does not exist or takes no connections: waiting for it quietly", database),
					 errdetail("It is looked for again after %ld s, then less and less often, up to every %d s.",
							   nap / 1000, CHAINER_MAX_BACKOFF_MS / 1000)));
			said = true;
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, nap, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		nap = Min(nap * 2, CHAINER_MAX_BACKOFF_MS);
	}
}

/* On exit: clients of this database watch the logins themselves again at once. */
static void
leave_slot(int code, Datum arg)
{
	ChainerSlot *slot = &chainer_shared->slots[DatumGetInt32(arg)];

	pg_atomic_write_u64(&slot->watched_at, 0);
	pg_atomic_write_u32(&slot->database_oid, InvalidOid);
}

void
gmp_chainer_main(Datum main_arg)
{
	char		database[NAMEDATALEN];
	ChainerSlot *slot = &chainer_shared->slots[DatumGetInt32(main_arg)];
	Schedule	chain_schedule = {0, 0};
	Schedule	watch_schedule = {0, 0};
	LogMark		watched_log = {"", -1};	/* where the jsonlog stood at the last successful watch */
	int64		chained_unvacuumed = 0; /* events chained since the staging table's last vacuum */

	strlcpy(database, MyBgworkerEntry->bgw_extra, sizeof(database));

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	if (slot->connecting)
		wait_for_database(slot, database);	/* never returns */

	/* NULL: the bootstrap superuser (see the top of this file). */
	slot->connecting = true;
	BackgroundWorkerInitializeConnection(database, NULL, 0);
	slot->connecting = false;
	pgstat_report_appname("gmp_chainer");
	on_shmem_exit(leave_slot, main_arg);
	pg_atomic_write_u32(&slot->database_oid, MyDatabaseId);

	/*
	 * Whatever the database or its owner set: nothing resolved through a schema anyone
	 * may create in; READ COMMITTED (chain_batch's SKIP LOCKED on the head needs a snapshot
	 * per statement, a SERIALIZABLE pass would fail with 40001 after another chaining);
	 * never a long wait for a lock (an ALTER TABLE, a LOCK TABLE) held by someone else.
	 */
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_isolation", "read committed", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_read_only", "off", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("lock_timeout", "1000", PGC_SUSET, PGC_S_OVERRIDE);

	ereport(LOG,
			(errmsg("gmp_chainer started: chaining the audit trail of database \"%s\"%s every %d ms",
					database, chainer_login_watch ? " and watching its logins" : "", chainer_naptime_ms)));

	for (;;)
	{
		TimestampTz now = GetCurrentTimestamp();
		TimestampTz due = chain_schedule.due;
		int			result;

		if (chainer_login_watch && watch_schedule.due < due)
			due = watch_schedule.due;
		if (due > now)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 (long) ((due - now + 999) / 1000), PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			if (!chainer_login_watch)
				pg_atomic_write_u64(&slot->watched_at, 0);
		}

		now = GetCurrentTimestamp();
		if (now >= chain_schedule.due)
		{
			PassOutcome outcome = run_pass(database, &chaining, &result);

			chain_schedule.due = next_due(&chain_schedule, now, outcome, result >= chainer_max_events);
			if (outcome == PASS_DONE)
				chained_unvacuumed += result;
			if (chainer_vacuum_events > 0 && chained_unvacuumed >= chainer_vacuum_events)
			{
				vacuum_staging(database);
				chained_unvacuumed = 0;
			}
		}
		now = GetCurrentTimestamp();
		if (chainer_login_watch && now >= watch_schedule.due)
		{
			LogMark		log;
			LogState	state = current_log_mark(&log);
			PassOutcome outcome;

			/*
			 * A log that has not grown since the last successful watch holds nothing new:
			 * the watch is as current as if it ran again (it would find nothing and write
			 * nothing), without a transaction. Most passes of an idle server end here, and
			 * every pass of a server that writes no jsonlog (the watch would answer 0 at
			 * once: nothing to read; gmp doctor reports it), such as a benchmark's cluster.
			 */
			if (state == LOG_NONE)
			{
				outcome = PASS_DONE;
				watched_log.size = -1;
			}
			else if (state == LOG_SEEN && watched_log.size == log.size && strcmp(watched_log.path, log.path) == 0)
				outcome = PASS_DONE;
			else
			{
				outcome = run_pass(database, &login_watch, &result);
				if (outcome == PASS_DONE && state == LOG_SEEN)
					watched_log = log;
				else
					watched_log.size = -1;
			}
			if (outcome == PASS_DONE)
				pg_atomic_write_u64(&slot->watched_at, (uint64) now);
			watch_schedule.due = next_due(&watch_schedule, now, outcome, false);
		}
	}
}

/*
 * The show hook of gmp_chainer.login_watch_active, which every client is told at
 * connection time: "on" only in a database whose worker watches the logins and last did
 * so successfully a moment ago (CHAINER_WATCH_FRESH_MS).
 */
static const char *
show_login_watch_active(void)
{
	TimestampTz now;
	int			fresh_ms;

	if (chainer_shared == NULL || !chainer_login_watch || !OidIsValid(MyDatabaseId))
		return "off";
	now = GetCurrentTimestamp();
	fresh_ms = Max(CHAINER_WATCH_FRESH_MS, 3 * chainer_naptime_ms);
	for (int i = 0; i < CHAINER_MAX_DATABASES; i++)
	{
		ChainerSlot *slot = &chainer_shared->slots[i];
		TimestampTz watched_at;

		if (pg_atomic_read_u32(&slot->database_oid) != MyDatabaseId)
			continue;
		watched_at = (TimestampTz) pg_atomic_read_u64(&slot->watched_at);
		if (watched_at != 0 && !TimestampDifferenceExceeds(watched_at, now, fresh_ms))
			return "on";
	}
	return "off";
}

static void
chainer_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(ChainerShared)));
}

static void
chainer_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	chainer_shared = ShmemInitStruct("gmp_chainer", sizeof(ChainerShared), &found);
	if (!found)
	{
		for (int i = 0; i < CHAINER_MAX_DATABASES; i++)
		{
			pg_atomic_init_u32(&chainer_shared->slots[i].database_oid, InvalidOid);
			pg_atomic_init_u64(&chainer_shared->slots[i].watched_at, 0);
			chainer_shared->slots[i].connecting = false;
		}
	}
	LWLockRelease(AddinShmemInitLock);
}

/* One worker for a database, started once recovery is over (never on a standby). */
static void
register_chainer(const char *database, int slot)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = CHAINER_RESTART_SECONDS;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "gmp_chainer");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "gmp_chainer_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "gmp_chainer %s", database);
	snprintf(worker.bgw_type, BGW_MAXLEN, "gmp_chainer");
	strlcpy(worker.bgw_extra, database, BGW_EXTRALEN);
	worker.bgw_main_arg = Int32GetDatum(slot);
	worker.bgw_notify_pid = 0;
	RegisterBackgroundWorker(&worker);
}

void
_PG_init(void)
{
	char	   *names;
	List	   *databases;
	ListCell   *cell;
	int			count = 0;

	/* Workers can only be registered by the postmaster, as it loads its libraries. */
	if (!process_shared_preload_libraries_in_progress)
		return;

	DefineCustomStringVariable("gmp_chainer.databases",
							   "Databases whose gmp audit trail is chained in the background.",
							   "A comma-separated list of database names, one worker each; empty: none.",
							   &chainer_databases, "gmp", PGC_POSTMASTER, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("gmp_chainer.naptime_ms",
							"Time between two chainings of the audit trail.",
							"Keep it well below gmp.audit_chain_wait_ms, so that no writer finds chaining due.",
							&chainer_naptime_ms, 200, 10, 60000, PGC_SIGHUP, GUC_UNIT_MS, NULL, NULL, NULL);
	DefineCustomIntVariable("gmp_chainer.max_events",
							"Most events chained in one transaction.",
							"A pass that chains this many starts the next at once.",
							&chainer_max_events, 10000, 1, 1000000, PGC_SIGHUP, 0, NULL, NULL, NULL);
	/* SUSET, not SIGHUP: a database may have its own (ALTER DATABASE … SET), which its
	 * worker reads as it connects. */
	DefineCustomIntVariable("gmp_chainer.vacuum_events",
							"Events chained between two vacuums of the staging table by the worker.",
							"0: never (autovacuum alone, at most once a minute).",
							&chainer_vacuum_events, 2000, 0, 100000000, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("gmp_chainer.login_watch",
							 "Whether the workers also watch the logins (gmp_audit.record_failed_logins) every naptime.",
							 "Off: every gmp command watches as it connects, as without the library.",
							 &chainer_login_watch, true, PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("gmp_chainer.login_watch_active",
							 "Whether a worker watches this database's logins now (reported to every client).",
							 "Read only: gmp leaves the watch to the server when it is on.",
							 &chainer_login_watch_active, false, PGC_INTERNAL,
							 GUC_REPORT | GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE,
							 NULL, NULL, show_login_watch_active);
	MarkGUCPrefixReserved("gmp_chainer");

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = chainer_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = chainer_shmem_startup;

	names = pstrdup(chainer_databases ? chainer_databases : "");
	if (!SplitIdentifierString(names, ',', &databases))
	{
		/* The server still starts: gmp chains without the worker, only later. */
		ereport(WARNING,
				(errmsg("gmp_chainer.databases is not a list of database names: no background chaining"),
				 errhint("Example: gmp_chainer.databases = 'gmp'.")));
		return;
	}
	foreach(cell, databases)
	{
		const char *database = (const char *) lfirst(cell);

		if (count == CHAINER_MAX_DATABASES)
		{
			ereport(WARNING,
					(errmsg("gmp_chainer chains at most %d databases: \"%s\" and those after it are left to gmp's writers and readers",
							CHAINER_MAX_DATABASES, database)));
			break;
		}
		register_chainer(database, count);
		count++;
	}
}
