/*
 * lib/fdutil.c: close-on-exec and non-blocking descriptor helpers.
 *
 * Anything found by a configure probe is only an optimisation: pipe2 may
 * link yet fail at run time (old kernels, emulation layers), so every
 * probed path falls back to the portable one on ENOSYS or EINVAL.
 */
#include "internal.h"
#include "fdutil.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int haz__set_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);

    if (fl == -1)
        return -1;
    if (fl & FD_CLOEXEC)
        return 0;
    return fcntl(fd, F_SETFD, fl | FD_CLOEXEC) == -1 ? -1 : 0;
}

int haz__set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl == -1)
        return -1;
    if (fl & O_NONBLOCK)
        return 0;
    return fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ? -1 : 0;
}

void haz__close(int fd)
{
    int saved = errno;

    if (fd >= 0)
        (void)close(fd);
    errno = saved;
}

static int pipe_portable(int fds[2], unsigned flags)
{
    int i;

    if (pipe(fds) == -1)
        return -1;
    for (i = 0; i < 2; i++) {
        if (haz__set_cloexec(fds[i]) == -1 ||
            ((flags & HAZ_PIPE_NONBLOCK) && haz__set_nonblock(fds[i]) == -1)) {
            haz__close(fds[0]);
            haz__close(fds[1]);
            fds[0] = fds[1] = -1;
            return -1;
        }
    }
    return 0;
}

int haz__pipe_cloexec(int fds[2], unsigned flags)
{
#if defined(HAVE_PIPE2) && defined(O_CLOEXEC) && \
    (!defined(HAVE_DECL_PIPE2) || HAVE_DECL_PIPE2)
    int fl = O_CLOEXEC;

    if (flags & HAZ_PIPE_NONBLOCK)
        fl |= O_NONBLOCK;
    if (pipe2(fds, fl) == 0)
        return 0;
    if (errno != ENOSYS && errno != EINVAL)
        return -1;
#endif
    return pipe_portable(fds, flags);
}

int haz__open_cloexec(const char *path, int flags, unsigned mode)
{
    int fd;

#ifdef O_CLOEXEC
    do
        fd = open(path, flags | O_CLOEXEC, (mode_t)mode);
    while (fd == -1 && errno == EINTR);
    if (fd == -1)
        return -1;
#else
    do
        fd = open(path, flags, (mode_t)mode);
    while (fd == -1 && errno == EINTR);
    if (fd == -1)
        return -1;
#endif
    /* Also where O_CLOEXEC exists: an old kernel may ignore the flag. */
    if (haz__set_cloexec(fd) == -1) {
        haz__close(fd);
        return -1;
    }
    return fd;
}
