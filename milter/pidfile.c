/*
 * pidfile.c - the daemon's pid file (PidFile).
 *
 * The pid file is root's: root's scripts trust it (kill -HUP "$(cat ...)").
 * So it is created as root, before the switch to UserID, in a directory
 * only root writes (/run/tlstrust), and the daemon never needs write access
 * to it or its directory: a compromised daemon cannot point it at another
 * process. It is opened here, before the drop, and the pid is written
 * through that descriptor once it is final (after the fork when detaching;
 * so a failed drop is still reported to whoever started us), then closed.
 */
#include "pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

int tt_pidfile_open(const char *path, bool *created, char *err, size_t errsz)
{
    /* O_NONBLOCK: a FIFO planted at the path must not hang the start. */
    const int flags = O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
    int fd = open(path, flags | O_CREAT | O_EXCL, 0644);
    struct stat st;

    *created = fd >= 0;
    /* Readable by all, whatever the umask, as pid files are. */
    if (*created && fchmod(fd, 0644) != 0) {
        snprintf(err, errsz, "PidFile %s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return -1;
    }
    if (fd < 0 && errno == EEXIST)
        fd = open(path, flags); /* a stale one: overwritten once the pid is known */
    if (fd < 0) {
        snprintf(err, errsz, "PidFile %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errsz, "PidFile %s: not a regular file", path);
        close(fd);
        return -1;
    }
    return fd;
}

bool tt_pidfile_write(int fd, const char *path, char *err, size_t errsz)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
    bool ok = ftruncate(fd, 0) == 0 && write(fd, buf, (size_t)n) == n;

    if (!ok)
        snprintf(err, errsz, "PidFile %s: %s", path, strerror(errno));
    if (close(fd) != 0 && ok) {
        snprintf(err, errsz, "PidFile %s: %s", path, strerror(errno));
        ok = false;
    }
    return ok;
}

/*
 * After the switch to UserID the daemon usually cannot remove the file
 * from root's directory; it is then left, as OpenDKIM leaves its own, to
 * the service manager (start-stop-daemon --remove-pidfile), and the next
 * start overwrites it.
 */
void tt_pidfile_remove(const char *path)
{
    if (unlink(path) != 0 && errno != ENOENT)
        tt_log(LOG_NOTICE, "PidFile %s left for the service manager to remove: %s", path,
               strerror(errno));
}
