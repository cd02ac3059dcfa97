/*
 * test_session.c - one SMTP session through the library (session.c), step
 * by step as a milter drives it: the answers, the end-of-message edits and
 * the log lines, under real configurations loaded from files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "helpers.h"
#include "log.h"
#include "session.h"

#include "fixtures.h" /* the MTAs' macros, from test/fixtures/macros.tsv */

#define TAG "X-TLS-Trust"

/* Macros from NULL-terminated name/value lists, searched in order. */
static const char *from_lists(void *ctx, const char *name)
{
    const char *const *const *list = ctx;
    const char *const *kv;

    for (; *list != NULL; list++)
        for (kv = *list; kv[0] != NULL; kv += 2)
            if (strcmp(kv[0], name) == 0)
                return kv[1];
    return NULL;
}

#define MACROS(...)                                                                                \
    (&(const struct tt_macro_src){from_lists, (void *)(const char *const *[]){__VA_ARGS__, NULL}})
#define PAIRS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NO_MACROS MACROS(NULL)

static char ca_path[512]; /* th_cert's buffer is reused */

static struct tt_config *load(const char *conf, const char *table)
{
    char text[1024], err[600];
    struct tt_config *c;

    snprintf(text, sizeof(text),
             "TrustedNetwork redsegura %s\nDomainTable %s\nAuthservID mx.receiver.test\n"
             "Syslog no\nLogLevel debug\n%s",
             ca_path, th_write("session.table", table), conf);
    c = tt_config_load(th_write("session.conf", text), time(NULL), err, sizeof(err));
    if (c == NULL)
        fail_msg("%s", err);
    return c;
}

static struct sockaddr_in client_addr(const char *ip)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};

    assert_int_equal(inet_pton(AF_INET, ip, &sa.sin_addr), 1);
    return sa;
}

/* A session connected from ip (host name verified by the MTA), Postfix macros. */
static void connect_from(struct tt_session *s, const struct tt_config *c, const char *ip,
                         bool quiet_headers)
{
    struct sockaddr_in sa = client_addr(ip);
    struct tt_answer a;

    memset(s, 0, sizeof(*s));
    tt_session_init(s, "local.host.test", quiet_headers, NULL);
    a = tt_session_connect(s, c, MACROS(tt_fixture_postfix_connect), "client.example",
                           (const struct sockaddr *)&sa);
    assert_int_equal(a.step, TT_STEP_CONTINUE);
}

static void assert_continue(struct tt_answer a)
{
    assert_int_equal(a.step, TT_STEP_CONTINUE);
}

static void assert_reply(struct tt_answer a, enum tt_step step, const char *rcode,
                         const char *xcode)
{
    assert_int_equal(a.step, step);
    assert_string_equal(a.rcode, rcode);
    assert_string_equal(a.xcode, xcode);
    assert_non_null(a.text);
}

/* End of message with every edit made; the answer. */
static struct tt_answer eom_all(struct tt_session *s, struct tt_eom_plan *p)
{
    tt_session_eom(s, MACROS(PAIRS("i", "QID1")), p);
    return tt_session_eom_done(s, p, p->n);
}

/* Exactly one insertion, of the tag, last, at the top; its value. */
static const char *only_tag(const struct tt_eom_plan *p)
{
    size_t i, inserts = 0;

    for (i = 0; i < p->n; i++)
        inserts += p->edit[i].kind == TT_EDIT_INSERT;
    assert_int_equal(inserts, 1);
    assert_true(p->n >= 1);
    assert_int_equal(p->edit[p->n - 1].kind, TT_EDIT_INSERT);
    assert_true(p->edit[p->n - 1].tag);
    assert_string_equal(p->edit[p->n - 1].name, TAG);
    assert_int_equal(p->edit[p->n - 1].index, 0);
    return p->edit[p->n - 1].value;
}

