/*
 * backends/spawn_posix_start.c: starting one child for the posix spawner
 * (haz__posix_start, declared in backends/spawn_posix.h).
 *
 * First the checks of backends/spawn_posix_lookup.c (working directory,
 * program), so that nothing is created for a plan that cannot run.  Then
 * the two output pipes (moved above 2, read ends non-blocking and below
 * FD_SETSIZE) and the child itself: posix_spawn with file actions where the
 * platform can change directory in them, else fork+exec, whose child
 * reports a failure through a close-on-exec error pipe.  The child gets
 * stdin from /dev/null, the pipes on 1 and 2, its own process group, an
 * empty signal mask, default dispositions and no other descriptor
 * (docs/spawner-posix.md says where that last point depends on the
 * platform).
 *
 * A shell action whose script is a plain command line is started without
 * the shell when backends/spawn_posix_fast.c allows it; should that start
 * fail, the same pipes serve a second start through /bin/sh, so that
 * errors read exactly as they would without the fast path.
 *
 * In order: descriptors; the posix_spawn path; the fork path; the failure
 * report and haz__posix_start.
 */
#include "internal.h"
#include "fdutil.h"
#include "spawn_posix.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(NSIG)
#define HAZ_NSIG NSIG
#elif defined(_NSIG)
#define HAZ_NSIG _NSIG
#else
#define HAZ_NSIG 65
#endif

/* How posix_spawn changes directory and closes stray descriptors, where it
 * can: the POSIX.1-2024 name first, then the older _np one. */
#if defined(HAZ_POSIX_HAVE_SPAWN)
#if defined(HAVE_POSIX_SPAWN_FILE_ACTIONS_ADDCHDIR) && \
    defined(HAVE_DECL_POSIX_SPAWN_FILE_ACTIONS_ADDCHDIR) && \
    HAVE_DECL_POSIX_SPAWN_FILE_ACTIONS_ADDCHDIR
#define SPAWN_ADDCHDIR posix_spawn_file_actions_addchdir
#elif defined(HAVE_POSIX_SPAWN_FILE_ACTIONS_ADDCHDIR_NP) && \
    defined(HAVE_DECL_POSIX_SPAWN_FILE_ACTIONS_ADDCHDIR_NP) && \
    HAVE_DECL_POSIX_SPAWN_FILE_ACTIONS_ADDCHDIR_NP
#define SPAWN_ADDCHDIR posix_spawn_file_actions_addchdir_np
#endif
#if defined(HAVE_POSIX_SPAWN_FILE_ACTIONS_ADDCLOSEFROM_NP) && \
    defined(HAVE_DECL_POSIX_SPAWN_FILE_ACTIONS_ADDCLOSEFROM_NP) && \
    HAVE_DECL_POSIX_SPAWN_FILE_ACTIONS_ADDCLOSEFROM_NP
#define SPAWN_ADDCLOSEFROM posix_spawn_file_actions_addclosefrom_np
#endif
#endif

#if defined(HAVE_CLOSEFROM) && defined(HAVE_DECL_CLOSEFROM) && \
    HAVE_DECL_CLOSEFROM
#define USE_CLOSEFROM 1
#endif

/* Where a start failed.  ST_REPORT: the fork path's exec report could not
 * be read, so whether the program started is unknown (the child was
 * killed). */
enum stage { ST_SETUP, ST_PIPE, ST_FORK, ST_CHILD, ST_CHDIR, ST_EXEC,
             ST_REPORT };

#define FALLBACK (-1)   /* posix_spawn cannot do it: use fork+exec */

typedef struct start_req {
    const char *task;
    const char *prog;       /* as the plan names it (argv[0], /bin/sh) */
    const char *path;       /* what is executed: an absolute path */
    char *const *argv;
    char *const *envp;
    const char *cwd;
    int out_w, err_w;       /* write ends, >= 3, close-on-exec */
    int max_fd;             /* fork path without closefrom: close below */
} start_req;

/* ------------------------------------------------------------------------
 * Descriptors.
 * ---------------------------------------------------------------------- */

