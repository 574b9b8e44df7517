/*
 * tests/test_lifecycle.c: the process-lifecycle and resource-limit tests of
 * reliability-tests.md that need the scheduler and the posix spawner
 * together: real children started by haz_run() with the posix spawner and
 * clock, tests/t_probe or /bin/sh as the child.  What tests/test_spawner.c
 * already checks against the spawner alone (stdin, signal state, the
 * spawn messages, EOF against exit, FD_SETSIZE, injected EINTR) is not
 * repeated; here are P1 (exit status map), P2 (spawn errors and their
 * dependents), P4 (descriptors while other tasks and a cache store are
 * open), P5 (no zombie whatever the outcome; a second run works), P6
 * (cancel reaches grandchildren), P7 (grace then SIGKILL), P8 (an early
 * exit ends the grace at once, and no SIGKILL follows), P9 (a cooperative
 * exit is still cancelled, its last bytes kept, nothing cached), P11a
 * (SIGCHLD ignored by the host), P12 (a signal storm during a run with
 * output), R1 (EMFILE), R2 (concurrency above what select() can watch),
 * R3 (pipe and start failures through the run) and R6 (output floods).
 *
 * Every test ends with the invariants (lc_end): no memory left, no zombie
 * (waitpid(-1, WNOHANG) gives ECHILD), every process group the run created
 * gone (kill(-pgid, 0) gives ESRCH; the pgids are recorded through the
 * spawner's system-call seam), the same open descriptors as before.  On
 * Linux the test is a child subreaper, so grandchildren orphaned by a
 * cancel come back to it and are reaped by group.  Steps are sequenced by
 * output (an observer cancels the run when a task prints a marker), never
 * by sleeping; the clock only bounds how long things may take.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "testutil.h"
#include "../backends/spawn_posix.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define MS(x) ((uint64_t)(x) * UINT64_C(1000000))
#define SEC(x) ((uint64_t)(x) * UINT64_C(1000000000))
#define FDMAX 1024
#define MAXT 700
#define MAXPID 4096
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static char probe[4096];
static int subreaper;
static int under_valgrind;

/* ------------------------------------------------------------------------
 * What the spawner did, through its system-call seam: the pid (= process
 * group) of every child started, and every signal sent.
 * ---------------------------------------------------------------------- */

static long pids[MAXPID];
static size_t npids;
static int kills[64];           /* signals sent, by number */
static int fail_pipe_at, pipe_calls, fail_start_at, start_calls;


static void note_pid(pid_t p)
{
    if (p > 0 && npids < MAXPID)
        pids[npids++] = (long)p;
}

static pid_t seam_fork(void)
{
    pid_t p;

    if (++start_calls == fail_start_at) {
        errno = EAGAIN;
        return -1;
    }
    p = HAZ__PX_DEFAULT(fork)();
    if (p > 0)
        note_pid(p);
    return p;
}

#ifdef HAZ_POSIX_HAVE_SPAWN

static int seam_spawn(pid_t *pid, const char *path,
                      const posix_spawn_file_actions_t *fa,
                      const posix_spawnattr_t *at, char *const argv[],
                      char *const envp[])
{
    int r;

    if (++start_calls == fail_start_at)
        return EAGAIN;
    r = HAZ__PX_DEFAULT(posix_spawn)(pid, path, fa, at, argv, envp);
    if (r == 0)
        note_pid(*pid);
    return r;
}
#endif

static int seam_kill(pid_t pid, int sig)
{
    if (sig > 0 && sig < (int)NELEM(kills))
        kills[sig]++;
    return HAZ__PX_DEFAULT(kill)(pid, sig);
}

static int seam_pipe(int *fds)
{
    if (++pipe_calls == fail_pipe_at) {
        errno = EMFILE;
        return -1;
    }
    return HAZ__PX_DEFAULT(pipe)(fds);
}

static void seams_on(void)
{
    npids = 0;
    memset(kills, 0, sizeof kills);
    fail_pipe_at = pipe_calls = fail_start_at = start_calls = 0;
    haz__posix_syscall_set("fork", (haz__posix_syscall_fn)seam_fork);
#ifdef HAZ_POSIX_HAVE_SPAWN
    haz__posix_syscall_set("posix_spawn", (haz__posix_syscall_fn)seam_spawn);
#endif
    haz__posix_syscall_set("kill", (haz__posix_syscall_fn)seam_kill);
    haz__posix_syscall_set("pipe", (haz__posix_syscall_fn)seam_pipe);
}

static void seams_off(void)
{
    haz__posix_syscall_set("fork", NULL);
    haz__posix_syscall_set("posix_spawn", NULL);
    haz__posix_syscall_set("kill", NULL);
    haz__posix_syscall_set("pipe", NULL);
}

/* ------------------------------------------------------------------------
 * The observer: per task, its output (the first bytes kept, all counted),
 * and a trigger: when a task's stdout holds `marker`, cancel the run.
 * ---------------------------------------------------------------------- */

#define KEEP 4096

typedef struct trec {
    char out[KEEP + 1], err[KEEP + 1];
    size_t nout, nerr;
    int started, ended;
} trec;

typedef struct lc {
    haz_test_mem tm;
    haz_ctx *ctx;
    haz_clock *clk;
    haz_spawner *sp;
    haz_graph *g;
    haz_cancel *cancel;
    haz_cache_store *cache;
    haz_run_result *res;
    unsigned char fds[FDMAX];
    char dir[4096];             /* the workspace (absolute, real) */
    trec *t;                    /* MAXT records, by task index */
    const char *marker;         /* cancel when a stdout shows this */
    int cancels;                /* how many requests the trigger makes */
    uint64_t cancel_at;         /* when the first request was made */
    size_t running, max_running;
    const char *cancel_after;   /* cancel when this task finishes */
} lc;

static lc *the_lc;

static void fd_snapshot(unsigned char *fds)
{
    int fd;

    for (fd = 0; fd < FDMAX; fd++)
        fds[fd] = fcntl(fd, F_GETFD) != -1;
}

static void keep(char *buf, size_t *n, const void *data, size_t len)
{
    size_t room = *n < KEEP ? KEEP - *n : 0;

    memcpy(buf + (*n < KEEP ? *n : KEEP), data, len < room ? len : room);
    *n += len;
    buf[*n < KEEP ? *n : KEEP] = '\0';
}

