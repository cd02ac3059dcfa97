/*
 * metrics.c - see metrics.h. The listening socket is made as root before
 * the privilege drop and handed to libmicrohttpd, which serves it on one
 * internal thread with a bounded number of connections and a timeout. A
 * scrape reads the atomic counters (counters.h), the DNS totals (dns.h),
 * the history's table (history.h) and the configuration in force (its CA
 * bundles); only the scrape allocates, never a message. Every label takes
 * its values from a fixed set (levels, results, actions, stages) or from
 * the configured TrustedNetwork names: nothing a client controls.
 */
#include "metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "counters.h"
#include "dns.h"
#include "history.h"
#include "log.h"
#include "snapshot.h"
#include "sockspec.h"

/* Prometheus and an operator's curl; more wait in the kernel's backlog. */
#define MAX_CONNECTIONS 8
#define CONNECTION_TIMEOUT 10 /* seconds */

static int listen_fd = -1;
static struct MHD_Daemon *daemon_;

bool tt_metrics_listen(const char *spec, char *err, size_t errsz)
{
    struct sockaddr_storage ss;
    unsigned int len;
    char why[128];
    int one = 1;

    if (spec == NULL)
        return true;
    if (!tt_sockspec_inet(spec, &ss, &len, why, sizeof(why))) {
        snprintf(err, errsz, "MetricsSocket %s: %s", spec, why);
        return false;
    }
    listen_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listen_fd < 0 || setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(listen_fd, (struct sockaddr *)&ss, len) != 0 || listen(listen_fd, 16) != 0) {
        snprintf(err, errsz, "MetricsSocket %s: %s", spec, strerror(errno));
        if (listen_fd >= 0)
            close(listen_fd);
        listen_fd = -1;
        return false;
    }
    return true;
}

/* ---- the exposition (Prometheus text format 0.0.4) ---- */