/* Move *fd to 3 or above, keeping FD_CLOEXEC, so that it is never one of
 * the child's 0, 1, 2 (and a dup2 onto them always copies). */
static int fd_high(int *fd)
{
    int nfd;

    if (*fd > 2)
        return 0;
#ifdef F_DUPFD_CLOEXEC
    nfd = haz__sys_fcntl(*fd, F_DUPFD_CLOEXEC, 3);
#else
    nfd = haz__sys_fcntl(*fd, F_DUPFD, 3);
    if (nfd != -1 && haz__set_cloexec(nfd) == -1) {
        haz__close(nfd);
        nfd = -1;
    }
#endif
    if (nfd == -1)
        return -1;
    haz__close(*fd);
    *fd = nfd;
    return 0;
}

static int set_nonblock(int fd)
{
    int fl = haz__sys_fcntl(fd, F_GETFL, 0);

    if (fl == -1)
        return -1;
    if (fl & O_NONBLOCK)
        return 0;
    return haz__sys_fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ? -1 : 0;
}

static void close4(int p[2][2])
{
    int s;

    for (s = 0; s < 2; s++) {
        haz__close(p[s][0]);
        haz__close(p[s][1]);
        p[s][0] = p[s][1] = -1;
    }
}

/* The stdout and stderr pipes: rfd[] the parent's read ends, wfd[] the
 * child's write ends. */
static int make_pipes(haz_ctx *ctx, const char *task, int rfd[2],
                      int wfd[2])
{
    int p[2][2] = {{-1, -1}, {-1, -1}};
    int s, i, e;

    for (s = 0; s < 2; s++) {
        if (haz__sys_pipe(p[s]) == -1) {
            p[s][0] = p[s][1] = -1;
            goto os_error;
        }
        for (i = 0; i < 2; i++)
            if (fd_high(&p[s][i]) == -1)
                goto os_error;
    }
    for (s = 0; s < 2; s++) {
        if (p[s][0] >= HAZ_POSIX_FD_LIMIT) {
            int fd = p[s][0];

            close4(p);
            return haz__error(ctx, HAZ_ELIMIT,
                              "%s: cannot watch the output pipes: descriptor "
                              "%d is not below FD_SETSIZE (%d)", task, fd,
                              (int)HAZ_POSIX_FD_LIMIT);
        }
        if (set_nonblock(p[s][0]) == -1)
            goto os_error;
        rfd[s] = p[s][0];
        wfd[s] = p[s][1];
    }
    return HAZ_OK;
os_error:
    e = errno;
    close4(p);
    return haz__error_os(ctx, HAZ_ESPAWN, e,
                         "%s: cannot create the output pipes", task);
}

/* ------------------------------------------------------------------------
 * posix_spawn.  Returns 0, an errno (with *stage), or FALLBACK when a
 * probed file action is refused at run time.
 * ---------------------------------------------------------------------- */
#if defined(HAZ_POSIX_HAVE_SPAWN) && defined(SPAWN_ADDCHDIR)
#define SPAWN_PATH 1

