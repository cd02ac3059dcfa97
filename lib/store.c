/*
 * store.c - the mail-state database over SQLite: open with a busy timeout
 * and WAL (the filter and tlstrustctl write the same file), create or
 * migrate the schema under PRAGMA user_version, and the prepared
 * statements of the survey's writes and the report's reads.
 */
#include "store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * observed is shared with the filter's counting: this DDL is verbatim in
 * both, and IF NOT EXISTS lets whichever opens the file first create it.
 */
static const char schema_v1[] =
    "CREATE TABLE IF NOT EXISTS observed (\n"
    "  day TEXT NOT NULL,\n"
    "  peer TEXT NOT NULL,\n"
    "  client TEXT NOT NULL,\n"
    "  n_none INTEGER NOT NULL DEFAULT 0, n_encrypted INTEGER NOT NULL DEFAULT 0,\n"
    "  n_verified INTEGER NOT NULL DEFAULT 0, n_trusted INTEGER NOT NULL DEFAULT 0,\n"
    "  r_pass INTEGER NOT NULL DEFAULT 0, r_fail INTEGER NOT NULL DEFAULT 0, r_none INTEGER NOT "
    "NULL DEFAULT 0,\n"
    "  a_accept INTEGER NOT NULL DEFAULT 0, a_monitor INTEGER NOT NULL DEFAULT 0,\n"
    "  a_defer INTEGER NOT NULL DEFAULT 0, a_reject INTEGER NOT NULL DEFAULT 0,\n"
    "  v_tls10 INTEGER NOT NULL DEFAULT 0, v_tls11 INTEGER NOT NULL DEFAULT 0,\n"
    "  v_tls12 INTEGER NOT NULL DEFAULT 0, v_tls13 INTEGER NOT NULL DEFAULT 0,\n"
    "  network TEXT NOT NULL DEFAULT '',\n"
    "  first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,\n"
    "  cert_not_after INTEGER,\n"
    "  PRIMARY KEY (day, peer, client)\n"
    ");\n"
    "CREATE TABLE IF NOT EXISTS probe (\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  run INTEGER NOT NULL,\n"
    "  time INTEGER NOT NULL,\n"
    "  domain TEXT NOT NULL,\n"
    "  mx TEXT NOT NULL,\n"
    "  port INTEGER NOT NULL,\n"
    "  address TEXT NOT NULL DEFAULT '',\n"
    "  result TEXT NOT NULL CHECK (result IN ('ok', 'fail', 'inconclusive')),\n"
    "  reason TEXT NOT NULL DEFAULT '',\n"
    "  level TEXT NOT NULL DEFAULT '',\n"
    "  starttls INTEGER,\n"
    "  tls10 INTEGER NOT NULL DEFAULT 0, tls11 INTEGER NOT NULL DEFAULT 0,\n"
    "  tls12 INTEGER NOT NULL DEFAULT 0, tls13 INTEGER NOT NULL DEFAULT 0,\n"
    "  subject TEXT, issuer TEXT, chain_pem TEXT,\n"
    "  network TEXT NOT NULL DEFAULT '',\n"
    "  system_verify INTEGER, name_match INTEGER,\n"
    "  not_after INTEGER, days_left INTEGER,\n"
    "  tlsa_count INTEGER, tlsa_ad INTEGER, dane INTEGER,\n"
    "  mta_sts TEXT\n"
    ");\n"
    "CREATE INDEX IF NOT EXISTS probe_target ON probe (domain, mx, port, id);\n"
    "CREATE INDEX IF NOT EXISTS probe_time ON probe (time);\n";

static const char sql_add_probe[] =
    "INSERT INTO probe (run, time, domain, mx, port, address, result, reason, level, starttls,"
    " tls10, tls11, tls12, tls13, subject, issuer, chain_pem, network, system_verify, name_match,"
    " not_after, days_left, tlsa_count, tlsa_ad, dane, mta_sts)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";

