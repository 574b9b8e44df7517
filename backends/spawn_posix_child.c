/*
 * backends/spawn_posix_child.c: one child's life in the posix spawner's
 * wait loop (declared in backends/spawn_posix.h): collecting its exit with
 * waitpid(pid, WNOHANG) on its own schedule (after EOF: a yield or a
 * pidfd, whichever has been cheaper lately), reading its pipes into the wait's buffer, and the drain after
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

static pid_t wait_nohang(const pchild *c, int *st)
{
    pid_t r;

    do
        r = haz__sys_waitpid(c->pid, st, WNOHANG);
    while (r == -1 && errno == EINTR);
    return r;
}

/* The child's pipes are at EOF and waitpid says it runs: yield and look
 * again, at most c->spins times.  With `adapt` (a pidfd can be had), a
 * slow yield (another process got the processor) ends the yielding and
 * makes the spawner give the next late children a pidfd at once; yields
 * that all came back quickly make it yield first.  Returns the last
 * waitpid's result. */
static pid_t yield_wait(posix_spawner *ps, pchild *c, int *st, int adapt)
{
    pid_t r = 0;

    while (r == 0 && c->spins > 0) {
        int slow;

        c->spins--;
        slow = haz__sys_sched_yield(ps->clock) == 1;
        r = wait_nohang(c, st);
        if (slow && adapt) {
            ps->pidfd_first = 1;
            ps->probe_left = HAZ_POSIX_PROBE_EVERY;
            return r;
        }
    }
    if (adapt)
        ps->pidfd_first = 0;
    return r;
}

/* A child found exiting at EOF that can have a pidfd: does it yield
 * first?  In the pidfd_first mode only every HAZ_POSIX_PROBE_EVERY-th
 * one does (a probe of what a yield costs now). */
static int yields_first(posix_spawner *ps)
{
    if (!ps->pidfd_first)
        return 1;
    if (ps->probe_left > 1) {
        ps->probe_left--;
        return 0;
    }
    ps->probe_left = HAZ_POSIX_PROBE_EVERY;
    return 1;
}

int haz__pchild_reap(posix_spawner *ps, pchild *c, uint64_t now)
{
    int st = 0;
    pid_t r;

    r = wait_nohang(c, &st);
    /* Both pipes hit EOF: the child is normally exiting, but its pipes
     * close a moment before it becomes a zombie.  Two ways to wait for
     * that without blocking in waitpid (P13b): give it the processor
     * (sched_yield, then look again), which on an idle processor costs
     * next to nothing and is nearly always enough once; or a pidfd in the
     * select set, which wakes the loop when the child exits but costs a
     * sleep and a wake-up.  A yield that is slow (the processor went to
     * another process: a busy machine) is worse than the pidfd, so the
     * spawner yields first while its yields are quick and goes to the
     * pidfd at once while they are slow, trying a yield again now and
     * then (docs/spawner-posix.md section 4).  Once a pidfd is watched
     * the poll that remains is a safety net. */
    if (r == 0 && !haz__pchild_open(c) && c->pidfd < 0 && !ps->pidfd_off &&
        !c->no_pidfd && c->spins == HAZ_POSIX_EOF_SPINS && yields_first(ps))
        r = yield_wait(ps, c, &st, 1);
    if (r == 0 && !haz__pchild_open(c) && watch_exit(ps, c)) {
        c->spins = 0;
        c->poll_at = later(now, HAZ_POSIX_STEP_MAX_NS);
        return HAZ_OK;
    }
    /* No pidfd: yield (what is left of) the spins, then back off. */
    if (r == 0 && !haz__pchild_open(c))
        r = yield_wait(ps, c, &st, 0);
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
    if (r == -1) {
        /* The stream is lost, not the run (reference-exec.md 3.4 step 3):
         * say so to the caller and stop reading it, as at its end. */
        haz_spawn_event *e = &b->ev[(*b->n)++];

        memset(e, 0, sizeof *e);
        e->type = HAZ_EV_STREAM_ERROR;
        e->child = c->id;
        e->stream = s == 0 ? HAZ_STREAM_STDOUT : HAZ_STREAM_STDERR;
        e->os_errno = errno;
    }
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
