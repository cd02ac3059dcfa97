/*
 * milterload.c - a milter-protocol load generator. It plays the MTA side of
 * the milter protocol (version 6, as Postfix and Sendmail speak it) against
 * any milter on inet:PORT@HOST or unix:PATH and checks every reply:
 *
 *   per connection  OPTNEG (all actions and protocol steps offered; the
 *                   milter's macro lists are honoured), connection info with
 *                   the j and v macros, HELO with the TLS macros of one
 *                   client kind (--mix)
 *   per transaction MAIL with {i}, N x RCPT, DATA, headers, EOH, body and
 *                   EOM, each skipped or sent without waiting for a reply
 *                   as the milter negotiated
 *
 * At end of message the milter must insert (or add) the tag header
 * (--tag-header); with --expect-reject the transaction must be refused
 * instead. It reports messages/s and latency percentiles of the whole
 * message (MAIL sent -> final EOM reply) and of the MAIL reply alone (the
 * policy decision), and exits non-zero when any reply was wrong or any
 * session failed. Connections are driven by poll() event loops, so the
 * generator costs little CPU next to the milter it measures.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fixtures.h" /* generated from test/fixtures/macros.tsv */

#include <libmilter/mfdef.h>

#define MILTER_VERSION 6
#define MAX_PACKET (1024 * 1024)
#define MAX_REPORTED_FAILURES 20

/* Macro stages as numbered in SMFIR_OPTNEG's macro lists (mfapi.h SMFIM_*). */
enum {
    STAGE_CONNECT = 0,
    STAGE_HELO,
    STAGE_ENVFROM,
    STAGE_ENVRCPT,
    STAGE_DATA,
    STAGE_EOM,
    STAGE_EOH,
    NSTAGES
};

enum kind { K_PLAIN = 0, K_ENCRYPTED, K_MEMBER_POSTFIX, K_MEMBER_SENDMAIL, K_OUTSIDE, NKINDS };

static const char *const kind_names[NKINDS] = {"plain", "encrypted", "member-postfix",
                                               "member-sendmail", "outside"};
/* The level tlstrust must report for each kind (--check-level). */
static const char *const kind_levels[NKINDS] = {"none", "encrypted", "trusted", "trusted",
                                                "verified"};

enum step {
    ST_OPTNEG = 0,
    ST_CONNECT,
    ST_HELO,
    ST_MAIL,
    ST_RCPT,
    ST_DATA,
    ST_HEADER,
    ST_EOH,
    ST_BODY,
    ST_EOM,
    ST_HOLD,
    ST_QUIT,
    ST_CLOSED,
};

static const char *const step_names[] = {"OPTNEG", "CONNECT", "HELO",  "MAIL", "RCPT",
                                         "DATA",   "HEADER",  "EOH",   "BODY", "EOM",
                                         "HOLD",   "QUIT",    "CLOSED"};

struct options {
    const char *socket;
    unsigned int conns;
    unsigned int txns;
    unsigned int rcpts;
    unsigned int headers;
    unsigned int threads;
    unsigned long messages;
    double duration;
    double warmup;
    double timeout;
    double hold_time;
    size_t body;
    unsigned int weights[NKINDS];
    unsigned int wsum;
    unsigned int reject_mask;
    bool check_level;
    bool print_tags;
    const char *tag_header;
    char **from;
    size_t nfrom;
    char **rcpt;
    size_t nrcpt;
    int hold; /* ST_HELO, ST_RCPT or -1 */
    unsigned long seed;
    bool verbose;
};

static struct options opt = {
    .conns = 16,
    .txns = 1,
    .rcpts = 1,
    .headers = 5,
    .threads = 1,
    .timeout = 10.0,
    .hold_time = 5.0,
    .body = 2048,
    .tag_header = "X-TLS-Trust",
    .hold = -1,
    .seed = 1,
};

/* Where the milter listens, resolved once. */
static struct sockaddr_storage peer;
static socklen_t peer_len;

/* Shared between the event loops. */
static atomic_ulong g_started;  /* transactions begun (for -n) */
static atomic_bool g_stop;      /* no new transactions */
static atomic_uint g_holding;   /* connections parked at --hold */
static atomic_bool g_release;   /* parked connections may go on */
static atomic_ulong g_conn_seq; /* connection serial numbers */
static atomic_uint g_reported;  /* failures printed so far */
static atomic_ulong g_failed;   /* sessions failed, all threads */
static uint64_t t_begin, t_measure;
static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;

struct buf {
    unsigned char *p;
    size_t len; /* bytes held */
    size_t off; /* bytes already consumed (in) or written (out) */
    size_t cap;
};

struct lat {
    uint64_t *v;
    size_t n, cap;
};

struct conn {
    int fd;
    enum step step;      /* the command whose reply we wait for */
    enum step hold_next; /* where a parked connection resumes */
    enum kind kind;
    unsigned long seq;
    uint32_t pflags; /* protocol flags the milter asked for */
    char *symlist[NSTAGES];
    unsigned int txn_done;
    unsigned int rcpt_sent;
    unsigned int hdr_sent;
    size_t body_sent;
    unsigned long msgno;
    bool in_txn;
    bool reserved; /* the first transaction was claimed when the connection opened */
    bool tag_seen;
    bool released;
    uint64_t t_mail; /* MAIL sent */
    uint64_t t_wait; /* last command sent, for the timeout */
    char qid[24];
    char addr[20];
    size_t pkt_start; /* offset of the packet being built in out */
    struct buf in, out;
};

struct worker {
    pthread_t tid;
    unsigned int id;
    struct conn *conns;
    size_t nconns;
    struct pollfd *pfd;
    size_t *pidx;
    uint64_t rng;
    struct lat lat_msg, lat_mail;
    unsigned long messages, tagged, refused, wrong, sessions, failed, warm;
    uint64_t t_last;
    bool oom;
};

/* ------------------------------------------------------------------ utils */

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_next(uint64_t *s)
{
    /* xorshift64* */
    uint64_t x = *s;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 2685821657736338717ULL;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
    va_list ap;

    fputs("milterload: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

static bool buf_reserve(struct buf *b, size_t extra)
{
    size_t need = b->len + extra, cap = b->cap ? b->cap : 512;
    unsigned char *p;

    if (need <= b->cap)
        return true;
    while (cap < need)
        cap *= 2;
    p = realloc(b->p, cap);
    if (p == NULL)
        return false;
    b->p = p;
    b->cap = cap;
    return true;
}

static bool lat_add(struct lat *l, uint64_t v)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4096;
        uint64_t *p = realloc(l->v, cap * sizeof(*p));

        if (p == NULL)
            return false;
        l->v = p;
        l->cap = cap;
    }
    l->v[l->n++] = v;
    return true;
}

static void put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* ---------------------------------------------------------------- packets */

