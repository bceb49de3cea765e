/* Prototypes for scripts/bench_audit_designs.py (issue 19/18 design study), NOT part of gmp,
   to bound what a trigger and a hash can cost at all:
   - audit_c_record_change: the row trigger (reason check, to_jsonb of OLD/NEW, one event
     with nextval, clock_timestamp, txid_current, session_user) through one saved SPI plan
     per audited table, i.e. a nested INSERT statement, as PL/pgSQL runs it;
   - audit_c_record_change_direct: the same event formed in C and inserted with its index
     entries directly, without a nested statement;
   - audit_c_event_hash_v2: gmp_audit.event_hash_v2 (hash format v2) in C.
   The triggers take TG_ARGV: key column, target table, write-order sequence; the script
   declares them SECURITY DEFINER with record_change's pinned settings (or not: the floor).
   Built by the script with gcc against PostgreSQL 15's server headers
   (postgresql-server-dev-15). No invalidation of the per-backend caches: a prototype. */
#include "postgres.h"
#include "fmgr.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "access/htup_details.h"
#include "utils/rel.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "catalog/pg_type.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/fmgroids.h"
#include "utils/regproc.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/transam.h"
#include "access/xact.h"
#include "commands/sequence.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "miscadmin.h"
#include "utils/timestamp.h"
#include "utils/datetime.h"
#include "utils/jsonb.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "port/pg_bswap.h"
#include "lib/stringinfo.h"

PG_MODULE_MAGIC;

typedef struct PlanEntry { Oid relid; char target[NAMEDATALEN * 2 + 2]; SPIPlanPtr plan; struct PlanEntry *next; } PlanEntry;
static PlanEntry *plans = NULL;

PG_FUNCTION_INFO_V1(audit_c_record_change);
Datum
audit_c_record_change(PG_FUNCTION_ARGS)
{
    TriggerData *td = (TriggerData *) fcinfo->context;
    Relation rel;
    TupleDesc desc;
    HeapTuple oldt = NULL, newt = NULL;
    const char *op;
    const char *reason;
    PlanEntry *e;
    Datum values[5];
    char nulls[5] = {' ', ' ', ' ', ' ', ' '};
    Oid rowtype;
    int ret;

    if (!CALLED_AS_TRIGGER(fcinfo) || td->tg_trigger->tgnargs < 3)
        elog(ERROR, "audit_c_record_change: not called as trigger with 3 arguments");
    rel = td->tg_relation;
    desc = RelationGetDescr(rel);
    rowtype = rel->rd_rel->reltype;
    if (TRIGGER_FIRED_BY_INSERT(td->tg_event)) { op = "INSERT"; newt = td->tg_trigtuple; }
    else if (TRIGGER_FIRED_BY_UPDATE(td->tg_event)) { op = "UPDATE"; oldt = td->tg_trigtuple; newt = td->tg_newtuple; }
    else { op = "DELETE"; oldt = td->tg_trigtuple; }

    reason = GetConfigOption("gmp.reason", true, false);
    if (reason != NULL && reason[0] == '\0')
        reason = NULL;
    if (oldt != NULL && reason == NULL)
        ereport(ERROR, (errcode(MAKE_SQLSTATE('G','M','0','0','8')),
                        errmsg("%s of %s needs a reason", op, RelationGetRelationName(rel))));

    for (e = plans; e != NULL; e = e->next)
        if (e->relid == RelationGetRelid(rel) && strcmp(e->target, td->tg_trigger->tgargs[1]) == 0)
            break;

    if (SPI_connect() != SPI_OK_CONNECT)
        elog(ERROR, "SPI_connect failed");
    if (e == NULL)
    {
        char sql[1024];
        Oid types[5] = {TEXTOID, TEXTOID, TEXTOID, rowtype, rowtype};
        SPIPlanPtr p;
        snprintf(sql, sizeof sql,
                 "INSERT INTO %s (write_order, occurred_at, transaction_id, actor, action, table_name, record_key,"
                 " old_values, new_values, reason) SELECT nextval('%s'), clock_timestamp(), txid_current(), session_user,"
                 " $1, $2, coalesce(n, o) ->> $3, o, n, nullif(btrim(current_setting('gmp.reason', true)), '')"
                 " FROM (SELECT to_jsonb($4) AS o, to_jsonb($5) AS n) AS r",
                 td->tg_trigger->tgargs[1], td->tg_trigger->tgargs[2]);
        p = SPI_prepare(sql, 5, types);
        if (p == NULL)
            elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
        e = MemoryContextAlloc(TopMemoryContext, sizeof(PlanEntry));
        e->relid = RelationGetRelid(rel);
        strlcpy(e->target, td->tg_trigger->tgargs[1], sizeof e->target);
        e->plan = p;
        SPI_keepplan(p);
        e->next = plans;
        plans = e;
    }
    values[0] = CStringGetTextDatum(op);
    values[1] = CStringGetTextDatum(psprintf("%s.%s", get_namespace_name(RelationGetNamespace(rel)), RelationGetRelationName(rel)));
    values[2] = CStringGetTextDatum(td->tg_trigger->tgargs[0]);
    if (oldt) values[3] = heap_copy_tuple_as_datum(oldt, desc); else { values[3] = (Datum) 0; nulls[3] = 'n'; }
    if (newt) values[4] = heap_copy_tuple_as_datum(newt, desc); else { values[4] = (Datum) 0; nulls[4] = 'n'; }
    ret = SPI_execute_plan(e->plan, values, nulls, false, 0);
    if (ret != SPI_OK_INSERT)
        elog(ERROR, "audit insert failed: %s", SPI_result_code_string(ret));
    SPI_finish();
    return PointerGetDatum(NULL);
}

