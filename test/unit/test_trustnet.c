/*
 * test_trustnet.c - CA bundles read with OpenSSL, and the issuer names each
 * MTA would report for them. Certificates are made at test time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "helpers.h"
#include "trustnet.h"

static void names_for_both_dialects(void **state)
{
    struct tt_trust t = {0};
    char err[512];
    const char *b;

    (void)state;
    b = th_cert("net.pem", "C=ES|O=Red Segura|OU=Test|CN=Red Segura CA", true, 365);
    th_cert("net.pem", "C=ES|O=Red Segura Sin CN|OU=Sub", true, 365);
    assert_true(tt_trust_add(&t, "redsegura", b, time(NULL), err, sizeof(err)));
    assert_int_equal(t.nets[0].ncas, 2);
    assert_non_null(tt_trust_match(&t, TT_DIALECT_POSTFIX, "Red Segura CA", NULL));
    assert_non_null(tt_trust_match(&t, TT_DIALECT_POSTFIX, "Red Segura Sin CN", NULL));
    assert_non_null(tt_trust_match(&t, TT_DIALECT_SENDMAIL,
                                   "/C=ES/O=Red Segura/OU=Test/CN=Red Segura CA", NULL));
    assert_non_null(
        tt_trust_match(&t, TT_DIALECT_SENDMAIL, "/C=ES/O=Red Segura Sin CN/OU=Sub", NULL));
    assert_string_equal(tt_trust_match(&t, TT_DIALECT_POSTFIX, "Red Segura CA", "redsegura")->name,
                        "redsegura");
    /* Near misses: case, a partial DN, a DN offered in the Postfix dialect. */
    assert_null(tt_trust_match(&t, TT_DIALECT_POSTFIX, "red segura ca", NULL));
    assert_null(
        tt_trust_match(&t, TT_DIALECT_SENDMAIL, "/C=ES/O=Red Segura/CN=Red Segura CA", NULL));
    assert_null(tt_trust_match(&t, TT_DIALECT_POSTFIX,
                               "/C=ES/O=Red Segura/OU=Test/CN=Red Segura CA", NULL));
    assert_null(tt_trust_match(&t, TT_DIALECT_SENDMAIL, "Red Segura CA", NULL));
    assert_null(tt_trust_match(&t, TT_DIALECT_POSTFIX, "Red Segura CA", "other"));
    assert_null(tt_trust_match(&t, TT_DIALECT_POSTFIX, "", NULL));
    tt_trust_free(&t);
}

static void utf8_names(void **state)
{
    struct tt_trust t = {0};
    char err[512];
    const char *b;

    (void)state;
    b = th_cert("utf8.pem",
                "C=ES|O=Administraci\xc3\xb3n P\xc3\xba"
                "blica|CN=Autoridad Ra\xc3\xadz",
                true, 365);
    assert_true(tt_trust_add(&t, "ap", b, time(NULL), err, sizeof(err)));
    assert_non_null(tt_trust_match(&t, TT_DIALECT_POSTFIX, "Autoridad Ra\xc3\xadz", NULL));
    /* OpenSSL's oneline form escapes the UTF-8 bytes; Sendmail reports exactly that. */
    assert_non_null(tt_trust_match(
        &t, TT_DIALECT_SENDMAIL,
        "/C=ES/O=Administraci\\xC3\\xB3n P\\xC3\\xBAblica/CN=Autoridad Ra\\xC3\\xADz", NULL));
    tt_trust_free(&t);
}

static void bundle_errors(void **state)
{
    struct tt_trust t = {0};
    char err[512];
    const char *p;

    (void)state;
    assert_false(tt_trust_add(&t, "n", "/nonexistent/ca.pem", time(NULL), err, sizeof(err)));
    assert_non_null(strstr(err, "cannot read"));
    p = th_write("empty.pem", "");
    assert_false(tt_trust_add(&t, "n", p, time(NULL), err, sizeof(err)));
    assert_non_null(strstr(err, "no CA certificate"));
    p = th_write("garbage.pem", "this is not a certificate\n\x01\x02\n");
    assert_false(tt_trust_add(&t, "n", p, time(NULL), err, sizeof(err)));
    assert_non_null(strstr(err, "no CA certificate"));
    p = th_write("broken.pem",
                 "-----BEGIN CERTIFICATE-----\nMIIB!!!!\n-----END CERTIFICATE-----\n");
    assert_false(tt_trust_add(&t, "n", p, time(NULL), err, sizeof(err)));
    assert_non_null(strstr(err, "unreadable PEM"));
    p = th_cert("leaf.pem", "CN=mail.example.org", false, 365);
    assert_false(tt_trust_add(&t, "n", p, time(NULL), err, sizeof(err)));
    assert_non_null(strstr(err, "is not a CA"));
    assert_int_equal(t.nnets, 0);
}

