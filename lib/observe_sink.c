/*
 * lib/observe_sink.c: the write path of the live and buffered observers to
 * the host's output sink (reliability-tests.md R7), and the report of its
 * first failure.
 *
 * The sink is whatever the host gave: a terminal, a file, a pipe whose
 * reader may exit early (`hazrun | head -1`: EPIPE, with SIGPIPE ignored
 * by the host), a pipe the host made non-blocking with a slow reader
 * (EAGAIN and short writes), a file on a full filesystem (ENOSPC).  An
 * observer callback cannot return an error, so the first hard failure is
 * kept in the observer object and the run goes on: the tasks' own output
 * is still hashed and stored in the cache by the run, whatever becomes of
 * the copy written here.
 */
#include "internal.h"
#include "observe_sink.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

/* Wait until fd can take bytes again.  0, or -1 with errno when poll()
 * itself fails or reports the sink broken (the next write() then gives
 * the real error). */
static int wait_writable(int fd)
{
    struct pollfd p;
    int r;

    p.fd = fd;
    p.events = POLLOUT;
    p.revents = 0;
    do
        r = poll(&p, 1, -1);
    while (r == -1 && errno == EINTR);
    return r == -1 ? -1 : 0;
}

void haz__obs_sink_write(haz_observer_obj *o, int fd, const void *data,
                         size_t n)
{
    const char *p = data;
    int saved = errno;

    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (wait_writable(fd) == 0)
                continue;
        } else if (w == 0) {
            errno = EIO;        /* no progress and no error: give up */
        }
        if (o->sink_errno == 0)
            o->sink_errno = errno != 0 ? errno : EIO;
        break;
    }
    errno = saved;
}

int haz_observer_sink_errno(const haz_observer_obj *obj)
{
    if (obj == NULL ||
        (obj->kind != HAZ__OBS_LIVE && obj->kind != HAZ__OBS_BUFFERED))
        return 0;
    return obj->sink_errno;
}