/* The same event written without SPI or the executor: the row formed in C and inserted
   with its index entries directly (no CHECK constraints or triggers of the target are run:
   the trigger is its only writer). Bounds what any trigger design can cost. The key is the
   key column's text output (equal to to_jsonb(row) ->> key for gmp's key types). */
typedef struct DirectCache
{
    Oid source; char target[NAMEDATALEN * 2 + 2]; Oid target_oid; Oid seq; FmgrInfo to_jsonb;
    struct DirectCache *next;
} DirectCache;
/* Per backend, like PL/pgSQL's cached plans (a prototype: no invalidation). */
static DirectCache *direct_caches = NULL;

static Datum
row_jsonb(DirectCache *c, HeapTuple tuple, TupleDesc desc)
{
    return FunctionCall1(&c->to_jsonb, heap_copy_tuple_as_datum(tuple, desc));
}

PG_FUNCTION_INFO_V1(audit_c_record_change_direct);
Datum
audit_c_record_change_direct(PG_FUNCTION_ARGS)
{
    TriggerData *td = (TriggerData *) fcinfo->context;
    DirectCache *c;
    Relation rel, target;
    TupleDesc desc;
    HeapTuple oldt = NULL, newt = NULL, keyt, event;
    const char *op, *reason;
    Datum values[10];
    bool nulls[10] = {false};
    char *key;
    int keycol;
    EState *estate;
    ResultRelInfo *rri;
    TupleTableSlot *slot;

    if (!CALLED_AS_TRIGGER(fcinfo) || td->tg_trigger->tgnargs < 3)
        elog(ERROR, "audit_c_record_change_direct: not called as trigger with 3 arguments");
    rel = td->tg_relation;
    desc = RelationGetDescr(rel);
    for (c = direct_caches; c != NULL; c = c->next)
        if (c->source == RelationGetRelid(rel) && strcmp(c->target, td->tg_trigger->tgargs[1]) == 0)
            break;
    if (c == NULL)
    {
        FuncExpr *call;
        MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
        c = palloc0(sizeof(DirectCache));
        c->source = RelationGetRelid(rel);
        strlcpy(c->target, td->tg_trigger->tgargs[1], sizeof c->target);
        c->target_oid = DatumGetObjectId(DirectFunctionCall1(regclassin, CStringGetDatum(td->tg_trigger->tgargs[1])));
        c->seq = DatumGetObjectId(DirectFunctionCall1(regclassin, CStringGetDatum(td->tg_trigger->tgargs[2])));
        fmgr_info_cxt(F_TO_JSONB, &c->to_jsonb, TopMemoryContext);
        /* to_jsonb(anyelement) learns its argument's type from the call expression. */
        call = makeFuncExpr(F_TO_JSONB, JSONBOID, list_make1(makeNullConst(rel->rd_rel->reltype, -1, InvalidOid)),
                            InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
        c->to_jsonb.fn_expr = (Node *) call;
        c->next = direct_caches;
        direct_caches = c;
        MemoryContextSwitchTo(old);
    }
    if (TRIGGER_FIRED_BY_INSERT(td->tg_event)) { op = "INSERT"; newt = td->tg_trigtuple; }
    else if (TRIGGER_FIRED_BY_UPDATE(td->tg_event)) { op = "UPDATE"; oldt = td->tg_trigtuple; newt = td->tg_newtuple; }
    else { op = "DELETE"; oldt = td->tg_trigtuple; }
    reason = GetConfigOption("gmp.reason", true, false);
    if (reason != NULL && reason[0] == '\0')
        reason = NULL;
    if (oldt != NULL && reason == NULL)
        ereport(ERROR, (errcode(MAKE_SQLSTATE('G','M','0','0','8')),
                        errmsg("%s of %s needs a reason", op, RelationGetRelationName(rel))));
    keyt = newt ? newt : oldt;
    keycol = SPI_fnumber(desc, td->tg_trigger->tgargs[0]);
    key = keycol > 0 ? SPI_getvalue(keyt, desc, keycol) : NULL;

    values[0] = Int64GetDatum(nextval_internal(c->seq, false));
    values[1] = TimestampTzGetDatum(GetCurrentTimestamp());
    values[2] = Int64GetDatum((int64) U64FromFullTransactionId(GetTopFullTransactionId()));
    values[3] = CStringGetTextDatum(GetUserNameFromId(GetSessionUserId(), false));
    values[4] = CStringGetTextDatum(op);
    values[5] = CStringGetTextDatum(psprintf("%s.%s", get_namespace_name(RelationGetNamespace(rel)),
                                             RelationGetRelationName(rel)));
    if (key) values[6] = CStringGetTextDatum(key); else nulls[6] = true;
    if (oldt) values[7] = row_jsonb(c, oldt, desc); else nulls[7] = true;
    if (newt) values[8] = row_jsonb(c, newt, desc); else nulls[8] = true;
    if (reason) values[9] = CStringGetTextDatum(reason); else nulls[9] = true;

    target = table_open(c->target_oid, RowExclusiveLock);
    event = heap_form_tuple(RelationGetDescr(target), values, nulls);
    estate = CreateExecutorState();
    rri = makeNode(ResultRelInfo);
    InitResultRelInfo(rri, target, 1, NULL, 0);
    ExecOpenIndices(rri, false);
    slot = ExecInitExtraTupleSlot(estate, RelationGetDescr(target), &TTSOpsHeapTuple);
    ExecStoreHeapTuple(event, slot, false);
    simple_table_tuple_insert(target, slot);
    ExecInsertIndexTuples(rri, slot, estate, false, false, NULL, NIL);
    ExecCloseIndices(rri);
    ExecResetTupleTable(estate->es_tupleTable, false);
    FreeExecutorState(estate);
    table_close(target, NoLock);
    return PointerGetDatum(NULL);
}

/* gmp_audit.event_hash_v2 in C (the same encoding, docs/audit-trail.md "Hash format v2"):
   bounds what the chaining's hash costs when not run through PL/pgSQL. The script checks
   it against gmp_audit.event_hash_v2 on gmp's own chain before measuring. */
static void
put_field(StringInfo buf, const char *data, int len)
{
    uint32 be = pg_hton32((uint32) len);
    appendBinaryStringInfo(buf, (const char *) &be, 4);
    appendBinaryStringInfo(buf, data, len);
}

static void
put_text(StringInfo buf, FunctionCallInfo fcinfo, int arg)
{
    if (PG_ARGISNULL(arg))
        appendBinaryStringInfo(buf, "\xff\xff\xff\xff", 4);
    else
    {
        text *t = PG_GETARG_TEXT_PP(arg);
        put_field(buf, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
    }
}

static void
put_jsonb(StringInfo buf, FunctionCallInfo fcinfo, int arg)
{
    if (PG_ARGISNULL(arg))
        appendBinaryStringInfo(buf, "\xff\xff\xff\xff", 4);
    else
    {
        Jsonb *j = PG_GETARG_JSONB_P(arg);
        char *s = JsonbToCString(NULL, &j->root, VARSIZE(j));
        put_field(buf, s, strlen(s));
    }
}

static void
put_int8(StringInfo buf, int64 v)
{
    char s[32];
    int len = snprintf(s, sizeof s, INT64_FORMAT, v);
    put_field(buf, s, len);
}

PG_FUNCTION_INFO_V1(audit_c_event_hash_v2);
Datum
audit_c_event_hash_v2(PG_FUNCTION_ARGS)
{
    StringInfoData buf;
    struct pg_tm tm;
    fsec_t fsec;
    char when[40];
    int len;
    bytea *prev, *out;
    pg_cryptohash_ctx *ctx;

    initStringInfo(&buf);
    put_field(&buf, "gmp-audit-v2", 12);
    put_int8(&buf, PG_GETARG_INT64(0));
    put_int8(&buf, PG_GETARG_INT64(1));
    if (timestamp2tm(PG_GETARG_TIMESTAMPTZ(2), NULL, &tm, &fsec, NULL, NULL) != 0)
        elog(ERROR, "timestamp out of range");
    len = snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
                   tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int) fsec);
    put_field(&buf, when, len);
    put_int8(&buf, PG_GETARG_INT64(3));
    put_text(&buf, fcinfo, 4);
    put_text(&buf, fcinfo, 5);
    put_text(&buf, fcinfo, 6);
    put_text(&buf, fcinfo, 7);
    put_jsonb(&buf, fcinfo, 8);
    put_jsonb(&buf, fcinfo, 9);
    put_text(&buf, fcinfo, 10);
    prev = PG_GETARG_BYTEA_PP(11);
    put_field(&buf, VARDATA_ANY(prev), VARSIZE_ANY_EXHDR(prev));

    out = palloc(VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
    SET_VARSIZE(out, VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
    ctx = pg_cryptohash_create(PG_SHA256);
    if (pg_cryptohash_init(ctx) < 0 || pg_cryptohash_update(ctx, (uint8 *) buf.data, buf.len) < 0
        || pg_cryptohash_final(ctx, (uint8 *) VARDATA(out), PG_SHA256_DIGEST_LENGTH) < 0)
        elog(ERROR, "sha256 failed");
    pg_cryptohash_free(ctx);
    PG_RETURN_BYTEA_P(out);
}