static void expired_ca_loads_with_warning(void **state)
{
    struct tt_trust t = {0};
    char err[512];
    const char *p;

    (void)state;
    p = th_cert("expired.pem", "CN=Old CA", true, -1);
    assert_true(tt_trust_add(&t, "old", p, time(NULL), err, sizeof(err)));
    assert_true(t.nets[0].cas[0].not_after < time(NULL));
    assert_false(tt_trust_add(&t, "old", p, time(NULL), err, sizeof(err)));
    assert_non_null(strstr(err, "defined twice"));
    tt_trust_free(&t);
}

#define OU60(c)                                                                                    \
    c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c  \
        c c c c c c c c c c c c c
/* Three 60-byte OUs: with "/C=ES/O=Red Segura" a 210-byte prefix of the one-line DN. */
#define LONG_PREFIX "C=ES|O=Red Segura|OU=" OU60("a") "|OU=" OU60("b") "|OU=" OU60("c")

/* The one-line DN of the first certificate in file, into a buffer of bufsz as Sendmail does. */
static void oneline_of(const char *file, char *buf, int bufsz)
{
    FILE *f = fopen(file, "r");
    X509 *x;

    assert_non_null(f);
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    X509_NAME_oneline(X509_get_subject_name(x), buf, bufsz);
    X509_free(x);
}

/*
 * Sendmail cuts a one-line DN longer than 255 bytes after the last whole
 * attribute that fits. The cut form is the full DN of another CA, so it
 * must never match the long one.
 */
static void sendmail_never_matches_a_cut_dn(void **state)
{
    struct tt_trust t = {0};
    char err[512], full[1024], cut[256];
    const char *longca, *shortca;

    (void)state;
    longca = th_cert("long.pem", LONG_PREFIX "|CN=Red Segura Long Name Certification Authority 01",
                     true, 365);
    oneline_of(longca, full, sizeof(full));
    oneline_of(longca, cut, sizeof(cut));
    assert_true(strlen(full) > 255);
    assert_true(strlen(cut) < strlen(full) && strncmp(full, cut, strlen(cut)) == 0);
    /* An outside CA whose whole DN is that cut form. */
    shortca = th_cert("short.pem", LONG_PREFIX, true, 365);
    oneline_of(shortca, full, sizeof(full));
    assert_string_equal(full, cut);

    assert_true(tt_trust_add(&t, "long", longca, time(NULL), err, sizeof(err)));
    assert_null(tt_trust_match(&t, TT_DIALECT_SENDMAIL, cut, NULL));
    assert_true(tt_trust_add(&t, "short", shortca, time(NULL), err, sizeof(err)));
    assert_string_equal(tt_trust_match(&t, TT_DIALECT_SENDMAIL, cut, NULL)->name, "short");
    assert_null(tt_trust_match(&t, TT_DIALECT_SENDMAIL, cut, "long"));
    /* Postfix reports the CN, which the long DN does not change. */
    assert_string_equal(tt_trust_match(&t, TT_DIALECT_POSTFIX,
                                       "Red Segura Long Name Certification Authority 01", NULL)
                            ->name,
                        "long");
    tt_trust_free(&t);
}

/* 255 bytes fit Sendmail's buffer and match; 256 are refused where Sendmail may be the MTA. */
static void sendmail_dn_limit_at_load(void **state)
{
    struct tt_trust t = {0};
    char err[1024], dn[1024];
    const char *fits, *over;

    (void)state;
    /* 210 + "/CN=" + 41 = 255 bytes; one more is 256. */
    fits = th_cert("fits255.pem", LONG_PREFIX "|CN=Red Segura CA of exactly 255 bytes.......", true,
                   365);
    oneline_of(fits, dn, sizeof(dn));
    assert_int_equal(strlen(dn), 255);
    over = th_cert("over256.pem", LONG_PREFIX "|CN=Red Segura CA of exactly 256 bytes........",
                   true, 365);

    assert_true(tt_trust_add(&t, "fits", fits, time(NULL), err, sizeof(err)));
    assert_true(tt_trust_check_dialect(&t, TT_DIALECT_SENDMAIL, err, sizeof(err)));
    assert_true(tt_trust_check_dialect(&t, TT_DIALECT_AUTO, err, sizeof(err)));
    assert_string_equal(tt_trust_match(&t, TT_DIALECT_SENDMAIL, dn, NULL)->name, "fits");

    assert_true(tt_trust_add(&t, "over", over, time(NULL), err, sizeof(err)));
    assert_true(tt_trust_check_dialect(&t, TT_DIALECT_POSTFIX, err, sizeof(err)));
    assert_false(tt_trust_check_dialect(&t, TT_DIALECT_SENDMAIL, err, sizeof(err)));
    assert_non_null(strstr(err, over));
    assert_non_null(strstr(err, "CA \"/C=ES/O=Red Segura/OU=aaaa"));
    assert_non_null(strstr(err, "one-line DN is 256 bytes, longer than Sendmail's 255-byte "
                                "issuer buffer"));
    assert_non_null(strstr(err, "MTADialect postfix"));
    assert_false(tt_trust_check_dialect(&t, TT_DIALECT_AUTO, err, sizeof(err)));
    oneline_of(over, dn, sizeof(dn));
    assert_int_equal(strlen(dn), 256);
    assert_null(tt_trust_match(&t, TT_DIALECT_SENDMAIL, dn, NULL));
    tt_trust_free(&t);
}

