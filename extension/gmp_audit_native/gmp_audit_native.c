/*
 * gmp_audit_native: the audit row trigger and hash format v2 in C (issue 19 / 18).
 *
 * Twins of two routines of sql/code/01_audit.sql, producing the same rows and the same
 * bytes (docs/audit-trail.md, "Native trigger"; checked by NativeAuditTests):
 *
 *   gmp_audit_record_change  = gmp_audit.record_change(): stages one event in
 *       gmp_audit.pending_event. In a session of gmp's own (gmp.audit_chain =
 *       'after_commit') the row is formed here and inserted with its index entries
 *       directly, without a nested INSERT statement: the nested statement's executor
 *       start-up, CHECKs and the WHEN of chain_at_commit were most of the trigger's cost
 *       (docs/benchmarks.md, "Audit trail designs measured"). The CHECKs are checked here
 *       instead, and chain_at_commit's WHEN is false in such a session anyway. So does every
 *       session while a background chainer chains the database (chained_in_background):
 *       chain_at_commit would leave the events to it. Every other session (psql, a loader,
 *       without the worker) inserts through SPI, so the deferred chain_at_commit is queued
 *       exactly as the PL/pgSQL queues it.
 *   gmp_audit_event_hash_v2  = gmp_audit.event_hash_v2(...): hash format v2.
 *
 * SECURITY DEFINER comes from the function's declaration, as for the PL/pgSQL. The
 * settings record_change pins (its SET clauses) are pinned here instead, and only those
 * that differ (pin_settings): version 1.0 declared them, and the function manager then
 * saved, set and restored all five around every row, whether or not they differed, a
 * seventh of the audited write's server time (docs/benchmarks.md, "Audit write cost with
 * the chainer's share"). Version 1.1 declares none (gmp_audit_native--1.0--1.1.sql); a
 * 1.0 declaration still works, the settings being already as wanted here.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "pgtime.h"
#include "port/pg_bswap.h"
#include "utils/acl.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/bytea.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(gmp_audit_record_change);
PG_FUNCTION_INFO_V1(gmp_audit_event_hash_v2);

/* The staged event's columns, in gmp_audit.pending_event's order (V0032). */
enum
{
	COL_WRITE_ORDER, COL_OCCURRED_AT, COL_TRANSACTION_ID, COL_ACTOR, COL_ACTION, COL_TABLE_NAME,
	COL_RECORD_KEY, COL_OLD_VALUES, COL_NEW_VALUES, COL_REASON, EVENT_COLUMNS
};

static const char *const event_column_names[EVENT_COLUMNS] = {
	"write_order", "occurred_at", "transaction_id", "actor", "action", "table_name",
	"record_key", "old_values", "new_values", "reason"
};

/* to_jsonb of a row: to_jsonb(anyelement) learns its argument's type from the call
 * expression; declared as record, it reads each row's own type from the row itself. */
static FmgrInfo to_jsonb_info;
static bool to_jsonb_ready = false;

/* The ordinary path's INSERT, planned once per backend (the plan cache replans it when
 * pending_event changes). */
static SPIPlanPtr staged_insert_plan = NULL;

static Datum
row_to_jsonb(HeapTuple tuple, TupleDesc desc)
{
	if (!to_jsonb_ready)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		fmgr_info_cxt(F_TO_JSONB, &to_jsonb_info, TopMemoryContext);
		to_jsonb_info.fn_expr = (Node *) makeFuncExpr(F_TO_JSONB, JSONBOID,
													  list_make1(makeNullConst(RECORDOID, -1, InvalidOid)),
													  InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
		MemoryContextSwitchTo(old);
		to_jsonb_ready = true;
	}
	return FunctionCall1(&to_jsonb_info, heap_copy_tuple_as_datum(tuple, desc));
}