/* Packets are built in c->out: 4-byte length, command byte, data. */
static void pkt_begin(struct worker *w, struct conn *c, char cmd)
{
    if (!buf_reserve(&c->out, 5)) {
        w->oom = true;
        return;
    }
    c->pkt_start = c->out.len;
    c->out.len += 4;
    c->out.p[c->out.len++] = (unsigned char)cmd;
}

static void pkt_add(struct worker *w, struct conn *c, const void *data, size_t n)
{
    if (!buf_reserve(&c->out, n)) {
        w->oom = true;
        return;
    }
    memcpy(c->out.p + c->out.len, data, n);
    c->out.len += n;
}

static void pkt_str(struct worker *w, struct conn *c, const char *s)
{
    pkt_add(w, c, s, strlen(s) + 1);
}

static void pkt_end(struct worker *w, struct conn *c)
{
    if (!w->oom)
        put_u32(c->out.p + c->pkt_start, (uint32_t)(c->out.len - c->pkt_start - 4));
}

static void pkt_simple(struct worker *w, struct conn *c, char cmd)
{
    pkt_begin(w, c, cmd);
    pkt_end(w, c);
}

/* Macro names compare without their braces: "{i}" asks for "i" too. */
static bool name_eq(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);

    if (alen >= 2 && a[0] == '{' && a[alen - 1] == '}') {
        a++;
        alen -= 2;
    }
    if (blen >= 2 && b[0] == '{' && b[blen - 1] == '}') {
        b++;
        blen -= 2;
    }
    return alen == blen && memcmp(a, b, alen) == 0;
}

/* Does the milter's list for this stage ask for name? No list: send everything. */
static bool wanted(const struct conn *c, int stage, const char *name)
{
    const char *s = c->symlist[stage];

    if (s == NULL)
        return true;
    while (*s != '\0') {
        size_t n;

        while (*s == ' ' || *s == ',' || *s == '\t')
            s++;
        n = strcspn(s, " ,\t");
        if (n > 0 && name_eq(s, n, name))
            return true;
        s += n;
    }
    return false;
}

/* One SMFIC_MACRO packet for cmd with the wanted pairs of nv (name, value, ...). */
static void send_macros(struct worker *w, struct conn *c, int stage, char cmd,
                        const char *const *nv, size_t npairs)
{
    size_t i, sent = 0;

    pkt_begin(w, c, SMFIC_MACRO);
    pkt_add(w, c, &cmd, 1);
    for (i = 0; i < npairs; i++) {
        if (nv[2 * i + 1] == NULL || !wanted(c, stage, nv[2 * i]))
            continue;
        pkt_str(w, c, nv[2 * i]);
        pkt_str(w, c, nv[2 * i + 1]);
        sent++;
    }
    if (sent == 0)
        c->out.len = c->pkt_start; /* nothing asked for: drop the packet */
    else
        pkt_end(w, c);
}

/* Put one name/value pair in nv at pair n (a NULL value is not sent); the new count. */
static size_t add_pair(const char **nv, size_t n, const char *name, const char *value)
{
    nv[2 * n] = name;
    nv[2 * n + 1] = value;
    return n + 1;
}

/* Append a fixture's name/value pairs (NULL-terminated) to nv at pair n; the new count. */
static size_t add_fixture(const char **nv, size_t n, const char *const *fixture)
{
    for (; fixture[0] != NULL; fixture += 2)
        n = add_pair(nv, n, fixture[0], fixture[1]);
    return n;
}

/* The TLS macros of each kind, as Postfix or Sendmail sends them (test/fixtures/macros.tsv). */
static size_t tls_macros(enum kind k, const char **nv)
{
    size_t n;

    if (k == K_PLAIN)
        return 0;
    n = add_fixture(nv, 0, tt_fixture_tls);
    switch (k) {
    case K_MEMBER_POSTFIX:
        return add_fixture(nv, n, tt_fixture_postfix_member);
    case K_MEMBER_SENDMAIL:
        return add_fixture(nv, n, tt_fixture_sendmail_member);
    case K_OUTSIDE:
        return add_fixture(nv, n, tt_fixture_postfix_outside);
    default:
        return n;
    }
}

static bool is_sendmail(const struct conn *c)
{
    return c->kind == K_MEMBER_SENDMAIL;
}

/* ----------------------------------------------------------- connections */

static void report(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void report(struct conn *c, const char *fmt, ...)
{
    va_list ap;
    unsigned int n = atomic_fetch_add(&g_reported, 1);

    if (n >= MAX_REPORTED_FAILURES && !opt.verbose) {
        if (n == MAX_REPORTED_FAILURES)
            fprintf(stderr, "milterload: more failures; not shown (use -v)\n");
        return;
    }
    pthread_mutex_lock(&print_lock);
    fprintf(stderr, "milterload: connection %lu (%s) at %s: ", c->seq, kind_names[c->kind],
            step_names[c->step]);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    pthread_mutex_unlock(&print_lock);
}

static void conn_close(struct conn *c)
{
    int i;

    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->step = ST_CLOSED;
    c->in.len = c->in.off = 0;
    c->out.len = c->out.off = 0;
    for (i = 0; i < NSTAGES; i++) {
        free(c->symlist[i]);
        c->symlist[i] = NULL;
    }
}

/* A wrong reply (wrong = true) or a broken session: either fails the run. */
static void conn_fail(struct worker *w, struct conn *c, bool wrong)
{
    if (wrong)
        w->wrong++;
    w->failed++;
    atomic_fetch_add(&g_failed, 1);
    if (c->step == ST_HOLD)
        atomic_fetch_sub(&g_holding, 1);
    conn_close(c);
}

static bool may_start(void)
{
    if (atomic_load(&g_stop))
        return false;
    return opt.messages == 0 || atomic_load(&g_started) < opt.messages;
}

/* Claim one transaction (from the -n budget) and number it. */
static bool txn_claim(unsigned long *msgno)
{
    if (atomic_load(&g_stop))
        return false;
    *msgno = atomic_fetch_add(&g_started, 1);
    return opt.messages == 0 || *msgno < opt.messages;
}

/* Try to write what is queued; false on a broken connection. */
static bool conn_flush(struct conn *c)
{
    while (c->out.off < c->out.len) {
        ssize_t n = send(c->fd, c->out.p + c->out.off, c->out.len - c->out.off, MSG_NOSIGNAL);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return true;
            return false;
        }
        c->out.off += (size_t)n;
    }
    c->out.len = c->out.off = 0;
    return true;
}

static enum kind pick_kind(struct worker *w)
{
    unsigned int r = (unsigned int)(rng_next(&w->rng) % opt.wsum);
    int k;

    for (k = 0; k < NKINDS; k++) {
        if (r < opt.weights[k])
            return (enum kind)k;
        r -= opt.weights[k];
    }
    return K_PLAIN;
}