#define U(field, text)                                                                             \
    {                                                                                              \
        field, V_ASN1_UTF8STRING, text, -1                                                         \
    }
#define UN(field, bytes, n)                                                                        \
    {                                                                                              \
        field, V_ASN1_UTF8STRING, bytes, n                                                         \
    }

struct pf_case {
    const char *what;
    struct th_attr attrs[4];
    size_t nattrs;
    const char *name;     /* what Postfix reports as {cert_issuer}; NULL: nothing usable */
    const char *wrong[3]; /* names that must not match */
};

/*
 * The issuer name Postfix reports, rule by rule, as tls_issuer_CN() and
 * tls_text_name() in Postfix's src/tls/tls_verify.c compute it.
 */
static void postfix_issuer_name_rules(void **state)
{
    static char cn255[256], cn256[257], o300[301];
    /* "Raíz" as a BMPString (UTF-16BE): Postfix converts it to UTF-8. */
    static const char bmp[] = {0, 'R', 0, 'a', 0, (char)0xed, 0, 'z'};
    const struct pf_case cases[] = {
        {"several CNs: the first",
         {U("O", "Org"), U("CN", "First CA"), U("CN", "Second CA")},
         3,
         "First CA",
         {"Second CA", "Org"}},
        {"the first CN in DN order",
         {U("CN", "Lead CA"), U("O", "Org"), U("CN", "Tail CA")},
         3,
         "Lead CA",
         {"Tail CA", "Org"}},
        {"no CN: the first O",
         {U("C", "ES"), U("O", "First Org"), U("O", "Second Org")},
         3,
         "First Org",
         {"Second Org"}},
        {"CN of 255 bytes", {U("O", "Org"), U("CN", cn255)}, 2, cn255, {"Org"}},
        {"CN of 256 bytes: the O",
         {U("O", "Long CN Org"), U("CN", cn256)},
         2,
         "Long CN Org",
         {cn256}},
        {"CN with a control character: the O",
         {U("O", "Ctl Org"), U("CN", "Red\x01Segura CA")},
         2,
         "Ctl Org",
         {"Red\x01Segura CA"}},
        {"CN with DEL: the O",
         {U("O", "Del Org"), U("CN", "Red Segura CA\x7f")},
         2,
         "Del Org",
         {"Red Segura CA\x7f", "Red Segura CA"}},
        {"CN with CR LF: the O",
         {U("O", "Crlf Org"), U("CN", "Red\r\nSegura CA")},
         2,
         "Crlf Org",
         {"Red\r\nSegura CA"}},
        {"CN with an embedded NUL: the O",
         {U("O", "Nul Org"), UN("CN", "Red\0Evil CA", 11)},
         2,
         "Nul Org",
         {"Red", "RedEvil CA"}},
        {"CN with trailing NULs: they are dropped",
         {U("O", "Org"), UN("CN", "Trail CA\0\0", 10)},
         2,
         "Trail CA",
         {"Org"}},
        {"a bad first CN: the O, not the next CN",
         {U("O", "Org"), U("CN", "Bad\tCA"), U("CN", "Good CA")},
         3,
         "Org",
         {"Good CA", "Bad\tCA"}},
        {"CN converted to UTF-8",
         {{"CN", V_ASN1_BMPSTRING, bmp, (int)sizeof(bmp)}},
         1,
         "Ra\xc3\xadz",
         {"Raiz"}},
        {"an empty CN: no fallback, nothing",
         {U("O", "Empty CN Org"), U("CN", "")},
         2,
         NULL,
         {"Empty CN Org"}},
        {"neither CN nor O", {U("C", "ES"), U("OU", "Only OU")}, 2, NULL, {"Only OU", "ES"}},
        {"a bad CN and a bad O",
         {U("O", o300), U("CN", "Bad\x1b CA")},
         2,
         NULL,
         {o300, "Bad\x1b CA"}},
    };
    size_t i, j;

    (void)state;
    memset(cn255, 'c', 255);
    memset(cn256, 'c', 256);
    memset(o300, 'o', 300);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct pf_case *c = &cases[i];
        struct tt_trust t = {0};
        char err[512], file[32];
        const char *log;

        print_message("case: %s\n", c->what);
        snprintf(file, sizeof(file), "pf%zu.pem", i);
        assert_true(tt_trust_add(&t, "n", th_cert_attrs(file, c->attrs, c->nattrs, true, 365),
                                 time(NULL), err, sizeof(err)));
        if (c->name != NULL)
            assert_non_null(tt_trust_match(&t, TT_DIALECT_POSTFIX, c->name, NULL));
        for (j = 0; j < 3 && c->wrong[j] != NULL; j++)
            assert_null(tt_trust_match(&t, TT_DIALECT_POSTFIX, c->wrong[j], NULL));
        th_stderr_begin();
        assert_true(tt_trust_check_dialect(&t, TT_DIALECT_POSTFIX, err, sizeof(err)));
        log = th_stderr_end();
        if (c->name == NULL)
            assert_non_null(strstr(log, "has no CN or O that Postfix reports"));
        else
            assert_null(strstr(log, "Postfix"));
        tt_trust_free(&t);
    }
}

