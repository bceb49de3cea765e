/*
 * gmp_chainer: chains gmp's pending audit events in the background (issue 19).
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
 * Each pass is one short transaction of its own that calls gmp_audit.chain_in_background
 * (sql/code/01_audit.sql): never waits for a session holding the chain head (it skips),
 * waits at most 1 s for any other lock (lock_timeout), commits without waiting for the
 * disk. A database without that function (not migrated yet, or by an older gmp) is asked
 * again every 5 s, silently. An error is logged (with its context, naming this worker) and
 * the next pass waits twice as long as the last, up to a minute, so a lasting fault costs a
 * log line a minute, not a spinning process. SIGTERM ends the worker between or inside
 * passes (an interrupted pass rolls back); SIGHUP rereads naptime_ms and max_events; a
 * crash restarts it with the server, an exit on an error (FATAL) after 5 s.
 *
 * Runs as the bootstrap superuser (the cluster's owner: gmp_owner in gmp's embedded
 * server): the one role every cluster has, which no client can log in as without the
 * owner's own authentication. It runs nothing but the fixed, schema-qualified statements
 * below, with search_path pinned to pg_catalog; the chaining itself runs as the SECURITY
 * DEFINER function's owner (gmp_definer), as every writer's does.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
PGDLLEXPORT void gmp_chainer_main(Datum main_arg);

/* Settings (postgresql.conf). */
static char *chainer_databases = NULL;
static int	chainer_naptime_ms = 200;
static int	chainer_max_events = 10000;

/* At most this many workers: each holds one of max_worker_processes' slots. */
#define CHAINER_MAX_DATABASES 8
/* After an exit on a FATAL error (the database missing, the worker terminated). */
#define CHAINER_RESTART_SECONDS 5
/* The longest wait after failed passes in a row. */
#define CHAINER_MAX_BACKOFF_MS 60000
/* How often a database without the entry point is asked again. */
#define CHAINER_ABSENT_NAP_MS 5000

static const char *const chain_statement = "SELECT gmp_audit.chain_in_background($1)";
static const char *const present_statement =
	"SELECT pg_catalog.to_regprocedure('gmp_audit.chain_in_background(integer)') IS NOT NULL";

typedef enum PassOutcome
{
	PASS_DONE,					/* chained (maybe nothing) */
	PASS_ABSENT,				/* no entry point in this database */
	PASS_FAILED					/* an error, logged */
} PassOutcome;

/* Names this worker in the context of every error a pass logs. */
static void
chainer_error_context(void *arg)
{
	errcontext("gmp_chainer chaining the audit trail of database \"%s\"", (const char *) arg);
}

/*
 * One pass: a transaction of its own that chains at most max_events pending events.
 * Errors are logged and rolled back here; FATAL ones (SIGTERM) end the process.
 */
static PassOutcome
chain_once(const char *database, int *chained)
{
	MemoryContext caller = CurrentMemoryContext;
	ErrorContextCallback context;
	volatile PassOutcome outcome = PASS_DONE;

	*chained = 0;
	context.callback = chainer_error_context;
	context.arg = (void *) database;
	context.previous = error_context_stack;
	error_context_stack = &context;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PG_TRY();
	{
		bool		isnull;
		Datum		value;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		PushActiveSnapshot(GetTransactionSnapshot());
		pgstat_report_activity(STATE_RUNNING, chain_statement);

		if (SPI_execute(present_statement, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "could not look up gmp_audit.chain_in_background");
		value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		if (isnull || !DatumGetBool(value))
			outcome = PASS_ABSENT;
		else
		{
			Oid			types[1] = {INT4OID};
			Datum		values[1];

			values[0] = Int32GetDatum(chainer_max_events);
			if (SPI_execute_with_args(chain_statement, 1, types, values, NULL, false, 1) != SPI_OK_SELECT
				|| SPI_processed != 1)
				elog(ERROR, "gmp_audit.chain_in_background returned no row");
			value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
			*chained = isnull ? 0 : DatumGetInt32(value);
		}
		SPI_finish();
		PopActiveSnapshot();
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
	error_context_stack = context.previous;

	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
	return outcome;
}

void
gmp_chainer_main(Datum main_arg)
{
	char		database[NAMEDATALEN];
	int			failures = 0;
	long		nap = 0;

	strlcpy(database, MyBgworkerEntry->bgw_extra, sizeof(database));

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	/* NULL: the bootstrap superuser (see the top of this file). */
	BackgroundWorkerInitializeConnection(database, NULL, 0);
	pgstat_report_appname("gmp_chainer");

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
			(errmsg("gmp_chainer started: chaining the audit trail of database \"%s\" every %d ms",
					database, chainer_naptime_ms)));

	for (;;)
	{
		int			chained;
		TimestampTz started;
		long		took;

		if (nap > 0)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, nap,
							 PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		started = GetCurrentTimestamp();
		switch (chain_once(database, &chained))
		{
			case PASS_DONE:
				failures = 0;
				/*
				 * A full batch: more are waiting, chain them now. Otherwise the next pass
				 * starts naptime_ms after this one started, not after it ended: on a busy
				 * machine a slow pass must not stretch the interval writers see.
				 */
				took = (long) ((GetCurrentTimestamp() - started) / 1000);
				nap = chained >= chainer_max_events ? 0 : Max(chainer_naptime_ms - took, 0);
				break;
			case PASS_ABSENT:
				failures = 0;
				nap = Max(chainer_naptime_ms, CHAINER_ABSENT_NAP_MS);
				break;
			case PASS_FAILED:
				failures = Min(failures + 1, 16);
				nap = Min((long) chainer_naptime_ms << failures, CHAINER_MAX_BACKOFF_MS);
				break;
		}
	}
}

/* One worker for a database, started once recovery is over (never on a standby). */
static void
register_chainer(const char *database)
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
	worker.bgw_main_arg = (Datum) 0;
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
	MarkGUCPrefixReserved("gmp_chainer");

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
		register_chainer(database);
		count++;
	}
}