static bool conn_open(struct worker *w, struct conn *c)
{
    unsigned char p[12];
    int fd;

    /* Keep the buffers of the slot's previous connection. */
    struct buf in = c->in, out = c->out;

    memset(c, 0, sizeof(*c));
    c->in = in;
    c->out = out;
    c->in.len = c->in.off = c->out.len = c->out.off = 0;
    c->fd = -1;
    c->step = ST_CLOSED;
    /* Claim the first transaction now, so -n opens no connection it cannot use. */
    if (opt.hold < 0 && !txn_claim(&c->msgno))
        return false;
    c->reserved = opt.hold < 0;
    fd = socket(peer.ss_family, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&peer, peer_len) != 0) {
        if (atomic_fetch_add(&g_reported, 1) < MAX_REPORTED_FAILURES || opt.verbose)
            fprintf(stderr, "milterload: connect %s: %s\n", opt.socket, strerror(errno));
        if (fd >= 0)
            close(fd);
        w->failed++;
        w->sessions++;
        atomic_fetch_add(&g_failed, 1);
        return false;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    c->fd = fd;
    c->seq = atomic_fetch_add(&g_conn_seq, 1);
    c->kind = pick_kind(w);
    /* 198.18.0.0/15 is the benchmarking range (RFC 2544): never a real client. */
    snprintf(c->addr, sizeof(c->addr), "198.%lu.%lu.%lu", 18 + (c->seq >> 16) % 2,
             (c->seq >> 8) & 255, c->seq & 255);
    w->sessions++;
    put_u32(p, MILTER_VERSION);
    put_u32(p + 4, SMFI_CURR_ACTS);
    put_u32(p + 8, SMFI_CURR_PROT);
    pkt_begin(w, c, SMFIC_OPTNEG);
    pkt_add(w, c, p, sizeof(p));
    pkt_end(w, c);
    c->step = ST_OPTNEG;
    c->t_wait = now_ns();
    if (!conn_flush(c)) {
        report(c, "write: %s", strerror(errno));
        conn_fail(w, c, false);
        return false;
    }
    return true;
}

/* Send the command for step; false when it waits for no reply (or is skipped). */
static bool send_step(struct worker *w, struct conn *c, enum step s)
{
    static const uint32_t skip[] = {
        [ST_CONNECT] = SMFIP_NOCONNECT, [ST_HELO] = SMFIP_NOHELO, [ST_MAIL] = SMFIP_NOMAIL,
        [ST_RCPT] = SMFIP_NORCPT,       [ST_DATA] = SMFIP_NODATA, [ST_HEADER] = SMFIP_NOHDRS,
        [ST_EOH] = SMFIP_NOEOH,         [ST_BODY] = SMFIP_NOBODY};
    static const uint32_t noreply[] = {
        [ST_CONNECT] = SMFIP_NR_CONN, [ST_HELO] = SMFIP_NR_HELO, [ST_MAIL] = SMFIP_NR_MAIL,
        [ST_RCPT] = SMFIP_NR_RCPT,    [ST_DATA] = SMFIP_NR_DATA, [ST_HEADER] = SMFIP_NR_HDR,
        [ST_EOH] = SMFIP_NR_EOH,      [ST_BODY] = SMFIP_NR_BODY};
    const char *nv[40];
    char buf[512], name[96];
    size_t n;

    if (s != ST_EOM && (c->pflags & skip[s]) != 0) {
        /* Skipped steps count as sent, so the loop in run() moves on. */
        if (s == ST_HEADER)
            c->hdr_sent = opt.headers;
        if (s == ST_BODY)
            c->body_sent = opt.body;
        return false;
    }
    switch (s) {
    case ST_CONNECT: {
        unsigned char port[2];
        unsigned int pn = 1024 + (unsigned int)(c->seq % 60000);

        snprintf(name, sizeof(name), "client-%lu.clients.example", c->seq);
        snprintf(buf, sizeof(buf), "%s [%s]", name, c->addr);
        n = add_fixture(nv, 0,
                        is_sendmail(c) ? tt_fixture_sendmail_connect : tt_fixture_postfix_connect);
        /* The client's own macros: per connection, not fixtures. */
        n = add_pair(nv, n, "_", buf);
        n = add_pair(nv, n, "{client_addr}", c->addr);
        n = add_pair(nv, n, "{client_name}", name);
        n = add_pair(nv, n, "{client_resolve}", is_sendmail(c) ? "OK" : NULL);
        send_macros(w, c, STAGE_CONNECT, SMFIC_CONNECT, nv, n);
        pkt_begin(w, c, SMFIC_CONNECT);
        pkt_str(w, c, name);
        pkt_add(w, c, "4", 1);
        port[0] = (unsigned char)(pn >> 8);
        port[1] = (unsigned char)pn;
        pkt_add(w, c, port, 2);
        pkt_str(w, c, c->addr);
        pkt_end(w, c);
        break;
    }
    case ST_HELO:
        n = tls_macros(c->kind, nv);
        if (n > 0)
            send_macros(w, c, STAGE_HELO, SMFIC_HELO, nv, n);
        pkt_begin(w, c, SMFIC_HELO);
        snprintf(name, sizeof(name), "client-%lu.clients.example", c->seq);
        pkt_str(w, c, name);
        pkt_end(w, c);
        break;
    case ST_MAIL: {
        const char *from = opt.from[c->msgno % opt.nfrom];

        snprintf(c->qid, sizeof(c->qid), "%lX%lX", c->seq, c->msgno);
        n = tls_macros(c->kind, nv);
        nv[2 * n] = "i";
        nv[2 * n + 1] = c->qid;
        nv[2 * n + 2] = "{mail_addr}";
        nv[2 * n + 3] = from;
        nv[2 * n + 4] = "{auth_type}";
        nv[2 * n + 5] = NULL;
        send_macros(w, c, STAGE_ENVFROM, SMFIC_MAIL, nv, n + 3);
        snprintf(buf, sizeof(buf), "<%s>", from);
        pkt_begin(w, c, SMFIC_MAIL);
        pkt_str(w, c, buf);
        pkt_str(w, c, "SIZE=4096");
        pkt_end(w, c);
        c->t_mail = now_ns();
        break;
    }
    case ST_RCPT: {
        const char *to = opt.rcpt[(c->msgno + c->rcpt_sent) % opt.nrcpt];

        nv[0] = "i";
        nv[1] = c->qid;
        nv[2] = "{rcpt_addr}";
        nv[3] = to;
        send_macros(w, c, STAGE_ENVRCPT, SMFIC_RCPT, nv, 2);
        snprintf(buf, sizeof(buf), "<%s>", to);
        pkt_begin(w, c, SMFIC_RCPT);
        pkt_str(w, c, buf);
        pkt_end(w, c);
        break;
    }
    case ST_DATA:
        nv[0] = "i";
        nv[1] = c->qid;
        send_macros(w, c, STAGE_DATA, SMFIC_DATA, nv, 1);
        pkt_simple(w, c, SMFIC_DATA);
        break;
    case ST_HEADER: {
        static const char *const names[] = {"Received",   "From", "To",          "Subject",
                                            "Message-ID", "Date", "MIME-Version"};
        unsigned int h = c->hdr_sent % (sizeof(names) / sizeof(names[0]));

        switch (h) {
        case 0:
            snprintf(buf, sizeof(buf),
                     "from client-%lu.clients.example (client-%lu.clients.example [%s]) by "
                     "mx.receiver.test (Postfix) with ESMTPS id %s for <%s>",
                     c->seq, c->seq, c->addr, c->qid, opt.rcpt[0]);
            break;
        case 1:
            snprintf(buf, sizeof(buf), "<%s>", opt.from[c->msgno % opt.nfrom]);
            break;
        case 2:
            snprintf(buf, sizeof(buf), "<%s>", opt.rcpt[0]);
            break;
        case 3:
            snprintf(buf, sizeof(buf), "milterload message %lu on connection %lu", c->msgno,
                     c->seq);
            break;
        case 4:
            snprintf(buf, sizeof(buf), "<%s.%lu@milterload.example>", c->qid, c->msgno);
            break;
        case 5:
            snprintf(buf, sizeof(buf), "Mon, 6 Jan 2025 10:00:00 +0100");
            break;
        default:
            snprintf(buf, sizeof(buf), "1.0");
            break;
        }
        pkt_begin(w, c, SMFIC_HEADER);
        pkt_str(w, c, names[h]);
        pkt_str(w, c, buf);
        pkt_end(w, c);
        c->hdr_sent++;
        break;
    }
    case ST_EOH:
        pkt_simple(w, c, SMFIC_EOH);
        break;
    case ST_BODY: {
        static const char line[] = "The quick brown fox jumps over the lazy dog, 0123456789.\r\n";
        size_t chunk = opt.body - c->body_sent, i;

        if (chunk > MILTER_CHUNK_SIZE)
            chunk = MILTER_CHUNK_SIZE;
        pkt_begin(w, c, SMFIC_BODY);
        for (i = 0; i < chunk; i += sizeof(line) - 1)
            pkt_add(w, c, line, chunk - i < sizeof(line) - 1 ? chunk - i : sizeof(line) - 1);
        pkt_end(w, c);
        c->body_sent += chunk;
        break;
    }
    case ST_EOM:
        nv[0] = "i";
        nv[1] = c->qid;
        send_macros(w, c, STAGE_EOM, SMFIC_BODYEOB, nv, 1);
        pkt_simple(w, c, SMFIC_BODYEOB);
        c->tag_seen = false;
        return true;
    default:
        return false;
    }
    return (c->pflags & noreply[s]) == 0;
}