/* The network of a peer's most recent row: where it was last trusted. */
/* cert_not_after is never written: neither MTA passes the expiry in a macro (mta-facts.md). */
static const char sql_add_observed[] =
    "INSERT INTO observed (day, peer, client, n_none, n_encrypted, n_verified, n_trusted, "
    "r_pass, r_fail, r_none, a_accept, a_monitor, a_defer, a_reject, v_tls10, v_tls11, v_tls12, "
    "v_tls13, network, first_seen, last_seen) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
    "?19, ?20, ?21) "
    "ON CONFLICT (day, peer, client) DO UPDATE SET "
    "n_none = n_none + excluded.n_none, n_encrypted = n_encrypted + excluded.n_encrypted, "
    "n_verified = n_verified + excluded.n_verified, n_trusted = n_trusted + excluded.n_trusted, "
    "r_pass = r_pass + excluded.r_pass, r_fail = r_fail + excluded.r_fail, "
    "r_none = r_none + excluded.r_none, a_accept = a_accept + excluded.a_accept, "
    "a_monitor = a_monitor + excluded.a_monitor, a_defer = a_defer + excluded.a_defer, "
    "a_reject = a_reject + excluded.a_reject, v_tls10 = v_tls10 + excluded.v_tls10, "
    "v_tls11 = v_tls11 + excluded.v_tls11, v_tls12 = v_tls12 + excluded.v_tls12, "
    "v_tls13 = v_tls13 + excluded.v_tls13, "
    "network = CASE WHEN excluded.network <> '' THEN excluded.network ELSE network END, "
    "first_seen = min(first_seen, excluded.first_seen), "
    "last_seen = max(last_seen, excluded.last_seen)";

static const char sql_peers[] =
    "SELECT peer, count(DISTINCT client), sum(n_none), sum(n_encrypted), sum(n_verified),"
    " sum(n_trusted), sum(r_pass), sum(r_fail), sum(r_none), sum(a_accept), sum(a_monitor),"
    " sum(a_defer), sum(a_reject), sum(v_tls10), sum(v_tls11), sum(v_tls12), sum(v_tls13),"
    " min(first_seen), max(last_seen), max(cert_not_after),"
    " (SELECT o2.network FROM observed o2 WHERE o2.peer = o.peer AND o2.day >= ?1"
    "  ORDER BY o2.last_seen DESC LIMIT 1)"
    " FROM observed o WHERE day >= ?1 GROUP BY peer"
    " ORDER BY sum(n_none + n_encrypted + n_verified + n_trusted) DESC, peer LIMIT ?2";

static const char sql_days[] =
    "SELECT day, sum(n_none), sum(n_encrypted), sum(n_verified), sum(n_trusted)"
    " FROM observed WHERE day >= ?1 GROUP BY day ORDER BY day";

static const char sql_probes[] =
    "SELECT run, time, domain, mx, port, address, result, reason, level, starttls,"
    " tls10, tls11, tls12, tls13, subject, issuer, chain_pem, network, system_verify, name_match,"
    " not_after, days_left, tlsa_count, tlsa_ad, dane, mta_sts"
    " FROM probe p WHERE time >= ?1 AND id = (SELECT max(id) FROM probe q"
    "  WHERE q.domain = p.domain AND q.mx = p.mx AND q.port = p.port)"
    " ORDER BY domain, mx, port LIMIT ?2";

struct tt_store {
    sqlite3 *db;
    sqlite3_stmt *add_probe, *add_observed, *peers, *days, *probes;
};

const char *tt_probe_result_name(enum tt_probe_result r)
{
    switch (r) {
    case TT_PROBE_OK:
        return "ok";
    case TT_PROBE_FAIL:
        return "fail";
    default:
        return "inconclusive";
    }
}

void tt_store_day(int64_t t, char *out, size_t outsz)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (gmtime_r(&tt, &tm) == NULL || strftime(out, outsz, "%Y-%m-%d", &tm) == 0)
        snprintf(out, outsz, "1970-01-01");
}

static bool fail_db(sqlite3 *db, const char *what, char *err, size_t errsz)
{
    snprintf(err, errsz, "%s: %s", what, db != NULL ? sqlite3_errmsg(db) : "out of memory");
    return false;
}