/* Plaintext, no rule: the message is tagged none, the decision logged with the queue id. */
static void plaintext_tagged_none(void **state)
{
    struct tt_config *c = load("", "");
    struct tt_session s;
    struct tt_eom_plan p;
    const char *log;

    (void)state;
    connect_from(&s, c, "192.0.2.10", false);
    assert_continue(tt_session_mail(&s, c, NULL, MACROS(PAIRS("i", "QID1")), "<a@x.test>"));
    assert_continue(tt_session_rcpt(&s, NO_MACROS, "<b@receiver.test>"));
    assert_continue(tt_session_header(&s, "Subject", "hello"));
    th_stderr_begin();
    assert_continue(eom_all(&s, &p));
    log = th_stderr_end();
    assert_int_equal(p.n, 1);
    assert_string_equal(only_tag(&p), "none; policy=none; authserv-id=mx.receiver.test");
    assert_non_null(strstr(log, "QID1: tagged client=\"client.example[192.0.2.10]\" "
                                "from=\"<a@x.test>\" level=none network=- rule=- result=none "
                                "action=-"));
    tt_session_close(&s);
    tt_config_free(c);
}

/* A member certificate (Postfix form) is tagged trusted with the network. */
static void member_tagged_trusted(void **state)
{
    struct tt_config *c = load("", "from:net.test trusted:redsegura reject\n");
    struct tt_session s;
    struct tt_eom_plan p;

    (void)state;
    connect_from(&s, c, "192.0.2.10", false);
    assert_continue(tt_session_mail(&s, c, NULL, MACROS(tt_fixture_tls, tt_fixture_postfix_member),
                                    "<a@net.test>"));
    assert_continue(eom_all(&s, &p));
    /* p's values live in p, past the end of the transaction. */
    assert_string_equal(only_tag(&p),
                        "trusted; network=redsegura; version=TLSv1.3; "
                        "cipher=TLS_AES_256_GCM_SHA384; bits=256; subject=\"mail.member.example\"; "
                        "issuer=\"Red Segura CA\"; policy=pass; rule=\"from:net.test\"; "
                        "authserv-id=mx.receiver.test");
    tt_session_close(&s);
    tt_config_free(c);
}

/* Forged copies of the tag, in two spellings, are deleted before ours is added. */
static void forged_tags_deleted(void **state)
{
    struct tt_config *c = load("", "");
    struct tt_session s;
    struct tt_eom_plan p;
    const char *log;

    (void)state;
    connect_from(&s, c, "192.0.2.10", false);
    assert_continue(tt_session_mail(&s, c, NULL, NO_MACROS, "<a@x.test>"));
    assert_continue(tt_session_header(&s, "X-TLS-Trust", "trusted; network=redsegura"));
    assert_continue(tt_session_header(&s, "Received", "from a"));
    assert_continue(tt_session_header(&s, "x-tls-trust", "trusted"));
    assert_continue(tt_session_header(&s, "X-TLS-Trust ", "trusted"));
    th_stderr_begin();
    assert_continue(eom_all(&s, &p));
    log = th_stderr_end();
    assert_int_equal(p.n, 4);
    /* Each spelling under its own name, last index first. */
    assert_int_equal(p.edit[0].kind, TT_EDIT_DELETE);
    assert_string_equal(p.edit[0].name, "X-TLS-Trust");
    assert_int_equal(p.edit[0].index, 2);
    assert_string_equal(p.edit[1].name, "X-TLS-Trust");
    assert_int_equal(p.edit[1].index, 1);
    assert_string_equal(p.edit[2].name, "X-TLS-Trust ");
    assert_int_equal(p.edit[2].index, 1);
    assert_string_equal(only_tag(&p), "none; policy=none; authserv-id=mx.receiver.test");
    assert_non_null(strstr(log, "QID1: client=\"client.example[192.0.2.10]\" "
                                "from=\"<a@x.test>\": removed 3 forged X-TLS-Trust header(s)"));
    tt_session_close(&s);
    tt_config_free(c);
}