/* jsonb ->> text, NULL when the key is absent (or its value is JSON null). */
static Datum
jsonb_field_text(Datum row, const char *key, bool *isnull)
{
	LOCAL_FCINFO(fcinfo, 2);
	Datum result;

	InitFunctionCallInfoData(*fcinfo, NULL, 2, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = row;
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = CStringGetTextDatum(key);
	fcinfo->args[1].isnull = false;
	result = jsonb_object_field_text(fcinfo);
	*isnull = fcinfo->isnull;
	return result;
}

/* gmp_audit.current_reason(): nullif(btrim(current_setting('gmp.reason', true)), ''),
 * btrim taking off spaces only. */
static char *
current_reason(void)
{
	const char *setting = GetConfigOption("gmp.reason", true, false);
	const char *start;
	const char *end;

	if (setting == NULL)
		return NULL;
	start = setting;
	while (*start == ' ')
		start++;
	end = start + strlen(start);
	while (end > start && end[-1] == ' ')
		end--;
	if (end == start)
		return NULL;
	return pnstrdup(start, end - start);
}

static Oid
audit_relation(const char *name)
{
	Oid			namespace = get_namespace_oid("gmp_audit", false);
	Oid			relid = get_relname_relid(name, namespace);

	if (!OidIsValid(relid))
		elog(ERROR, "gmp_audit_native: gmp_audit.%s does not exist", name);
	return relid;
}

/* What pending_event's CHECKs and NOT NULLs check, for the direct insert that skips them. */
static void
check_event(Datum *values, bool *nulls)
{
	const char *action;

	for (int i = COL_WRITE_ORDER; i <= COL_TABLE_NAME; i++)
		if (nulls[i])
			ereport(ERROR, (errcode(ERRCODE_NOT_NULL_VIOLATION),
							errmsg("null value in column \"%s\" of relation \"pending_event\" violates not-null constraint",
								   event_column_names[i])));
	if (DatumGetInt64(values[COL_WRITE_ORDER]) <= 0)
		ereport(ERROR, (errcode(ERRCODE_CHECK_VIOLATION),
						errmsg("new row for relation \"pending_event\" violates check constraint \"pending_event_write_order_check\"")));
	action = TextDatumGetCString(values[COL_ACTION]);
	if (strcmp(action, "INSERT") != 0 && strcmp(action, "UPDATE") != 0 && strcmp(action, "DELETE") != 0
		&& strcmp(action, "DDL") != 0)
		ereport(ERROR, (errcode(ERRCODE_CHECK_VIOLATION),
						errmsg("new row for relation \"pending_event\" violates check constraint \"pending_event_action_check\"")));
}

/* gmp's own sessions: the row and its index entries inserted directly. The definer must
 * hold INSERT on the table, as it must for the PL/pgSQL's statement. */
static void
insert_directly(Datum *values, bool *nulls)
{
	Oid			relid = audit_relation("pending_event");
	Relation	target;
	EState	   *estate;
	ResultRelInfo *info;
	TupleTableSlot *slot;
	HeapTuple	event;
	AclResult	acl;

	check_event(values, nulls);
	acl = pg_class_aclcheck(relid, GetUserId(), ACL_INSERT);
	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_TABLE, "pending_event");

	target = table_open(relid, RowExclusiveLock);
	if (RelationGetDescr(target)->natts != EVENT_COLUMNS)
		elog(ERROR, "gmp_audit_native: gmp_audit.pending_event has %d columns, expected %d",
			 RelationGetDescr(target)->natts, EVENT_COLUMNS);
	event = heap_form_tuple(RelationGetDescr(target), values, nulls);
	estate = CreateExecutorState();
	info = makeNode(ResultRelInfo);
	InitResultRelInfo(info, target, 1, NULL, 0);
	ExecOpenIndices(info, false);
	slot = ExecInitExtraTupleSlot(estate, RelationGetDescr(target), &TTSOpsHeapTuple);
	ExecStoreHeapTuple(event, slot, false);
	simple_table_tuple_insert(target, slot);
	/* The primary key's uniqueness is checked here, as for any insert. */
	ExecInsertIndexTuples(info, slot, estate, false, false, NULL, NIL);
	ExecCloseIndices(info);
	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);
	table_close(target, NoLock);
}

/* Every other session: an ordinary INSERT, so that the table's CHECKs run and its
 * deferred chain_at_commit is queued for this transaction's COMMIT. */
