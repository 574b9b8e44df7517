/*
 * lib/fdutil.h: close-on-exec descriptor helpers, written once and used by
 * every file that opens a descriptor (the cancel token, the posix spawner,
 * the cache store).  A child process must never inherit a descriptor of the
 * library by accident.
 */
#ifndef HAZ_FDUTIL_H
#define HAZ_FDUTIL_H

#include "internal.h"

/* Flags for haz__pipe_cloexec. */
#define HAZ_PIPE_NONBLOCK 0x1   /* both ends O_NONBLOCK */

/*
 * haz__pipe_cloexec: create a pipe whose ends are close-on-exec (and
 * non-blocking with HAZ_PIPE_NONBLOCK).  Uses pipe2 where configure found
 * it, falling back to pipe + fcntl at run time when pipe2 fails with ENOSYS
 * or EINVAL.  On failure both ends are closed.
 * Returns 0, or -1 with errno set.
 */
int haz__pipe_cloexec(int fds[2], unsigned flags);

/*
 * haz__open_cloexec: open(2) with O_CLOEXEC where the platform defines it,
 * else open followed by fcntl(F_SETFD, FD_CLOEXEC).  EINTR is retried.
 * Returns the descriptor, or -1 with errno set.
 */
int haz__open_cloexec(const char *path, int flags, unsigned mode);

/* haz__set_cloexec / haz__set_nonblock: read-modify-write the descriptor's
 * flags.  Return 0, or -1 with errno set. */
int haz__set_cloexec(int fd);
int haz__set_nonblock(int fd);

/* haz__close: close(2), ignoring EINTR (the descriptor is gone either way
 * on the systems we support) and preserving errno. */
void haz__close(int fd);

#endif /* HAZ_FDUTIL_H */