/* With AuthResults, our forged Authentication-Results go and ours comes before the tag. */
static void authres_forged_deleted_and_added(void **state)
{
    struct tt_config *c = load("AuthResults yes\n", "");
    struct tt_session s;
    struct tt_eom_plan p;

    (void)state;
    connect_from(&s, c, "192.0.2.10", false);
    assert_continue(tt_session_mail(&s, c, NULL, NO_MACROS, "<a@x.test>"));
    assert_continue(tt_session_header(&s, "Authentication-Results", "other.test; spf=pass"));
    assert_continue(
        tt_session_header(&s, "Authentication-Results", "mx.receiver.test; x-tls=pass"));
    assert_continue(eom_all(&s, &p));
    assert_int_equal(p.n, 3);
    assert_int_equal(p.edit[0].kind, TT_EDIT_DELETE);
    assert_string_equal(p.edit[0].name, "Authentication-Results");
    assert_int_equal(p.edit[0].index, 2);
    assert_int_equal(p.edit[1].kind, TT_EDIT_INSERT);
    assert_false(p.edit[1].tag);
    assert_string_equal(p.edit[1].name, "Authentication-Results");
    assert_string_equal(p.edit[1].value, "mx.receiver.test; x-tls=none");
    assert_int_equal(p.edit[1].index, 0);
    assert_true(p.edit[2].tag);
    assert_string_equal(p.edit[2].name, TAG);
    tt_session_close(&s);
    tt_config_free(c);
}

/* A reject rule refuses at MAIL with 550 5.7.10 and logs the decision. */
static void refused_at_mail(void **state)
{
    struct tt_config *c = load("", "from:strict.test encrypt reject\n"
                                   "from:soft.test encrypt defer\n");
    struct tt_session s;
    const char *log;

    (void)state;
    connect_from(&s, c, "192.0.2.10", false);
    th_stderr_begin();
    assert_reply(tt_session_mail(&s, c, NULL, MACROS(PAIRS("i", "QID2")), "<a@strict.test>"),
                 TT_STEP_REJECT, "550", "5.7.10");
    log = th_stderr_end();
    assert_non_null(strstr(log, "QID2: refused at MAIL client=\"client.example[192.0.2.10]\" "
                                "from=\"<a@strict.test>\" level=none network=- "
                                "rule=from:strict.test result=fail action=reject"));
    assert_non_null(strstr(log, "reply=550 5.7.10"));
    tt_session_abort(&s);
    /* A defer rule: 450 4.7.10, a temporary refusal. */
    assert_reply(tt_session_mail(&s, c, NULL, NO_MACROS, "<a@soft.test>"), TT_STEP_TEMPFAIL, "450",
                 "4.7.10");
    tt_session_close(&s);
    tt_config_free(c);
}

/* Monitor: the failure goes through, tagged policy=fail action=monitor. */
static void monitor_tagged(void **state)
{
    struct tt_config *c = load("", "from:monitor.test encrypt monitor\n");
    struct tt_session s;
    struct tt_eom_plan p;

    (void)state;
    connect_from(&s, c, "192.0.2.10", false);
    assert_continue(tt_session_mail(&s, c, NULL, NO_MACROS, "<a@monitor.test>"));
    assert_continue(eom_all(&s, &p));
    assert_non_null(
        strstr(only_tag(&p), "policy=fail; action=monitor; rule=\"from:monitor.test\""));
    tt_session_close(&s);
    tt_config_free(c);
}

/* to: rules judge each recipient alone; a refused one leaves the message's verdict alone. */
static void recipient_rules(void **state)
{
    struct tt_config *c = load("", "to:protected.test encrypt reject\n"
                                   "to:watched.test encrypt monitor\n");
    struct tt_session s;
    struct tt_eom_plan p;
    const char *log;

    (void)state;
    connect_from(&s, c, "192.0.2.10", false);
    assert_continue(tt_session_mail(&s, c, NULL, NO_MACROS, "<a@x.test>"));
    th_stderr_begin();
    assert_reply(tt_session_rcpt(&s, MACROS(PAIRS("i", "QID3")), "<b@protected.test>"),
                 TT_STEP_REJECT, "550", "5.7.10");
    log = th_stderr_end();
    assert_non_null(strstr(log, "QID3: refused at RCPT client="));
    assert_non_null(strstr(log, " rcpt=\"<b@protected.test>\" level=none"));
    /* The MTA's parsed form counts too: a percent hop to the protected domain. */
    assert_int_equal(tt_session_rcpt(&s, NO_MACROS, "<b%protected.test@relay.test>").step,
                     TT_STEP_REJECT);
    assert_continue(tt_session_rcpt(&s, NO_MACROS, "<c@other.test>"));
    assert_continue(tt_session_rcpt(&s, NO_MACROS, "<d@watched.test>"));
    assert_continue(eom_all(&s, &p));
    assert_non_null(strstr(only_tag(&p), "policy=fail; action=monitor; rule=\"to:watched.test\""));
    /* A malformed recipient is refused, never let through unjudged. */
    assert_continue(tt_session_mail(&s, c, NULL, NO_MACROS, "<a@x.test>"));
    assert_reply(tt_session_rcpt(&s, NO_MACROS, "<b@\"bad>"), TT_STEP_REJECT, "553", "5.1.3");
    tt_session_close(&s);
    tt_config_free(c);
}