static void
insert_through_spi(Datum *values, bool *nulls)
{
	char		spi_nulls[EVENT_COLUMNS];
	int			ret;

	for (int i = 0; i < EVENT_COLUMNS; i++)
		spi_nulls[i] = nulls[i] ? 'n' : ' ';
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "gmp_audit_native: SPI_connect failed");
	if (staged_insert_plan == NULL)
	{
		Oid			types[EVENT_COLUMNS] = {INT8OID, TIMESTAMPTZOID, INT8OID, TEXTOID, TEXTOID, TEXTOID,
											TEXTOID, JSONBOID, JSONBOID, TEXTOID};
		SPIPlanPtr	plan = SPI_prepare("INSERT INTO gmp_audit.pending_event (write_order, occurred_at, transaction_id,"
									   " actor, action, table_name, record_key, old_values, new_values, reason)"
									   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
									   EVENT_COLUMNS, types);

		if (plan == NULL)
			elog(ERROR, "gmp_audit_native: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		staged_insert_plan = plan;
	}
	ret = SPI_execute_plan(staged_insert_plan, values, spi_nulls, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "gmp_audit_native: staging the event failed: %s", SPI_result_code_string(ret));
	SPI_finish();
}

/* gmp_audit.chained_in_background() (sql/code/01_audit.sql), asked in C: whether a worker
 * of the bootstrap superuser named gmp_chainer (extension/gmp_chainer) is connected to this
 * database. Asked at most once a second per session (the answer is kept that long), so a
 * worker that stops is noticed within a second; until then its events simply wait pending
 * for the next chaining, as chain_at_commit leaves them (docs/audit-trail.md). */
static bool
chained_in_background(TimestampTz now)
{
	static TimestampTz asked_at = 0;
	static bool answer = false;

	if (asked_at != 0 && now >= asked_at && now - asked_at < USECS_PER_SEC)
		return answer;
	answer = false;
	for (int i = 1; i <= pgstat_fetch_stat_numbackends() && !answer; i++)
	{
		LocalPgBackendStatus *local = pgstat_fetch_stat_local_beentry(i);
		PgBackendStatus *status = local != NULL ? &local->backendStatus : NULL;

		answer = status != NULL && status->st_backendType == B_BG_WORKER
			&& status->st_databaseid == MyDatabaseId && status->st_userid == BOOTSTRAP_SUPERUSERID
			&& strcmp(status->st_appname, "gmp_chainer") == 0;
	}
	asked_at = now;
	return answer;
}

/*
 * What record_change's SET clauses pin, pinned only where the session differs: every
 * setting that changes how a value is written into jsonb, so that a row's jsonb (and so
 * its hash) does not depend on the writer's session, and the name look-ups. Returns the
 * GUC nest level to pop (AtEOXact_GUC), or -1 when nothing was set; an error's abort
 * restores them as it restores a SET clause's. The look-ups go through pg_catalog alone
 * (an override search path, popped by the caller or by the abort): the trigger resolves
 * no name but fully qualified ones, yet the output or cast functions to_jsonb calls run
 * as the definer.
 */
