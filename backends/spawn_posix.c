/*
 * backends/spawn_posix.c: the posix spawner, exported as the methods table
 * haz_spawner_posix (spawner.h).  Children are real processes, started by
 * backends/spawn_posix_start.c (posix_spawn, or fork+exec); this file
 * watches them with one select() loop.  It installs no signal handler and
 * never calls waitpid(-1): exits are found with waitpid(pid, WNOHANG) on
 * each child, at moments chosen so that nothing busy-waits.
 *
 * A child's life here (docs/spawner-posix.md has the bounds):
 *   running, pipes open   its pipes are read as select() reports them; it
 *                         is also polled with waitpid every 100 ms, which
 *                         finds a leader that exited while a grandchild
 *                         keeps its pipes open;
 *   running, pipes at EOF polled at once; if it has not exited yet (its
 *                         pipes close just before it becomes a zombie),
 *                         polled again after a sched_yield(), up to 8
 *                         times, while the spawner's yields are quick;
 *                         then, or at once while they are slow (a busy
 *                         machine), a pidfd (Linux) joins the select set
 *                         and wakes the loop when it exits, with a poll
 *                         every 100 ms as a safety net; without a pidfd,
 *                         the yields, then a backoff from 100 us doubling
 *                         to 100 ms (a child that closed its output but
 *                         keeps running);
 *   reaped, pipes open    drained until EOF, at most 100 ms; then a final
 *                         sweep reads what is buffered (up to 1 MiB per
 *                         child) and the pipes are closed;
 *   reaped, pipes closed  its EXIT event is delivered, after every byte of
 *                         its output, and the id retires.
 *
 * One child's reaping, reading and drain are in backends/spawn_posix_child.c,
 * the shared state and bounds in backends/spawn_posix.h.
 *
 * In order: the select loop (settling children, the select itself); the
 * methods (open, close, spawn, signal, wait, max_children); the test hooks
 * haz__posix_child_pid, haz__posix_spawner_pidfds,
 * haz__posix_spawner_pidfd_first and haz__posix_spawner_counts; the table.
 */
#include "internal.h"
#include "fdutil.h"
#include "spawn_posix.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NEVER UINT64_MAX
#define OPEN_POLL_NS HAZ_POSIX_OPEN_POLL_NS
#define STEP_MIN_NS HAZ_POSIX_STEP_MIN_NS
#define CANCEL_POLL_NS HAZ_POSIX_CANCEL_POLL_NS
#define RESERVED_FDS 64           /* below FD_SETSIZE, not for children */

typedef haz__pchild pchild;
typedef haz__posix_spawner posix_spawner;
typedef haz__batch batch;

static uint64_t now_ns(posix_spawner *ps)
{
    return haz_clock_now_ns(ps->clock);
}

static uint64_t later(uint64_t now, uint64_t d)
{
    return d >= NEVER - now ? NEVER : now + d;
}

static size_t max_kids(void)
{
    return HAZ_POSIX_FD_LIMIT > 2 * RESERVED_FDS
               ? (size_t)(HAZ_POSIX_FD_LIMIT - RESERVED_FDS) / 2
               : 1;
}

/* ------------------------------------------------------------------------
 * The select loop.
 * ---------------------------------------------------------------------- */

