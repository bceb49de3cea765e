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
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "access/htup_details.h"
#include "common/cryptohash.h"
#include "common/hashfn.h"
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
#include "utils/array.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/bytea.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
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

/* The relations of gmp_audit the C names, their oids kept from one row to the next: the
 * two catalog look-ups a name (schema, then relation) were about 8 % of the row trigger's
 * time (docs/benchmarks.md, "the staged rows deleted in C"). Forgotten at any change of
 * pg_class or pg_namespace (a rename, a drop, a new relation), then looked up again. */
static struct
{
	const char *name;
	Oid			oid;
}			audit_relations[] = {{"pending_event", InvalidOid}, {"event", InvalidOid}, {"write_order", InvalidOid}};
static bool audit_relations_watched = false;

static void
forget_audit_relations(Datum arg, int cacheid, uint32 hashvalue)
{
	for (int i = 0; i < lengthof(audit_relations); i++)
		audit_relations[i].oid = InvalidOid;
}

static Oid
audit_relation(const char *name)
{
	int			i;
	Oid			relid;

	for (i = 0; i < lengthof(audit_relations) && strcmp(audit_relations[i].name, name) != 0; i++)
		;
	if (i < lengthof(audit_relations) && OidIsValid(audit_relations[i].oid))
		return audit_relations[i].oid;
	if (!audit_relations_watched)
	{
		CacheRegisterSyscacheCallback(RELNAMENSP, forget_audit_relations, (Datum) 0);
		CacheRegisterSyscacheCallback(NAMESPACENAME, forget_audit_relations, (Datum) 0);
		audit_relations_watched = true;
	}
	relid = get_relname_relid(name, get_namespace_oid("gmp_audit", false));
	if (!OidIsValid(relid))
		elog(ERROR, "gmp_audit_native: gmp_audit.%s does not exist", name);
	if (i < lengthof(audit_relations))
		audit_relations[i].oid = relid;
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

	values[COL_WRITE_ORDER] = Int64GetDatum(nextval_internal(audit_relation("write_order"), true));
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
put_text(StringInfo message, Datum value, bool isnull)
{
	text	   *detoasted;

	if (isnull)
	{
		put_null(message);
		return;
	}
	detoasted = DatumGetTextPP(value);
	put_utf8(message, VARDATA_ANY(detoasted), VARSIZE_ANY_EXHDR(detoasted));
}

/* old_values::text: jsonb's output function. */
static void
put_jsonb(StringInfo message, Datum value, bool isnull)
{
	Jsonb	   *detoasted;
	char	   *printed;

	if (isnull)
	{
		put_null(message);
		return;
	}
	detoasted = DatumGetJsonbP(value);
	printed = JsonbToCString(NULL, &detoasted->root, VARSIZE(detoasted));
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

/* The arguments of gmp_audit.event_hash_v2, in its order. */
enum
{
	HASH_SEQ, HASH_WRITE_ORDER, HASH_OCCURRED_AT, HASH_TRANSACTION_ID, HASH_ACTOR, HASH_ACTION,
	HASH_TABLE_NAME, HASH_RECORD_KEY, HASH_OLD_VALUES, HASH_NEW_VALUES, HASH_REASON, HASH_PREVIOUS,
	HASH_ARGS
};

/*
 * Hash format v2 of one event, its fields in event_hash_v2's order: the hash (a bytea), or
 * NULL where the PL/pgSQL's is NULL (a field that is not nullable in the encoding is NULL,
 * or the time is infinite). Shared by the SQL-callable hash and the native chaining, so both
 * hash with the same code.
 */
static bytea *
event_hash_v2_of(const Datum *args, const bool *nulls)
{
	StringInfoData message;
	bytea	   *previous;
	bytea	   *hash;
	pg_cryptohash_ctx *context;

	if (nulls[HASH_SEQ] || nulls[HASH_WRITE_ORDER] || nulls[HASH_OCCURRED_AT] || nulls[HASH_TRANSACTION_ID]
		|| nulls[HASH_ACTOR] || nulls[HASH_ACTION] || nulls[HASH_TABLE_NAME] || nulls[HASH_PREVIOUS])
		return NULL;
	initStringInfo(&message);
	put_bytes(&message, "gmp-audit-v2", 12);
	put_int8(&message, DatumGetInt64(args[HASH_SEQ]));
	put_int8(&message, DatumGetInt64(args[HASH_WRITE_ORDER]));
	if (!put_canonical_time(&message, DatumGetTimestampTz(args[HASH_OCCURRED_AT])))
		return NULL;
	put_int8(&message, DatumGetInt64(args[HASH_TRANSACTION_ID]));
	for (int i = HASH_ACTOR; i <= HASH_RECORD_KEY; i++)
		put_text(&message, args[i], nulls[i]);
	put_jsonb(&message, args[HASH_OLD_VALUES], nulls[HASH_OLD_VALUES]);
	put_jsonb(&message, args[HASH_NEW_VALUES], nulls[HASH_NEW_VALUES]);
	put_text(&message, args[HASH_REASON], nulls[HASH_REASON]);
	previous = DatumGetByteaPP(args[HASH_PREVIOUS]);
	put_bytes(&message, VARDATA_ANY(previous), VARSIZE_ANY_EXHDR(previous));

	hash = palloc(VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
	SET_VARSIZE(hash, VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
	context = pg_cryptohash_create(PG_SHA256);
	if (pg_cryptohash_init(context) < 0
		|| pg_cryptohash_update(context, (uint8 *) message.data, message.len) < 0
		|| pg_cryptohash_final(context, (uint8 *) VARDATA(hash), PG_SHA256_DIGEST_LENGTH) < 0)
		elog(ERROR, "gmp_audit_native: sha256 failed: %s", pg_cryptohash_error(context));
	pg_cryptohash_free(context);
	pfree(message.data);
	return hash;
}

Datum
gmp_audit_event_hash_v2(PG_FUNCTION_ARGS)
{
	Datum		args[HASH_ARGS];
	bool		nulls[HASH_ARGS];
	bytea	   *hash;

	for (int i = 0; i < HASH_ARGS; i++)
	{
		nulls[i] = PG_ARGISNULL(i);
		args[i] = nulls[i] ? (Datum) 0 : PG_GETARG_DATUM(i);
	}
	hash = event_hash_v2_of(args, nulls);
	if (hash == NULL)
		PG_RETURN_NULL();
	PG_RETURN_BYTEA_P(hash);
}

/* ---- the chaining of a batch (gmp_audit.chain_batch_plpgsql's twin, issue 18) ---- */

PG_FUNCTION_INFO_V1(gmp_audit_chain_batch);
PG_FUNCTION_INFO_V1(gmp_audit_chain_batch_direct);

/* gmp_audit.event's columns as the batch inserts them, in its INSERT's order. */
enum
{
	EV_SEQ, EV_WRITE_ORDER, EV_OCCURRED_AT, EV_TRANSACTION_ID, EV_ACTOR, EV_ACTION, EV_TABLE_NAME,
	EV_RECORD_KEY, EV_OLD_VALUES, EV_NEW_VALUES, EV_REASON, EV_HASH, EV_PREV_SEQ, EV_COLUMNS
};

/* Each statement of the batch, planned once per backend (the plan cache replans them
 * when a table changes). The names are schema-qualified and the function's declaration
 * pins search_path, as the PL/pgSQL's does. */
enum
{
	PLAN_ANY_PENDING, PLAN_HEAD_WAIT, PLAN_HEAD_SKIP, PLAN_PENDING, PLAN_LAST_SEQ, PLAN_INSERT,
	PLAN_DELETE, PLAN_HEAD_UPDATE, PLAN_MARKS, PLAN_PENDING_TIDS, PLANS
};

static const char *const batch_statements[PLANS] = {
	"SELECT FROM gmp_audit.pending_event LIMIT 1",
	"SELECT seq, hash FROM gmp_audit.chain_head FOR UPDATE",
	"SELECT seq, hash FROM gmp_audit.chain_head FOR UPDATE SKIP LOCKED",
	"SELECT write_order, occurred_at, transaction_id, actor, action, table_name, record_key, old_values,"
	" new_values, reason FROM gmp_audit.pending_event ORDER BY write_order LIMIT $1",
	"SELECT e.seq FROM gmp_audit.event e WHERE e.table_name = $1 AND e.record_key = $2"
	" ORDER BY e.seq DESC LIMIT 1",
	"INSERT INTO gmp_audit.event (seq, write_order, occurred_at, transaction_id, actor, action, table_name,"
	" record_key, old_values, new_values, reason, hash, prev_seq)"
	" SELECT * FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
	"DELETE FROM gmp_audit.pending_event d WHERE d.write_order = ANY ($1)",
	"UPDATE gmp_audit.chain_head SET seq = $1, hash = $2",
	"SELECT setval('gmp_audit.chained_through', $1),"
	" setval('gmp_audit.chained_at_ms', (extract(epoch FROM clock_timestamp()) * 1000)::bigint)",
	/* PLAN_PENDING and each row's ctid, for the staged rows deleted directly (1.3) */
	"SELECT write_order, occurred_at, transaction_id, actor, action, table_name, record_key, old_values,"
	" new_values, reason, ctid FROM gmp_audit.pending_event ORDER BY write_order LIMIT $1"
};

static const Oid event_column_types[EV_COLUMNS] = {
	INT8OID, INT8OID, TIMESTAMPTZOID, INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, JSONBOID, JSONBOID,
	TEXTOID, BYTEAOID, INT8OID
};

static SPIPlanPtr batch_plans[PLANS];

static SPIPlanPtr
batch_plan(int which)
{
	if (batch_plans[which] == NULL)
	{
		Oid			types[EV_COLUMNS];
		int			nargs = 0;
		SPIPlanPtr	plan;

		switch (which)
		{
			case PLAN_PENDING:
			case PLAN_PENDING_TIDS:
				types[nargs++] = INT4OID;
				break;
			case PLAN_LAST_SEQ:
				types[nargs++] = TEXTOID;
				types[nargs++] = TEXTOID;
				break;
			case PLAN_INSERT:
				for (; nargs < EV_COLUMNS; nargs++)
					types[nargs] = get_array_type(event_column_types[nargs]);
				break;
			case PLAN_DELETE:
				types[nargs++] = INT8ARRAYOID;
				break;
			case PLAN_HEAD_UPDATE:
				types[nargs++] = INT8OID;
				types[nargs++] = BYTEAOID;
				break;
			case PLAN_MARKS:
				types[nargs++] = INT8OID;
				break;
		}
		plan = SPI_prepare(batch_statements[which], nargs, types);
		if (plan == NULL)
			elog(ERROR, "gmp_audit_native: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		batch_plans[which] = plan;
	}
	return batch_plans[which];
}

/* Runs one of the batch's statements (a new snapshot each, as the PL/pgSQL's statements). */
static int
run_batch_statement(int which, Datum *values, const char *nulls, long count, int expected)
{
	int			ret = SPI_execute_plan(batch_plan(which), values, nulls, false, count);

	if (ret != expected)
		elog(ERROR, "gmp_audit_native: \"%s\" failed: %s", batch_statements[which], SPI_result_code_string(ret));
	return ret;
}

/* A record of the batch, for prev_seq: its table's name and key (NULL a key of its own, as
 * for PARTITION BY), and the seq of its last event so far in the batch. */
typedef struct RecordName
{
	const char *bytes;
	int			len;
} RecordName;

typedef struct RecordLast
{
	RecordName	name;			/* the hash key: must come first */
	int64		seq;
} RecordLast;

static uint32
record_name_hash(const void *key, Size keysize)
{
	const RecordName *name = (const RecordName *) key;

	return hash_bytes((const unsigned char *) name->bytes, name->len);
}

static int
record_name_match(const void *left, const void *right, Size keysize)
{
	const RecordName *a = (const RecordName *) left;
	const RecordName *b = (const RecordName *) right;

	return a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0 ? 0 : 1;
}

/* table_name, a NUL (which no text holds), then 'k' and the key, or 'n' for a NULL key. */
static RecordName
record_name(Datum table_name, Datum record_key, bool key_isnull)
{
	text	   *table = DatumGetTextPP(table_name);
	text	   *key = key_isnull ? NULL : DatumGetTextPP(record_key);
	int			table_len = VARSIZE_ANY_EXHDR(table);
	int			key_len = key ? VARSIZE_ANY_EXHDR(key) : 0;
	char	   *bytes = palloc(table_len + 2 + key_len);
	RecordName	name;

	memcpy(bytes, VARDATA_ANY(table), table_len);
	bytes[table_len] = '\0';
	bytes[table_len + 1] = key ? 'k' : 'n';
	if (key)
		memcpy(bytes + table_len + 2, VARDATA_ANY(key), key_len);
	name.bytes = bytes;
	name.len = table_len + 2 + key_len;
	return name;
}

/* The seq of the record's last event already in the chain (chained before this batch), if any. */
static bool
last_chained_seq(Datum table_name, Datum record_key, int64 *seq)
{
	Datum		args[2] = {table_name, record_key};
	bool		isnull;

	run_batch_statement(PLAN_LAST_SEQ, args, NULL, 1, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return false;
	*seq = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	return !isnull;
}

static Datum
column_array(Datum *elements, bool *nulls, int n, Oid type)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			dims[1] = {n};
	int			lbs[1] = {1};

	get_typlenbyvalalign(type, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_md_array(elements, nulls, 1, dims, lbs, type, typlen, typbyval, typalign));
}


/*
 * The batch's events into gmp_audit.event as COPY puts rows in a table: the table's own
 * CHECKs and NOT NULLs (ExecConstraints), the heap rows in one table_multi_insert (a WAL
 * record a page, not a row), then each row's index entries (uniqueness checked there, as
 * for any insert). Instead of an INSERT … SELECT FROM unnest(…), whose function scan,
 * projection and per-row heap insert were a fifth of the batch (docs/benchmarks.md). Only
 * while the table has no INSERT trigger (none today): false otherwise, and the caller
 * inserts through SQL (so too under row-level security). The caller must hold INSERT on the table, as for the statement.
 */
static bool
insert_events_directly(Datum **columns, bool **column_nulls, uint64 n)
{
	Oid			relid = audit_relation("event");
	Relation	target;
	TupleDesc	desc;
	EState	   *estate;
	ResultRelInfo *info;
	RangeTblEntry *rte;
	TupleDesc	slot_desc;
	TupleTableSlot **slots;
	AclResult	acl;
	static const char *const names[EV_COLUMNS] = {
		"seq", "write_order", "occurred_at", "transaction_id", "actor", "action", "table_name",
		"record_key", "old_values", "new_values", "reason", "hash", "prev_seq"
	};
	int			position[EV_COLUMNS];	/* the table's attribute number - 1 of each column */

	acl = pg_class_aclcheck(relid, GetUserId(), ACL_INSERT);
	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_TABLE, "event");
	target = table_open(relid, RowExclusiveLock);
	desc = RelationGetDescr(target);
	if (target->rd_rel->relrowsecurity
		|| (target->trigdesc != NULL
		&& (target->trigdesc->trig_insert_before_row || target->trigdesc->trig_insert_after_row
			|| target->trigdesc->trig_insert_instead_row || target->trigdesc->trig_insert_before_statement
			|| target->trigdesc->trig_insert_after_statement || target->trigdesc->trig_insert_new_table)))
	{
		table_close(target, RowExclusiveLock);
		return false;
	}
	if (desc->natts != EV_COLUMNS)
		elog(ERROR, "gmp_audit_native: gmp_audit.event has %d columns, expected %d", desc->natts, EV_COLUMNS);
	for (int c = 0; c < EV_COLUMNS; c++)
	{
		position[c] = -1;
		for (int a = 0; a < desc->natts; a++)
			if (!TupleDescAttr(desc, a)->attisdropped && strcmp(NameStr(TupleDescAttr(desc, a)->attname), names[c]) == 0)
				position[c] = a;
		if (position[c] < 0 || TupleDescAttr(desc, position[c])->atttypid != event_column_types[c])
			elog(ERROR, "gmp_audit_native: gmp_audit.event has no column %s of the expected type", names[c]);
	}

	estate = CreateExecutorState();
	rte = makeNode(RangeTblEntry);
	rte->rtekind = RTE_RELATION;
	rte->relid = relid;
	rte->relkind = target->rd_rel->relkind;
	rte->rellockmode = RowExclusiveLock;
	rte->requiredPerms = ACL_INSERT;
	ExecInitRangeTable(estate, list_make1(rte));
	info = makeNode(ResultRelInfo);
	InitResultRelInfo(info, target, 1, NULL, 0);
	ExecOpenIndices(info, false);

	/* The slots' descriptor: a copy without a reference count, which each slot would otherwise
	 * pin in the resource owner and unpin at the end, searching its list every time
	 * (quadratic in the batch's size: a fifth of a batch of 3,000). */
	slot_desc = CreateTupleDescCopy(desc);
	slots = palloc(sizeof(TupleTableSlot *) * n);
	for (uint64 i = 0; i < n; i++)
	{
		Datum		values[EV_COLUMNS];
		bool		nulls[EV_COLUMNS];

		for (int c = 0; c < EV_COLUMNS; c++)
		{
			values[position[c]] = columns[c][i];
			nulls[position[c]] = column_nulls[c][i];
		}
		slots[i] = ExecInitExtraTupleSlot(estate, slot_desc, &TTSOpsHeapTuple);
		ExecStoreHeapTuple(heap_form_tuple(desc, values, nulls), slots[i], true);
		if (target->rd_att->constr)
			ExecConstraints(info, slots[i], estate);
	}
	table_multi_insert(target, slots, (int) n, GetCurrentCommandId(true), 0, NULL);
	for (uint64 i = 0; i < n; i++)
	{
		ResetPerTupleExprContext(estate);
		ExecInsertIndexTuples(info, slots[i], estate, false, false, NULL, NIL);
	}
	table_finish_bulk_insert(target, 0);
	ExecCloseIndices(info);
	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);
	table_close(target, NoLock);
	/* What the statement's end does: later statements see the rows. */
	CommandCounterIncrement();
	return true;
}

/*
 * Whether the staging table's only DELETE trigger is its guard_delete (gmp_audit.
 * guard_pending_delete, AFTER … FOR EACH STATEMENT), and no row-level security: then the
 * batch may delete the rows it chained itself (delete_staged_directly). Any other DELETE
 * trigger (one an administrator added, a foreign key's) is left to fire through the
 * ordinary DELETE.
 */
static bool
only_the_guard_on_delete(Relation staging)
{
	TriggerDesc *triggers = staging->trigdesc;

	if (staging->rd_rel->relrowsecurity)
		return false;
	for (int i = 0; triggers != NULL && i < triggers->numtriggers; i++)
	{
		Trigger    *t = &triggers->triggers[i];
		char	   *function;

		if (!TRIGGER_FOR_DELETE(t->tgtype))
			continue;
		function = get_func_name(t->tgfoid);
		if (strcmp(t->tgname, "guard_delete") != 0 || TRIGGER_FOR_ROW(t->tgtype) || !TRIGGER_FOR_AFTER(t->tgtype)
			|| function == NULL || strcmp(function, "guard_pending_delete") != 0
			|| get_func_namespace(t->tgfoid) != RelationGetNamespace(staging))
			return false;
	}
	return true;
}

/*
 * The batch's staged rows deleted by their ctid, as a DELETE's executor deletes them
 * (table_tuple_delete: the row's xmax, its WAL, the statistics autovacuum reads), but
 * without the statement: no transition table, and no guard_delete, whose check — each row
 * looked up in the chain through event_write_order and compared column by column — is
 * true by construction here: the chain holds these rows because this function has just
 * inserted them, from the same Datums (insert_events_directly, which ran no trigger that
 * could have changed them). A sixth of the worker's time (docs/benchmarks.md, "the staged
 * rows deleted in C"). Only while only_the_guard_on_delete; false otherwise, and the
 * caller deletes through SQL. A row changed or deleted meanwhile fails the batch, as it
 * would fail the ordinary DELETE's count check: nothing but a chainer holding the head
 * deletes, and the guard refuses every UPDATE.
 */
static bool
delete_staged_directly(ItemPointerData *tids, uint64 n)
{
	Oid			relid = audit_relation("pending_event");
	Relation	staging;
	AclResult	acl;

	acl = pg_class_aclcheck(relid, GetUserId(), ACL_DELETE);
	if (acl != ACLCHECK_OK)
		aclcheck_error(acl, OBJECT_TABLE, "pending_event");
	staging = table_open(relid, RowExclusiveLock);
	if (!only_the_guard_on_delete(staging))
	{
		table_close(staging, RowExclusiveLock);
		return false;
	}
	/* As the executor does before a DELETE: refused when a publication needs an identity. */
	CheckCmdReplicaIdentity(staging, CMD_DELETE);
	for (uint64 i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		simple_table_tuple_delete(staging, &tids[i], ActiveSnapshotSet() ? GetActiveSnapshot() : InvalidSnapshot);
	}
	table_close(staging, NoLock);
	CommandCounterIncrement();
	return true;
}

/*
 * gmp_audit.chain_batch_native(max_events integer, wait boolean) RETURNS integer: what
 * gmp_audit.chain_batch_plpgsql does (sql/code/01_audit.sql), with the same statements'
 * locks and guards, the same rows and the same hashes: nothing pending, no lock; the head
 * locked FOR UPDATE (SKIP LOCKED without `wait`, returning 0 when held); the pending events
 * in write_order, each given the next seq and its v2 hash (event_hash_v2_of) and, for an
 * UPDATE or DELETE, prev_seq (its record's previous event in the batch, or the last one
 * chained); all inserted in one INSERT, deleted from the staging table in one DELETE (its
 * guard_delete trigger checks them against the chain), the head and the marks updated.
 * The per-event work the PL/pgSQL did in its loop, its join back to the staging table and
 * its window for prev_seq is done here in C (docs/benchmarks.md).
 */
static Datum
chain_batch(FunctionCallInfo fcinfo, bool delete_directly)
{
	bool		wait = !PG_ARGISNULL(1) && PG_GETARG_BOOL(1);
	Datum		limit = PG_ARGISNULL(0) ? (Datum) 0 : PG_GETARG_DATUM(0);
	char		limit_null = PG_ARGISNULL(0) ? 'n' : ' ';
	int64		start_seq;
	Datum		head_hash;
	bool		isnull;
	uint64		n;
	SPITupleTable *pending;
	Datum	   *columns[EV_COLUMNS];
	bool	   *column_nulls[EV_COLUMNS];
	Datum		arrays[EV_COLUMNS];
	HTAB	   *records;
	HASHCTL		records_ctl;
	MemoryContext batch;
	MemoryContext per_event;
	ItemPointerData *tids = NULL;
	bool		inserted_directly;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "gmp_audit_native: SPI_connect failed");
	batch = CurrentMemoryContext;

	/* Nothing pending: no lock taken. */
	run_batch_statement(PLAN_ANY_PENDING, NULL, NULL, 1, SPI_OK_SELECT);
	if (SPI_processed == 0)
	{
		SPI_finish();
		PG_RETURN_INT32(0);
	}
	/* The head: waited for (SELECT … INTO STRICT), or skipped when someone holds it. */
	run_batch_statement(wait ? PLAN_HEAD_WAIT : PLAN_HEAD_SKIP, NULL, NULL, wait ? 0 : 1, SPI_OK_SELECT);
	if (SPI_processed == 0)
	{
		if (wait)
			ereport(ERROR, (errcode(ERRCODE_NO_DATA_FOUND), errmsg("query returned no rows")));
		SPI_finish();
		PG_RETURN_INT32(0);
	}
	if (SPI_processed > 1)
		ereport(ERROR, (errcode(ERRCODE_TOO_MANY_ROWS), errmsg("query returned more than one row")));
	start_seq = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (isnull)
		elog(ERROR, "gmp_audit_native: the chain head has no seq");
	head_hash = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	head_hash = isnull ? (Datum) 0 : PointerGetDatum(DatumGetByteaPCopy(head_hash));

	run_batch_statement(delete_directly ? PLAN_PENDING_TIDS : PLAN_PENDING, &limit, &limit_null, 0, SPI_OK_SELECT);
	pending = SPI_tuptable;
	n = SPI_processed;
	if (n == 0)
	{
		SPI_finish();
		PG_RETURN_INT32(0);
	}
	if (pending->tupdesc->natts != EVENT_COLUMNS + (delete_directly ? 1 : 0))
		elog(ERROR, "gmp_audit_native: the pending events have %d columns, expected %d",
			 pending->tupdesc->natts, EVENT_COLUMNS + (delete_directly ? 1 : 0));
	if (delete_directly)
		tids = palloc(sizeof(ItemPointerData) * n);

	for (int c = 0; c < EV_COLUMNS; c++)
	{
		columns[c] = palloc(sizeof(Datum) * n);
		column_nulls[c] = palloc(sizeof(bool) * n);
	}
	memset(&records_ctl, 0, sizeof(records_ctl));
	records_ctl.keysize = sizeof(RecordName);
	records_ctl.entrysize = sizeof(RecordLast);
	records_ctl.hash = record_name_hash;
	records_ctl.match = record_name_match;
	records_ctl.hcxt = batch;
	records = hash_create("gmp_audit_native batch records", 256, &records_ctl,
						  HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
	per_event = AllocSetContextCreate(batch, "gmp_audit_native event hash", ALLOCSET_DEFAULT_SIZES);

	for (uint64 i = 0; i < n; i++)
	{
		Datum		staged[EVENT_COLUMNS + 1];
		bool		staged_nulls[EVENT_COLUMNS + 1];
		Datum		hash_args[HASH_ARGS];
		bool		hash_nulls[HASH_ARGS];
		int64		seq = start_seq + (int64) i + 1;
		bytea	   *hash;
		RecordName	name;
		RecordLast *last;
		bool		found;
		const char *action;
		bool		needs_prev;

		CHECK_FOR_INTERRUPTS();
		heap_deform_tuple(pending->vals[i], pending->tupdesc, staged, staged_nulls);
		if (delete_directly)
			ItemPointerCopy((ItemPointer) DatumGetPointer(staged[EVENT_COLUMNS]), &tids[i]);
		/* The staged columns are the event's, after its seq. */
		columns[EV_SEQ][i] = Int64GetDatum(seq);
		column_nulls[EV_SEQ][i] = false;
		for (int c = 0; c < EVENT_COLUMNS; c++)
		{
			columns[EV_WRITE_ORDER + c][i] = staged[c];
			column_nulls[EV_WRITE_ORDER + c][i] = staged_nulls[c];
		}

		hash_args[HASH_SEQ] = Int64GetDatum(seq);
		hash_nulls[HASH_SEQ] = false;
		for (int c = 0; c < EVENT_COLUMNS; c++)
		{
			hash_args[HASH_WRITE_ORDER + c] = staged[c];
			hash_nulls[HASH_WRITE_ORDER + c] = staged_nulls[c];
		}
		hash_args[HASH_PREVIOUS] = head_hash;
		hash_nulls[HASH_PREVIOUS] = head_hash == (Datum) 0;
		MemoryContextSwitchTo(per_event);
		hash = event_hash_v2_of(hash_args, hash_nulls);
		MemoryContextSwitchTo(batch);
		if (hash == NULL)
			head_hash = (Datum) 0;
		else
		{
			bytea	   *kept = palloc(VARSIZE(hash));

			memcpy(kept, hash, VARSIZE(hash));
			head_hash = PointerGetDatum(kept);
		}
		MemoryContextReset(per_event);
		columns[EV_HASH][i] = head_hash;
		column_nulls[EV_HASH][i] = head_hash == (Datum) 0;

		/* prev_seq: lag over (table_name, record_key) in the batch, else the last chained. */
		column_nulls[EV_PREV_SEQ][i] = true;
		columns[EV_PREV_SEQ][i] = (Datum) 0;
		if (staged_nulls[COL_TABLE_NAME])
			continue;			/* refused by the INSERT's NOT NULL */
		action = staged_nulls[COL_ACTION] ? "" : TextDatumGetCString(staged[COL_ACTION]);
		needs_prev = strcmp(action, "UPDATE") == 0 || strcmp(action, "DELETE") == 0;
		name = record_name(staged[COL_TABLE_NAME], staged[COL_RECORD_KEY], staged_nulls[COL_RECORD_KEY]);
		last = (RecordLast *) hash_search(records, &name, HASH_ENTER, &found);
		if (needs_prev)
		{
			int64		previous;

			if (found)
			{
				columns[EV_PREV_SEQ][i] = Int64GetDatum(last->seq);
				column_nulls[EV_PREV_SEQ][i] = false;
			}
			else if (!staged_nulls[COL_RECORD_KEY]
					 && last_chained_seq(staged[COL_TABLE_NAME], staged[COL_RECORD_KEY], &previous))
			{
				columns[EV_PREV_SEQ][i] = Int64GetDatum(previous);
				column_nulls[EV_PREV_SEQ][i] = false;
			}
		}
		last->seq = seq;
	}

	/* The rows cannot change meanwhile: the guard refuses UPDATE, and only a chainer,
	 * holding the head, deletes. */
	inserted_directly = insert_events_directly(columns, column_nulls, n);
	if (!inserted_directly)
	{
		for (int c = 0; c < EV_COLUMNS; c++)
			arrays[c] = column_array(columns[c], column_nulls[c], (int) n, event_column_types[c]);
		run_batch_statement(PLAN_INSERT, arrays, NULL, 0, SPI_OK_INSERT);
	}
	/* Deleted directly only when inserted directly: an INSERT trigger on the chain could
	 * have changed the rows, which guard_delete would then have to catch. */
	if (!(delete_directly && inserted_directly && delete_staged_directly(tids, n)))
	{
		/* guard_delete lets a pending event go only once the chain holds it unchanged. */
		Datum		orders = column_array(columns[EV_WRITE_ORDER], column_nulls[EV_WRITE_ORDER], (int) n, INT8OID);

		run_batch_statement(PLAN_DELETE, &orders, NULL, 0, SPI_OK_DELETE);
		/* Every event read is there still: nothing but a chainer holding the head deletes. */
		if (SPI_processed != n)
			elog(ERROR, "gmp_audit_native: %llu of the %llu pending events chained left the staging table",
				 (unsigned long long) SPI_processed, (unsigned long long) n);
	}
	{
		Datum		head[2] = {Int64GetDatum(start_seq + (int64) n), head_hash};
		char		head_nulls[2] = {' ', head_hash == (Datum) 0 ? 'n' : ' '};
		Datum		through = columns[EV_WRITE_ORDER][n - 1];

		run_batch_statement(PLAN_HEAD_UPDATE, head, head_nulls, 0, SPI_OK_UPDATE);
		run_batch_statement(PLAN_MARKS, &through, NULL, 0, SPI_OK_SELECT);
	}
	SPI_finish();
	PG_RETURN_INT32((int32) n);
}

Datum
gmp_audit_chain_batch(PG_FUNCTION_ARGS)
{
	return chain_batch(fcinfo, false);
}

/*
 * gmp_audit.chain_batch_native_direct(max_events integer, wait boolean) RETURNS integer
 * (1.3): chain_batch_native, the chained rows then deleted from the staging table by this
 * function itself (delete_staged_directly) instead of by a DELETE statement and its
 * guard_delete; the same events, hashes and head. chain_batch calls it when bound.
 */
Datum
gmp_audit_chain_batch_direct(PG_FUNCTION_ARGS)
{
	return chain_batch(fcinfo, true);
}