static int user_version(sqlite3 *db)
{
    sqlite3_stmt *s;
    int v = -1;

    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* Create or migrate in one transaction, so two processes opening a new file agree. */
static bool migrate(sqlite3 *db, const char *path, char *err, size_t errsz)
{
    char sql[64];
    int v;

    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return fail_db(db, path, err, errsz);
    v = user_version(db);
    if (v < 0 || v > TT_STORE_VERSION) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        if (v < 0)
            return fail_db(db, path, err, errsz);
        snprintf(err, errsz, "%s: schema version %d is newer than this program's (%d)", path, v,
                 TT_STORE_VERSION);
        return false;
    }
    /* Version 0 is a new file, or one whose observed table the filter made first. */
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", TT_STORE_VERSION);
    if (sqlite3_exec(db, schema_v1, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
        fail_db(db, path, err, errsz);
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return false;
    }
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        return fail_db(db, path, err, errsz);
    return true;
}

struct tt_store *tt_store_open(const char *path, char *err, size_t errsz)
{
    struct tt_store *st = calloc(1, sizeof(*st));
    sqlite3_stmt *s;

    if (st == NULL) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    /* NOFOLLOW: a link planted at the path must not redirect the writes. */
    if (sqlite3_open_v2(path, &st->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW,
                        NULL) != SQLITE_OK) {
        fail_db(st->db, path, err, errsz);
        goto fail;
    }
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, TT_STORE_BUSY_MS);
    /* journal_mode answers with a row: step it rather than exec-and-ignore. */
    if (sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL", -1, &s, NULL) != SQLITE_OK) {
        fail_db(st->db, path, err, errsz);
        goto fail;
    }
    if (sqlite3_step(s) != SQLITE_ROW) {
        fail_db(st->db, path, err, errsz);
        sqlite3_finalize(s);
        goto fail;
    }
    sqlite3_finalize(s);
    if (sqlite3_exec(st->db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL) != SQLITE_OK) {
        fail_db(st->db, path, err, errsz);
        goto fail;
    }
    if (!migrate(st->db, path, err, errsz))
        goto fail;
    if (sqlite3_prepare_v2(st->db, sql_add_probe, -1, &st->add_probe, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(st->db, sql_add_observed, -1, &st->add_observed, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(st->db, sql_peers, -1, &st->peers, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(st->db, sql_days, -1, &st->days, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(st->db, sql_probes, -1, &st->probes, NULL) != SQLITE_OK) {
        fail_db(st->db, path, err, errsz);
        goto fail;
    }
    return st;
fail:
    tt_store_close(st);
    return NULL;
}

void tt_store_close(struct tt_store *st)
{
    if (st == NULL)
        return;
    sqlite3_finalize(st->add_probe);
    sqlite3_finalize(st->add_observed);
    sqlite3_finalize(st->peers);
    sqlite3_finalize(st->days);
    sqlite3_finalize(st->probes);
    sqlite3_close(st->db);
    free(st);
}

/* Text cut to max bytes (a chain or a hostile subject must not grow the file without bound). */
static int bind_text(sqlite3_stmt *s, int i, const char *v, size_t max)
{
    size_t n;

    if (v == NULL)
        return sqlite3_bind_null(s, i);
    n = strnlen(v, max);
    return sqlite3_bind_text(s, i, v, (int)n, SQLITE_TRANSIENT);
}

static int bind_tri(sqlite3_stmt *s, int i, enum tt_tri v)
{
    return v == TT_TRI_UNKNOWN ? sqlite3_bind_null(s, i) : sqlite3_bind_int(s, i, v == TT_TRI_YES);
}

bool tt_store_add_probe(struct tt_store *st, const struct tt_probe *p, char *err, size_t errsz)
{
    sqlite3_stmt *s = st->add_probe;
    int rc = SQLITE_OK, i;

    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    rc |= sqlite3_bind_int64(s, 1, p->run);
    rc |= sqlite3_bind_int64(s, 2, p->time);
    rc |= bind_text(s, 3, p->domain != NULL ? p->domain : "", TT_STORE_TEXT_MAX);
    rc |= bind_text(s, 4, p->mx != NULL ? p->mx : "", TT_STORE_TEXT_MAX);
    rc |= sqlite3_bind_int(s, 5, p->port);
    rc |= bind_text(s, 6, p->address != NULL ? p->address : "", TT_STORE_TEXT_MAX);
    rc |= bind_text(s, 7, tt_probe_result_name(p->result), TT_STORE_TEXT_MAX);
    rc |= bind_text(s, 8, p->reason != NULL ? p->reason : "", TT_STORE_TEXT_MAX);
    rc |= bind_text(s, 9, p->level != NULL ? p->level : "", TT_STORE_TEXT_MAX);
    rc |= bind_tri(s, 10, p->starttls);
    for (i = 0; i < 4; i++)
        rc |= sqlite3_bind_int(s, 11 + i, (p->versions >> i) & 1);
    rc |= bind_text(s, 15, p->subject, TT_STORE_TEXT_MAX);
    rc |= bind_text(s, 16, p->issuer, TT_STORE_TEXT_MAX);
    rc |= bind_text(s, 17, p->chain_pem, TT_STORE_CHAIN_MAX);
    rc |= bind_text(s, 18, p->network != NULL ? p->network : "", TT_STORE_TEXT_MAX);
    rc |= bind_tri(s, 19, p->system_verify);
    rc |= bind_tri(s, 20, p->name_match);
    if (p->has_not_after) {
        rc |= sqlite3_bind_int64(s, 21, p->not_after);
        rc |= sqlite3_bind_int64(s, 22, p->days_left);
    }
    if (p->tlsa_count >= 0)
        rc |= sqlite3_bind_int(s, 23, p->tlsa_count);
    rc |= bind_tri(s, 24, p->tlsa_ad);
    rc |= bind_tri(s, 25, p->dane);
    rc |= bind_text(s, 26, p->mta_sts, TT_STORE_TEXT_MAX);
    if (rc != SQLITE_OK || sqlite3_step(s) != SQLITE_DONE) {
        fail_db(st->db, "storing the probe", err, errsz);
        sqlite3_reset(s);
        return false;
    }
    sqlite3_reset(s);
    return true;
}

static const char *col_text(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);

    return t != NULL ? (const char *)t : "";
}

static enum tt_tri col_tri(sqlite3_stmt *s, int i)
{
    if (sqlite3_column_type(s, i) == SQLITE_NULL)
        return TT_TRI_UNKNOWN;
    return sqlite3_column_int(s, i) != 0 ? TT_TRI_YES : TT_TRI_NO;
}

/* Step s, calling row() per row; false on a database error. */
static bool each(sqlite3_stmt *s, sqlite3 *db, bool (*row)(sqlite3_stmt *s, void *ctx), void *ctx,
                 char *err, size_t errsz)
{
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        if (!row(s, ctx))
            break;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        fail_db(db, "reading the database", err, errsz);
        sqlite3_reset(s);
        return false;
    }
    sqlite3_reset(s);
    return true;
}

struct peer_ctx {
    bool (*cb)(void *ctx, const struct tt_obs_peer *p);
    void *ctx;
};

static bool peer_row(sqlite3_stmt *s, void *c)
{
    struct peer_ctx *pc = c;
    struct tt_obs_peer p = {0};
    int i;

    p.peer = col_text(s, 0);
    p.clients = sqlite3_column_int64(s, 1);
    for (i = 0; i < 4; i++)
        p.n[i] = sqlite3_column_int64(s, 2 + i);
    for (i = 0; i < 3; i++)
        p.r[i] = sqlite3_column_int64(s, 6 + i);
    for (i = 0; i < 4; i++)
        p.a[i] = sqlite3_column_int64(s, 9 + i);
    for (i = 0; i < 4; i++)
        p.v[i] = sqlite3_column_int64(s, 13 + i);
    p.first_seen = sqlite3_column_int64(s, 17);
    p.last_seen = sqlite3_column_int64(s, 18);
    p.has_not_after = sqlite3_column_type(s, 19) != SQLITE_NULL;
    p.not_after = sqlite3_column_int64(s, 19);
    p.network = col_text(s, 20);
    return pc->cb(pc->ctx, &p);
}

bool tt_store_each_peer(struct tt_store *st, const char *since_day, size_t limit,
                        bool (*cb)(void *ctx, const struct tt_obs_peer *p), void *ctx, char *err,
                        size_t errsz)
{
    struct peer_ctx pc = {cb, ctx};

    if (sqlite3_bind_text(st->peers, 1, since_day, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
        sqlite3_bind_int64(st->peers, 2, (sqlite3_int64)limit) != SQLITE_OK)
        return fail_db(st->db, "reading the database", err, errsz);
    return each(st->peers, st->db, peer_row, &pc, err, errsz);
}

struct day_ctx {
    bool (*cb)(void *ctx, const struct tt_obs_day *d);
    void *ctx;
};

static bool day_row(sqlite3_stmt *s, void *c)
{
    struct day_ctx *dc = c;
    struct tt_obs_day d = {0};
    int i;

    snprintf(d.day, sizeof(d.day), "%s", col_text(s, 0));
    for (i = 0; i < 4; i++)
        d.n[i] = sqlite3_column_int64(s, 1 + i);
    return dc->cb(dc->ctx, &d);
}

bool tt_store_each_day(struct tt_store *st, const char *since_day,
                       bool (*cb)(void *ctx, const struct tt_obs_day *d), void *ctx, char *err,
                       size_t errsz)
{
    struct day_ctx dc = {cb, ctx};

    if (sqlite3_bind_text(st->days, 1, since_day, -1, SQLITE_TRANSIENT) != SQLITE_OK)
        return fail_db(st->db, "reading the database", err, errsz);
    return each(st->days, st->db, day_row, &dc, err, errsz);
}

struct probe_ctx {
    bool (*cb)(void *ctx, const struct tt_probe *p);
    void *ctx;
};

static bool probe_row(sqlite3_stmt *s, void *c)
{
    struct probe_ctx *pc = c;
    struct tt_probe p = {0};
    const char *r = col_text(s, 6);
    int i;

    p.run = sqlite3_column_int64(s, 0);
    p.time = sqlite3_column_int64(s, 1);
    p.domain = col_text(s, 2);
    p.mx = col_text(s, 3);
    p.port = sqlite3_column_int(s, 4);
    p.address = col_text(s, 5);
    p.result = strcmp(r, "ok") == 0     ? TT_PROBE_OK
               : strcmp(r, "fail") == 0 ? TT_PROBE_FAIL
                                        : TT_PROBE_INCONCLUSIVE;
    p.reason = col_text(s, 7);
    p.level = col_text(s, 8);
    p.starttls = col_tri(s, 9);
    for (i = 0; i < 4; i++)
        if (sqlite3_column_int(s, 10 + i) != 0)
            p.versions |= 1u << i;
    p.subject = sqlite3_column_type(s, 14) == SQLITE_NULL ? NULL : col_text(s, 14);
    p.issuer = sqlite3_column_type(s, 15) == SQLITE_NULL ? NULL : col_text(s, 15);
    p.chain_pem = sqlite3_column_type(s, 16) == SQLITE_NULL ? NULL : col_text(s, 16);
    p.network = col_text(s, 17);
    p.system_verify = col_tri(s, 18);
    p.name_match = col_tri(s, 19);
    p.has_not_after = sqlite3_column_type(s, 20) != SQLITE_NULL;
    p.not_after = sqlite3_column_int64(s, 20);
    p.days_left = sqlite3_column_int64(s, 21);
    p.tlsa_count = sqlite3_column_type(s, 22) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 22);
    p.tlsa_ad = col_tri(s, 23);
    p.dane = col_tri(s, 24);
    p.mta_sts = sqlite3_column_type(s, 25) == SQLITE_NULL ? NULL : col_text(s, 25);
    return pc->cb(pc->ctx, &p);
}

bool tt_store_each_probe(struct tt_store *st, int64_t since, size_t limit,
                         bool (*cb)(void *ctx, const struct tt_probe *p), void *ctx, char *err,
                         size_t errsz)
{
    struct probe_ctx pc = {cb, ctx};

    if (sqlite3_bind_int64(st->probes, 1, since) != SQLITE_OK ||
        sqlite3_bind_int64(st->probes, 2, (sqlite3_int64)limit) != SQLITE_OK)
        return fail_db(st->db, "reading the database", err, errsz);
    return each(st->probes, st->db, probe_row, &pc, err, errsz);
}

bool tt_store_begin(struct tt_store *st, char *err, size_t errsz)
{
    return sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ||
           fail_db(st->db, "BEGIN", err, errsz);
}

bool tt_store_commit(struct tt_store *st, char *err, size_t errsz)
{
    return sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ||
           fail_db(st->db, "COMMIT", err, errsz);
}

void tt_store_rollback(struct tt_store *st)
{
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

bool tt_store_add_observed(struct tt_store *st, const struct tt_peer_row *r, char *err,
                           size_t errsz)
{
    const uint64_t *counts[] = {&r->level[TT_LEVEL_NONE],
                                &r->level[TT_LEVEL_ENCRYPTED],
                                &r->level[TT_LEVEL_VERIFIED],
                                &r->level[TT_LEVEL_TRUSTED],
                                &r->result[TT_RESULT_PASS],
                                &r->result[TT_RESULT_FAIL],
                                &r->result[TT_RESULT_NONE],
                                &r->outcome[TT_OUTCOME_ACCEPT],
                                &r->outcome[TT_OUTCOME_MONITOR],
                                &r->outcome[TT_OUTCOME_DEFER],
                                &r->outcome[TT_OUTCOME_REJECT],
                                &r->version[0],
                                &r->version[1],
                                &r->version[2],
                                &r->version[3]};
    sqlite3_stmt *s = st->add_observed;
    char day[16];
    size_t i;

    tt_store_day(r->day * 86400, day, sizeof(day));
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, day, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, r->peer, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, r->client, -1, SQLITE_STATIC);
    for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
        sqlite3_bind_int64(s, (int)i + 4, (sqlite3_int64)*counts[i]);
    sqlite3_bind_text(s, 19, r->network, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 20, (sqlite3_int64)r->first_seen);
    sqlite3_bind_int64(s, 21, (sqlite3_int64)r->last_seen);
    return sqlite3_step(s) == SQLITE_DONE || fail_db(st->db, "observed", err, errsz);
}