static int
pin_settings(void)
{
	OverrideSearchPath catalog_only = {NIL, true, false, 0};
	long		offset;
	/* TimeZone 'UTC': any zone whose offset is 0 at every instant writes the same jsonb
	 * (timestamptz is written with its numeric offset, never an abbreviation). */
	bool		utc = session_timezone != NULL && pg_get_timezone_offset(session_timezone, &offset) && offset == 0;
	int			nest;
	GucContext	context;

	PushOverrideSearchPath(&catalog_only);
	if (utc && IntervalStyle == INTSTYLE_POSTGRES && bytea_output == BYTEA_OUTPUT_HEX && extra_float_digits == 1)
		return -1;
	/* As the function manager applies a SET clause (fmgr_security_definer). */
	context = superuser() ? PGC_SUSET : PGC_USERSET;
	nest = NewGUCNestLevel();
	if (!utc)
		(void) set_config_option("TimeZone", "UTC", context, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	if (IntervalStyle != INTSTYLE_POSTGRES)
		(void) set_config_option("IntervalStyle", "postgres", context, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	if (bytea_output != BYTEA_OUTPUT_HEX)
		(void) set_config_option("bytea_output", "hex", context, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	if (extra_float_digits != 1)
		(void) set_config_option("extra_float_digits", "1", context, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	return nest;
}

static void
unpin_settings(int nest)
{
	if (nest >= 0)
		AtEOXact_GUC(true, nest);
	PopOverrideSearchPath();
}

Datum
gmp_audit_record_change(PG_FUNCTION_ARGS)
{
	TriggerData *trigger = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	desc;
	HeapTuple	old_tuple = NULL;
	HeapTuple	new_tuple = NULL;
	const char *op;
	const char *schema;
	const char *table;
	const char *mode;
	char	   *reason;
	Datum		values[EVENT_COLUMNS];
	bool		nulls[EVENT_COLUMNS] = {false};
	int			pinned;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigger->tg_event)
		|| !TRIGGER_FIRED_FOR_ROW(trigger->tg_event))
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
						errmsg("gmp_audit.record_change_native() runs only as an AFTER … FOR EACH ROW trigger")));
	rel = trigger->tg_relation;
	desc = RelationGetDescr(rel);
	if (TRIGGER_FIRED_BY_INSERT(trigger->tg_event))
	{
		op = "INSERT";
		new_tuple = trigger->tg_trigtuple;
	}
	else if (TRIGGER_FIRED_BY_UPDATE(trigger->tg_event))
	{
		op = "UPDATE";
		old_tuple = trigger->tg_trigtuple;
		new_tuple = trigger->tg_newtuple;
	}
	else if (TRIGGER_FIRED_BY_DELETE(trigger->tg_event))
	{
		op = "DELETE";
		old_tuple = trigger->tg_trigtuple;
	}
	else
		ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
						errmsg("gmp_audit.record_change_native() records INSERT, UPDATE and DELETE only")));
	schema = get_namespace_name(RelationGetNamespace(rel));
	table = RelationGetRelationName(rel);
	pinned = pin_settings();

	/* In the PL/pgSQL's order: both rows, the reason, then the refusal. */
	if (old_tuple != NULL)
		values[COL_OLD_VALUES] = row_to_jsonb(old_tuple, desc);
	else
		nulls[COL_OLD_VALUES] = true;
	if (new_tuple != NULL)
		values[COL_NEW_VALUES] = row_to_jsonb(new_tuple, desc);
	else
		nulls[COL_NEW_VALUES] = true;
	reason = current_reason();
	if (old_tuple != NULL && reason == NULL)
		ereport(ERROR, (errcode(MAKE_SQLSTATE('G', 'M', '0', '0', '8')),
						errmsg("%s of %s.%s needs a reason", op, schema, table),
						errhint("every change and deletion of a GMP record is recorded with its reason: give one (gmp: --reason; SQL: SELECT set_config('gmp.reason', '…', true))")));

	values[COL_WRITE_ORDER] = Int64GetDatum(nextval_internal(RangeVarGetRelid(
		makeRangeVar("gmp_audit", "write_order", -1), NoLock, false), true));
	values[COL_OCCURRED_AT] = TimestampTzGetDatum(GetCurrentTimestamp());
	values[COL_TRANSACTION_ID] = Int64GetDatum((int64) U64FromFullTransactionId(GetTopFullTransactionId()));
	values[COL_ACTOR] = CStringGetTextDatum(GetUserNameFromId(GetSessionUserId(), false));
	values[COL_ACTION] = CStringGetTextDatum(op);
	values[COL_TABLE_NAME] = CStringGetTextDatum(psprintf("%s.%s", schema, table));
	/* coalesce(new_row, old_row) ->> TG_ARGV[0] */
	if (trigger->tg_trigger->tgnargs > 0)
		values[COL_RECORD_KEY] = jsonb_field_text(new_tuple != NULL ? values[COL_NEW_VALUES] : values[COL_OLD_VALUES],
												  trigger->tg_trigger->tgargs[0], &nulls[COL_RECORD_KEY]);
	else
		nulls[COL_RECORD_KEY] = true;
	if (reason != NULL)
		values[COL_REASON] = CStringGetTextDatum(reason);
	else
		nulls[COL_REASON] = true;

	mode = GetConfigOption("gmp.audit_chain", true, false);
	if ((mode != NULL && strcmp(mode, "after_commit") == 0)
		|| chained_in_background(DatumGetTimestampTz(values[COL_OCCURRED_AT])))
		insert_directly(values, nulls);
	else
		insert_through_spi(values, nulls);
	unpin_settings(pinned);
	return PointerGetDatum(NULL);
}

/* ---- hash format v2 (docs/audit-trail.md): each field its byte length as 4-byte big-endian
 * and its UTF-8 bytes, NULL as FF FF FF FF; SHA-256 of them all. */

static void
put_bytes(StringInfo message, const char *data, int len)
{
	uint32		length = pg_hton32((uint32) len);

	appendBinaryStringInfo(message, (const char *) &length, 4);
	appendBinaryStringInfo(message, data, len);
}