static enum step after(struct conn *c, enum step s)
{
    switch (s) {
    case ST_OPTNEG:
        return ST_CONNECT;
    case ST_CONNECT:
        return ST_HELO;
    case ST_HELO:
        if (opt.hold == ST_HELO && !c->released) {
            c->hold_next = ST_MAIL;
            return ST_HOLD;
        }
        return ST_MAIL;
    case ST_MAIL:
        return ST_RCPT;
    case ST_RCPT:
        if (c->rcpt_sent < opt.rcpts)
            return ST_RCPT;
        if (opt.hold == ST_RCPT && !c->released) {
            c->hold_next = ST_DATA;
            return ST_HOLD;
        }
        return ST_DATA;
    case ST_DATA:
        return opt.headers > 0 ? ST_HEADER : ST_EOH;
    case ST_HEADER:
        return c->hdr_sent < opt.headers ? ST_HEADER : ST_EOH;
    case ST_EOH:
        return opt.body > 0 ? ST_BODY : ST_EOM;
    case ST_BODY:
        return c->body_sent < opt.body ? ST_BODY : ST_EOM;
    default:
        return c->txn_done < opt.txns ? ST_MAIL : ST_QUIT;
    }
}

/* Send commands from step s on until one waits for a reply. */
static void run(struct worker *w, struct conn *c, enum step s)
{
    for (;;) {
        if (s == ST_MAIL) {
            if (c->reserved) {
                c->reserved = false;
            } else if (!txn_claim(&c->msgno)) {
                s = ST_QUIT;
                continue;
            }
            c->in_txn = true;
            c->rcpt_sent = c->hdr_sent = 0;
            c->body_sent = 0;
        }
        if (s == ST_RCPT)
            c->rcpt_sent++;
        if (s == ST_HOLD) {
            c->step = ST_HOLD;
            atomic_fetch_add(&g_holding, 1);
            break;
        }
        if (s == ST_QUIT) {
            pkt_simple(w, c, SMFIC_QUIT);
            conn_flush(c);
            conn_close(c);
            return;
        }
        if (send_step(w, c, s)) {
            c->step = s;
            break;
        }
        s = after(c, s);
    }
    c->t_wait = now_ns();
    if (w->oom) {
        report(c, "out of memory");
        conn_fail(w, c, false);
    } else if (!conn_flush(c)) {
        report(c, "write: %s", strerror(errno));
        conn_fail(w, c, false);
    }
}

/* The transaction is over (tagged or refused as expected). */
static void txn_end(struct worker *w, struct conn *c)
{
    c->in_txn = false;
    c->txn_done++;
    run(w, c, after(c, ST_EOM));
}

static bool counted(const struct conn *c)
{
    return c->t_mail >= t_measure;
}

static void record_mail(struct worker *w, struct conn *c, uint64_t t)
{
    if (counted(c) && !lat_add(&w->lat_mail, t - c->t_mail))
        w->oom = true;
}

static bool is_refusal(char cmd, const unsigned char *d, size_t n)
{
    if (cmd == SMFIR_REJECT || cmd == SMFIR_TEMPFAIL)
        return true;
    return cmd == SMFIR_REPLYCODE && n >= 1 && (d[0] == '4' || d[0] == '5');
}

/* A refusal the run expected: abort the transaction as an MTA does. */
static void refused(struct worker *w, struct conn *c)
{
    if (counted(c))
        w->refused++;
    else
        w->warm++;
    w->t_last = now_ns();
    if (c->step != ST_EOM)
        pkt_simple(w, c, SMFIC_ABORT);
    txn_end(w, c);
}

static void parse_optneg(struct worker *w, struct conn *c, const unsigned char *d, size_t n)
{
    uint32_t version, actions;
    size_t pos = 12;

    if (n < 12) {
        report(c, "short OPTNEG reply (%zu bytes)", n);
        conn_fail(w, c, true);
        return;
    }
    version = get_u32(d);
    actions = get_u32(d + 4);
    c->pflags = get_u32(d + 8);
    if (version < 2 || version > MILTER_VERSION) {
        report(c, "milter protocol version %u", version);
        conn_fail(w, c, true);
        return;
    }
    if ((actions & ~(uint32_t)SMFI_CURR_ACTS) != 0 ||
        (c->pflags & ~(uint32_t)(SMFI_CURR_PROT | SMFI_INTERNAL)) != 0) {
        report(c, "milter asks for actions 0x%x / protocol 0x%x that were not offered", actions,
               c->pflags);
        conn_fail(w, c, true);
        return;
    }
    /* Macro lists: (uint32 stage, NUL-terminated list) pairs. */
    while (pos + 4 < n) {
        uint32_t stage = get_u32(d + pos);
        const unsigned char *s = d + pos + 4, *e = memchr(s, '\0', n - pos - 4);

        if (e == NULL || stage >= NSTAGES) {
            report(c, "malformed macro list in OPTNEG reply");
            conn_fail(w, c, true);
            return;
        }
        free(c->symlist[stage]);
        c->symlist[stage] = strdup((const char *)s);
        pos = (size_t)(e - d) + 1;
    }
    run(w, c, ST_CONNECT);
}

