/*
 * main.c - tlstrust-milter: command line, configuration check (-n), socket
 * and privileges, daemon start, and signals. main() runs named steps:
 * parse_options, load_config (check_only for -n),
 * block_signals_and_open_log, open_socket, drop_privileges, detach,
 * start_milter, then serve_signals until a stop, and shut_down. The main
 * thread takes the signals (reload on SIGHUP or SIGUSR1, stop on SIGTERM
 * or SIGINT) from a signalfd, with the signals blocked in every thread,
 * and runs libmilter in a second thread; libmilter's own signal thread,
 * which would take SIGHUP as a request to stop, is parked for good
 * (signals.c).
 */
#define _GNU_SOURCE /* pthread_setattr_default_np */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "callbacks.h"
#include "config.h"
#include "counters.h"
#include "history.h"
#include "log.h"
#include "metrics.h"
#include "pidfile.h"
#include "privs.h"
#include "signals.h"
#include "snapshot.h"
#include "socket.h"
#include "socketmap.h"
#include "sockspec.h"
#include "tcp.h"

#define DEFAULT_CONFIG "/etc/tlstrust/tlstrust.conf"
/*
 * Stack of libmilter's worker threads; the deepest callback (end of
 * message, with its 5 KiB edit plan) needs under 16 KiB.
 */
#define WORKER_STACK (256 * 1024)
/* Seconds open sessions get to end after a stop. */
#define STOP_GRACE 10
/* Seconds for libmilter's signal thread to reach sigwait() after the start. */
#define PARK_TIMEOUT 10

/* Wakes the main thread: a retired configuration to free, libmilter's state changed. */
static int wake_fds[2] = {-1, -1};
/* Set by the milter thread when smfi_main() has returned. */
static atomic_bool milter_ended;
/* The configuration's absolute path, reread on every reload; lives as long as the process. */
static char *config_path;

static void usage(FILE *out)
{
    fprintf(out, "usage: tlstrust-milter [-f] [-n [-v]] [-d] [-V] [-c config] [-p socket]\n"
                 "  -c FILE    configuration file (default " DEFAULT_CONFIG ")\n"
                 "  -p SOCKET  listen here instead of the configured Socket\n"
                 "  -f         stay in the foreground\n"
                 "  -n         check configuration, table and CA bundles, then exit\n"
                 "  -v         with -n: print every key with its effective value\n"
                 "  -d         print every key with its default, then exit\n"
                 "  -V         print the version and exit\n");
}

/* A full pipe only means the main thread has a wake-up queued already. */
static void wake_main(void)
{
    unsigned char b = 0;

    if (write(wake_fds[1], &b, 1) < 0) {
    }
}

static void *milter_thread(void *arg)
{
    int *status = arg;

    *status = smfi_main();
    /* Wake the main thread if libmilter stopped on its own. */
    atomic_store(&milter_ended, true);
    wake_main();
    return NULL;
}

static void reload(void)
{
    const char *path = config_path;
    char err[1024];
    struct tt_config *cfg = tt_config_load(path, time(NULL), err, sizeof(err));
    size_t nnets, entries;
    int level;

    if (cfg == NULL) {
        tt_log(LOG_ERR, "reload failed: %s; keeping the previous configuration", err);
        tt_counters_config(false, time(NULL));
        return;
    }
    level = cfg->log_level;
    nnets = cfg->trust.nnets;
    entries = tt_table_count(cfg->table);
    /* cfg belongs to the snapshot from here on, whatever the outcome. */
    if (!tt_snapshot_install(cfg, err, sizeof(err))) {
        tt_log(LOG_ERR, "reload failed: %s; keeping the previous configuration", err);
        tt_counters_config(false, time(NULL));
        return;
    }
    tt_counters_config(true, time(NULL));
    tt_log_set_level(level);
    tt_log(LOG_NOTICE, "reloaded %s: %zu trusted network(s), %zu table entries", path, nnets,
           entries);
}