static size_t find_kid(const posix_spawner *ps, haz_child id)
{
    size_t lo = 0, hi = ps->n_kids;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (ps->kids[mid].id == id)
            return mid;
        if (ps->kids[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return SIZE_MAX;
}

static void retire(posix_spawner *ps, size_t i)
{
    pchild *c = &ps->kids[i];

    haz__pchild_close(c, 0);
    haz__pchild_close(c, 1);
    haz__pchild_close_pidfd(c);
    haz__free(ps->base.ctx, c->task);
    memmove(c, c + 1, (ps->n_kids - i - 1) * sizeof *c);
    ps->n_kids--;
}

/* Reap what is due, finish drains, deliver exits (in spawn order). */
static int settle(posix_spawner *ps, uint64_t now, batch *b)
{
    size_t i;
    int rc;

    for (i = 0; i < ps->n_kids; i++) {
        pchild *c = &ps->kids[i];

        if (!c->reaped && c->poll_at <= now) {
            rc = haz__pchild_reap(ps, c, now);
            if (rc != HAZ_OK)
                return rc;
        }
    }
    rc = haz__posix_sweep(ps, now, b);
    if (rc != HAZ_OK)
        return rc;
    for (i = 0; i < ps->n_kids && *b->n < b->cap;) {
        pchild *c = &ps->kids[i];
        haz_spawn_event *e;

        if (!c->reaped || haz__pchild_open(c)) {
            i++;
            continue;
        }
        e = &b->ev[(*b->n)++];
        memset(e, 0, sizeof *e);
        e->type = HAZ_EV_EXIT;
        e->child = c->id;
        e->status = c->status;
        e->os_errno = c->os_errno;
        retire(ps, i);
    }
    return HAZ_OK;
}

/* The earliest moment something is due without any descriptor activity. */
static uint64_t next_due(const posix_spawner *ps, uint64_t deadline)
{
    uint64_t t = deadline;
    size_t i;

    for (i = 0; i < ps->n_kids; i++) {
        const pchild *c = &ps->kids[i];

        if (!c->reaped && c->poll_at < t)
            t = c->poll_at;
        else if (c->reaped && haz__pchild_open(c) && c->drain_end < t)
            t = c->drain_end;
    }
    return t;
}

/* How a wait watches the cancel token: its descriptor in the select set,
 * or (a descriptor select cannot take, or one found readable with no
 * request pending, which only a request racing haz_cancel_ack can cause)
 * its flag every CANCEL_POLL_NS.  The descriptor is never read. */
typedef struct cwatch {
    const haz_cancel *token;
    int fd;                     /* selected when >= 0 */
    int poll;
} cwatch;

/* One select() (timeout until `wake`, 0 for a poll) and the reads it
 * allows.  Returns 0 or an error. */
static int watch(posix_spawner *ps, uint64_t now, uint64_t wake, cwatch *cw,
                 batch *b)
{
    struct timeval tv, *tvp = NULL;
    int maxfd = -1, r, s, cfd = cw->fd;
    fd_set rs;
    size_t i;

    FD_ZERO(&rs);
    for (i = 0; i < ps->n_kids; i++)
        for (s = 0; s < 2; s++) {
            int fd = ps->kids[i].fd[s];

            if (fd >= 0 && fd < HAZ_POSIX_FD_LIMIT) {
                FD_SET(fd, &rs);
                if (fd > maxfd)
                    maxfd = fd;
            }
        }
    for (i = 0; i < ps->n_kids; i++) {
        int fd = ps->kids[i].pidfd;

        if (fd >= 0 && fd < HAZ_POSIX_FD_LIMIT) {
            FD_SET(fd, &rs);
            if (fd > maxfd)
                maxfd = fd;
        }
    }
    if (cfd >= 0) {
        FD_SET(cfd, &rs);
        if (cfd > maxfd)
            maxfd = cfd;
    }
    if (cw->poll && later(now, CANCEL_POLL_NS) < wake)
        wake = later(now, CANCEL_POLL_NS);
    if (wake != NEVER) {
        uint64_t d = wake > now ? wake - now : 0;

        if (d > (uint64_t)86400 * UINT64_C(1000000000))
            d = (uint64_t)86400 * UINT64_C(1000000000);
        /* Round up, so the wake-up is never early (no spinning). */
        tv.tv_sec = (time_t)(d / UINT64_C(1000000000));
        tv.tv_usec = (suseconds_t)((d % UINT64_C(1000000000) + 999) / 1000);
        if (tv.tv_usec >= 1000000) {
            tv.tv_sec++;
            tv.tv_usec -= 1000000;
        }
        tvp = &tv;
    } else if (maxfd < 0) {
        return haz__error(ps->base.ctx, HAZ_EINTERNAL,
                          "posix spawner: wait would block forever");
    }
    r = haz__sys_select(maxfd + 1, &rs, NULL, NULL, tvp);
    if (r == -1 && errno == EINTR)
        return HAZ_OK;
    if (r == -1)
        return haz__error_os(ps->base.ctx, HAZ_EIO, errno,
                             "posix spawner: select");
    if (r > 0 && cfd >= 0 && FD_ISSET(cfd, &rs) &&
        !haz_cancel_pending(cw->token)) {
        cw->fd = -1;
        cw->poll = 1;
    }
    /* Start with a different child on every pass, so that children whose
     * pipes always have a full buffer's worth cannot starve the others. */
    ps->turn = ps->n_kids > 0 ? (ps->turn + 1) % ps->n_kids : 0;
    for (i = 0; i < ps->n_kids && r > 0; i++) {
        pchild *c = &ps->kids[(ps->turn + i) % ps->n_kids];

        if (c->pidfd >= 0 && c->pidfd < HAZ_POSIX_FD_LIMIT &&
            FD_ISSET(c->pidfd, &rs))
            haz__pchild_exited(c, now);
        for (s = 0; s < 2; s++) {
            int fd = c->fd[s], rc;

            if (fd < 0 || fd >= HAZ_POSIX_FD_LIMIT || !FD_ISSET(fd, &rs) ||
                !haz__posix_room(ps, b))
                continue;
            rc = haz__pchild_read(ps, c, s, b);
            if (rc < 0)
                return rc;
            haz__pchild_eof(c, now);
        }
    }
    return HAZ_OK;
}

/* ------------------------------------------------------------------------
 * The methods.
 * ---------------------------------------------------------------------- */

static int px_open(haz_spawner *sp, const haz_spawner_config *cfg)
{
    posix_spawner *ps = (posix_spawner *)sp;

    if (cfg->clock == NULL || cfg->clock->methods == NULL ||
        cfg->clock->methods == &haz_clock_mock)
        return haz__error(sp->ctx, HAZ_EINVAL,
                          "the posix spawner needs a clock that follows "
                          "real time");
    ps->buf = haz__malloc(sp->ctx, HAZ_POSIX_BUF_SIZE);
    if (ps->buf == NULL)
        return HAZ_ENOMEM;
    ps->clock = cfg->clock;
    ps->next_id = 1;
    sp->methods = &haz_spawner_posix;
    return HAZ_OK;
}

/* SIGKILL every child that has not been reaped (its group, and itself in
 * case it left the group), reap it, close everything. */
static void px_close(haz_spawner *sp)
{
    posix_spawner *ps = (posix_spawner *)sp;
    int st;

    while (ps->n_kids > 0) {
        pchild *c = &ps->kids[ps->n_kids - 1];

        if (!c->reaped) {
            (void)haz__sys_kill(-c->pid, SIGKILL);
            (void)haz__sys_kill(c->pid, SIGKILL);
            while (haz__sys_waitpid(c->pid, &st, 0) == -1 && errno == EINTR)
                ;
        }
        retire(ps, ps->n_kids - 1);
    }
    haz__free(sp->ctx, ps->kids);
    haz__free(sp->ctx, ps->buf);
    ps->kids = NULL;
    ps->buf = NULL;
    sp->methods = NULL;
}

static int plan_ok(const haz_spawn_plan *p)
{
    size_t i;

    if (p->task_id == NULL || p->cwd == NULL)
        return 0;
    if (p->action == HAZ_ACTION_SHELL)
        return p->script != NULL;
    if (p->action != HAZ_ACTION_ARGV || p->argv == NULL || p->argc == 0)
        return 0;
    for (i = 0; i < p->argc; i++)
        if (p->argv[i] == NULL)
            return 0;
    return 1;
}

static int px_spawn(haz_spawner *sp, const haz_spawn_plan *plan,
                    haz_child *child)
{
    posix_spawner *ps = (posix_spawner *)sp;
    pchild *c;
    char *task;
    pid_t pid;
    int rfd[2] = {-1, -1}, rc, via = HAZ_POSIX_VIA_ARGV;

    if (plan == NULL || child == NULL || !plan_ok(plan))
        return haz__error(sp->ctx, HAZ_EINVAL, "%s: posix spawner: bad plan",
                          plan != NULL && plan->task_id != NULL
                              ? plan->task_id : "?");
    if (ps->n_kids >= max_kids())
        return haz__error(sp->ctx, HAZ_ELIMIT,
                          "%s: cannot start: %zu children are running, the "
                          "most select() can watch (FD_SETSIZE %d)",
                          plan->task_id, ps->n_kids, (int)HAZ_POSIX_FD_LIMIT);
    if (ps->n_kids == ps->cap_kids) {
        size_t cap = ps->cap_kids ? ps->cap_kids * 2 : 8;

        c = haz__reallocarray(sp->ctx, ps->kids, cap, sizeof *c);
        if (c == NULL)
            return HAZ_ENOMEM;
        ps->kids = c;
        ps->cap_kids = cap;
    }
    task = haz__strdup(sp->ctx, plan->task_id);
    if (task == NULL)
        return HAZ_ENOMEM;
    rc = haz__posix_start(sp->ctx, plan, &pid, rfd, &via);
    if (rc != HAZ_OK) {
        haz__free(sp->ctx, task);
        return rc;
    }
    ps->via[via]++;
    c = &ps->kids[ps->n_kids++];
    memset(c, 0, sizeof *c);
    c->id = ps->next_id++;
    c->pid = pid;
    c->fd[0] = rfd[0];
    c->fd[1] = rfd[1];
    c->pidfd = -1;
    c->task = task;
    c->poll_at = later(now_ns(ps), OPEN_POLL_NS);
    c->step = STEP_MIN_NS;
    *child = c->id;
    return HAZ_OK;
}

static int px_signal(haz_spawner *sp, haz_child child, int signo)
{
    posix_spawner *ps = (posix_spawner *)sp;
    size_t i = find_kid(ps, child);
    pchild *c;
    int e;

    if (i == SIZE_MAX)
        return haz__error(sp->ctx, HAZ_ENOENT,
                          "posix spawner: no child %" PRIu64, child);
    c = &ps->kids[i];
    /* Reaped, exit not yet delivered: the pid is no longer ours to
     * signal (it may be reused), so nothing is sent. */
    if (c->reaped)
        return HAZ_OK;
    if (haz__sys_kill(-c->pid, signo) == 0)
        return HAZ_OK;
    e = errno;
    if (e == ESRCH) {
        /* The group is gone but the child is not reaped: it left the
         * group.  Reach the child itself. */
        if (haz__sys_kill(c->pid, signo) == 0 || errno == ESRCH)
            return HAZ_OK;
        e = errno;
    }
    return haz__error_os(sp->ctx, HAZ_EIO, e,
                         "%s: cannot send signal %d to process group %ld",
                         c->task, signo, (long)c->pid);
}

static int px_wait(haz_spawner *sp, uint64_t deadline_ns,
                   const haz_cancel *cancel, haz_spawn_event *ev, size_t cap,
                   size_t *n, unsigned *flags)
{
    posix_spawner *ps = (posix_spawner *)sp;
    int last = 0, rc;
    uint64_t now;
    cwatch cw;
    batch b;

    if (n == NULL || flags == NULL || ev == NULL || cap == 0)
        return haz__error(sp->ctx, HAZ_EINTERNAL,
                          "posix spawner: wait without room for events");
    *n = 0;
    *flags = 0;
    ps->used = 0;
    b.ev = ev;
    b.cap = cap;
    b.n = n;
    cw.token = cancel;
    cw.fd = cancel != NULL ? haz_cancel_fd(cancel) : -1;
    cw.poll = cancel != NULL && (cw.fd < 0 || cw.fd >= HAZ_POSIX_FD_LIMIT);
    if (cw.poll)
        cw.fd = -1;
    if (ps->n_kids == 0 && deadline_ns == NEVER && cancel == NULL)
        return haz__error(sp->ctx, HAZ_EINTERNAL,
                          "posix spawner: wait with nothing to wait for");
    for (;;) {
        now = now_ns(ps);
        rc = settle(ps, now, &b);
        if (rc != HAZ_OK)
            return rc;
        if (*n > 0 || last)
            break;
        /* A cancel request not yet acknowledged, or past the deadline: one
         * last look without blocking, so that what is ready is not held
         * back. */
        if (haz_cancel_pending(cancel) || now >= deadline_ns)
            last = 1;
        rc = watch(ps, now, last ? now : next_due(ps, deadline_ns), &cw,
                   &b);
        if (rc != HAZ_OK)
            return rc;
    }
    if (now_ns(ps) >= deadline_ns)
        *flags |= HAZ_WAIT_DEADLINE;
    if (haz_cancel_pending(cancel))
        *flags |= HAZ_WAIT_CANCEL;
    return HAZ_OK;
}

static size_t px_max_children(haz_spawner *sp)
{
    HAZ_UNUSED(sp);
    return max_kids();
}

long haz__posix_child_pid(const haz_spawner *sp, haz_child child)
{
    const posix_spawner *ps = (const posix_spawner *)sp;
    size_t i;

    if (sp == NULL || sp->methods != &haz_spawner_posix)
        return -1;
    i = find_kid(ps, child);
    return i == SIZE_MAX ? -1 : (long)ps->kids[i].pid;
}

long haz__posix_spawner_pidfds(const haz_spawner *sp)
{
    const posix_spawner *ps = (const posix_spawner *)sp;

    if (sp == NULL || sp->methods != &haz_spawner_posix)
        return -1;
    return (long)ps->pidfds;
}

int haz__posix_spawner_pidfd_first(const haz_spawner *sp)
{
    const posix_spawner *ps = (const posix_spawner *)sp;

    if (sp == NULL || sp->methods != &haz_spawner_posix)
        return -1;
    return ps->pidfd_first;
}

int haz__posix_spawner_counts(const haz_spawner *sp, unsigned long *counts)
{
    const posix_spawner *ps = (const posix_spawner *)sp;

    if (sp == NULL || sp->methods != &haz_spawner_posix)
        return -1;
    memcpy(counts, ps->via, sizeof ps->via);
    return 0;
}

const haz_spawner_methods haz_spawner_posix = {
    HAZ_SPAWNER_METHODS_VERSION,    /* version */
    "posix",                        /* name */
    HAZ_SPAWNER_REAL_PROCESSES,     /* caps */
    sizeof(posix_spawner),          /* state_size */
    px_open,                        /* open */
    px_close,                       /* close */
    px_spawn,                       /* spawn */
    px_signal,                      /* signal */
    px_wait,                        /* wait */
    px_max_children                 /* max_children */
};