/* Header modification at EOM: 'h' name value, 'i'/'m' index name value. */
static void header_mod(struct worker *w, struct conn *c, char cmd, const unsigned char *d, size_t n)
{
    const char *name, *value;
    size_t off = cmd == SMFIR_ADDHEADER ? 0 : 4, nl;

    if (n < off + 2 || d[n - 1] != '\0' || memchr(d + off, '\0', n - off - 1) == NULL) {
        report(c, "malformed header modification '%c'", cmd);
        conn_fail(w, c, true);
        return;
    }
    name = (const char *)d + off;
    nl = strlen(name);
    value = name + nl + 1;
    if (strcasecmp(name, opt.tag_header) != 0 || cmd == SMFIR_CHGHEADER)
        return;
    c->tag_seen = true;
    if (opt.check_level) {
        const char *v = value;
        const char *want = kind_levels[c->kind];
        size_t wl = strlen(want);

        while (*v == ' ' || *v == '\t')
            v++;
        if (strncmp(v, want, wl) != 0 || (v[wl] != ';' && v[wl] != '\0' && v[wl] != ' ')) {
            report(c, "%s: %s, expected level %s", opt.tag_header, value, want);
            conn_fail(w, c, true);
            return;
        }
    }
    if (opt.print_tags) {
        pthread_mutex_lock(&print_lock);
        printf("TAG %s %s: %s\n", kind_names[c->kind], name, value);
        pthread_mutex_unlock(&print_lock);
    }
}

static void on_packet(struct worker *w, struct conn *c, char cmd, const unsigned char *d, size_t n)
{
    uint64_t t = now_ns();
    bool expect_refusal = (opt.reject_mask >> c->kind) & 1;

    c->t_wait = t;
    switch (c->step) {
    case ST_OPTNEG:
        if (cmd != SMFIC_OPTNEG) {
            report(c, "expected an OPTNEG reply, got '%c'", cmd);
            conn_fail(w, c, true);
            return;
        }
        parse_optneg(w, c, d, n);
        return;
    case ST_EOM:
        switch (cmd) {
        case SMFIR_ADDHEADER:
        case SMFIR_INSHEADER:
        case SMFIR_CHGHEADER:
            header_mod(w, c, cmd, d, n);
            return;
        case SMFIR_PROGRESS:
        case SMFIR_ADDRCPT:
        case SMFIR_DELRCPT:
        case SMFIR_ADDRCPT_PAR:
        case SMFIR_CHGFROM:
        case SMFIR_REPLBODY:
        case SMFIR_QUARANTINE:
            return;
        case SMFIR_CONTINUE:
        case SMFIR_ACCEPT:
            if (expect_refusal) {
                report(c, "message accepted; a refusal was expected");
                conn_fail(w, c, true);
                return;
            }
            if (!c->tag_seen) {
                report(c, "final reply '%c' without a valid %s header", cmd, opt.tag_header);
                conn_fail(w, c, true);
                return;
            }
            if (counted(c)) {
                w->messages++;
                w->tagged++;
                if (!lat_add(&w->lat_msg, t - c->t_mail))
                    w->oom = true;
            } else {
                w->warm++;
            }
            w->t_last = t;
            txn_end(w, c);
            return;
        default:
            if (expect_refusal && is_refusal(cmd, d, n)) {
                refused(w, c);
                return;
            }
            report(c, "unexpected final reply '%c'", cmd);
            conn_fail(w, c, true);
            return;
        }
    case ST_CONNECT:
    case ST_HELO:
    case ST_MAIL:
    case ST_RCPT:
    case ST_DATA:
    case ST_HEADER:
    case ST_EOH:
    case ST_BODY:
        if (cmd == SMFIR_PROGRESS)
            return;
        if (c->step == ST_MAIL)
            record_mail(w, c, t);
        if (cmd == SMFIR_CONTINUE) {
            run(w, c, after(c, c->step));
            return;
        }
        if (c->in_txn && expect_refusal && is_refusal(cmd, d, n)) {
            refused(w, c);
            return;
        }
        if (cmd == SMFIR_REPLYCODE)
            report(c, "unexpected reply '%c' %.*s", cmd, (int)(n > 0 ? n - 1 : 0), (const char *)d);
        else
            report(c, "unexpected reply '%c'", cmd);
        conn_fail(w, c, true);
        return;
    default:
        report(c, "unexpected packet '%c' while not waiting for a reply", cmd);
        conn_fail(w, c, true);
        return;
    }
}

static void conn_read(struct worker *w, struct conn *c)
{
    for (;;) {
        ssize_t n;

        if (c->in.off > 0 && c->in.off == c->in.len)
            c->in.off = c->in.len = 0;
        if (!buf_reserve(&c->in, 16384)) {
            report(c, "out of memory");
            conn_fail(w, c, false);
            return;
        }
        n = recv(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            report(c, "connection %s by the milter", n == 0 ? "closed" : strerror(errno));
            conn_fail(w, c, false);
            return;
        }
        c->in.len += (size_t)n;
        while (c->fd >= 0 && c->in.len - c->in.off >= 4) {
            const unsigned char *p = c->in.p + c->in.off;
            uint32_t len = get_u32(p);

            if (len == 0 || len > MAX_PACKET) {
                report(c, "bad packet length %u", len);
                conn_fail(w, c, true);
                return;
            }
            if (c->in.len - c->in.off < 4 + (size_t)len)
                break;
            c->in.off += 4 + (size_t)len;
            on_packet(w, c, (char)p[4], p + 5, len - 1);
        }
        if (c->fd < 0)
            return;
        if (c->in.off > 0) {
            memmove(c->in.p, c->in.p + c->in.off, c->in.len - c->in.off);
            c->in.len -= c->in.off;
            c->in.off = 0;
        }
    }
}