/* Every signal that has a disposition to reset. */
static void catchable(sigset_t *set)
{
    int sig;

    sigemptyset(set);
    for (sig = 1; sig < HAZ_NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            (void)sigaddset(set, sig);   /* refused for reserved ones */
}

static int refused(int e)
{
    return e == ENOSYS || e == EINVAL || e == ENOTSUP ? FALLBACK : e;
}

static int start_spawn(const start_req *rq, pid_t *pid, int *stage)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t set;
    short flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                  POSIX_SPAWN_SETSIGDEF;
    int e;

#ifdef POSIX_SPAWN_CLOEXEC_DEFAULT
    flags |= POSIX_SPAWN_CLOEXEC_DEFAULT;
#endif
    *stage = ST_SETUP;
    e = posix_spawn_file_actions_init(&fa);
    if (e != 0)
        return e;
    e = posix_spawnattr_init(&at);
    if (e != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return e;
    }
    e = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (e == 0)
        e = posix_spawn_file_actions_adddup2(&fa, rq->out_w, 1);
    if (e == 0)
        e = posix_spawn_file_actions_adddup2(&fa, rq->err_w, 2);
    if (e == 0)
        e = refused(SPAWN_ADDCHDIR(&fa, rq->cwd));
#ifdef SPAWN_ADDCLOSEFROM
    if (e == 0)
        e = refused(SPAWN_ADDCLOSEFROM(&fa, 3));
#endif
    if (e == 0)
        e = posix_spawnattr_setflags(&at, flags);
    if (e == 0)
        e = posix_spawnattr_setpgroup(&at, 0);
    if (e == 0) {
        sigemptyset(&set);
        e = posix_spawnattr_setsigmask(&at, &set);
    }
    if (e == 0) {
        catchable(&set);
        e = posix_spawnattr_setsigdefault(&at, &set);
    }
    if (e == 0) {
        *stage = ST_EXEC;
        e = haz__sys_posix_spawn(pid, rq->path, &fa, &at, rq->argv,
                                 rq->envp);
    }
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    return e;
}
#endif

int haz__posix_spawner_closes_fds(void)
{
#if defined(SPAWN_PATH) && !defined(SPAWN_ADDCLOSEFROM) && \
    !defined(POSIX_SPAWN_CLOEXEC_DEFAULT)
    return haz__posix_fork_forced();
#else
    return 1;
#endif
}

/* ------------------------------------------------------------------------
 * fork + exec.  Between fork and exec the child makes only
 * async-signal-safe calls; a failure is written to the error pipe as
 * {stage, errno} and the child exits 127.  EOF on the pipe means exec
 * happened.  When the pipe cannot be read, the child may be anywhere,
 * already running the program: it is killed with its group (ST_REPORT),
 * never waited for while it runs, and never started a second time; the
 * task gets a spawn error as for any failed start (reliability-tests.md
 * R3).
 * ---------------------------------------------------------------------- */

typedef struct child_report {
    int stage;
    int err;
} child_report;

static void child_fail(int ep, int stage)
{
    child_report r;
    ssize_t w;

    r.stage = stage;
    r.err = errno;
    w = write(ep, &r, sizeof r);
    (void)w;
    _exit(127);
}

