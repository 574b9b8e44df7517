/*
 * backends/spawn_posix_child.c: one child's life in the posix spawner's
 * wait loop (declared in backends/spawn_posix.h): collecting its exit with
 * waitpid(pid, WNOHANG) on its own schedule (woken by a pidfd where there
 * is one), reading its pipes into the wait's buffer, and the drain after
 * its exit.  The bounds are the HAZ_POSIX_* constants of the header;
 * docs/spawner-posix.md section 4 explains them.
 *
 * In order: pipes; reaping; reading; the final sweep.
 */
#include "internal.h"
#include "fdutil.h"
#include "spawn_posix.h"
#include "exit_status.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/wait.h>

#define NEVER UINT64_MAX

typedef haz__pchild pchild;
typedef haz__posix_spawner posix_spawner;
typedef haz__batch batch;

static uint64_t later(uint64_t now, uint64_t d)
{
    return d >= NEVER - now ? NEVER : now + d;
}

/* ------------------------------------------------------------------------
 * Pipes.
 * ---------------------------------------------------------------------- */

void haz__pchild_close(pchild *c, int s)
{
    haz__close(c->fd[s]);
    c->fd[s] = -1;
}

int haz__pchild_open(const pchild *c)
{
    return c->fd[0] >= 0 || c->fd[1] >= 0;
}

/* ------------------------------------------------------------------------
 * Reaping: on a child's own schedule, never waitpid(-1).
 * ---------------------------------------------------------------------- */

void haz__pchild_close_pidfd(pchild *c)
{
    if (c->pidfd >= 0) {
        haz__close(c->pidfd);
        c->pidfd = -1;
    }
}

void haz__pchild_exited(pchild *c, uint64_t now)
{
    haz__pchild_close_pidfd(c);
    c->no_pidfd = 1;
    c->poll_at = now;
    c->spins = HAZ_POSIX_EOF_SPINS;
}

/* Both pipes are at EOF and the child has not exited yet: watch a pidfd
 * for its exit.  Returns 1 when one is watched, 0 when the exit is to be
 * polled for (no pidfd: this child only after EMFILE and the like, every
 * later child too after ENOSYS, EPERM, EINVAL, ..., style.md 2.4).  Only a
 * child without pipes holds a pidfd, so a child never has more than two
 * descriptors: max_children() stays right. */
static int watch_exit(posix_spawner *ps, pchild *c)
{
    int fd;

    if (ps->pidfd_off || c->no_pidfd || c->pidfd >= 0)
        return c->pidfd >= 0;
    fd = haz__sys_pidfd_open(c->pid, 0);
    if (fd == -1) {
        c->no_pidfd = 1;
        if (errno != EMFILE && errno != ENFILE && errno != ENOMEM &&
            errno != ESRCH)
            ps->pidfd_off = 1;
        return 0;
    }
    ps->pidfds++;
    if (fd >= HAZ_POSIX_FD_LIMIT) {
        haz__close(fd);
        c->no_pidfd = 1;
        return 0;
    }
    c->pidfd = fd;
    return 1;
}

int haz__pchild_reap(posix_spawner *ps, pchild *c, uint64_t now)
{
    int st = 0;
    pid_t r;

    do
        r = haz__sys_waitpid(c->pid, &st, WNOHANG);
    while (r == -1 && errno == EINTR);
    /* Both pipes hit EOF: the child is normally exiting, but its pipes
     * close before it becomes a zombie.  Where a pidfd can be had, select()
     * wakes the loop when the child exits; the poll that remains is a
     * safety net.  Else give it the processor a few times rather than
     * sleep a backoff step, so that short tasks are not held back (one
     * yield is nearly always enough). */
    if (r == 0 && !haz__pchild_open(c) && watch_exit(ps, c)) {
        c->spins = 0;
        c->poll_at = later(now, HAZ_POSIX_STEP_MAX_NS);
        return HAZ_OK;
    }
    while (r == 0 && c->spins > 0 && !haz__pchild_open(c)) {
        c->spins--;
        (void)sched_yield();
        do
            r = haz__sys_waitpid(c->pid, &st, WNOHANG);
        while (r == -1 && errno == EINTR);
    }
    if (r == 0) {
        if (haz__pchild_open(c)) {
            c->poll_at = later(now, HAZ_POSIX_OPEN_POLL_NS);
        } else {
            c->poll_at = later(now, c->step);
            c->step = c->step >= HAZ_POSIX_STEP_MAX_NS / 2
                          ? HAZ_POSIX_STEP_MAX_NS
                          : c->step * 2;
        }
        return HAZ_OK;
    }
    if (r == -1 && errno != ECHILD)
        return haz__error_os(ps->base.ctx, HAZ_EINTERNAL, errno,
                             "%s: waitpid(%ld)", c->task, (long)c->pid);
    haz__pchild_close_pidfd(c);
    c->reaped = 1;
    c->drain_end = later(now, HAZ_POSIX_DRAIN_NS);
    if (r == -1) {
        /* Someone else collected it (SIGCHLD ignored, a foreign
         * waitpid(-1)): the status is lost. */
        c->status.kind = HAZ_EXIT_NONE;
        c->os_errno = ECHILD;
    } else {
        c->status = haz__exit_status_wait(st);
    }
    return HAZ_OK;
}

