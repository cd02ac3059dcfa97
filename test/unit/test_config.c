/*
 * test_config.c - tlstrust.conf: defaults, every key, and errors with
 * file:line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <cmocka.h>

#include "config.h"
#include "helpers.h"

static void defaults(void **state)
{
    char err[512];
    struct tt_config *c =
        tt_config_load(th_write("empty.conf", "# nothing\n"), time(NULL), err, sizeof(err));

    (void)state;
    assert_non_null(c);
    assert_string_equal(c->socket, "inet:8894@127.0.0.1");
    assert_string_equal(c->tag_header, "X-TLS-Trust");
    assert_int_equal(c->default_action, TT_ACTION_DEFER);
    assert_false(c->auth_results);
    assert_false(c->on_error_accept);
    assert_true(c->syslog);
    assert_null(c->table);
    assert_null(c->authserv_id);
    assert_int_equal(c->ninternal, 0);
    assert_int_equal(c->peer_table_size, 1000);
    assert_null(c->metrics_socket);
    tt_config_free(c);
}

static void metrics_keys(void **state)
{
    char err[512];
    struct tt_config *c = tt_config_load(th_write("m.conf", "MetricsSocket inet6:9465@[::1]\n"
                                                            "PeerTableSize 16\n"),
                                         time(NULL), err, sizeof(err));

    (void)state;
    assert_non_null(c);
    assert_string_equal(c->metrics_socket, "inet6:9465@[::1]");
    assert_int_equal(c->peer_table_size, 16);
    tt_config_free(c);
}

static void every_key(void **state)
{
    char err[512];
    struct tt_config *c;
    struct tt_cidr a;

    (void)state;
    th_cert("ca.pem", "CN=Red Segura CA", true, 365);
    th_write("domains", "ministerio.test trusted:redsegura\n");
    c = tt_config_load(th_write("full.conf", "Socket unix:/run/tlstrust/sock\n"
                                             "trustednetwork redsegura ca.pem   # relative\n"
                                             "DomainTable domains\n"
                                             "DefaultAction monitor\n"
                                             "AuthservID mx.receiver.test\n"
                                             "TagHeader X-Trust\n"
                                             "AuthResults yes\n"
                                             "InternalHosts 127.0.0.1, 10.0.0.0/8\n"
                                             "InternalHosts ::1\n"
                                             "UserID nobody\n"
                                             "PidFile run/t.pid\n"
                                             "LogLevel debug\n"
                                             "Syslog no\n"
                                             "SyslogFacility local3\n"
                                             "OnError accept\n"
                                             "MTADialect sendmail\n"),
                       time(NULL), err, sizeof(err));
    assert_non_null(c);
    assert_string_equal(c->socket, "unix:/run/tlstrust/sock");
    assert_int_equal(c->trust.nnets, 1);
    assert_int_equal(tt_table_count(c->table), 1);
    assert_int_equal(c->default_action, TT_ACTION_MONITOR);
    assert_string_equal(c->authserv_id, "mx.receiver.test");
    assert_string_equal(c->tag_header, "X-Trust");
    assert_true(c->auth_results);
    assert_int_equal(c->ninternal, 3);
    assert_true(tt_ip_parse("10.1.2.3", &a));
    assert_true(tt_config_is_internal(c, &a));
    assert_true(tt_ip_parse("192.0.2.1", &a));
    assert_false(tt_config_is_internal(c, &a));
    assert_string_equal(c->user, "nobody");
    assert_non_null(strstr(c->pidfile, "/run/t.pid"));
    assert_true(c->pidfile[0] == '/');
    assert_int_equal(c->log_level, LOG_DEBUG);
    assert_false(c->syslog);
    assert_int_equal(c->facility, LOG_LOCAL3);
    assert_true(c->on_error_accept);
    assert_int_equal(c->dialect, TT_DIALECT_SENDMAIL);
    tt_config_free(c);
}

static void expect_error(const char *text, const char *fragment)
{
    char err[1024];
    struct tt_config *c = tt_config_load(th_write("bad.conf", text), time(NULL), err, sizeof(err));

    if (c != NULL) {
        tt_config_free(c);
        fail_msg("configuration loaded but should fail: %s", text);
    }
    if (strstr(err, fragment) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", err, fragment);
}

static void errors(void **state)
{
    (void)state;
    expect_error("# a\nSocket inet:1@127.0.0.1\nBogusKey 1\n",
                 "bad.conf:3: unknown key 'BogusKey'");
    expect_error("Socket inet:1@127.0.0.1\nSocket inet:2@127.0.0.1\n",
                 "bad.conf:2: Socket given twice (first at line 1)");
    expect_error("Socket tcp:25\n", "bad.conf:1: invalid socket 'tcp:25': expected inet:PORT@ADDR");
    expect_error("DefaultAction drop\n", "DefaultAction must be");
    expect_error("AuthResults maybe\n", "AuthResults must be yes or no");
    expect_error("AuthservID a;b\n", "AuthservID must be");
    expect_error("TagHeader X:Bad\n", "TagHeader must be a valid header field name, not 'X:Bad'");
    expect_error("InternalHosts 10.0.0.0/40\n", "invalid address or CIDR");
    expect_error("LogLevel loud\n", "LogLevel must be");
    expect_error("OnError ignore\n", "OnError must be");
    expect_error("MTADialect exim\n", "MTADialect must be");
    expect_error("MetricsSocket inet:9465\n", "bad.conf:1: invalid MetricsSocket 'inet:9465': an "
                                              "address is required");
    expect_error("MetricsSocket inet:9465@localhost\n", "numeric IPv4 address");
    expect_error("MetricsSocket unix:/run/m.sock\n", "expected inet:PORT@ADDR");
    expect_error("PeerTableSize 15\n", "PeerTableSize must be a number from 16 to 100000");
    expect_error("PeerTableSize 100001\n", "PeerTableSize must be a number from 16 to 100000");
    expect_error("Socket\n", "bad.conf:1: Socket needs a value");
    expect_error("TrustedNetwork onlyname\n", "needs a name and a file");
    expect_error("TrustedNetwork bad/name ca.pem\n", "may hold letters");
    expect_error("TrustedNetwork n missing.pem\n", "bad.conf:1: network n: cannot read");
    expect_error("DomainTable nonexistent-table\n", "cannot open");
    th_write("broken-table", "ok.test encrypt\nbroken.test maybe\n");
    expect_error("DomainTable broken-table\n", "broken-table:2: unknown requirement");
    {
        char err[256];

        assert_null(tt_config_load("/nonexistent.conf", time(NULL), err, sizeof(err)));
        assert_non_null(strstr(err, "cannot open"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(every_key),
        cmocka_unit_test(metrics_keys),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