static void family(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void counters(FILE *f, time_t now)
{
    struct tt_counters_view v;
    uint64_t cum = 0;
    size_t l, r, o, i;

    tt_counters_read(&v);
    family(f, "tlstrust_messages_total", "counter",
           "Decisions: messages delivered at end of message and transactions refused, by TLS "
           "level, policy result and action.");
    for (l = 0; l < TT_LEVELS; l++)
        for (r = 0; r < TT_RESULTS; r++)
            for (o = 0; o < TT_OUTCOMES; o++)
                fprintf(
                    f, "tlstrust_messages_total{level=\"%s\",result=\"%s\",action=\"%s\"} %llu\n",
                    tt_level_name((enum tt_level)l), tt_result_name((enum tt_result)r),
                    tt_outcome_name((enum tt_outcome)o), (unsigned long long)v.messages[l][r][o]);
    family(f, "tlstrust_refusals_total", "counter",
           "Commands refused (defer or reject), by the stage that refused.");
    for (i = 0; i < TT_STAGE_EOM; i++)
        fprintf(f, "tlstrust_refusals_total{stage=\"%s\"} %llu\n", tt_stage_name((enum tt_stage)i),
                (unsigned long long)v.refusals[i]);
    family(f, "tlstrust_forged_tags_removed_total", "counter",
           "Forged copies of the tag header deleted from messages.");
    fprintf(f, "tlstrust_forged_tags_removed_total %llu\n", (unsigned long long)v.forged_removed);
    family(f, "tlstrust_reloads_total", "counter", "Configuration reloads, by result.");
    fprintf(f, "tlstrust_reloads_total{result=\"ok\"} %llu\n", (unsigned long long)v.reloads_ok);
    fprintf(f, "tlstrust_reloads_total{result=\"failed\"} %llu\n",
            (unsigned long long)v.reloads_failed);
    family(f, "tlstrust_config_loaded_timestamp_seconds", "gauge",
           "When the configuration in force was loaded (start or last successful reload).");
    fprintf(f, "tlstrust_config_loaded_timestamp_seconds %lld\n", (long long)v.config_loaded);
    family(f, "tlstrust_config_age_seconds", "gauge",
           "Seconds since the configuration in force was loaded.");
    fprintf(f, "tlstrust_config_age_seconds %lld\n",
            (long long)(v.config_loaded > 0 ? now - v.config_loaded : 0));
    family(f, "tlstrust_decision_duration_seconds", "histogram",
           "Time spent in the MAIL FROM decision (table, policy zones, DNS signals).");
    for (i = 0; i < TT_LATENCY_BUCKETS; i++) {
        cum += v.latency[i];
        fprintf(f, "tlstrust_decision_duration_seconds_bucket{le=\"%g\"} %llu\n",
                tt_latency_bounds[i], (unsigned long long)cum);
    }
    fprintf(f, "tlstrust_decision_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
            (unsigned long long)v.latency_count);
    fprintf(f, "tlstrust_decision_duration_seconds_sum %.9f\n", v.latency_sum);
    fprintf(f, "tlstrust_decision_duration_seconds_count %llu\n",
            (unsigned long long)v.latency_count);
}

static void dns(FILE *f)
{
    struct tt_dns_stats s;

    tt_dns_totals(&s);
    family(f, "tlstrust_dns_queries_total", "counter", "DNS lookups made by policy decisions.");
    fprintf(f, "tlstrust_dns_queries_total %lu\n", s.lookups);
    family(f, "tlstrust_dns_cache_hits_total", "counter",
           "DNS lookups answered without a query of their own (cached, or joined to one in "
           "flight).");
    fprintf(f, "tlstrust_dns_cache_hits_total %lu\n", s.hits + s.joined);
    family(f, "tlstrust_dns_packets_sent_total", "counter",
           "DNS query packets sent to the resolvers (each retry counts).");
    fprintf(f, "tlstrust_dns_packets_sent_total %lu\n", s.sent);
    family(f, "tlstrust_dns_failures_total", "counter",
           "DNS resolutions without a usable answer (SERVFAIL, timeout, refused, local error).");
    fprintf(f, "tlstrust_dns_failures_total %lu\n", s.failures);
}

static void networks(FILE *f)
{
    struct tt_snapshot *snap = tt_snapshot_get();
    const struct tt_trust *t = &tt_snapshot_config(snap)->trust;
    size_t i, j;

    family(f, "tlstrust_ca_bundle_expiry_timestamp_seconds", "gauge",
           "The earliest notAfter among the CA certificates of each trusted network's bundle.");
    for (i = 0; i < t->nnets; i++) {
        time_t first = 0;

        for (j = 0; j < t->nets[i].ncas; j++)
            if (first == 0 || t->nets[i].cas[j].not_after < first)
                first = t->nets[i].cas[j].not_after;
        /* Network names are letters, digits, '-', '_' and '.': safe in a label. */
        fprintf(f, "tlstrust_ca_bundle_expiry_timestamp_seconds{network=\"%s\"} %lld\n",
                t->nets[i].name, (long long)first);
    }
    tt_snapshot_put(snap);
}

static void history(FILE *f)
{
    struct tt_history_stats h;

    tt_history_stats(&h);
    family(f, "tlstrust_observed_peers", "gauge",
           "Peers counted apart since the last history write (bounded by PeerTableSize).");
    fprintf(f, "tlstrust_observed_peers %zu\n", h.peers);
    family(f, "tlstrust_observed_table_bytes", "gauge", "Memory of the peer tables.");
    fprintf(f, "tlstrust_observed_table_bytes %zu\n", h.bytes);
    family(f, "tlstrust_observed_overflow_total", "counter",
           "Decisions counted in the *other* bucket because the peer table was full.");
    fprintf(f, "tlstrust_observed_overflow_total %llu\n", (unsigned long long)h.overflow);
    family(f, "tlstrust_history_writes_total", "counter",
           "Writes of the counts to StateDatabase, by result.");
    fprintf(f, "tlstrust_history_writes_total{result=\"ok\"} %llu\n",
            (unsigned long long)h.writes_ok);
    fprintf(f, "tlstrust_history_writes_total{result=\"failed\"} %llu\n",
            (unsigned long long)h.writes_failed);
}

char *tt_metrics_render(size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);

    if (f == NULL)
        return NULL;
    family(f, "tlstrust_build_info", "gauge", "The running version; always 1.");
    fprintf(f, "tlstrust_build_info{version=\"%s\"} 1\n", TLSTRUST_VERSION);
    counters(f, time(NULL));
    dns(f);
    networks(f);
    history(f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* ---- HTTP ---- */

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status, char *body,
                             size_t len, const char *type)
{
    struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback(len, body, free);
    enum MHD_Result ret;

    if (r == NULL) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **state)
{
    size_t len = 0;
    char *body;

    (void)cls;
    (void)version;
    (void)upload;
    (void)state;
    /*
     * Answer at the first call, once the headers are in: a request body is
     * never read (a POST with one gets its 404 and the connection closes).
     */
    if (*upload_size != 0)
        return MHD_NO;
    if (strcmp(url, "/metrics") != 0 ||
        (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)) {
        body = strdup("404 not found: GET /metrics\n");
        return reply(conn, MHD_HTTP_NOT_FOUND, body, body != NULL ? strlen(body) : 0,
                     "text/plain; charset=utf-8");
    }
    body = tt_metrics_render(&len);
    if (body == NULL) {
        body = strdup("out of memory\n");
        return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, body, body != NULL ? strlen(body) : 0,
                     "text/plain; charset=utf-8");
    }
    return reply(conn, MHD_HTTP_OK, body, len, "text/plain; version=0.0.4; charset=utf-8");
}

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];

    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    tt_log(LOG_WARNING, "metrics: %s", msg);
}

bool tt_metrics_start(char *err, size_t errsz)
{
    if (listen_fd < 0)
        return true;
    daemon_ =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG, 0,
                         NULL, NULL, handle, NULL,
                         /* first, so that every message goes to our log */
                         MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET,
                         listen_fd, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)MAX_CONNECTIONS,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)CONNECTION_TIMEOUT,
                         MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768, MHD_OPTION_END);
    if (daemon_ == NULL) {
        snprintf(err, errsz, "MetricsSocket: cannot start the HTTP server");
        return false;
    }
    listen_fd = -1; /* libmicrohttpd's now: MHD_stop_daemon closes it */
    return true;
}

void tt_metrics_stop(void)
{
    if (daemon_ != NULL)
        MHD_stop_daemon(daemon_);
    daemon_ = NULL;
    if (listen_fd >= 0)
        close(listen_fd);
    listen_fd = -1;
}
