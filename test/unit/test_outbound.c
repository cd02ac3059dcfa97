/*
 * test_outbound.c - a rule as a Postfix TLS policy and a Sendmail
 * TLS_Rcpt entry (outbound.c), and the exports of a whole table. The
 * exports are fed to postmap and makemap in test/outbound/export.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "helpers.h"
#include "outbound.h"
#include "xtext.h"

static const char table[] =
    "ministerio.example trusted:redsegura defer subject=*.ministerio.example,mx.gob.example "
    "min_version=TLSv1.2\n"
    ".ministerio.example trusted reject\n"
    "libre.ministerio.example none\n"
    ".universidad.example verify monitor\n"
    "hacienda.example encrypt min_bits=168\n"
    "sin.example verify\n"
    "to:local.example trusted\n"
    "client:192.0.2.1 trusted\n";

static struct tt_config *load(const char *bundle_name)
{
    char text[1024], err[600];
    struct tt_config *c;

    th_cert(bundle_name, "C=ES|O=Red Segura|CN=Red Segura CA", true, 365);
    snprintf(text, sizeof(text), "TrustedNetwork redsegura %s\nDomainTable %s\nSyslog no\n",
             bundle_name, th_write("out.table", table));
    c = tt_config_load(th_write("out.conf", text), time(NULL), err, sizeof(err));
    if (c == NULL)
        fail_msg("%s", err);
    return c;
}

static const struct tt_rule *rule(const struct tt_config *c, const char *domain)
{
    return tt_table_lookup_domain(c->table, TT_KEY_FROM, domain);
}

static void test_postfix_levels(void **state)
{
    struct tt_config *c = load("net.pem");
    char out[TT_OUTBOUND_MAX], err[300], want[TT_OUTBOUND_MAX];

    (void)state;
    /* trusted:NET: secure against that network's CAs only, names from subject=. */
    assert_int_equal(
        tt_outbound_postfix(c, rule(c, "ministerio.example"), out, sizeof(out), err, sizeof(err)),
        TT_OUT_POLICY);
    snprintf(want, sizeof(want),
             "secure tafile=%s match=.ministerio.example:mx.gob.example protocols=>=TLSv1.2",
             c->trust.nets[0].file);
    assert_string_equal(out, want);
    /* A subdomain meets the ".parent" rule. */
    assert_int_equal(
        tt_outbound_postfix(c, rule(c, "a.ministerio.example"), out, sizeof(out), err, sizeof(err)),
        TT_OUT_POLICY);
    snprintf(want, sizeof(want), "secure tafile=%s", c->trust.nets[0].file);
    assert_string_equal(out, want);
    /* An exemption and no rule at all: no network policy. */
    assert_int_equal(tt_outbound_postfix(c, rule(c, "libre.ministerio.example"), out, sizeof(out),
                                         err, sizeof(err)),
                     TT_OUT_NONE);
    assert_int_equal(tt_outbound_postfix(c, NULL, out, sizeof(out), err, sizeof(err)), TT_OUT_NONE);
    assert_string_equal(out, "");
    /* monitor reports only: opportunistic. */
    tt_outbound_postfix(c, rule(c, "x.universidad.example"), out, sizeof(out), err, sizeof(err));
    assert_string_equal(out, "may");
    tt_outbound_postfix(c, rule(c, "hacienda.example"), out, sizeof(out), err, sizeof(err));
    assert_string_equal(out, "encrypt ciphers=high");
    tt_outbound_postfix(c, rule(c, "sin.example"), out, sizeof(out), err, sizeof(err));
    assert_string_equal(out, "verify");
    /* Too small a buffer is an error, never a cut policy. */
    assert_int_equal(
        tt_outbound_postfix(c, rule(c, "ministerio.example"), out, 20, err, sizeof(err)),
        TT_OUT_ERROR);
    assert_non_null(strstr(err, "too long"));
    tt_config_free(c);
}

/* Postfix splits attributes at blanks and commas: such a bundle path is refused. */
static void test_postfix_bad_path(void **state)
{
    struct tt_config *c = load("net,1.pem");
    char out[TT_OUTBOUND_MAX], err[300];
    FILE *f = tmpfile();

    (void)state;
    assert_int_equal(
        tt_outbound_postfix(c, rule(c, "ministerio.example"), out, sizeof(out), err, sizeof(err)),
        TT_OUT_ERROR);
    assert_non_null(strstr(err, "tafile"));
    assert_false(tt_outbound_export_postfix(c, f, err, sizeof(err)));
    fclose(f);
    tt_config_free(c);
}