/* ------------------------------------------------------------ event loop */

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    uint64_t timeout_ns = (uint64_t)(opt.timeout * 1e9);
    size_t i;

    for (i = 0; i < w->nconns; i++) {
        w->conns[i].fd = -1;
        w->conns[i].step = ST_CLOSED;
        if (may_start())
            conn_open(w, &w->conns[i]);
    }
    for (;;) {
        size_t np = 0;
        int r;
        uint64_t t;
        bool release = opt.hold >= 0 && atomic_load(&g_release);

        for (i = 0; i < w->nconns; i++) {
            struct conn *c = &w->conns[i];

            if (c->fd < 0 && opt.hold < 0 && may_start())
                conn_open(w, c);
            if (c->fd < 0)
                continue;
            if (c->step == ST_HOLD && release) {
                atomic_fetch_sub(&g_holding, 1);
                c->released = true;
                run(w, c, c->hold_next);
                if (c->fd < 0)
                    continue;
            }
            w->pfd[np].fd = c->fd;
            w->pfd[np].events = (short)(POLLIN | (c->out.len > c->out.off ? POLLOUT : 0));
            w->pfd[np].revents = 0;
            w->pidx[np++] = i;
        }
        if (np == 0) {
            if (opt.hold >= 0 || !may_start())
                break;
            /* Every connect failed: do not spin. */
            usleep(100000);
            continue;
        }
        r = poll(w->pfd, np, 50);
        if (r < 0 && errno != EINTR) {
            perror("milterload: poll");
            break;
        }
        for (i = 0; r > 0 && i < np; i++) {
            struct conn *c = &w->conns[w->pidx[i]];
            short ev = w->pfd[i].revents;

            if (ev == 0 || c->fd != w->pfd[i].fd)
                continue;
            if ((ev & POLLOUT) && !conn_flush(c)) {
                report(c, "write: %s", strerror(errno));
                conn_fail(w, c, false);
                continue;
            }
            if (ev & (POLLIN | POLLHUP | POLLERR))
                conn_read(w, c);
        }
        t = now_ns();
        for (i = 0; i < w->nconns; i++) {
            struct conn *c = &w->conns[i];

            if (c->fd >= 0 && c->step != ST_HOLD && t - c->t_wait > timeout_ns) {
                report(c, "no reply within %.1f s", opt.timeout);
                conn_fail(w, c, false);
            }
        }
    }
    return NULL;
}

/* ------------------------------------------------------------ set-up */

static void resolve(const char *spec)
{
    if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0) {
        struct sockaddr_un *un = (struct sockaddr_un *)&peer;
        const char *path = strchr(spec, ':') + 1;

        if (strlen(path) >= sizeof(un->sun_path))
            die("socket path too long: %s", path);
        memset(un, 0, sizeof(*un));
        un->sun_family = AF_UNIX;
        strcpy(un->sun_path, path);
        peer_len = sizeof(*un);
    } else if (strncmp(spec, "inet:", 5) == 0 || strncmp(spec, "inet6:", 6) == 0) {
        const char *p = strchr(spec, ':') + 1, *at = strchr(p, '@');
        struct addrinfo hints, *res;
        char port[16];
        int e;

        if (at == NULL || (size_t)(at - p) >= sizeof(port) || at == p)
            die("bad socket '%s' (inet:PORT@HOST)", spec);
        memcpy(port, p, (size_t)(at - p));
        port[at - p] = '\0';
        memset(&hints, 0, sizeof(hints));
        hints.ai_family = spec[4] == '6' ? AF_INET6 : AF_INET;
        hints.ai_socktype = SOCK_STREAM;
        e = getaddrinfo(at + 1, port, &hints, &res);
        if (e != 0)
            die("%s: %s", spec, gai_strerror(e));
        memcpy(&peer, res->ai_addr, res->ai_addrlen);
        peer_len = res->ai_addrlen;
        freeaddrinfo(res);
    } else {
        die("bad socket '%s' (inet:PORT@HOST or unix:PATH)", spec);
    }
}

static char **split_list(const char *arg, size_t *n)
{
    char *copy = strdup(arg), *save = NULL, *tok, **v = NULL;

    *n = 0;
    if (copy == NULL)
        die("out of memory");
    for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        char **nv = realloc(v, (*n + 1) * sizeof(*v));

        if (nv == NULL)
            die("out of memory");
        v = nv;
        v[(*n)++] = tok;
    }
    if (*n == 0)
        die("empty list '%s'", arg);
    return v;
}

static int kind_from_name(const char *s, size_t n)
{
    int k;

    for (k = 0; k < NKINDS; k++)
        if (strlen(kind_names[k]) == n && strncmp(kind_names[k], s, n) == 0)
            return k;
    return -1;
}

static void parse_mix(const char *arg)
{
    size_t n, i;
    char **v = split_list(arg, &n);

    memset(opt.weights, 0, sizeof(opt.weights));
    opt.wsum = 0;
    for (i = 0; i < n; i++) {
        char *eq = strchr(v[i], '=');
        size_t nl = eq != NULL ? (size_t)(eq - v[i]) : strlen(v[i]);
        int k = kind_from_name(v[i], nl);
        unsigned long wgt = 1;

        if (k < 0)
            die("unknown client kind '%.*s' (plain, encrypted, member-postfix, "
                "member-sendmail, outside)",
                (int)nl, v[i]);
        if (eq != NULL) {
            char *end;

            wgt = strtoul(eq + 1, &end, 10);
            if (*end != '\0' || wgt > 1000000)
                die("bad weight in '%s'", v[i]);
        }
        opt.weights[k] += (unsigned int)wgt;
        opt.wsum += (unsigned int)wgt;
    }
    if (opt.wsum == 0)
        die("--mix gives every kind weight 0");
    free(v[0]);
    free(v);
}

static void parse_reject(const char *arg)
{
    size_t n, i;
    char **v;

    if (arg == NULL) {
        opt.reject_mask = (1u << NKINDS) - 1;
        return;
    }
    v = split_list(arg, &n);
    for (i = 0; i < n; i++) {
        int k = kind_from_name(v[i], strlen(v[i]));

        if (k < 0)
            die("unknown client kind '%s' in --expect-reject", v[i]);
        opt.reject_mask |= 1u << k;
    }
    free(v[0]);
    free(v);
}

static unsigned long num(const char *arg, const char *what, unsigned long min, unsigned long max)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(arg, &end, 10);
    if (errno != 0 || *end != '\0' || arg[0] == '-' || v < min || v > max)
        die("%s must be a number from %lu to %lu, got '%s'", what, min, max, arg);
    return v;
}

