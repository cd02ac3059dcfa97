/*
 * signals.c - see signals.h.
 *
 * libmilter's smfi_main() starts a signal thread (mi_spawn_signal_thread)
 * that blocks SIGHUP, SIGTERM and SIGINT and sigwait()s for them; on any of
 * them, SIGHUP included, it stops the filter. Blocking the signals is not
 * enough: a thread in sigwait() accepts the signals it waits for, so when
 * two threads wait for the same signal the kernel hands each one to either
 * (under a burst, the main thread is often busy and libmilter's thread gets
 * a SIGHUP). Nothing in libmilter's API turns that thread off.
 *
 * So this program defines sigwait() itself. The executable comes first in
 * the dynamic linker's search order, so libmilter's call binds to it (the
 * same holds when libmilter is linked statically), and it parks the caller
 * for good without waiting for any signal: that thread never enters the
 * kernel's sigwait, keeps the signals blocked, and cannot take one. Every
 * other thread has them blocked too, so they stay pending until the main
 * thread reads them from its signalfd: deterministic, not a race won by
 * luck. Nothing else in this program calls sigwait(). main checks at start
 * that the park happened and refuses to run otherwise.
 */
#define _GNU_SOURCE
#include "signals.h"

#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/signalfd.h>
#include <unistd.h>

static atomic_bool parked;
static void (*_Atomic park_notify)(void);

int tt_signals_block(void)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0 || signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        return -1;
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

void tt_signals_on_park(void (*notify)(void))
{
    atomic_store(&park_notify, notify);
}

bool tt_signals_milter_parked(void)
{
    return atomic_load(&parked);
}

/* libmilter's signal thread ends up here, and stays: see the top of this file. */
int sigwait(const sigset_t *set, int *sig)
{
    void (*notify)(void) = atomic_load(&park_notify);

    (void)set;
    (void)sig;
    atomic_store(&parked, true);
    if (notify != NULL)
        notify();
    for (;;)
        pause();
}