/* convert_to(value, 'UTF8') */
static void
put_utf8(StringInfo message, const char *data, int len)
{
	const char *utf8 = pg_server_to_any(data, len, PG_UTF8);

	put_bytes(message, utf8, utf8 == data ? len : (int) strlen(utf8));
}

static void
put_null(StringInfo message)
{
	appendBinaryStringInfo(message, "\xff\xff\xff\xff", 4);
}

static void
put_int8(StringInfo message, int64 value)
{
	char		text[32];

	put_utf8(message, text, snprintf(text, sizeof text, INT64_FORMAT, value));
}

static void
put_text(StringInfo message, FunctionCallInfo fcinfo, int arg)
{
	text	   *value;

	if (PG_ARGISNULL(arg))
	{
		put_null(message);
		return;
	}
	value = PG_GETARG_TEXT_PP(arg);
	put_utf8(message, VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value));
}

/* old_values::text: jsonb's output function. */
static void
put_jsonb(StringInfo message, FunctionCallInfo fcinfo, int arg)
{
	Jsonb	   *value;
	char	   *printed;

	if (PG_ARGISNULL(arg))
	{
		put_null(message);
		return;
	}
	value = PG_GETARG_JSONB_P(arg);
	printed = JsonbToCString(NULL, &value->root, VARSIZE(value));
	put_utf8(message, printed, strlen(printed));
}

/* gmp_audit.canonical_time: to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"').
 * False for ±infinity, where to_char gives NULL. */
static bool
put_canonical_time(StringInfo message, TimestampTz when)
{
	struct pg_tm tm;
	fsec_t		fsec;
	char		text[64];
	int			year;

	if (TIMESTAMP_NOT_FINITE(when))
		return false;
	if (timestamp2tm(when, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR, (errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE), errmsg("timestamp out of range")));
	/* to_char's YYYY: years BC as their number, at least four digits */
	year = tm.tm_year <= 0 ? -(tm.tm_year - 1) : tm.tm_year;
	put_utf8(message, text, snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", year, tm.tm_mon,
									 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int) fsec));
	return true;
}

Datum
gmp_audit_event_hash_v2(PG_FUNCTION_ARGS)
{
	StringInfoData message;
	bytea	   *previous;
	bytea	   *hash;
	pg_cryptohash_ctx *context;

	/* The PL/pgSQL's message is NULL, and so its hash, when a field that is not
	 * nullable in the encoding is: seq, write_order, occurred_at, transaction_id,
	 * actor, action, table_name, previous_hash. */
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3) || PG_ARGISNULL(4)
		|| PG_ARGISNULL(5) || PG_ARGISNULL(6) || PG_ARGISNULL(11))
		PG_RETURN_NULL();
	initStringInfo(&message);
	put_bytes(&message, "gmp-audit-v2", 12);
	put_int8(&message, PG_GETARG_INT64(0));
	put_int8(&message, PG_GETARG_INT64(1));
	if (!put_canonical_time(&message, PG_GETARG_TIMESTAMPTZ(2)))
		PG_RETURN_NULL();
	put_int8(&message, PG_GETARG_INT64(3));
	put_text(&message, fcinfo, 4);
	put_text(&message, fcinfo, 5);
	put_text(&message, fcinfo, 6);
	put_text(&message, fcinfo, 7);
	put_jsonb(&message, fcinfo, 8);
	put_jsonb(&message, fcinfo, 9);
	put_text(&message, fcinfo, 10);
	previous = PG_GETARG_BYTEA_PP(11);
	put_bytes(&message, VARDATA_ANY(previous), VARSIZE_ANY_EXHDR(previous));

	hash = palloc(VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
	SET_VARSIZE(hash, VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
	context = pg_cryptohash_create(PG_SHA256);
	if (pg_cryptohash_init(context) < 0
		|| pg_cryptohash_update(context, (uint8 *) message.data, message.len) < 0
		|| pg_cryptohash_final(context, (uint8 *) VARDATA(hash), PG_SHA256_DIGEST_LENGTH) < 0)
		elog(ERROR, "gmp_audit_native: sha256 failed: %s", pg_cryptohash_error(context));
	pg_cryptohash_free(context);
	PG_RETURN_BYTEA_P(hash);
}