static bool daemonize(char *err, size_t errsz)
{
    pid_t pid = fork();
    int fd;

    if (pid < 0) {
        snprintf(err, errsz, "fork: %s", strerror(errno));
        return false;
    }
    if (pid > 0)
        _exit(0);
    setsid();
    if (chdir("/") != 0) {
        snprintf(err, errsz, "chdir /: %s", strerror(errno));
        return false;
    }
    fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
    return true;
}

/* Reload on SIGHUP/SIGUSR1, once for a burst read together. false: stop on SIGTERM/SIGINT. */
static bool take_signals(int sigfd)
{
    struct signalfd_siginfo si[16];
    ssize_t n = read(sigfd, si, sizeof(si));
    bool reload_wanted = false;
    size_t i;

    if (n < 0)
        return errno == EINTR || errno == EAGAIN;
    for (i = 0; i < (size_t)n / sizeof(si[0]); i++) {
        if (si[i].ssi_signo == SIGTERM || si[i].ssi_signo == SIGINT)
            return false;
        reload_wanted = true;
    }
    if (reload_wanted)
        reload();
    return true;
}

/* Drain the wake-up pipe; free retired configurations. */
static void take_wakeups(void)
{
    unsigned char buf[256];

    while (read(wake_fds[0], buf, sizeof(buf)) > 0) {
    }
    tt_snapshot_reap();
}

/*
 * The main thread's loop until a stop. Also the start-up check that
 * libmilter's signal thread was parked (signals.c): without it a SIGHUP
 * could stop the filter, so the filter stops instead of running that way.
 * false if the filter had to stop for a failure.
 */
static bool serve_signals(int sigfd)
{
    time_t deadline = time(NULL) + PARK_TIMEOUT;

    for (;;) {
        struct pollfd pfd[2] = {{.fd = sigfd, .events = POLLIN},
                                {.fd = wake_fds[0], .events = POLLIN}};
        bool parked = tt_signals_milter_parked();
        int r = poll(pfd, 2, parked ? -1 : 1000);

        if (r < 0 && errno != EINTR) {
            tt_log(LOG_ERR, "poll: %s", strerror(errno));
            return false;
        }
        if (r > 0 && (pfd[1].revents & POLLIN) != 0)
            take_wakeups();
        if (atomic_load(&milter_ended))
            return true;
        if (r > 0 && (pfd[0].revents & POLLIN) != 0 && !take_signals(sigfd))
            return true;
        if (!parked && tt_signals_milter_parked())
            tt_log(LOG_DEBUG, "libmilter's signal thread is parked");
        else if (!parked && time(NULL) > deadline) {
            tt_log(LOG_ERR, "libmilter's signal thread was not parked: a SIGHUP could stop "
                            "the filter; stopping");
            return false;
        }
    }
}

/* What the command line asks for. */
struct options {
    const char *path;          /* the configuration file */
    const char *sock_override; /* -p */
    bool foreground, check, verbose;
};

/* What the start-up steps hand on to each other. */
struct daemon {
    struct tt_config *cfg; /* until installed as the snapshot */
    uid_t uid;             /* UserID's, when set */
    gid_t gid;
    int sigfd; /* the signals the main thread takes */
    int pidfd; /* the pid file, opened as root, -1 when none */
    bool pid_created;
    char *pidfile; /* its path, kept past the configuration for the shutdown */
    pthread_t tid; /* the thread that runs libmilter */
    int status;    /* smfi_main's result */
};

/* A step returns GO_ON, or the exit status main returns at once. */
#define GO_ON (-1)