static void child_run(const start_req *rq, int ep)
{
    struct sigaction sa;
    sigset_t set;
    int sig, fd;

    if (setpgid(0, 0) == -1)
        child_fail(ep, ST_CHILD);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    for (sig = 1; sig < HAZ_NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            (void)sigaction(sig, &sa, NULL);   /* reserved ones refuse */
    sigemptyset(&set);
    if (sigprocmask(SIG_SETMASK, &set, NULL) == -1)
        child_fail(ep, ST_CHILD);
    fd = open("/dev/null", O_RDONLY);
    if (fd == -1 || (fd != 0 && dup2(fd, 0) == -1))
        child_fail(ep, ST_CHILD);
    if (fd != 0)
        (void)close(fd);
    if (dup2(rq->out_w, 1) == -1 || dup2(rq->err_w, 2) == -1)
        child_fail(ep, ST_CHILD);
    if (chdir(rq->cwd) == -1)
        child_fail(ep, ST_CHDIR);
    for (fd = 3; fd < ep; fd++)
        (void)close(fd);
#ifdef USE_CLOSEFROM
    closefrom(ep + 1);
#else
    for (fd = ep + 1; fd < rq->max_fd; fd++)
        (void)close(fd);
#endif
    (void)haz__sys_execve(rq->path, rq->argv, rq->envp);
    child_fail(ep, ST_EXEC);
}

static int start_fork(const start_req *rq, pid_t *pid, int *stage)
{
    int ep[2], e, st;
    sigset_t all, old;
    child_report rep;
    ssize_t r;
    pid_t p;

    *stage = ST_PIPE;
    if (haz__sys_pipe(ep) == -1)
        return errno;
    if (fd_high(&ep[0]) == -1 || fd_high(&ep[1]) == -1) {
        e = errno;
        haz__close(ep[0]);
        haz__close(ep[1]);
        return e;
    }
    /* With every signal blocked, no handler of the parent can run in the
     * child before the child resets the dispositions. */
    sigfillset(&all);
    (void)sigprocmask(SIG_SETMASK, &all, &old);
    p = haz__sys_fork();
    if (p == 0)
        child_run(rq, ep[1]);
    e = errno;
    (void)sigprocmask(SIG_SETMASK, &old, NULL);
    haz__close(ep[1]);
    if (p == -1) {
        haz__close(ep[0]);
        *stage = ST_FORK;
        return e;
    }
    do
        r = haz__sys_read(ep[0], &rep, sizeof rep);
    while (r == -1 && errno == EINTR);
    e = errno;
    haz__close(ep[0]);
    if (r == 0) {
        *pid = p;
        return 0;
    }
    if (r == -1) {
        /* Make sure the group exists (EACCES: the child made it and
         * exec'd), then kill it, so that no process of the program
         * outlives a start reported as failed. */
        (void)setpgid(p, p);
        (void)haz__sys_kill(-p, SIGKILL);
        (void)haz__sys_kill(p, SIGKILL);
    }
    while (haz__sys_waitpid(p, &st, 0) == -1 && errno == EINTR)
        ;
    if (r == (ssize_t)sizeof rep) {
        *stage = rep.stage;
        return rep.err != 0 ? rep.err : EIO;
    }
    *stage = r == -1 ? ST_REPORT : ST_EXEC;
    return r == -1 ? e : EIO;
}

/* ------------------------------------------------------------------------
 * The failure report, and starting.
 * ---------------------------------------------------------------------- */

static int report(haz_ctx *ctx, const start_req *rq, int stage, int e)
{
    struct stat st;

    switch (stage) {
    case ST_SETUP:
        return haz__error_os(ctx, HAZ_ESPAWN, e,
                             "%s: cannot prepare to run '%s'", rq->task,
                             rq->prog);
    case ST_PIPE:
        return haz__error_os(ctx, HAZ_ESPAWN, e,
                             "%s: cannot create the error pipe for '%s'",
                             rq->task, rq->prog);
    case ST_FORK:
        return haz__error_os(ctx, HAZ_ESPAWN, e,
                             "%s: cannot start a process for '%s'",
                             rq->task, rq->prog);
    case ST_CHDIR:
        return haz__error_os(ctx, HAZ_ESPAWN, e,
                             "%s: cannot enter working directory '%s'",
                             rq->task, rq->cwd);
    case ST_REPORT:
        return haz__error_os(ctx, HAZ_ESPAWN, e,
                             "%s: cannot read the start report of '%s' "
                             "(the child was killed)", rq->task, rq->prog);
    case ST_EXEC:
        if (e == ENOENT && stat(rq->path, &st) == 0)
            return haz__posix_fail(
                ctx, HAZ_ESPAWN, ENOENT,
                "%s: cannot run '%s': '%s' exists but its '#!' interpreter "
                "or program loader was not found", rq->task, rq->prog,
                rq->path);
        return haz__error_os(ctx, HAZ_ESPAWN, e, "%s: cannot run '%s'",
                             rq->task, rq->prog);
    default:
        return haz__error_os(ctx, HAZ_ESPAWN, e,
                             "%s: cannot set up the child for '%s'",
                             rq->task, rq->prog);
    }
}

/* One start of rq: posix_spawn where usable, else fork+exec.  Returns 0
 * or an errno, with *stage. */
static int start_one(const start_req *rq, pid_t *pid, int *stage)
{
    int r = FALLBACK;

#ifdef SPAWN_PATH
    if (!haz__posix_fork_forced())
        r = start_spawn(rq, pid, stage);
#endif
    if (r == FALLBACK)
        r = start_fork(rq, pid, stage);
    return r;
}

int haz__posix_start(haz_ctx *ctx, const haz_spawn_plan *plan, pid_t *pid,
                     int rfd[2], int *via)
{
    static char *const no_env[] = {NULL};
    char *sh_argv[4];
    char **argv = NULL;
    int wfd[2] = {-1, -1};
    int rc, r, stage = ST_SETUP;
    haz__posix_fast fast;
    start_req rq;
    haz_buf path;
    size_t i;

    memset(&rq, 0, sizeof rq);
    memset(&fast, 0, sizeof fast);
    rq.task = plan->task_id;
    rq.cwd = plan->cwd;
    rq.envp = plan->envp != NULL ? (char *const *)plan->envp : no_env;
    *via = HAZ_POSIX_VIA_ARGV;
    rc = haz__posix_check_cwd(ctx, plan->task_id, plan->cwd);
    if (rc != HAZ_OK)
        return rc;
    haz__buf_init(&path, ctx);
    if (plan->action == HAZ_ACTION_SHELL) {
        sh_argv[0] = (char *)"/bin/sh";
        sh_argv[1] = (char *)"-c";
        sh_argv[2] = (char *)plan->script;
        sh_argv[3] = NULL;
        rq.argv = sh_argv;
        rq.prog = rq.path = "/bin/sh";
        *via = HAZ_POSIX_VIA_SHELL;
        rc = haz__posix_fast_prepare(ctx, plan, &fast);
        if (rc < 0)
            goto done;
        if (rc == 1) {
            rq.argv = fast.argv;
            rq.prog = fast.argv[0];
            rq.path = fast.path;
            if (fast.envp != NULL)
                rq.envp = fast.envp;
            *via = HAZ_POSIX_VIA_DIRECT;
        }
        rc = HAZ_OK;
    } else {
        rc = haz__posix_resolve(ctx, plan, &path);
        if (rc != HAZ_OK)
            goto done;
        argv = haz__calloc(ctx, plan->argc + 1, sizeof *argv);
        if (argv == NULL) {
            rc = HAZ_ENOMEM;
            goto done;
        }
        for (i = 0; i < plan->argc; i++)
            argv[i] = (char *)plan->argv[i];
        rq.argv = argv;
        rq.prog = plan->argv[0];
        rq.path = path.data;
    }
    rc = make_pipes(ctx, plan->task_id, rfd, wfd);
    if (rc != HAZ_OK)
        goto done;
    rq.out_w = wfd[0];
    rq.err_w = wfd[1];
#ifndef USE_CLOSEFROM
    {
        long m = sysconf(_SC_OPEN_MAX);

        rq.max_fd = m < 0 ? 1024 : m > 65536 ? 65536 : (int)m;
    }
#endif
    r = start_one(&rq, pid, &stage);
    if (r != 0 && *via == HAZ_POSIX_VIA_DIRECT && stage != ST_REPORT) {
        /* No child ran (posix_spawn reports exec failures; the fork path's
         * child is reaped and wrote nothing to the output pipes): let the
         * shell run the script, with its own messages and exit codes.  Not
         * after a lost exec report (ST_REPORT): the program may have run
         * in part, and must not run twice. */
        rq.argv = sh_argv;
        rq.prog = rq.path = "/bin/sh";
        rq.envp = plan->envp != NULL ? (char *const *)plan->envp : no_env;
        *via = HAZ_POSIX_VIA_RETRY;
        stage = ST_SETUP;
        r = start_one(&rq, pid, &stage);
    }
    haz__close(wfd[0]);
    haz__close(wfd[1]);
    if (r != 0) {
        haz__close(rfd[0]);
        haz__close(rfd[1]);
        rfd[0] = rfd[1] = -1;
        rc = report(ctx, &rq, stage, r);
        goto done;
    }
    /* Where posix_spawn may return before the child ran, make sure the
     * group exists before anyone signals it (EACCES once it has exec'd). */
    (void)setpgid(*pid, *pid);
done:
    haz__free(ctx, argv);
    haz__buf_free(&path);
    haz__posix_fast_free(ctx, &fast);
    return rc;
}