static double seconds(const char *arg, const char *what)
{
    char *end;
    double v = strtod(arg, &end);

    if (*end != '\0' || !(v >= 0) || v > 86400)
        die("%s must be a number of seconds, got '%s'", what, arg);
    return v;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: milterload -s SOCKET [options]\n"
            "Play the MTA side of the milter protocol (v6) against a milter, check every\n"
            "reply, and report messages/s and latency percentiles.\n"
            "\n"
            "  -s, --socket SPEC        inet:PORT@HOST, inet6:PORT@HOST or unix:PATH\n"
            "  -c, --connections N      concurrent connections (default 16)\n"
            "  -n, --messages N         transactions in all (default 1000 unless -d)\n"
            "  -d, --duration SECONDS   run this long instead (in-flight messages finish)\n"
            "  -t, --transactions N     transactions per connection (default 1)\n"
            "  -r, --rcpts N            recipients per transaction (default 1)\n"
            "  -H, --headers N          headers per message (default 5)\n"
            "  -b, --body BYTES         body size, sent only if the milter wants it (2048)\n"
            "  -m, --mix KIND[=W],...   client kinds and weights, chosen per connection:\n"
            "                           plain, encrypted, member-postfix (issuer\n"
            "                           \"Red Segura CA\"), member-sendmail (xtext DN\n"
            "                           /C=ES/O=Red Segura/OU=Test/CN=Red Segura CA,\n"
            "                           {verify}=OK), outside (issuer \"Outside CA\");\n"
            "                           default: all five, equal weights\n"
            "  -f, --from ADDR,...      envelope senders, one per transaction in turn\n"
            "                           (default sender@sender.example)\n"
            "  -R, --rcpt ADDR,...      recipients, in turn (default rcpt@receiver.test)\n"
            "      --tag-header NAME    header the milter must insert at EOM (X-TLS-Trust)\n"
            "      --expect-reject[=KIND,...]\n"
            "                           transactions (of these kinds; default all) must be\n"
            "                           refused (reject, tempfail or a 4xx/5xx reply) at\n"
            "                           MAIL, RCPT or EOM; the others must be tagged\n"
            "      --check-level        the tag must start with the kind's trust level\n"
            "                           (none, encrypted, trusted, trusted, verified)\n"
            "      --print-tags         print every tag header received\n"
            "  -w, --warmup SECONDS     do not count messages begun in the first SECONDS\n"
            "  -T, --threads N          event-loop threads (default 1)\n"
            "      --timeout SECONDS    longest wait for one reply (default 10)\n"
            "      --hold helo|rcpt     take every connection to this point (after HELO:\n"
            "                           idle; after RCPT: a message in flight), print\n"
            "                           \"holding N connections\", wait --hold-time, finish\n"
            "      --hold-time SECONDS  (default 5)\n"
            "      --seed N             random seed for the client kinds (default 1)\n"
            "  -v, --verbose            print every failure, not only the first %d\n"
            "  -h, --help               this text\n"
            "\n"
            "Like an MTA, milterload leaves Nagle and delayed ACKs on: over inet: sockets a\n"
            "libmilter milter that writes a header change and its final reply separately\n"
            "waits about 40 ms per message at EOM unless it sets TCP_NODELAY.\n"
            "\n"
            "The last line of output is \"RESULT key=value ...\" for scripts. Exit status:\n"
            "0 when every reply was right and no session failed, 1 otherwise, 2 on a\n"
            "usage error.\n",
            MAX_REPORTED_FAILURES);
}

static void parse_args(int argc, char **argv)
{
    enum { O_TAG = 256, O_REJECT, O_CHECK, O_PRINT, O_TIMEOUT, O_HOLD, O_HOLDTIME, O_SEED };
    static const struct option longopts[] = {
        {"socket", required_argument, NULL, 's'},
        {"connections", required_argument, NULL, 'c'},
        {"messages", required_argument, NULL, 'n'},
        {"duration", required_argument, NULL, 'd'},
        {"transactions", required_argument, NULL, 't'},
        {"rcpts", required_argument, NULL, 'r'},
        {"headers", required_argument, NULL, 'H'},
        {"body", required_argument, NULL, 'b'},
        {"mix", required_argument, NULL, 'm'},
        {"from", required_argument, NULL, 'f'},
        {"rcpt", required_argument, NULL, 'R'},
        {"warmup", required_argument, NULL, 'w'},
        {"threads", required_argument, NULL, 'T'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"tag-header", required_argument, NULL, O_TAG},
        {"expect-reject", optional_argument, NULL, O_REJECT},
        {"check-level", no_argument, NULL, O_CHECK},
        {"print-tags", no_argument, NULL, O_PRINT},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"hold", required_argument, NULL, O_HOLD},
        {"hold-time", required_argument, NULL, O_HOLDTIME},
        {"seed", required_argument, NULL, O_SEED},
        {NULL, 0, NULL, 0},
    };
    int o;

    parse_mix("plain,encrypted,member-postfix,member-sendmail,outside");
    while ((o = getopt_long(argc, argv, "s:c:n:d:t:r:H:b:m:f:R:w:T:vh", longopts, NULL)) != -1) {
        switch (o) {
        case 's':
            opt.socket = optarg;
            break;
        case 'c':
            opt.conns = (unsigned int)num(optarg, "-c", 1, 100000);
            break;
        case 'n':
            opt.messages = num(optarg, "-n", 1, 4000000000UL);
            break;
        case 'd':
            opt.duration = seconds(optarg, "-d");
            break;
        case 't':
            opt.txns = (unsigned int)num(optarg, "-t", 1, 100000);
            break;
        case 'r':
            opt.rcpts = (unsigned int)num(optarg, "-r", 1, 10000);
            break;
        case 'H':
            opt.headers = (unsigned int)num(optarg, "-H", 0, 10000);
            break;
        case 'b':
            opt.body = num(optarg, "-b", 0, 100000000);
            break;
        case 'm':
            parse_mix(optarg);
            break;
        case 'f':
            opt.from = split_list(optarg, &opt.nfrom);
            break;
        case 'R':
            opt.rcpt = split_list(optarg, &opt.nrcpt);
            break;
        case 'w':
            opt.warmup = seconds(optarg, "-w");
            break;
        case 'T':
            opt.threads = (unsigned int)num(optarg, "-T", 1, 256);
            break;
        case 'v':
            opt.verbose = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        case O_TAG:
            opt.tag_header = optarg;
            break;
        case O_REJECT:
            parse_reject(optarg);
            break;
        case O_CHECK:
            opt.check_level = true;
            break;
        case O_PRINT:
            opt.print_tags = true;
            break;
        case O_TIMEOUT:
            opt.timeout = seconds(optarg, "--timeout");
            break;
        case O_HOLD:
            if (strcmp(optarg, "helo") == 0)
                opt.hold = ST_HELO;
            else if (strcmp(optarg, "rcpt") == 0)
                opt.hold = ST_RCPT;
            else
                die("--hold takes helo or rcpt");
            break;
        case O_HOLDTIME:
            opt.hold_time = seconds(optarg, "--hold-time");
            break;
        case O_SEED:
            opt.seed = num(optarg, "--seed", 0, (unsigned long)-1);
            break;
        default:
            usage(stderr);
            exit(2);
        }
    }
    if (optind != argc) {
        usage(stderr);
        exit(2);
    }
    if (opt.socket == NULL)
        die("no socket given (-s inet:PORT@HOST or -s unix:PATH; --help for more)");
    if (opt.messages == 0 && opt.duration == 0)
        opt.messages = 1000;
    if (opt.hold >= 0) {
        /* Every connection runs its -t transactions once released, then stops. */
        opt.messages = 0;
        opt.duration = 0;
    }
    if (opt.threads > opt.conns)
        opt.threads = opt.conns;
    if (opt.from == NULL)
        opt.from = split_list("sender@sender.example", &opt.nfrom);
    if (opt.rcpt == NULL)
        opt.rcpt = split_list("rcpt@receiver.test", &opt.nrcpt);
}