/* Two networks whose CAs Postfix names alike cannot be told apart: a warning at load. */
static void postfix_name_collision_warns(void **state)
{
    struct tt_trust t = {0};
    char err[512];
    const char *log;

    (void)state;
    assert_true(tt_trust_add(&t, "alpha", th_cert("alpha.pem", "O=Alpha|CN=Same CA", true, 365),
                             time(NULL), err, sizeof(err)));
    assert_true(tt_trust_add(&t, "beta", th_cert("beta.pem", "O=Beta|CN=Same CA", true, 365),
                             time(NULL), err, sizeof(err)));
    /* The O of a CA without CN against the CN of another. */
    assert_true(tt_trust_add(&t, "gamma", th_cert("gamma.pem", "C=ES|O=Shared Name", true, 365),
                             time(NULL), err, sizeof(err)));
    th_cert("delta.pem", "O=Other|CN=Shared Name", true, 365);
    th_cert("delta.pem", "O=Other|CN=Delta CA", true, 365);
    assert_true(tt_trust_add(&t, "delta", th_cert("delta.pem", "O=Again|CN=Delta CA", true, 365),
                             time(NULL), err, sizeof(err)));
    /* Both networks accept either CA's certificates under Postfix. */
    assert_non_null(tt_trust_match(&t, TT_DIALECT_POSTFIX, "Same CA", "alpha"));
    assert_non_null(tt_trust_match(&t, TT_DIALECT_POSTFIX, "Same CA", "beta"));

    th_stderr_begin();
    assert_true(tt_trust_check_dialect(&t, TT_DIALECT_POSTFIX, err, sizeof(err)));
    log = th_stderr_end();
    assert_non_null(strstr(log, "networks alpha and beta: a CA in "));
    assert_non_null(strstr(log, "same Postfix name \"Same CA\""));
    assert_non_null(strstr(log, "networks gamma and delta: "));
    assert_non_null(strstr(log, "same Postfix name \"Shared Name\""));
    /* Within one network a shared name is harmless: delta holds "Delta CA" twice. */
    assert_null(strstr(log, "\"Delta CA\""));

    th_stderr_begin();
    assert_true(tt_trust_check_dialect(&t, TT_DIALECT_AUTO, err, sizeof(err)));
    assert_non_null(strstr(th_stderr_end(), "networks alpha and beta"));
    th_stderr_begin();
    assert_true(tt_trust_check_dialect(&t, TT_DIALECT_SENDMAIL, err, sizeof(err)));
    assert_null(strstr(th_stderr_end(), "Postfix name"));
    tt_trust_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_for_both_dialects),
        cmocka_unit_test(utf8_names),
        cmocka_unit_test(bundle_errors),
        cmocka_unit_test(expired_ca_loads_with_warning),
        cmocka_unit_test(sendmail_never_matches_a_cut_dn),
        cmocka_unit_test(sendmail_dn_limit_at_load),
        cmocka_unit_test(postfix_issuer_name_rules),
        cmocka_unit_test(postfix_name_collision_warns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
