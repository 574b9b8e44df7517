/*
 * lib/observe_sink.h: how the live and buffered observers write to the
 * host's output sink (reliability-tests.md R7).
 */
#ifndef HAZ_OBSERVE_SINK_H
#define HAZ_OBSERVE_SINK_H

#include "observe.h"

/*
 * haz__obs_sink_write: write the `n` bytes at `data` to `fd`, one of the
 * observer's sinks, whole and in order: a write interrupted by a signal
 * (EINTR) is retried, a short write is continued from where it stopped,
 * and a non-blocking sink that is full (EAGAIN / EWOULDBLOCK) is waited
 * for with poll() until it takes bytes again, so no byte is lost or
 * written twice.  Any other failure (EPIPE when the reader has gone,
 * ENOSPC, EIO, EBADF, ...) drops the rest of this write; the first such
 * errno of the observer is kept in o->sink_errno for
 * haz_observer_sink_errno().  errno is preserved.
 */
void haz__obs_sink_write(haz_observer_obj *o, int fd, const void *data,
                         size_t n);

#endif /* HAZ_OBSERVE_SINK_H */
