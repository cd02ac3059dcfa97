/*
 * main.c - tlstrust-milter: command line, configuration check (-n), socket
 * and privileges, daemon start, and signals. The main thread keeps the
 * signals to itself (reload on SIGHUP or SIGUSR1, stop on SIGTERM or
 * SIGINT) and runs libmilter in a second thread: libmilter's own signal
 * thread would otherwise take SIGHUP as a request to stop.
 */
#define _GNU_SOURCE /* pthread_setattr_default_np */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "callbacks.h"
#include "config.h"
#include "log.h"
#include "privs.h"
#include "snapshot.h"
#include "socket.h"
#include "tcp.h"

#define DEFAULT_CONFIG "/etc/tlstrust/tlstrust.conf"
/* Stack of libmilter's worker threads; the deepest callback needs under 8 KiB. */
#define WORKER_STACK (256 * 1024)

static int sigpipe_fds[2] = {-1, -1};
/* The configuration's absolute path, reread on every reload; lives as long as the process. */
static char *config_path;

static void usage(FILE *out)
{
    fprintf(out, "usage: tlstrust-milter [-f] [-n] [-V] [-c config] [-p socket]\n"
                 "  -c FILE    configuration file (default " DEFAULT_CONFIG ")\n"
                 "  -p SOCKET  listen here instead of the configured Socket\n"
                 "  -f         stay in the foreground\n"
                 "  -n         check configuration, table and CA bundles, then exit\n"
                 "  -V         print the version and exit\n");
}

static void on_signal(int sig)
{
    unsigned char b = (unsigned char)sig;
    int saved = errno;

    /* A full pipe only means a reload is already queued. */
    if (write(sigpipe_fds[1], &b, 1) < 0) {
    }
    errno = saved;
}

/* A retired configuration waits to be freed: wake the main thread (byte 0). */
static void wake_reaper(void)
{
    unsigned char b = 0;

    if (write(sigpipe_fds[1], &b, 1) < 0) {
    }
}

static void *milter_thread(void *arg)
{
    int *status = arg;

    *status = smfi_main();
    /* Wake the main thread if libmilter stopped on its own. */
    on_signal(SIGTERM);
    return NULL;
}

static void reload(void)
{
    const char *path = config_path;
    char err[1024];
    struct tt_config *cfg = tt_config_load(path, time(NULL), err, sizeof(err));

    if (cfg == NULL) {
        tt_log(LOG_ERR, "reload failed: %s; keeping the previous configuration", err);
        return;
    }
    tt_log_set_level(cfg->log_level);
    tt_log(LOG_NOTICE, "reloaded %s: %zu trusted network(s), %zu table entries", path,
           cfg->trust.nnets, tt_table_count(cfg->table));
    tt_snapshot_install(cfg);
}