/* A malformed sender is refused at MAIL with 553 5.1.7. */
static void malformed_sender(void **state)
{
    struct tt_config *c = load("", "from:x.test encrypt reject\n");
    struct tt_session s;

    (void)state;
    connect_from(&s, c, "192.0.2.10", false);
    assert_reply(tt_session_mail(&s, c, NULL, NO_MACROS, "<a@\"x.test>"), TT_STEP_REJECT, "553",
                 "5.1.7");
    tt_session_close(&s);
    tt_config_free(c);
}

/* A header refusal: at once when the MTA waits for a reply, else at end of message. */
static void header_refusal(void **state)
{
    struct tt_config *c = load("", "");
    struct tt_session s;
    struct tt_eom_plan p;

    (void)state;
    connect_from(&s, c, "192.0.2.10", false);
    assert_continue(tt_session_mail(&s, c, NULL, NO_MACROS, "<a@x.test>"));
    assert_reply(tt_session_header(&s, "Subject", "a\rb"), TT_STEP_REJECT, "550", "5.6.0");
    tt_session_abort(&s);
    tt_session_close(&s);

    connect_from(&s, c, "192.0.2.10", true);
    assert_continue(tt_session_mail(&s, c, NULL, NO_MACROS, "<a@x.test>"));
    assert_continue(tt_session_header(&s, "Subject", "a\rb"));
    /* Later headers are not judged; nothing is edited; the refusal comes now. */
    assert_continue(tt_session_header(&s, "X-TLS-Trust", "trusted"));
    tt_session_eom(&s, NO_MACROS, &p);
    assert_int_equal(p.n, 0);
    assert_reply(tt_session_eom_done(&s, &p, 0), TT_STEP_REJECT, "550", "5.6.0");
    /* The next transaction starts clean. */
    assert_continue(tt_session_mail(&s, c, NULL, NO_MACROS, "<a@x.test>"));
    assert_continue(eom_all(&s, &p));
    assert_int_equal(p.n, 1);
    tt_session_close(&s);
    tt_config_free(c);
}

/* More forged tags than TT_FORGED_MAX refuse the message rather than cleaning it. */
static void too_many_forged_tags(void **state)
{
    struct tt_config *c = load("", "");
    struct tt_session s;
    unsigned int i;

    (void)state;
    connect_from(&s, c, "192.0.2.10", false);
    assert_continue(tt_session_mail(&s, c, NULL, NO_MACROS, "<a@x.test>"));
    for (i = 0; i < TT_FORGED_MAX; i++)
        assert_continue(tt_session_header(&s, TAG, "trusted"));
    assert_reply(tt_session_header(&s, TAG, "trusted"), TT_STEP_REJECT, "550", "5.7.1");
    tt_session_close(&s);
    tt_config_free(c);
}

/* Abort ends the transaction: its forged headers are not deleted from the next message. */
static void abort_resets(void **state)
{
    struct tt_config *c = load("", "");
    struct tt_session s;
    struct tt_eom_plan p;

    (void)state;
    connect_from(&s, c, "192.0.2.10", false);
    assert_continue(tt_session_mail(&s, c, NULL, MACROS(PAIRS("i", "OLD")), "<a@x.test>"));
    assert_continue(tt_session_header(&s, TAG, "trusted"));
    tt_session_abort(&s);
    assert_string_equal(s.t.queueid, "");
    assert_int_equal(s.t.forgery.tag_count, 0);
    assert_continue(tt_session_mail(&s, c, NULL, NO_MACROS, "<a@x.test>"));
    assert_continue(eom_all(&s, &p));
    assert_int_equal(p.n, 1);
    tt_session_close(&s);
    tt_config_free(c);
}