static void request(lc *l)
{
    int k;

    if (l->cancel_at == 0)
        l->cancel_at = haz_clock_now_ns(l->clk);
    for (k = 0; k < l->cancels; k++)
        haz_cancel_request(l->cancel, SIGINT);
    l->cancels = 0;
}

static void ob_started(void *ud, const haz_task_id *task)
{
    lc *l = ud;

    l->t[task->index].started++;
    if (++l->running > l->max_running)
        l->max_running = l->running;
}

static void ob_output(void *ud, const haz_task_id *task, haz_stream stream,
                      const void *data, size_t len)
{
    lc *l = ud;
    trec *r = &l->t[task->index];

    if (stream == HAZ_STREAM_STDOUT) {
        keep(r->out, &r->nout, data, len);
        if (l->marker != NULL && strstr(r->out, l->marker) != NULL)
            request(l);
    } else {
        keep(r->err, &r->nerr, data, len);
    }
}

static void ob_end(void *ud, const haz_task_outcome *o)
{
    lc *l = ud;

    l->t[o->task.index].ended++;
    if (l->t[o->task.index].started)
        l->running--;
    if (l->cancel_after != NULL && strcmp(o->task.id, l->cancel_after) == 0)
        request(l);
}

static const haz_observer_methods ob_methods = {
    HAZ_OBSERVER_METHODS_VERSION, ob_started, ob_output, ob_end, ob_end,
    ob_end, ob_end, NULL
};

/* ------------------------------------------------------------------------
 * Fixture.
 * ---------------------------------------------------------------------- */