static void test_sendmail_values(void **state)
{
    struct tt_config *c = load("net.pem");
    char out[TT_OUTBOUND_MAX], err[300];

    (void)state;
    tt_outbound_sendmail(c, rule(c, "ministerio.example"), out, sizeof(out), err, sizeof(err));
    assert_string_equal(out, "TEMP+VERIFY+CITag:TLSTRUST_redsegura");
    tt_outbound_sendmail(c, rule(c, "a.ministerio.example"), out, sizeof(out), err, sizeof(err));
    assert_string_equal(out, "PERM+VERIFY+CITag:TLSTRUST");
    tt_outbound_sendmail(c, rule(c, "libre.ministerio.example"), out, sizeof(out), err,
                         sizeof(err));
    assert_string_equal(out, "OK");
    tt_outbound_sendmail(c, rule(c, "hacienda.example"), out, sizeof(out), err, sizeof(err));
    assert_string_equal(out, "TEMP+ENCR:168");
    tt_outbound_sendmail(c, rule(c, "sin.example"), out, sizeof(out), err, sizeof(err));
    assert_string_equal(out, "TEMP+VERIFY");
    /* A network name with a dot stays one Sendmail token. */
    tt_outbound_sendmail_tag("red.segura", out, sizeof(out));
    assert_string_equal(out, "TLSTRUST_red=2Esegura");
    tt_config_free(c);
}

static char *export(const struct tt_config *c, bool postfix)
{
    char err[300], *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    assert_non_null(f);
    if (!(postfix ? tt_outbound_export_postfix(c, f, err, sizeof(err))
                  : tt_outbound_export_sendmail(c, f, err, sizeof(err))))
        fail_msg("%s", err);
    fclose(f);
    return text;
}

static void test_export_postfix(void **state)
{
    struct tt_config *c = load("net.pem");
    char *t = export(c, true);

    (void)state;
    assert_non_null(strstr(t, "\n.ministerio.example\tsecure tafile="));
    assert_non_null(strstr(t, "\nministerio.example\tsecure tafile="));
    /* The exemption under a parent must be written, or the parent would apply. */
    assert_non_null(strstr(t, "\nlibre.ministerio.example\tmay\n"));
    /* Only from: rules: to: and client: speak of mail we receive. */
    assert_null(strstr(t, "local.example"));
    assert_null(strstr(t, "192.0.2.1"));
    free(t);
    tt_config_free(c);
}

static void test_export_sendmail(void **state)
{
    struct tt_config *c = load("net.pem");
    char *t = export(c, false);

    (void)state;
    assert_non_null(
        strstr(t, "\nTLS_Rcpt:ministerio.example\tTEMP+VERIFY+CITag:TLSTRUST_redsegura\n"));
    /* Sendmail would meet exact hacienda.example for its subdomains: stopped by ".d". */
    assert_non_null(strstr(t, "\nTLS_Rcpt:.hacienda.example\tOK\n"));
    /* ...and with the parent's rule where the table has one. */
    assert_non_null(
        strstr(t, "\nTLS_Rcpt:.libre.ministerio.example\tPERM+VERIFY+CITag:TLSTRUST\n"));
    /* ministerio.example has its own ".d" line: no second one. */
    assert_null(strstr(strstr(t, "\nTLS_Rcpt:.ministerio.example\t") + 1,
                       "\nTLS_Rcpt:.ministerio.example\t"));
    /* The issuer entries, keyed by the DN as Sendmail writes {cert_issuer}. */
    assert_non_null(strstr(t, "\nTLSTRUST:/C=ES/O=Red+20Segura/CN=Red+20Segura+20CA\tOK\n"));
    assert_non_null(
        strstr(t, "\nTLSTRUST_redsegura:/C=ES/O=Red+20Segura/CN=Red+20Segura+20CA\tOK\n"));
    assert_non_null(strstr(t, "min_version=TLSv1.2 is not checked"));
    free(t);
    tt_config_free(c);
}

static void test_xtext_encode(void **state)
{
    char out[64], back[64];

    (void)state;
    assert_int_equal(tt_xtext_encode("/O=A B+C(\"x\")<\\>", out, sizeof(out)), 34);
    assert_string_equal(out, "/O=A+20B+2BC+28+22x+22+29+3C+5C+3E");
    assert_int_equal(tt_xtext_decode(out, back, sizeof(back)), 16);
    assert_string_equal(back, "/O=A B+C(\"x\")<\\>");
    assert_int_equal(tt_xtext_encode("\xc3\xa9", out, sizeof(out)), 6);
    assert_string_equal(out, "+C3+A9");
    assert_int_equal(tt_xtext_encode("a b", out, 5), -1);
    assert_int_equal(tt_xtext_encode("abcd", out, 4), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_postfix_levels),  cmocka_unit_test(test_postfix_bad_path),
        cmocka_unit_test(test_sendmail_values), cmocka_unit_test(test_export_postfix),
        cmocka_unit_test(test_export_sendmail), cmocka_unit_test(test_xtext_encode),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