/* Several transactions in one connection: each judged under its own rules and config. */
static void several_transactions(void **state)
{
    struct tt_config *c1 = load("", "from:enc.test encrypt reject\n");
    struct tt_config *c2 = load("", "from:enc.test encrypt monitor\n");
    struct tt_session s;
    struct tt_eom_plan p;

    (void)state;
    connect_from(&s, c1, "192.0.2.10", false);
    assert_reply(tt_session_mail(&s, c1, NULL, NO_MACROS, "<a@enc.test>"), TT_STEP_REJECT, "550",
                 "5.7.10");
    tt_session_abort(&s);
    assert_continue(tt_session_mail(&s, c1, NULL, MACROS(tt_fixture_tls), "<a@enc.test>"));
    assert_continue(tt_session_header(&s, TAG, "trusted"));
    assert_continue(eom_all(&s, &p));
    assert_int_equal(p.n, 2);
    assert_non_null(strstr(only_tag(&p), "encrypted; version=TLSv1.3"));
    assert_non_null(strstr(only_tag(&p), "policy=pass; rule=\"from:enc.test\""));
    /* A reload between transactions: the next one runs under the new configuration. */
    assert_continue(tt_session_mail(&s, c2, NULL, NO_MACROS, "<a@enc.test>"));
    assert_continue(eom_all(&s, &p));
    assert_int_equal(p.n, 1);
    assert_non_null(strstr(only_tag(&p), "none; policy=fail; action=monitor"));
    tt_session_close(&s);
    tt_config_free(c1);
    tt_config_free(c2);
}

/* An internal host: not judged, its tags kept, none added. */
static void internal_host(void **state)
{
    struct tt_config *c = load("InternalHosts 192.0.2.0/24\n", "from:strict.test trusted reject\n");
    struct tt_session s;
    struct tt_eom_plan p;
    const char *log;

    (void)state;
    connect_from(&s, c, "192.0.2.25", false);
    assert_true(s.internal);
    assert_continue(tt_session_mail(&s, c, NULL, NO_MACROS, "<a@strict.test>"));
    assert_continue(tt_session_rcpt(&s, NO_MACROS, "<b@receiver.test>"));
    assert_continue(tt_session_header(&s, TAG, "trusted; network=redsegura"));
    th_stderr_begin();
    assert_continue(eom_all(&s, &p));
    log = th_stderr_end();
    assert_int_equal(p.n, 0);
    assert_non_null(strstr(log, "internal client: incoming tags kept, none added"));
    tt_session_close(&s);

    connect_from(&s, c, "198.51.100.1", false);
    assert_false(s.internal);
    tt_session_close(&s);
    tt_config_free(c);
}

/* The authserv-id: AuthservID, else the MTA's j, else the local host name. */
static void authserv_id_sources(void **state)
{
    char err[600];
    struct tt_config *c =
        tt_config_load(th_write("noid.conf", "Syslog no\n"), time(NULL), err, sizeof(err));
    struct sockaddr_in sa = client_addr("192.0.2.10");
    struct tt_session s;

    (void)state;
    assert_non_null(c);
    memset(&s, 0, sizeof(s));
    tt_session_init(&s, "local.host.test", false, NULL);
    tt_session_connect(&s, c, MACROS(PAIRS("j", "mta.example")), "unknown",
                       (const struct sockaddr *)&sa);
    assert_string_equal(s.authserv, "mta.example");
    /* Postfix's "unknown": no verified name. */
    assert_string_equal(s.client_name, "");
    assert_string_equal(s.client_log, "\"unknown[192.0.2.10]\"");
    tt_session_close(&s);
    memset(&s, 0, sizeof(s));
    tt_session_init(&s, "local.host.test", false, NULL);
    /* A j that is not a token is not written into a header. */
    tt_session_connect(&s, c, MACROS(PAIRS("j", "bad id;x=y")), "Mx.Example.", NULL);
    assert_string_equal(s.authserv, "local.host.test");
    assert_string_equal(s.client_name, "mx.example");
    tt_session_close(&s);
    tt_config_free(c);
}