static bool write_pidfile(const char *path, char *err, size_t errsz)
{
    FILE *f = fopen(path, "w");

    if (f == NULL || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0) {
        snprintf(err, errsz, "PidFile %s: %s", path, strerror(errno));
        return false;
    }
    return true;
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

static int check_only(const struct tt_config *cfg)
{
    tt_config_describe(cfg, stdout);
    return EX_OK;
}

int main(int argc, char **argv)
{
    const char *path = DEFAULT_CONFIG, *sock_override = NULL;
    bool foreground = false, check = false;
    struct tt_config *cfg;
    char err[1024], host[256], *pidfile;
    uid_t uid = 0;
    gid_t gid = 0;
    sigset_t block, old;
    struct sigaction sa;
    pthread_t tid;
    int opt, status = MI_FAILURE;

    while ((opt = getopt(argc, argv, "c:p:fnVh")) != -1) {
        switch (opt) {
        case 'c':
            path = optarg;
            break;
        case 'p':
            sock_override = optarg;
            break;
        case 'f':
            foreground = true;
            break;
        case 'n':
            check = true;
            break;
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
    /* Reloads reread this path after the daemon has changed to "/". */
    config_path = realpath(path, NULL);
    if (config_path == NULL) {
        fprintf(stderr, "tlstrust-milter: %s: %s\n", path, strerror(errno));
        return EX_CONFIG;
    }
    path = config_path;
    /* Warnings about CA expiry go to stderr while we check. */
    tt_log_open("tlstrust-milter", false, LOG_MAIL);
    cfg = tt_config_load(path, time(NULL), err, sizeof(err));
    if (cfg == NULL) {
        fprintf(stderr, "tlstrust-milter: %s\n", err);
        return EX_CONFIG;
    }
    if (sock_override != NULL) {
        free(cfg->socket);
        cfg->socket = strdup(sock_override);
        if (cfg->socket == NULL)
            return EX_OSERR;
    }
    if (cfg->user != NULL && !tt_privs_lookup(cfg->user, &uid, &gid, err, sizeof(err))) {
        fprintf(stderr, "tlstrust-milter: %s\n", err);
        tt_config_free(cfg);
        return EX_CONFIG;
    }
    /* Fail before touching the socket when the switch to UserID cannot work. */
    if (cfg->user != NULL && !check && geteuid() != 0 && geteuid() != uid) {
        fprintf(stderr, "tlstrust-milter: UserID %s: not running as root, cannot switch user\n",
                cfg->user);
        tt_config_free(cfg);
        return EX_NOPERM;
    }
    if (check) {
        int r = check_only(cfg);

        tt_config_free(cfg);
        return r;
    }
    /* A daemon without a terminal can only log to syslog. */
    tt_log_open("tlstrust-milter", cfg->syslog || !foreground, cfg->facility);
    tt_log_set_level(cfg->log_level);
    if (gethostname(host, sizeof(host)) == 0) {
        host[sizeof(host) - 1] = '\0';
        tt_callbacks_set_hostname(host);
    }

    if (!tt_socket_prepare(cfg->socket, err, sizeof(err))) {
        tt_log(LOG_ERR, "%s", err);
        fprintf(stderr, "tlstrust-milter: %s\n", err);
        tt_config_free(cfg);
        return EX_UNAVAILABLE;
    }
    /*
     * Postfix passes headers up to header_size_limit (100 KB by default) in
     * one packet; with libmilter's 64 KB default such a message would be
     * refused for good. Accept packets up to 1 MB.
     */
    smfi_setmaxdatasize(1048575);
    if (smfi_register(tt_milter_desc) == MI_FAILURE || smfi_setconn(cfg->socket) == MI_FAILURE) {
        fprintf(stderr, "tlstrust-milter: cannot register with libmilter\n");
        tt_config_free(cfg);
        return EX_SOFTWARE;
    }
    umask(0117);
    if (smfi_opensocket(false) == MI_FAILURE) {
        fprintf(stderr, "tlstrust-milter: cannot listen on %s (in use, or no permission?)\n",
                cfg->socket);
        tt_config_free(cfg);
        return EX_UNAVAILABLE;
    }
    umask(0027);
    if (tt_socket_unix_path(cfg->socket) == NULL && tt_tcp_nodelay_listeners() <= 0)
        tt_log(LOG_WARNING, "cannot set TCP_NODELAY on %s: expect 40 ms stalls", cfg->socket);
    if (!tt_socket_secure(cfg->socket, uid, gid, cfg->user != NULL, err, sizeof(err)) ||
        (cfg->user != NULL && !tt_privs_drop(cfg->user, uid, gid, err, sizeof(err)))) {
        tt_log(LOG_ERR, "%s", err);
        fprintf(stderr, "tlstrust-milter: %s\n", err);
        tt_config_free(cfg);
        return EX_NOPERM;
    }
    if (!foreground && !daemonize(err, sizeof(err))) {
        tt_log(LOG_ERR, "%s", err);
        return EX_OSERR;
    }
    if (cfg->pidfile != NULL && !write_pidfile(cfg->pidfile, err, sizeof(err)))
        tt_log(LOG_WARNING, "%s", err);

    if (pipe(sigpipe_fds) != 0) {
        tt_log(LOG_ERR, "pipe: %s", strerror(errno));
        return EX_OSERR;
    }
    fcntl(sigpipe_fds[1], F_SETFL, O_NONBLOCK);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    tt_log(LOG_NOTICE,
           "tlstrust-milter %s starting on %s: %zu trusted network(s), %zu table entries",
           TLSTRUST_VERSION, cfg->socket, cfg->trust.nnets, tt_table_count(cfg->table));
    pidfile = cfg->pidfile != NULL ? strdup(cfg->pidfile) : NULL;
    tt_snapshot_install(cfg);
    tt_snapshot_set_reaper(
        wake_reaper); /* cfg now belongs to the snapshot and may be freed on reload */

    /*
     * libmilter starts and ends worker threads all the time and gives them
     * the default attributes. With the default 8 MiB stacks glibc cannot
     * cache them, so each new worker maps, faults in and unmaps a stack
     * (about half the CPU per message in BENCHMARKS.md); small stacks stay
     * in glibc's stack cache.
     */
    {
        pthread_attr_t attr;

        if (pthread_attr_init(&attr) == 0) {
            if (pthread_attr_setstacksize(&attr, WORKER_STACK) != 0 ||
                pthread_setattr_default_np(&attr) != 0)
                tt_log(LOG_WARNING, "cannot set the worker thread stack size");
            pthread_attr_destroy(&attr);
        }
    }

    /* Only this thread takes the signals; libmilter's threads inherit them blocked. */
    sigemptyset(&block);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGUSR1);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    if (pthread_create(&tid, NULL, milter_thread, &status) != 0) {
        tt_log(LOG_ERR, "cannot start the milter thread");
        return EX_OSERR;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    for (;;) {
        unsigned char sig;
        ssize_t n = read(sigpipe_fds[0], &sig, 1);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || sig == SIGTERM || sig == SIGINT)
            break;
        if (sig == 0)
            tt_snapshot_reap();
        else
            reload();
    }
    tt_log(LOG_NOTICE, "stopping");
    smfi_stop();
    pthread_join(tid, NULL);
    tt_snapshot_clear();
    if (pidfile != NULL)
        unlink(pidfile);
    free(pidfile);
    free(config_path);
    return status == MI_SUCCESS ? EX_OK : EX_SOFTWARE;
}