/* Options and arguments; -d, -V and -h are answered here. */
static int parse_options(int argc, char **argv, struct options *o)
{
    int opt;

    while ((opt = getopt(argc, argv, "c:p:fnvdVh")) != -1) {
        switch (opt) {
        case 'c':
            o->path = optarg;
            break;
        case 'p':
            o->sock_override = optarg;
            break;
        case 'f':
            o->foreground = true;
            break;
        case 'n':
            o->check = true;
            break;
        case 'v':
            o->verbose = true;
            break;
        case 'd':
            tt_config_print_defaults(stdout);
            return EX_OK;
        case 'V':
            printf("tlstrust-milter %s (libmilter, %s)%s\n", TLSTRUST_VERSION, "OpenSSL",
#ifdef TT_FAULT_INJECTION
                   " fault-injection"
#else
                   ""
#endif
            );
            return EX_OK;
        case 'h':
            usage(stdout);
            return EX_OK;
        default:
            usage(stderr);
            return EX_USAGE;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return EX_USAGE;
    }
    return GO_ON;
}

/*
 * Read and check the configuration, with -p in place of Socket, and
 * whether its UserID can be taken. Errors go to stderr: nothing is
 * detached yet.
 */
static int load_config(const struct options *o, struct daemon *d)
{
    char err[1024];

    /* A bad -p is a configuration error like a bad Socket line. */
    if (o->sock_override != NULL && !tt_sockspec_check(o->sock_override, err, sizeof(err))) {
        fprintf(stderr, "tlstrust-milter: invalid socket '%s': %s\n", o->sock_override, err);
        return EX_CONFIG;
    }
    /* Reloads reread this path after the daemon has changed to "/". */
    config_path = realpath(o->path, NULL);
    if (config_path == NULL) {
        fprintf(stderr, "tlstrust-milter: %s: %s\n", o->path, strerror(errno));
        return EX_CONFIG;
    }
    /* Warnings about CA expiry go to stderr while we check. */
    tt_log_open("tlstrust-milter", false, LOG_MAIL);
    d->cfg = tt_config_load(config_path, time(NULL), err, sizeof(err));
    if (d->cfg == NULL) {
        fprintf(stderr, "tlstrust-milter: %s\n", err);
        return EX_CONFIG;
    }
    if (o->sock_override != NULL) {
        free(d->cfg->socket);
        d->cfg->socket = strdup(o->sock_override);
        if (d->cfg->socket == NULL)
            return EX_OSERR;
    }
    if (d->cfg->user != NULL &&
        !tt_privs_lookup(d->cfg->user, &d->uid, &d->gid, err, sizeof(err))) {
        fprintf(stderr, "tlstrust-milter: %s\n", err);
        return EX_CONFIG;
    }
    /* Fail before touching the socket when the switch to UserID cannot work. */
    if (d->cfg->user != NULL && !o->check && geteuid() != 0 && geteuid() != d->uid) {
        fprintf(stderr, "tlstrust-milter: UserID %s: not running as root, cannot switch user\n",
                d->cfg->user);
        return EX_NOPERM;
    }
    return GO_ON;
}

/* -n: what the configuration holds (-v: every key), then exit. */
static int check_only(const struct tt_config *cfg, bool verbose)
{
    if (verbose)
        tt_config_print(cfg, stdout);
    else
        tt_config_describe(cfg, stdout);
    return EX_OK;
}

/* Block the signals before any thread exists, then log where the configuration says. */
static int block_signals_and_open_log(const struct options *o, struct daemon *d)
{
    char host[256];

    /* Each thread, libmilter's too, inherits the mask. */
    d->sigfd = tt_signals_block();
    if (d->sigfd < 0) {
        fprintf(stderr, "tlstrust-milter: cannot block signals: %s\n", strerror(errno));
        return EX_OSERR;
    }
    /* A daemon without a terminal can only log to syslog. */
    tt_log_open("tlstrust-milter", d->cfg->syslog || !o->foreground, d->cfg->facility);
    tt_log_set_level(d->cfg->log_level);
    if (gethostname(host, sizeof(host)) == 0) {
        host[sizeof(host) - 1] = '\0';
        tt_callbacks_set_hostname(host);
    }
    return GO_ON;
}

static int fail(int status, const char *err)
{
    tt_log(LOG_ERR, "%s", err);
    fprintf(stderr, "tlstrust-milter: %s\n", err);
    return status;
}

/* Create the listening socket (still as root) and make it safe for UserID. */
static int open_socket(struct daemon *d)
{
    const struct tt_config *cfg = d->cfg;
    char err[1024];

    if (!tt_socket_safe_dir(cfg->socket, err, sizeof(err)))
        return fail(EX_NOPERM, err);
    if (!tt_socket_prepare(cfg->socket, err, sizeof(err)))
        return fail(EX_UNAVAILABLE, err);
    /*
     * Postfix passes headers up to header_size_limit (100 KB by default) in
     * one packet; with libmilter's 64 KB default such a message would be
     * refused for good. Accept packets up to 1 MB.
     */
    smfi_setmaxdatasize(1048575);
    if (smfi_register(tt_milter_desc) == MI_FAILURE || smfi_setconn(cfg->socket) == MI_FAILURE) {
        fprintf(stderr, "tlstrust-milter: cannot register with libmilter\n");
        return EX_SOFTWARE;
    }
    /* bind() creates a unix socket file 0660: its mode is never changed by path. */
    umask(0117);
    if (smfi_opensocket(false) == MI_FAILURE) {
        fprintf(stderr, "tlstrust-milter: cannot listen on %s (in use, or no permission?)\n",
                cfg->socket);
        return EX_UNAVAILABLE;
    }
    umask(0027);
    if (tt_socket_unix_path(cfg->socket) == NULL && tt_tcp_nodelay_listeners() <= 0)
        tt_log(LOG_WARNING, "cannot set TCP_NODELAY on %s: expect 40 ms stalls", cfg->socket);
    if (!tt_socket_secure(cfg->socket, d->uid, d->gid, cfg->user != NULL, err, sizeof(err)))
        return fail(EX_NOPERM, err);
    /* The policy map's socket, as root like the milter's (socketmap.c). */
    if (cfg->policy_socket != NULL &&
        !tt_socketmap_open(cfg->policy_socket, d->uid, d->gid, cfg->user != NULL, err, sizeof(err)))
        return fail(EX_UNAVAILABLE, err);
    /* The metrics port is bound as root, like the milter socket (MetricsSocket). */
    if (!tt_metrics_listen(cfg->metrics_socket, err, sizeof(err)))
        return fail(EX_UNAVAILABLE, err);
    return GO_ON;
}

/* Open the pid file as root (pidfile.c says why), then become UserID. */
static int drop_privileges(struct daemon *d)
{
    const struct tt_config *cfg = d->cfg;
    char err[1024];

    if (cfg->pidfile != NULL) {
        d->pidfd = tt_pidfile_open(cfg->pidfile, &d->pid_created, err, sizeof(err));
        if (d->pidfd < 0)
            tt_log(LOG_WARNING, "%s", err);
    }
    if (cfg->user != NULL && !tt_privs_drop(cfg->user, d->uid, d->gid, err, sizeof(err))) {
        if (d->pidfd >= 0) {
            close(d->pidfd);
            if (d->pid_created)
                unlink(cfg->pidfile);
        }
        return fail(EX_NOPERM, err);
    }
    return GO_ON;
}

/* Leave the terminal unless -f, and write the pid that is now final. */
static int detach(const struct options *o, struct daemon *d)
{
    char err[1024];

    if (!o->foreground && !daemonize(err, sizeof(err))) {
        tt_log(LOG_ERR, "%s", err);
        return EX_OSERR;
    }
    if (d->pidfd >= 0 && !tt_pidfile_write(d->pidfd, d->cfg->pidfile, err, sizeof(err)))
        tt_log(LOG_WARNING, "%s", err);
    return GO_ON;
}

/*
 * libmilter starts and ends worker threads all the time and gives them
 * the default attributes. With the default 8 MiB stacks glibc cannot
 * cache them, so each new worker maps, faults in and unmaps a stack
 * (about half the CPU per message in BENCHMARKS.md); small stacks stay
 * in glibc's stack cache.
 */
static void small_worker_stacks(void)
{
    pthread_attr_t attr;

    if (pthread_attr_init(&attr) == 0) {
        if (pthread_attr_setstacksize(&attr, WORKER_STACK) != 0 ||
            pthread_setattr_default_np(&attr) != 0)
            tt_log(LOG_WARNING, "cannot set the worker thread stack size");
        pthread_attr_destroy(&attr);
    }
}

/* Install the configuration as the first snapshot and run libmilter in its thread. */
static int start_milter(struct daemon *d)
{
    struct tt_config *cfg = d->cfg;
    char err[1024];

    if (pipe2(wake_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
        tt_log(LOG_ERR, "pipe: %s", strerror(errno));
        return EX_OSERR;
    }
    tt_signals_on_park(wake_main);
    tt_log(LOG_NOTICE,
           "tlstrust-milter %s starting on %s: %zu trusted network(s), %zu table entries",
           TLSTRUST_VERSION, cfg->socket, cfg->trust.nnets, tt_table_count(cfg->table));
    d->pidfile = cfg->pidfile != NULL ? strdup(cfg->pidfile) : NULL;
    /* cfg belongs to the snapshot from here on, and may be freed on reload. */
    d->cfg = NULL;
    if (!tt_snapshot_install(cfg, err, sizeof(err))) {
        tt_log(LOG_ERR, "cannot start: %s", err);
        free(d->pidfile);
        return EX_SOFTWARE;
    }
    tt_snapshot_set_reaper(wake_main);
    tt_counters_config(true, time(NULL));
    /* issue 12: the history writer (as UserID, after the fork) and the metrics endpoint. */
    if (!tt_history_start(cfg->peer_table_size, err, sizeof(err)) ||
        !tt_metrics_start(err, sizeof(err))) {
        tt_log(LOG_ERR, "cannot start: %s", err);
        return EX_OSERR;
    }
    if (!tt_socketmap_start(err, sizeof(err))) {
        tt_log(LOG_ERR, "cannot start: %s", err);
        return EX_OSERR;
    }
    small_worker_stacks();
    if (pthread_create(&d->tid, NULL, milter_thread, &d->status) != 0) {
        tt_log(LOG_ERR, "cannot start the milter thread");
        return EX_OSERR;
    }
    return GO_ON;
}

/* Stop libmilter, give open sessions time to end, and say how it went. */
static int shut_down(struct daemon *d)
{
    tt_log(LOG_NOTICE, "stopping");
    smfi_stop();
    pthread_join(d->tid, NULL);
    tt_socketmap_stop();
    if (d->pidfile != NULL)
        tt_pidfile_remove(d->pidfile);
    /*
     * libmilter's listener returns without waiting for the sessions it
     * started, and they use the configuration and OpenSSL: give them time
     * to end, and never free either under one. If some are still open,
     * end without the exit handlers (OpenSSL's cleanup among them).
     */
    if (!tt_snapshot_wait_unused(STOP_GRACE)) {
        tt_history_stop();
        tt_metrics_stop();
        tt_log(LOG_WARNING, "sessions still open after %d s; ending them", STOP_GRACE);
        _exit(d->status == MI_SUCCESS ? EX_OK : EX_SOFTWARE);
    }
    tt_history_stop();
    tt_metrics_stop();
    tt_snapshot_reap();
    free(d->pidfile);
    free(config_path);
    return d->status == MI_SUCCESS ? EX_OK : EX_SOFTWARE;
}

/* Until start_milter hands it to the snapshot, a failed step frees the configuration. */
static int give_up(struct daemon *d, int status)
{
    tt_config_free(d->cfg);
    return status;
}

int main(int argc, char **argv)
{
    struct options o = {.path = DEFAULT_CONFIG};
    struct daemon d = {.pidfd = -1, .status = MI_FAILURE};
    int r;

    if ((r = parse_options(argc, argv, &o)) != GO_ON)
        return r;
    if ((r = load_config(&o, &d)) != GO_ON)
        return give_up(&d, r);
    if (o.check)
        return give_up(&d, check_only(d.cfg, o.verbose));
    if ((r = block_signals_and_open_log(&o, &d)) != GO_ON || (r = open_socket(&d)) != GO_ON ||
        (r = drop_privileges(&d)) != GO_ON || (r = detach(&o, &d)) != GO_ON ||
        (r = start_milter(&d)) != GO_ON)
        return give_up(&d, r);
    if (!serve_signals(d.sigfd))
        d.status = MI_FAILURE;
    return shut_down(&d);
}