static const char *fail_point;

static bool fail_at(const char *point)
{
    return fail_point != NULL && strcmp(point, fail_point) == 0;
}

/* OnError tempfail: an internal failure at MAIL refuses for now. */
static void internal_error_tempfail(void **state)
{
    struct tt_config *c = load("OnError tempfail\n", "");
    struct tt_session s;
    const char *log;

    (void)state;
    connect_from(&s, c, "192.0.2.10", false);
    s.fault = fail_at;
    fail_point = "envfrom";
    th_stderr_begin();
    assert_reply(tt_session_mail(&s, c, NULL, NO_MACROS, "<a@x.test>"), TT_STEP_TEMPFAIL, "451",
                 "4.3.0");
    log = th_stderr_end();
    assert_non_null(strstr(log, "internal error: injected failure at MAIL; OnError tempfail"));
    fail_point = NULL;
    tt_session_close(&s);
    tt_config_free(c);
}

/* OnError accept: the message goes through untagged and unjudged, forgeries still removed. */
static void internal_error_accept_degraded(void **state)
{
    struct tt_config *c = load("OnError accept\n", "to:protected.test encrypt reject\n");
    struct tt_session s;
    struct tt_eom_plan p;
    const char *log;

    (void)state;
    connect_from(&s, c, "192.0.2.10", false);
    s.fault = fail_at;
    fail_point = "envfrom";
    assert_continue(tt_session_mail(&s, c, NULL, NO_MACROS, "<a@x.test>"));
    fail_point = NULL;
    assert_continue(tt_session_rcpt(&s, NO_MACROS, "<b@protected.test>"));
    assert_continue(tt_session_header(&s, TAG, "trusted"));
    th_stderr_begin();
    assert_continue(eom_all(&s, &p));
    log = th_stderr_end();
    assert_int_equal(p.n, 1);
    assert_int_equal(p.edit[0].kind, TT_EDIT_DELETE);
    assert_non_null(strstr(log, "delivered without tag after an internal error"));
    /* The next transaction is judged and tagged again. */
    assert_continue(tt_session_mail(&s, c, NULL, NO_MACROS, "<a@x.test>"));
    assert_false(s.t.degraded);
    tt_session_close(&s);
    tt_config_free(c);
}

/* A deletion the MTA did not make: tempfail, whatever OnError says. */
static void failed_deletion_tempfails(void **state)
{
    struct tt_config *c = load("OnError accept\n", "");
    struct tt_session s;
    struct tt_eom_plan p;

    (void)state;
    connect_from(&s, c, "192.0.2.10", false);
    assert_continue(tt_session_mail(&s, c, NULL, NO_MACROS, "<a@x.test>"));
    assert_continue(tt_session_header(&s, TAG, "trusted"));
    assert_continue(tt_session_header(&s, TAG, "trusted"));
    tt_session_eom(&s, NO_MACROS, &p);
    assert_int_equal(p.n, 3);
    assert_reply(tt_session_eom_done(&s, &p, 1), TT_STEP_TEMPFAIL, "451", "4.3.0");
    tt_session_close(&s);
    tt_config_free(c);
}

/* The tag the MTA did not add: OnError decides. */
static void failed_insertion(void **state)
{
    struct tt_config *strict = load("OnError tempfail\n", "");
    struct tt_config *lax = load("OnError accept\n", "");
    struct tt_session s;
    struct tt_eom_plan p;

    (void)state;
    connect_from(&s, strict, "192.0.2.10", false);
    assert_continue(tt_session_mail(&s, strict, NULL, NO_MACROS, "<a@x.test>"));
    tt_session_eom(&s, NO_MACROS, &p);
    assert_int_equal(p.n, 1);
    th_stderr_begin();
    assert_reply(tt_session_eom_done(&s, &p, 0), TT_STEP_TEMPFAIL, "451", "4.3.0");
    assert_non_null(strstr(th_stderr_end(), "cannot add the tag header; OnError tempfail"));
    assert_continue(tt_session_mail(&s, lax, NULL, NO_MACROS, "<a@x.test>"));
    tt_session_eom(&s, NO_MACROS, &p);
    assert_continue(tt_session_eom_done(&s, &p, 0));
    tt_session_close(&s);
    tt_config_free(strict);
    tt_config_free(lax);
}