static void lc_begin(lc *l)
{
    char tmp[4096];

    memset(l, 0, sizeof *l);
    the_lc = l;
    fd_snapshot(l->fds);
    l->t = calloc(MAXT, sizeof *l->t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(l->t);
    haz_test_mem_init(&l->tm);
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&l->ctx, &l->tm.mem), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_clock_open(l->ctx, &haz_clock_posix, NULL,
                                         &l->clk), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_graph_new(l->ctx, &l->g), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_cancel_new(l->ctx, &l->cancel), HAZ_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(haz_test_mkdtemp(tmp, sizeof tmp,
                                                  "lifecycle"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(realpath(tmp, l->dir));
    seams_on();
}

static void lc_open_spawner(lc *l)
{
    haz_spawner_config sc;

    memset(&sc, 0, sizeof sc);
    sc.version = 1;
    sc.clock = l->clk;
    CU_ASSERT_EQUAL_FATAL(haz_spawner_open(l->ctx, &haz_spawner_posix, &sc,
                                           &l->sp), HAZ_OK);
}

static void lc_open_cache(lc *l)
{
    haz_cache_store_config cc;

    memset(&cc, 0, sizeof cc);
    cc.version = 1;
    cc.workspace_root = l->dir;
    cc.hash = &haz_hash_sha256;
    cc.clock = l->clk;
    CU_ASSERT_EQUAL_FATAL(haz_cache_store_open(l->ctx, &haz_cache_store_fs,
                                               &cc, &l->cache), HAZ_OK);
}

static haz_task *add_sh(lc *l, const char *name, const char *script)
{
    haz_task *t = NULL;

    CU_ASSERT_EQUAL_FATAL(haz_graph_add_task(l->g, "p", name, &t), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_task_set_shell(t, script), HAZ_OK);
    return t;
}

/* t_probe with the words of `words` (split at spaces; no quoting). */
static haz_task *add_probe(lc *l, const char *name, const char *words)
{
    const char *argv[64];
    char buf[1024], *w;
    haz_task *t = NULL;
    size_t n = 0;

    snprintf(buf, sizeof buf, "%s", words);
    argv[n++] = probe;
    for (w = strtok(buf, " "); w != NULL && n < 63; w = strtok(NULL, " "))
        argv[n++] = w;
    CU_ASSERT_EQUAL_FATAL(haz_graph_add_task(l->g, "p", name, &t), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_task_set_argv(t, n, argv), HAZ_OK);
    return t;
}

static const char *const host_env[] = {"PATH=/usr/bin:/bin", NULL};

/* Validate (once) and run with concurrency `jobs` and grace `grace`.
 * Returns haz_run's result; l->res holds the outcomes. */
static int lc_run(lc *l, unsigned jobs, uint64_t grace)
{
    haz_run_options ro;
    haz_run_config cfg;
    haz_observer obs;
    int rc;

    if (l->sp == NULL)
        lc_open_spawner(l);
    (void)haz_graph_validate(l->g, NULL);
    haz_run_result_free(l->res);
    l->res = NULL;
    haz_run_options_init(&ro);
    ro.concurrency = jobs;
    ro.cancel_grace_ns = grace;
    ro.workspace_root = l->dir;
    ro.host_env = host_env;
    ro.no_cache = l->cache == NULL;
    obs.methods = &ob_methods;
    obs.ud = l;
    memset(&cfg, 0, sizeof cfg);
    cfg.graph = l->g;
    cfg.spawner = l->sp;
    cfg.clock = l->clk;
    cfg.cache = l->cache;
    cfg.observer = &obs;
    cfg.cancel = l->cancel;
    cfg.options = &ro;
    rc = haz_run(l->ctx, &cfg, &l->res);
    if (rc != HAZ_OK)
        fprintf(stderr, "\n  haz_run: %s\n", haz_ctx_errmsg(l->ctx));
    return rc;
}

static const haz_task_outcome *outcome(lc *l, const char *name)
{
    char id[256];
    const haz_task_outcome *o;

    snprintf(id, sizeof id, "p:%s", name);
    o = haz_test_outcome(l->res, id);
    if (o == NULL)
        CU_FAIL_FATAL("no outcome for the task");
    return o;
}

static trec *rec(lc *l, const char *name)
{
    return &l->t[outcome(l, name)->task.index];
}

/* Close everything, then check the invariants. */
static void lc_end(lc *l)
{
    unsigned char after[FDMAX];
    size_t i;
    int fd, st;
    pid_t p;

    seams_off();
    haz_run_result_free(l->res);
    haz_spawner_close(l->sp);
    haz_cache_store_close(l->cache);
    haz_cancel_free(l->cancel);
    haz_graph_free(l->g);
    haz_clock_close(l->clk);
    haz_ctx_free(l->ctx);
    CU_ASSERT_EQUAL(l->tm.live, 0);
    /* INV-GROUP.  The leaders are reaped: a group still there holds
     * grandchildren, which a cancel must have killed (as the subreaper,
     * they are reaped here as they die). */
    for (i = 0; i < npids; i++)
        if (!haz_test_group_gone(pids[i], subreaper)) {
            CU_FAIL("a process group of the run is still there");
            (void)kill(-(pid_t)pids[i], SIGKILL);
            (void)haz_test_group_gone(pids[i], subreaper);
        }
    /* INV-ZOMBIE. */
    p = waitpid(-1, &st, WNOHANG);
    CU_ASSERT(p == -1 && errno == ECHILD);
    while (p > 0)
        p = waitpid(-1, &st, WNOHANG);
    /* INV-FD. */
    fd_snapshot(after);
    for (fd = 0; fd < FDMAX; fd++)
        if (after[fd] != l->fds[fd]) {
            fprintf(stderr, "\n  descriptor %d: %s\n", fd,
                    after[fd] ? "leaked" : "closed");
            CU_FAIL("the open descriptors changed");
        }
    CU_ASSERT_EQUAL(haz_test_rmtree(l->dir), 0);
    free(l->t);
    the_lc = NULL;
}

/* Right after haz_run returned, with no waiting: no zombie, no group. */
static void assert_clean_now(void)
{
    size_t i;
    int st;

    CU_ASSERT(waitpid(-1, &st, WNOHANG) == -1 && errno == ECHILD);
    for (i = 0; i < npids; i++)
        CU_ASSERT(kill(-(pid_t)pids[i], 0) == -1 && errno == ESRCH);
}

static void write_file(const char *dir, const char *name, const char *text,
                       mode_t mode)
{
    char path[4300];

    snprintf(path, sizeof path, "%s/%s", dir, name);
    CU_ASSERT_EQUAL_FATAL(haz_test_write_file(path, text, strlen(text)), 0);
    CU_ASSERT_EQUAL_FATAL(chmod(path, mode), 0);
}

/* ------------------------------------------------------------------------
 * P1, P2: how tasks end.
 * ---------------------------------------------------------------------- */

/* P1: exits and signal deaths are recorded exactly; the run fails. */
static void test_exit_status_map(void)
{
    static const int codes[] = {0, 1, 2, 124, 125, 126, 127, 128, 255};
    static const struct { const char *name; int sig; } sigs[] = {
        {"sabrt", SIGABRT}, {"skill", SIGKILL}, {"ssegv", SIGSEGV}
    };
    char name[32], sh[64];
    size_t i;
    lc l;

    lc_begin(&l);
    for (i = 0; i < NELEM(codes); i++) {
        snprintf(name, sizeof name, "e%d", codes[i]);
        snprintf(sh, sizeof sh, "exit %d", codes[i]);
        add_sh(&l, name, sh);
    }
    for (i = 0; i < NELEM(sigs); i++) {
        snprintf(sh, sizeof sh, "kill -%d $$", sigs[i].sig);
        add_sh(&l, sigs[i].name, sh);
    }
    /* The same through the fast path: t_probe kills itself. */
    add_probe(&l, "pself", "kill 6");
    CU_ASSERT_EQUAL_FATAL(lc_run(&l, 4, SEC(5)), HAZ_OK);
    for (i = 0; i < NELEM(codes); i++) {
        const haz_task_outcome *o;

        snprintf(name, sizeof name, "e%d", codes[i]);
        o = outcome(&l, name);
        CU_ASSERT_EQUAL(o->kind, HAZ_OUTCOME_COMPLETED);
        CU_ASSERT_EQUAL(o->state, codes[i] == 0 ? HAZ_STATE_SUCCEEDED
                                                : HAZ_STATE_FAILED);
        CU_ASSERT_EQUAL(o->status.kind, HAZ_EXIT_CODE);
        CU_ASSERT_EQUAL(o->status.code, codes[i]);
    }
    for (i = 0; i < NELEM(sigs); i++) {
        const haz_task_outcome *o = outcome(&l, sigs[i].name);

        CU_ASSERT_EQUAL(o->kind, HAZ_OUTCOME_COMPLETED);
        CU_ASSERT_EQUAL(o->state, HAZ_STATE_FAILED);
        CU_ASSERT_EQUAL(o->status.kind, HAZ_EXIT_SIGNAL);
        CU_ASSERT_EQUAL(o->status.signo, sigs[i].sig);
    }
    CU_ASSERT_EQUAL(outcome(&l, "pself")->status.kind, HAZ_EXIT_SIGNAL);
    CU_ASSERT_EQUAL(outcome(&l, "pself")->status.signo, SIGABRT);
    CU_ASSERT_EQUAL(haz_exit_code(l.res, 0), 1);
    assert_clean_now();
    lc_end(&l);
}

/* P2: programs that cannot start.  Through the shell: exit 127/126 with
 * the shell's message; as argv: an executor error.  Dependents are
 * skipped either way; nothing is left behind. */
static void test_spawn_errors(void)
{
    static const struct {
        const char *name, *script;
        int code;
    } sh_cases[] = {
        {"sh_missing", "no_such_prog_xyz", 127},
        {"sh_noexec", "./noexec", 126},
        {"sh_dir", "./adir", 126},
        {"sh_nointerp", "./nointerp", 127},
        {"sh_abs", "/nonexistent-hazexec/bin", 127}
    };
    static const struct {
        const char *name, *prog;
        int err;
    } argv_cases[] = {
        {"av_missing", "no_such_prog_xyz", ENOENT},
        {"av_noexec", "./noexec", EACCES},
        {"av_dir", "./adir", EACCES},
        {"av_abs", "/nonexistent-hazexec/bin", ENOENT}
    };
    char dep[64], ref[80], adir[4300];
    size_t i;
    lc l;

    lc_begin(&l);
    write_file(l.dir, "noexec", "#!/bin/sh\necho no\n", 0644);
    write_file(l.dir, "nointerp", "#!/nonexistent-hazexec/sh\n", 0755);
    snprintf(adir, sizeof adir, "%s/adir", l.dir);
    CU_ASSERT_EQUAL_FATAL(mkdir(adir, 0755), 0);
    for (i = 0; i < NELEM(sh_cases); i++) {
        /* nointerp fails in execve, which a child under valgrind cannot
         * survive (the shell's own attempt is not under valgrind). */
        add_sh(&l, sh_cases[i].name,
               under_valgrind && strcmp(sh_cases[i].name, "sh_nointerp") == 0
                   ? "echo no such interpreter >&2; exit 127"
                   : sh_cases[i].script);
        snprintf(dep, sizeof dep, "%s_dep", sh_cases[i].name);
        snprintf(ref, sizeof ref, "p:%s", sh_cases[i].name);
        CU_ASSERT_EQUAL(haz_task_add_dep(add_sh(&l, dep, "exit 0"), ref),
                        HAZ_OK);
    }
    for (i = 0; i < NELEM(argv_cases); i++) {
        const char *argv[2];
        haz_task *t = NULL;

        argv[0] = argv_cases[i].prog;
        argv[1] = NULL;
        CU_ASSERT_EQUAL_FATAL(haz_graph_add_task(l.g, "p", argv_cases[i].name,
                                                 &t), HAZ_OK);
        CU_ASSERT_EQUAL_FATAL(haz_task_set_argv(t, 1, argv), HAZ_OK);
        snprintf(dep, sizeof dep, "%s_dep", argv_cases[i].name);
        snprintf(ref, sizeof ref, "p:%s", argv_cases[i].name);
        CU_ASSERT_EQUAL(haz_task_add_dep(add_sh(&l, dep, "exit 0"), ref),
                        HAZ_OK);
    }
    add_sh(&l, "fine", "exit 0");
    CU_ASSERT_EQUAL_FATAL(lc_run(&l, 4, SEC(5)), HAZ_OK);
    for (i = 0; i < NELEM(sh_cases); i++) {
        const haz_task_outcome *o = outcome(&l, sh_cases[i].name);

        snprintf(dep, sizeof dep, "%s_dep", sh_cases[i].name);
        CU_ASSERT_EQUAL(o->kind, HAZ_OUTCOME_COMPLETED);
        CU_ASSERT_EQUAL(o->state, HAZ_STATE_FAILED);
        CU_ASSERT_EQUAL(o->status.kind, HAZ_EXIT_CODE);
        CU_ASSERT_EQUAL(o->status.code, sh_cases[i].code);
        CU_ASSERT(rec(&l, sh_cases[i].name)->nerr > 0);   /* sh's message */
        CU_ASSERT_EQUAL(outcome(&l, dep)->kind, HAZ_OUTCOME_SKIPPED);
        CU_ASSERT_EQUAL(outcome(&l, dep)->skip_cause,
                        HAZ_SKIP_UPSTREAM_FAILED);
    }
    for (i = 0; i < NELEM(argv_cases); i++) {
        const haz_task_outcome *o = outcome(&l, argv_cases[i].name);

        snprintf(dep, sizeof dep, "%s_dep", argv_cases[i].name);
        CU_ASSERT_EQUAL(o->kind, HAZ_OUTCOME_ERRORED);
        CU_ASSERT_EQUAL(o->error, HAZ_TERR_SPAWN);
        CU_ASSERT_EQUAL(o->os_errno, argv_cases[i].err);
        CU_ASSERT_PTR_NOT_NULL(o->message);
        if (o->message != NULL)
            CU_ASSERT(strstr(o->message, argv_cases[i].prog) != NULL);
        CU_ASSERT_EQUAL(outcome(&l, dep)->kind, HAZ_OUTCOME_SKIPPED);
        CU_ASSERT_EQUAL(outcome(&l, dep)->skip_cause,
                        HAZ_SKIP_UPSTREAM_ERRORED);
    }
    CU_ASSERT_EQUAL(outcome(&l, "fine")->state, HAZ_STATE_SUCCEEDED);
    CU_ASSERT_EQUAL(haz_exit_code(l.res, 0), 1);
    assert_clean_now();
    lc_end(&l);
}

/* ------------------------------------------------------------------------
 * P4, P5: descriptors and leftovers.
 * ---------------------------------------------------------------------- */

/* P4: while 8 tasks run and a cache store is open, with 20 descriptors of
 * ours close-on-exec and one not, a 9th task sees only 0, 1, 2 (and the
 * inheritable one, on platforms where the spawner cannot close it). */
static void test_fd_audit(void)
{
    int extra[20], loose, k, fl;
    char want[1024], name[16];
    size_t len;
    lc l;

    lc_begin(&l);
    for (k = 0; k < 20; k++) {
        extra[k] = open("/dev/null", O_RDONLY | O_CLOEXEC);
        CU_ASSERT_FATAL(extra[k] > 2);
    }
    loose = open("/dev/null", O_RDONLY);
    CU_ASSERT_FATAL(loose > 2);
    lc_open_cache(&l);
    for (k = 0; k < 8; k++) {
        snprintf(name, sizeof name, "a%d", k);
        add_probe(&l, name, "block");
    }
    add_probe(&l, "z9", "fds");
    l.cancel_after = "p:z9";
    l.cancels = 1;
    CU_ASSERT_EQUAL_FATAL(lc_run(&l, 9, SEC(5)), HAZ_OK);
    /* Where the spawner cannot close them (posix_spawn without a closefrom
     * action: musl), every descriptor without FD_CLOEXEC leaks: `loose`
     * and any this process inherited. */
    len = (size_t)snprintf(want, sizeof want, "fds: 0 1 2");
    for (k = 3; k < FDMAX && !haz__posix_spawner_closes_fds(); k++)
        if ((fl = fcntl(k, F_GETFD)) != -1 && !(fl & FD_CLOEXEC) &&
            len + 16 < sizeof want)
            len += (size_t)snprintf(want + len, sizeof want - len, " %d", k);
    snprintf(want + len, sizeof want - len, "\n");
    CU_ASSERT_EQUAL(outcome(&l, "z9")->state, HAZ_STATE_SUCCEEDED);
    CU_ASSERT_STRING_EQUAL(rec(&l, "z9")->out, want);
    CU_ASSERT_EQUAL(outcome(&l, "a0")->kind, HAZ_OUTCOME_CANCELLED);
    CU_ASSERT_EQUAL(haz_exit_code(l.res, haz_run_result_cancel_signal(l.res)),
                    130);
    assert_clean_now();
    for (k = 0; k < 20; k++)
        close(extra[k]);
    close(loose);
    lc_end(&l);
}

/* The host's signal state, to compare before and after runs. */
typedef struct sigsnap {
    sigset_t mask;
    void (*handler[32])(int);
} sigsnap;

static void sig_snapshot(sigsnap *s)
{
    struct sigaction sa;
    int sig;

    CU_ASSERT_EQUAL(sigprocmask(SIG_BLOCK, NULL, &s->mask), 0);
    for (sig = 1; sig < 32; sig++)
        s->handler[sig] = sigaction(sig, NULL, &sa) == 0 ? sa.sa_handler
                                                         : SIG_ERR;
}

static void sig_compare(const sigsnap *a, const sigsnap *b)
{
    int sig;

    for (sig = 1; sig < 32; sig++) {
        CU_ASSERT(a->handler[sig] == b->handler[sig]);
        CU_ASSERT_EQUAL(sigismember(&a->mask, sig),
                        sigismember(&b->mask, sig));
    }
}

/* P5: after every kind of ending, nothing is left the moment haz_run
 * returns, and the next run in the same process works the same. */
static void test_no_leftovers(void)
{
    sigsnap before, after;
    int scenario, round;

    sig_snapshot(&before);
    for (scenario = 0; scenario < 5; scenario++) {
        lc l;

        lc_begin(&l);
        switch (scenario) {
        case 0:                 /* all succeed */
            add_sh(&l, "a", "echo a");
            add_probe(&l, "b", "echo b");
            CU_ASSERT_EQUAL(haz_task_add_dep(add_sh(&l, "c", "exit 0"),
                                             "p:a"), HAZ_OK);
            break;
        case 1:                 /* one fails, its dependent is skipped */
            add_sh(&l, "a", "exit 3");
            CU_ASSERT_EQUAL(haz_task_add_dep(add_sh(&l, "b", "exit 0"),
                                             "p:a"), HAZ_OK);
            add_probe(&l, "c", "echo c");
            break;
        case 2:                 /* cancelled */
            add_probe(&l, "a", "echo ready block");
            add_probe(&l, "b", "block");
            l.marker = "ready";
            break;
        case 3:                 /* the grace expires */
            add_probe(&l, "a", "ignore 15 echo ready block");
            l.marker = "ready";
            break;
        default:                /* a spawn error */
            add_probe(&l, "a", "echo a");
            {
                const char *argv[] = {"/nonexistent-hazexec/x", NULL};
                haz_task *t = NULL;

                CU_ASSERT_EQUAL_FATAL(haz_graph_add_task(l.g, "p", "b", &t),
                                      HAZ_OK);
                CU_ASSERT_EQUAL_FATAL(haz_task_set_argv(t, 1, argv), HAZ_OK);
            }
            break;
        }
        for (round = 0; round < 2; round++) {
            memset(l.t, 0, MAXT * sizeof *l.t);
            l.cancels = 1;
            l.cancel_at = 0;
            if (round == 1) {
                haz_cancel_free(l.cancel);
                l.cancel = NULL;
                CU_ASSERT_EQUAL_FATAL(haz_cancel_new(l.ctx, &l.cancel),
                                      HAZ_OK);
            }
            CU_ASSERT_EQUAL_FATAL(lc_run(&l, 4, MS(200)), HAZ_OK);
            assert_clean_now();
            switch (scenario) {
            case 0:
                CU_ASSERT_EQUAL(haz_exit_code(l.res, 0), 0);
                CU_ASSERT_STRING_EQUAL(rec(&l, "a")->out, "a\n");
                break;
            case 1:
                CU_ASSERT_EQUAL(haz_exit_code(l.res, 0), 1);
                CU_ASSERT_EQUAL(outcome(&l, "b")->kind, HAZ_OUTCOME_SKIPPED);
                CU_ASSERT_STRING_EQUAL(rec(&l, "c")->out, "c\n");
                break;
            case 2:
            case 3:
                CU_ASSERT_EQUAL(outcome(&l, "a")->kind,
                                HAZ_OUTCOME_CANCELLED);
                CU_ASSERT_EQUAL(haz_exit_code(
                                    l.res,
                                    haz_run_result_cancel_signal(l.res)),
                                130);
                break;
            default:
                CU_ASSERT_EQUAL(outcome(&l, "b")->kind, HAZ_OUTCOME_ERRORED);
                CU_ASSERT_STRING_EQUAL(rec(&l, "a")->out, "a\n");
                break;
            }
        }
        lc_end(&l);
    }
    sig_snapshot(&after);
    sig_compare(&before, &after);
}

/* ------------------------------------------------------------------------
 * P6 - P9: cancellation.
 * ---------------------------------------------------------------------- */

/* P6: a cancel reaches every process of the task's group: the shell, two
 * background sleeps and the probe, all gone within grace + 100 ms. */
static void test_cancel_grandchildren(void)
{
    char dir[4096], pathv[4200];
    uint64_t done;
    haz_task *t;
    lc l;

    lc_begin(&l);
    /* t_probe by name: its directory comes first in the task's PATH. */
    snprintf(dir, sizeof dir, "%s", probe);
    *strrchr(dir, '/') = '\0';
    snprintf(pathv, sizeof pathv, "%s:/usr/bin:/bin", dir);
    t = add_sh(&l, "grp", "sleep 1000 & sleep 1000 & t_probe echo ready; "
                          "wait");
    CU_ASSERT_EQUAL_FATAL(haz_task_set_env(t, "PATH", pathv), HAZ_OK);
    l.marker = "ready";
    l.cancels = 1;
    CU_ASSERT_EQUAL_FATAL(lc_run(&l, 2, SEC(5)), HAZ_OK);
    CU_ASSERT(l.cancel_at > 0);
    CU_ASSERT_EQUAL_FATAL(npids, 1);
    CU_ASSERT(haz_test_group_gone(pids[0], subreaper));
    done = haz_clock_now_ns(l.clk);
    CU_ASSERT(done - l.cancel_at <= SEC(5) + MS(100));
    CU_ASSERT_EQUAL(outcome(&l, "grp")->kind, HAZ_OUTCOME_CANCELLED);
    CU_ASSERT_EQUAL(outcome(&l, "grp")->cancel_kind,
                    HAZ_CANCEL_SIGNALED_IN_FLIGHT);
    CU_ASSERT_EQUAL(haz_run_result_cancel_signal(l.res), SIGINT);
    CU_ASSERT_EQUAL(haz_exit_code(l.res, SIGINT), 130);
    CU_ASSERT_EQUAL(kills[SIGKILL], 0);       /* SIGTERM was enough */
    lc_end(&l);
}

/* P7: a task that ignores SIGTERM (and its children) is killed when the
 * grace period ends: the run lasts between G and G + 0.5 s after the
 * cancel. */
static void test_grace_then_kill(void)
{
    const uint64_t grace = MS(300);
    uint64_t took;
    lc l;

    lc_begin(&l);
    add_sh(&l, "stubborn", "trap '' TERM INT; echo ready; "
                           "while :; do sleep 1; done");
    l.marker = "ready";
    l.cancels = 1;
    CU_ASSERT_EQUAL_FATAL(lc_run(&l, 1, grace), HAZ_OK);
    took = haz_clock_now_ns(l.clk) - l.cancel_at;
    CU_ASSERT(took >= grace);
    CU_ASSERT(took <= grace + MS(500));
    CU_ASSERT(kills[SIGTERM] >= 1);
    CU_ASSERT(kills[SIGKILL] >= 1);
    CU_ASSERT_EQUAL(outcome(&l, "stubborn")->kind, HAZ_OUTCOME_CANCELLED);
    CU_ASSERT_EQUAL(outcome(&l, "stubborn")->status.kind, HAZ_EXIT_SIGNAL);
    CU_ASSERT_EQUAL(outcome(&l, "stubborn")->status.signo, SIGKILL);
    CU_ASSERT_EQUAL(haz_exit_code(l.res, haz_run_result_cancel_signal(l.res)),
                    130);
    lc_end(&l);
}

/* P8: a task that exits 0.2 s after SIGTERM ends the grace period at once
 * (100 s here), and no SIGKILL follows its exit. */
static void test_early_exit_in_grace(void)
{
    uint64_t took;
    lc l;

    lc_begin(&l);
    add_probe(&l, "quick", "trap 15 echo ready waitsig sleep 200 exit 0");
    l.marker = "ready";
    l.cancels = 1;
    CU_ASSERT_EQUAL_FATAL(lc_run(&l, 1, SEC(100)), HAZ_OK);
    took = haz_clock_now_ns(l.clk) - l.cancel_at;
    CU_ASSERT(took >= MS(200));
    CU_ASSERT(took < SEC(5));
    CU_ASSERT_EQUAL(kills[SIGTERM], 1);
    CU_ASSERT_EQUAL(kills[SIGKILL], 0);
    CU_ASSERT_STRING_EQUAL(rec(&l, "quick")->out, "ready\ngot 15\n");
    CU_ASSERT_EQUAL(outcome(&l, "quick")->kind, HAZ_OUTCOME_CANCELLED);
    lc_end(&l);
}

/* P9: a task that cleans up on SIGTERM and exits 0 is still cancelled;
 * its last bytes (no newline) are delivered; nothing is cached. */
static void test_cooperative_cancel(void)
{
    char cache_dir[4200];
    haz_cache_stats st;
    lc l;

    lc_begin(&l);
    lc_open_cache(&l);
    add_sh(&l, "coop", "trap 'printf \"cleanup done\"; exit 0' TERM; "
                       "echo ready; while :; do sleep 1; done");
    l.marker = "ready";
    l.cancels = 1;
    CU_ASSERT_EQUAL_FATAL(lc_run(&l, 1, SEC(30)), HAZ_OK);
    CU_ASSERT_EQUAL(outcome(&l, "coop")->kind, HAZ_OUTCOME_CANCELLED);
    CU_ASSERT_EQUAL(outcome(&l, "coop")->status.kind, HAZ_EXIT_CODE);
    CU_ASSERT_EQUAL(outcome(&l, "coop")->status.code, 0);
    CU_ASSERT_STRING_EQUAL(rec(&l, "coop")->out, "ready\ncleanup done");
    CU_ASSERT_EQUAL(kills[SIGKILL], 0);
    snprintf(cache_dir, sizeof cache_dir, "%s/.haz/cache", l.dir);
    memset(&st, 0, sizeof st);
    CU_ASSERT_EQUAL(haz_cache_fs_info(l.ctx, cache_dir, &st), HAZ_OK);
    CU_ASSERT_EQUAL(st.entries, 0);
    CU_ASSERT_EQUAL(haz_exit_code(l.res, haz_run_result_cancel_signal(l.res)),
                    130);
    lc_end(&l);
}

/* ------------------------------------------------------------------------
 * P11a, P12: a host that reaps or signals.
 * ---------------------------------------------------------------------- */

/* P11a: with SIGCHLD ignored the kernel reaps the children: their status
 * is lost, which the run reports as an error, never as success. */
static void test_sigchld_ignored(void)
{
    struct sigaction ign, old;
    lc l;

    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    CU_ASSERT_EQUAL_FATAL(sigaction(SIGCHLD, &ign, &old), 0);
    lc_begin(&l);
    add_sh(&l, "a", "echo hi; exit 0");
    CU_ASSERT_EQUAL(haz_task_add_dep(add_sh(&l, "b", "exit 0"), "p:a"),
                    HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(lc_run(&l, 1, SEC(5)), HAZ_OK);
    CU_ASSERT_EQUAL(outcome(&l, "a")->kind, HAZ_OUTCOME_ERRORED);
    CU_ASSERT_EQUAL(outcome(&l, "a")->error, HAZ_TERR_WAIT);
    CU_ASSERT_EQUAL(outcome(&l, "a")->os_errno, ECHILD);
    CU_ASSERT_STRING_EQUAL(rec(&l, "a")->out, "hi\n");
    CU_ASSERT_EQUAL(outcome(&l, "b")->kind, HAZ_OUTCOME_SKIPPED);
    CU_ASSERT_EQUAL(haz_exit_code(l.res, 0), 1);
    lc_end(&l);
    CU_ASSERT_EQUAL(sigaction(SIGCHLD, &old, NULL), 0);
}

/* The byte pattern of `t_probe bytes`. */
static unsigned char pattern(unsigned long k)
{
    return (unsigned char)((k * 131u + (k >> 8) + (k >> 16)) & 0xffu);
}

static void pattern_digest(unsigned long n, unsigned char *digest)
{
    haz_sha256_ctx h;
    unsigned char buf[4096];
    unsigned long i = 0, k;

    haz_sha256_init(&h);
    while (i < n) {
        for (k = 0; k < sizeof buf && i < n; k++, i++)
            buf[k] = pattern(i);
        haz_sha256_update(&h, buf, k);
    }
    haz_sha256_out(&h, digest);
}

static void on_tick(int sig)
{
    (void)sig;
}

/* P12: a SIGALRM every millisecond (no SA_RESTART) during 200 tasks with
 * output on both streams: every task succeeds with exactly its bytes. */
static void test_signal_storm(void)
{
    struct sigaction sa, old;
    struct itimerval it;
    unsigned char want[32];
    char name[16];
    size_t i, n = 200;
    lc l;

    pattern_digest(20000, want);
    lc_begin(&l);
    for (i = 0; i < n; i++) {
        snprintf(name, sizeof name, "t%03u", (unsigned)i);
        add_probe(&l, name, "bytes 20000 both");
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_tick;
    sigemptyset(&sa.sa_mask);
    CU_ASSERT_EQUAL_FATAL(sigaction(SIGALRM, &sa, &old), 0);
    memset(&it, 0, sizeof it);
    it.it_value.tv_usec = 1000;
    it.it_interval.tv_usec = 1000;
    CU_ASSERT_EQUAL(setitimer(ITIMER_REAL, &it, NULL), 0);
    CU_ASSERT_EQUAL(lc_run(&l, 8, SEC(5)), HAZ_OK);
    memset(&it, 0, sizeof it);
    CU_ASSERT_EQUAL(setitimer(ITIMER_REAL, &it, NULL), 0);
    sa.sa_handler = SIG_IGN;
    (void)sigaction(SIGALRM, &sa, NULL);
    (void)sigaction(SIGALRM, &old, NULL);
    for (i = 0; l.res != NULL && i < n; i++) {
        const haz_task_outcome *o;

        snprintf(name, sizeof name, "t%03u", (unsigned)i);
        o = outcome(&l, name);
        CU_ASSERT_EQUAL(o->state, HAZ_STATE_SUCCEEDED);
        CU_ASSERT_EQUAL(rec(&l, name)->nout, 20000);
        CU_ASSERT_EQUAL(rec(&l, name)->nerr, 20000);
        CU_ASSERT_EQUAL(memcmp(o->stdout_hash, want, 32), 0);
        CU_ASSERT_EQUAL(memcmp(o->stderr_hash, want, 32), 0);
    }
    CU_ASSERT_EQUAL(haz_exit_code(l.res, 0), 0);
    lc_end(&l);
}

/* ------------------------------------------------------------------------
 * R1, R2, R3, R6: limits and failures.
 * ---------------------------------------------------------------------- */

/* R1: with 64 descriptors, 100 tasks at concurrency 50: the tasks that
 * cannot get their pipes fail to start with EMFILE and a clear message;
 * the others finish; nothing is left open. */
static void test_emfile(void)
{
    struct rlimit old, rl;
    size_t i, ok = 0, emfile = 0;
    char name[16];
    lc l;

    if (under_valgrind)
        return;                 /* valgrind keeps descriptors of its own */
    CU_ASSERT_EQUAL_FATAL(getrlimit(RLIMIT_NOFILE, &old), 0);
    lc_begin(&l);
    for (i = 0; i < 100; i++) {
        snprintf(name, sizeof name, "t%03u", (unsigned)i);
        add_probe(&l, name, "echo x");
    }
    lc_open_spawner(&l);
    rl = old;
    rl.rlim_cur = 64;
    CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_NOFILE, &rl), 0);
    CU_ASSERT_EQUAL(lc_run(&l, 50, SEC(5)), HAZ_OK);
    CU_ASSERT_EQUAL(setrlimit(RLIMIT_NOFILE, &old), 0);
    for (i = 0; l.res != NULL && i < 100; i++) {
        const haz_task_outcome *o;

        snprintf(name, sizeof name, "t%03u", (unsigned)i);
        o = outcome(&l, name);
        if (o->kind == HAZ_OUTCOME_COMPLETED &&
            o->state == HAZ_STATE_SUCCEEDED) {
            ok++;
            CU_ASSERT_STRING_EQUAL(rec(&l, name)->out, "x\n");
        } else {
            CU_ASSERT_EQUAL(o->kind, HAZ_OUTCOME_ERRORED);
            CU_ASSERT_EQUAL(o->error, HAZ_TERR_SPAWN);
            CU_ASSERT_EQUAL(o->os_errno, EMFILE);
            emfile += o->os_errno == EMFILE;
            CU_ASSERT(o->message != NULL &&
                      strstr(o->message, strerror(EMFILE)) != NULL);
        }
    }
    CU_ASSERT(ok > 0);
    CU_ASSERT(ok + emfile == 100);
    CU_ASSERT(emfile > 0);
    lc_end(&l);
}

/* R2 (variant): concurrency 600 is more than select() can watch; the run
 * keeps at most max_children() tasks in flight and finishes them all. */
static void test_concurrency_above_fd_setsize(void)
{
    struct rlimit rl;
    size_t i, n = 600, ok = 0, max;
    char name[16];
    lc l;

    CU_ASSERT_EQUAL_FATAL(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_cur < (rlim_t)FD_SETSIZE || under_valgrind)
        return;                 /* too few descriptors to fill select() */
    lc_begin(&l);
    for (i = 0; i < n; i++) {
        snprintf(name, sizeof name, "t%03u", (unsigned)i);
        add_probe(&l, name, "echo x");
    }
    lc_open_spawner(&l);
    max = l.sp->methods->max_children(l.sp);
    CU_ASSERT(max > 0 && max < n);
    CU_ASSERT_EQUAL(lc_run(&l, (unsigned)n, SEC(5)), HAZ_OK);
    for (i = 0; l.res != NULL && i < n; i++) {
        snprintf(name, sizeof name, "t%03u", (unsigned)i);
        ok += outcome(&l, name)->state == HAZ_STATE_SUCCEEDED &&
              outcome(&l, name)->kind == HAZ_OUTCOME_COMPLETED;
    }
    CU_ASSERT_EQUAL(ok, n);
    CU_ASSERT(l.max_running <= max);
    lc_end(&l);
}

/* R3: a pipe failure and a start failure in the middle of a run: that
 * task errors with the errno, its dependent is skipped, the independent
 * tasks finish, nothing of it is cached and no descriptor is left. */
static void test_start_failures(void)
{
    char cache_dir[4200];
    haz_cache_stats st;
    int which;

    for (which = 0; which < 2; which++) {
        lc l;

        lc_begin(&l);
        lc_open_cache(&l);
        add_probe(&l, "a", "echo a");
        add_probe(&l, "b", "echo b");
        CU_ASSERT_EQUAL(haz_task_add_dep(add_probe(&l, "c", "echo c"),
                                         "p:b"), HAZ_OK);
        add_probe(&l, "d", "echo d");
        /* Concurrency 1, canonical order a, b, d, c: b is the second
         * start, with pipe calls 3 and 4. */
        if (which == 0)
            fail_pipe_at = 4;
        else
            fail_start_at = 2;
        CU_ASSERT_EQUAL_FATAL(lc_run(&l, 1, SEC(5)), HAZ_OK);
        CU_ASSERT_EQUAL(outcome(&l, "a")->state, HAZ_STATE_SUCCEEDED);
        CU_ASSERT_EQUAL(outcome(&l, "d")->state, HAZ_STATE_SUCCEEDED);
        CU_ASSERT_EQUAL(outcome(&l, "b")->kind, HAZ_OUTCOME_ERRORED);
        CU_ASSERT_EQUAL(outcome(&l, "b")->error, HAZ_TERR_SPAWN);
        CU_ASSERT_EQUAL(outcome(&l, "b")->os_errno,
                        which == 0 ? EMFILE : EAGAIN);
        CU_ASSERT_EQUAL(outcome(&l, "c")->kind, HAZ_OUTCOME_SKIPPED);
        CU_ASSERT_EQUAL(outcome(&l, "c")->skip_cause,
                        HAZ_SKIP_UPSTREAM_ERRORED);
        CU_ASSERT_EQUAL(haz_exit_code(l.res, 0), 1);
        snprintf(cache_dir, sizeof cache_dir, "%s/.haz/cache", l.dir);
        memset(&st, 0, sizeof st);
        CU_ASSERT_EQUAL(haz_cache_fs_info(l.ctx, cache_dir, &st), HAZ_OK);
        CU_ASSERT_EQUAL(st.entries, 2);     /* a and d */
        assert_clean_now();
        lc_end(&l);
    }
}

/* R6: floods on one stream while the other trickles, and a flood on
 * stderr only: no deadlock, every byte delivered, the hashes exact. */
static void test_output_floods(void)
{
    static const unsigned long n = 32ul * 1024 * 1024;
    unsigned char want[32], trickle[32];
    char sh[512], dir[4096], pathv[4200];
    haz_task *t;
    lc l;

    pattern_digest(n, want);
    haz_sha256("xxxxx", 5, trickle);
    lc_begin(&l);
    snprintf(dir, sizeof dir, "%s", probe);
    *strrchr(dir, '/') = '\0';
    snprintf(pathv, sizeof pathv, "%s:/usr/bin:/bin", dir);
    snprintf(sh, sizeof sh, "(for i in 1 2 3 4 5; do printf x >&2; "
             "sleep 0.05; done) & t_probe bytes %lu out; wait", n);
    t = add_sh(&l, "outflood", sh);
    CU_ASSERT_EQUAL_FATAL(haz_task_set_env(t, "PATH", pathv), HAZ_OK);
    snprintf(sh, sizeof sh, "(for i in 1 2 3 4 5; do printf x; "
             "sleep 0.05; done) & t_probe bytes %lu err; wait", n);
    t = add_sh(&l, "errflood", sh);
    CU_ASSERT_EQUAL_FATAL(haz_task_set_env(t, "PATH", pathv), HAZ_OK);
    snprintf(sh, sizeof sh, "bytes %lu err", n);
    add_probe(&l, "erronly", sh);
    CU_ASSERT_EQUAL_FATAL(lc_run(&l, 3, SEC(5)), HAZ_OK);
    CU_ASSERT_EQUAL(outcome(&l, "outflood")->state, HAZ_STATE_SUCCEEDED);
    CU_ASSERT_EQUAL(rec(&l, "outflood")->nout, n);
    CU_ASSERT_STRING_EQUAL(rec(&l, "outflood")->err, "xxxxx");
    CU_ASSERT_EQUAL(memcmp(outcome(&l, "outflood")->stdout_hash, want, 32),
                    0);
    CU_ASSERT_EQUAL(outcome(&l, "errflood")->state, HAZ_STATE_SUCCEEDED);
    CU_ASSERT_EQUAL(rec(&l, "errflood")->nerr, n);
    CU_ASSERT_STRING_EQUAL(rec(&l, "errflood")->out, "xxxxx");
    CU_ASSERT_EQUAL(memcmp(outcome(&l, "errflood")->stderr_hash, want, 32),
                    0);
    CU_ASSERT_EQUAL(memcmp(outcome(&l, "errflood")->stdout_hash, trickle,
                           32), 0);
    CU_ASSERT_EQUAL(outcome(&l, "erronly")->state, HAZ_STATE_SUCCEEDED);
    CU_ASSERT_EQUAL(rec(&l, "erronly")->nerr, n);
    CU_ASSERT_EQUAL(rec(&l, "erronly")->nout, 0);
    CU_ASSERT_EQUAL(memcmp(outcome(&l, "erronly")->stderr_hash, want, 32),
                    0);
    lc_end(&l);
}

/* ------------------------------------------------------------------------
 * Registration.
 * ---------------------------------------------------------------------- */

static CU_TestInfo lifecycle_tests[] = {
    {"P1 exit status map", test_exit_status_map},
    {"P2 spawn errors", test_spawn_errors},
    {"P4 descriptor audit", test_fd_audit},
    {"P5 no leftovers, any outcome", test_no_leftovers},
    {"P6 cancel reaches grandchildren", test_cancel_grandchildren},
    {"P7 grace then kill", test_grace_then_kill},
    {"P8 early exit during the grace", test_early_exit_in_grace},
    {"P9 cooperative exit is cancelled", test_cooperative_cancel},
    {"P11a SIGCHLD ignored", test_sigchld_ignored},
    {"P12 signal storm", test_signal_storm},
    CU_TEST_INFO_NULL
};

static CU_TestInfo limits_tests[] = {
    {"R1 EMFILE", test_emfile},
    {"R2 concurrency above FD_SETSIZE", test_concurrency_above_fd_setsize},
    {"R3 pipe and start failures", test_start_failures},
    {"R6 output floods", test_output_floods},
    CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
    HAZ_TEST_SUITE("lifecycle", lifecycle_tests),
    HAZ_TEST_SUITE("limits", limits_tests),
    CU_SUITE_INFO_NULL
};

int main(int argc, char **argv)
{
    const char *b;

    snprintf(probe, sizeof probe, "%s/tests/t_probe", haz_test_builddir());
    if (probe[0] != '/') {
        fprintf(stderr, "%s: set HAZ_TEST_BUILDDIR to the absolute build "
                "directory (t_probe is run by absolute path)\n", argv[0]);
        return 99;
    }
#if defined(__linux__) && defined(PR_SET_CHILD_SUBREAPER)
    subreaper = prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0;
#endif
    b = getenv("LD_PRELOAD");
    under_valgrind = b != NULL && strstr(b, "vgpreload") != NULL;
    return haz_test_main(argc, argv, suites);
}