/* ------------------------------------------------------------------------
 * Reading.
 * ---------------------------------------------------------------------- */

int haz__posix_room(const posix_spawner *ps, const batch *b)
{
    return *b->n < b->cap && ps->used < HAZ_POSIX_BUF_SIZE;
}

int haz__pchild_read(posix_spawner *ps, pchild *c, int s, batch *b)
{
    size_t want = HAZ_POSIX_BUF_SIZE - ps->used;
    ssize_t r;

    if (want > HAZ_POSIX_READ_MAX)
        want = HAZ_POSIX_READ_MAX;
    if (c->sweeping && want > c->sweep_left)
        want = c->sweep_left;
    do
        r = haz__sys_read(c->fd[s], ps->buf + ps->used, want);
    while (r == -1 && errno == EINTR);
    if (r > 0) {
        haz_spawn_event *e = &b->ev[(*b->n)++];

        memset(e, 0, sizeof *e);
        e->type = HAZ_EV_OUTPUT;
        e->child = c->id;
        e->stream = s == 0 ? HAZ_STREAM_STDOUT : HAZ_STREAM_STDERR;
        e->data = ps->buf + ps->used;
        e->len = (size_t)r;
        ps->used += (size_t)r;
        if (c->sweeping)
            c->sweep_left -= (size_t)r;
        return 0;
    }
    if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return 1;
    if (r == -1)
        return haz__error_os(ps->base.ctx, HAZ_EIO, errno,
                             "%s: reading the child's output", c->task);
    haz__pchild_close(c, s);
    return 0;
}

void haz__pchild_eof(pchild *c, uint64_t now)
{
    if (!c->reaped && !haz__pchild_open(c)) {
        c->poll_at = now;
        c->step = HAZ_POSIX_STEP_MIN_NS;
        c->spins = HAZ_POSIX_EOF_SPINS;
    }
}

/* ------------------------------------------------------------------------
 * The final sweep.
 * ---------------------------------------------------------------------- */

/* At most HAZ_POSIX_SWEEP_BYTES per child, so that a grandchild that keeps
 * writing cannot hold the exit back.  Everything the child itself wrote is
 * in the pipe before what a grandchild writes after its exit. */
int haz__posix_sweep(posix_spawner *ps, uint64_t now, batch *b)
{
    size_t i;
    int s, r;

    for (i = 0; i < ps->n_kids; i++) {
        pchild *c = &ps->kids[i];

        if (!c->reaped || !haz__pchild_open(c) || now < c->drain_end)
            continue;
        if (!c->sweeping) {
            c->sweeping = 1;
            c->sweep_left = HAZ_POSIX_SWEEP_BYTES;
        }
        for (s = 0; s < 2; s++) {
            while (c->fd[s] >= 0) {
                if (c->sweep_left == 0) {
                    haz__pchild_close(c, s);
                    break;
                }
                if (!haz__posix_room(ps, b))
                    return HAZ_OK;
                r = haz__pchild_read(ps, c, s, b);
                if (r < 0)
                    return r;
                if (r == 1)
                    haz__pchild_close(c, s);
            }
        }
    }
    return HAZ_OK;
}