/* DNS policy scratch: allocated at MAIL only when DNS policy is configured, freed after. */
static void dns_state_only_when_configured(void **state)
{
    struct tt_config *plain = load("", "");
    struct tt_config *dns = load("DnsResolver 127.0.0.1@5353\nPolicyZone redsegura "
                                 "policy.redsegura.test\nOnDnsError ignore\n",
                                 "");
    struct tt_session s;
    struct tt_eom_plan p;

    (void)state;
    connect_from(&s, plain, "192.0.2.10", false);
    assert_continue(tt_session_mail(&s, plain, NULL, NO_MACROS, "<a@x.test>"));
    assert_null(s.t.dns);
    /* No resolver handed in: nothing can be looked up, the message is judged without DNS. */
    assert_continue(tt_session_mail(&s, dns, NULL, NO_MACROS, "<a@x.test>"));
    assert_non_null(s.t.dns);
    assert_continue(eom_all(&s, &p));
    assert_null(s.t.dns);
    tt_session_close(&s);
    tt_config_free(plain);
    tt_config_free(dns);
}

/* Without session state: a copy of the tag is refused, OnError decides for the rest. */
static void stateless(void **state)
{
    struct tt_config *c = load("OnError accept\n", "");

    (void)state;
    assert_continue(tt_stateless_header(c, "Subject"));
    assert_reply(tt_stateless_header(c, "x-tls-trust\t"), TT_STEP_TEMPFAIL, "451", "4.3.0");
    assert_continue(tt_stateless_error(c, "cannot allocate session state"));
    assert_reply(tt_stateless_error(NULL, "smfi_setpriv failed"), TT_STEP_TEMPFAIL, "451", "4.3.0");
    tt_config_free(c);
}

/* Peer text in log lines is quoted: no CR or LF reaches the log. */
static void log_lines_escaped(void **state)
{
    struct tt_config *c = load("", "from:strict.test encrypt reject\n");
    struct tt_session s;
    const char *log;

    (void)state;
    connect_from(&s, c, "192.0.2.10", false);
    th_stderr_begin();
    tt_session_mail(&s, c, NULL, MACROS(PAIRS("i", "QID4")), "<a\r\nforged: yes@strict.test>");
    log = th_stderr_end();
    assert_null(strstr(log, "\nforged"));
    tt_session_close(&s);
    tt_config_free(c);
}

static int setup(void **state)
{
    const char *ca = th_cert("ca.pem", "C=ES|O=Red Segura|CN=Red Segura CA", true, 365);

    (void)state;
    if (ca == NULL)
        return -1;
    snprintf(ca_path, sizeof(ca_path), "%s", ca);
    tt_log_open("test", false, 0);
    tt_log_set_level(LOG_DEBUG);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plaintext_tagged_none),
        cmocka_unit_test(member_tagged_trusted),
        cmocka_unit_test(forged_tags_deleted),
        cmocka_unit_test(authres_forged_deleted_and_added),
        cmocka_unit_test(refused_at_mail),
        cmocka_unit_test(monitor_tagged),
        cmocka_unit_test(recipient_rules),
        cmocka_unit_test(malformed_sender),
        cmocka_unit_test(header_refusal),
        cmocka_unit_test(too_many_forged_tags),
        cmocka_unit_test(abort_resets),
        cmocka_unit_test(several_transactions),
        cmocka_unit_test(internal_host),
        cmocka_unit_test(authserv_id_sources),
        cmocka_unit_test(internal_error_tempfail),
        cmocka_unit_test(internal_error_accept_degraded),
        cmocka_unit_test(failed_deletion_tempfails),
        cmocka_unit_test(failed_insertion),
        cmocka_unit_test(dns_state_only_when_configured),
        cmocka_unit_test(stateless),
        cmocka_unit_test(log_lines_escaped),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