/* ------------------------------------------------------------ report */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* Percentile of sorted l, q in parts per 100,000 (p99.9 = 99900), in microseconds. */
static double pct(const struct lat *l, unsigned long q)
{
    size_t i;

    if (l->n == 0)
        return 0;
    i = (size_t)(((uint64_t)l->n * q + 99999) / 100000);
    if (i > 0)
        i--;
    if (i >= l->n)
        i = l->n - 1;
    return (double)l->v[i] / 1000.0;
}

static void merge(struct lat *dst, const struct lat *src)
{
    size_t i;

    for (i = 0; i < src->n; i++)
        if (!lat_add(dst, src->v[i]))
            die("out of memory");
}

static void on_sigint(int sig)
{
    (void)sig;
    atomic_store(&g_stop, true);
}

int main(int argc, char **argv)
{
    struct worker *w;
    struct lat msg = {0}, mail = {0};
    unsigned long tagged = 0, refusedn = 0, wrong = 0, sessions = 0, failed = 0, warm = 0;
    uint64_t t_last = 0, t_end;
    double elapsed, rate;
    unsigned int i;
    struct sigaction sa;
    bool oom = false;

    parse_args(argc, argv);
    resolve(opt.socket);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    w = calloc(opt.threads, sizeof(*w));
    if (w == NULL)
        die("out of memory");
    t_begin = now_ns();
    t_measure = t_begin + (uint64_t)(opt.warmup * 1e9);
    for (i = 0; i < opt.threads; i++) {
        size_t n = opt.conns / opt.threads + (i < opt.conns % opt.threads);

        w[i].id = i;
        w[i].rng = (opt.seed + 1) * 0x9E3779B97F4A7C15ULL + i * 0xBF58476D1CE4E5B9ULL;
        w[i].nconns = n;
        w[i].conns = calloc(n, sizeof(*w[i].conns));
        w[i].pfd = calloc(n, sizeof(*w[i].pfd));
        w[i].pidx = calloc(n, sizeof(*w[i].pidx));
        if (w[i].conns == NULL || w[i].pfd == NULL || w[i].pidx == NULL)
            die("out of memory");
    }
    for (i = 0; i < opt.threads; i++)
        if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]) != 0)
            die("cannot start thread %u", i);

    if (opt.hold >= 0) {
        /* Wait until every connection is parked (or gone), then hold. */
        for (;;) {
            unsigned int h = atomic_load(&g_holding);
            unsigned long gone = atomic_load(&g_failed);

            if (h + gone >= opt.conns || atomic_load(&g_stop))
                break;
            usleep(10000);
        }
        printf("holding %u connections at %s for %.1f s\n", atomic_load(&g_holding),
               opt.hold == ST_HELO ? "HELO" : "RCPT", opt.hold_time);
        fflush(stdout);
        for (t_end = now_ns() + (uint64_t)(opt.hold_time * 1e9);
             now_ns() < t_end && !atomic_load(&g_stop);)
            usleep(10000);
        atomic_store(&g_release, true);
    } else if (opt.duration > 0) {
        t_end = t_begin + (uint64_t)(opt.duration * 1e9);
        while (now_ns() < t_end && !atomic_load(&g_stop))
            usleep(1000);
        atomic_store(&g_stop, true);
    }
    for (i = 0; i < opt.threads; i++)
        pthread_join(w[i].tid, NULL);

    for (i = 0; i < opt.threads; i++) {
        merge(&msg, &w[i].lat_msg);
        merge(&mail, &w[i].lat_mail);
        tagged += w[i].tagged;
        refusedn += w[i].refused;
        wrong += w[i].wrong;
        sessions += w[i].sessions;
        failed += w[i].failed;
        warm += w[i].warm;
        oom |= w[i].oom;
        if (w[i].t_last > t_last)
            t_last = w[i].t_last;
    }
    qsort(msg.v, msg.n, sizeof(*msg.v), cmp_u64);
    qsort(mail.v, mail.n, sizeof(*mail.v), cmp_u64);
    elapsed = t_last > t_measure ? (double)(t_last - t_measure) / 1e9 : 0;
    rate = elapsed > 0 ? (double)(tagged + refusedn) / elapsed : 0;

    printf("milterload: %s, %u connection(s), %u transaction(s) each, %u recipient(s)\n",
           opt.socket, opt.conns, opt.txns, opt.rcpts);
    printf("  messages        %lu tagged, %lu refused as expected, %lu in warm-up, %.2f s\n",
           tagged, refusedn, warm, elapsed);
    printf("  throughput      %.1f messages/s\n", rate);
    printf("  message latency p50 %.1f us  p99 %.1f us  p99.9 %.1f us  max %.1f us "
           "(MAIL sent -> final EOM reply)\n",
           pct(&msg, 50000), pct(&msg, 99000), pct(&msg, 99900), pct(&msg, 100000));
    printf("  MAIL reply      p50 %.1f us  p99 %.1f us  p99.9 %.1f us  max %.1f us "
           "(policy decision, seen from the MTA)\n",
           pct(&mail, 50000), pct(&mail, 99000), pct(&mail, 99900), pct(&mail, 100000));
    printf("  sessions        %lu, %lu failed; wrong replies %lu\n", sessions, failed, wrong);
    printf("RESULT messages=%lu tagged=%lu refused=%lu warm=%lu elapsed=%.3f rate=%.1f "
           "lat_p50_us=%.1f lat_p99_us=%.1f lat_p999_us=%.1f lat_max_us=%.1f "
           "mail_p50_us=%.1f mail_p99_us=%.1f mail_p999_us=%.1f mail_max_us=%.1f "
           "sessions=%lu failed_sessions=%lu wrong_replies=%lu\n",
           tagged + refusedn, tagged, refusedn, warm, elapsed, rate, pct(&msg, 50000),
           pct(&msg, 99000), pct(&msg, 99900), pct(&msg, 100000), pct(&mail, 50000),
           pct(&mail, 99000), pct(&mail, 99900), pct(&mail, 100000), sessions, failed, wrong);
    if (oom)
        fprintf(stderr, "milterload: out of memory while recording\n");
    for (i = 0; i < opt.threads; i++) {
        size_t j;

        for (j = 0; j < w[i].nconns; j++) {
            conn_close(&w[i].conns[j]);
            free(w[i].conns[j].in.p);
            free(w[i].conns[j].out.p);
        }
        free(w[i].conns);
        free(w[i].pfd);
        free(w[i].pidx);
        free(w[i].lat_msg.v);
        free(w[i].lat_mail.v);
    }
    free(w);
    free(msg.v);
    free(mail.v);
    if (wrong > 0 || failed > 0 || oom || tagged + refusedn + warm == 0)
        return 1;
    return 0;
}
