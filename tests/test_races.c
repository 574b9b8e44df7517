/*
 * tests/test_races.c: the cancellation-race tests X1 to X7 of
 * reliability-tests.md, as far as other programs do not already check
 * them (tests/test_sched.c and tests/test_hazrun_signals.sh cite the IDs
 * they cover: X1a, the mock side of X1c, X3, X6 keep going, X7).
 *
 * Every cancel is placed at an exact point, never by time:
 *   - the recording observer is chained to a trigger observer that fires
 *     the token when a given chunk is delivered (a fresh chunk, or the
 *     replay of a cache hit) or when a given task ends;
 *   - the filesystem cache store is wrapped by a store that fires the
 *     token inside store(), and marks the span of restore();
 *   - during a restore, the Nth allocation of the context's allocator or
 *     the Nth rename() of the file I/O seam (lib/sys.h) fires the token
 *     and checks the outputs in the workspace at that very point (the
 *     store allocates a copy buffer for each existing target it checks
 *     and each blob it stages, then renames each staged file onto its
 *     target, so the points walk through the whole restore);
 *   - with real processes, the posix spawner's system-call seam
 *     (backends/spawn_posix_sys.c) fires the token inside posix_spawn or
 *     fork, right after waitpid() reaped a child, or at the Nth call of
 *     select/read/waitpid, and records every kill() against the pids that
 *     waitpid() returned.
 * The mock spawner and mock clock make the other scenarios exact: each
 * test asserts the whole observer trace, and the spawner trace where
 * signals matter.  Every test ends with no memory left, and the posix
 * ones with no zombie, no process group and no new descriptor.
 *
 * Where reliability-tests.md and design.md differ, design.md decides:
 *   - X3: a second request escalates to SIGKILL at once (run.h); later
 *     requests change nothing.
 *   - X4: a restore runs inline (design 2.9): a cancel that arrives during
 *     it is noticed once it returns, so the hit is kept (its outputs are
 *     all in place), and only what was not admitted yet is cancelled.
 *   - X5: the library removes no output of an interrupted task; nothing of
 *     it is stored (EXEC-015), so the next run, whose key misses, rebuilds
 *     it.
 *   - X6: the run policy is "keep going" (EXEC-010); "stop on first
 *     failure" is what a caller gets by cancelling with signal 0 when a
 *     task fails: the exit code then follows the outcomes (1), while a
 *     cancel by a signal wins over a failure (design 2.11, 130).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "testutil.h"
#include "sys.h"
#include "../backends/spawn_posix.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define SEC(x) ((uint64_t)(x) * UINT64_C(1000000000))
#define FDMAX 1024
#define MAXPID 64
#define MAXLOG 4096

/* ------------------------------------------------------------------------
 * The trigger: where the next cancel request is fired.
 * ---------------------------------------------------------------------- */

enum {
    PT_NONE = 0,
    PT_OUTPUT,      /* a chunk equal to `text` reaches the observer */
    PT_END,         /* task `text` gets its terminal event */
    PT_STORE,       /* inside the cache store's store() */
    PT_RESTORE,     /* the `target`th allocation or rename() inside a
                       restore() */
    PT_SPAWN,       /* inside posix_spawn / fork (posix) */
    PT_REAPED,      /* right after waitpid() reaped a child (posix) */
    PT_SYSCALL      /* before the `target`th select/read/waitpid (posix) */
};

static struct {
    haz_cancel *cancel;
    int point;
    const char *text;
    unsigned long target, count;
    int requests;           /* requests made when it fires (default 1) */
    int signo;
    int fired;
    int in_restore;
    void (*at_point)(void); /* called when it fires, after the requests */
    const char *text2;      /* X3: a second chunk that makes requests2 */
    int requests2;
    const char *end2;       /* X3: a task whose end makes requests_end */
    int requests_end;
} trg;

static void trg_reset(haz_cancel *c, int point, const char *text)
{
    memset(&trg, 0, sizeof trg);
    trg.cancel = c;
    trg.point = point;
    trg.text = text;
    trg.requests = 1;
    trg.signo = SIGINT;
}

static void fire(void)
{
    int k;

    trg.fired++;
    for (k = 0; k < trg.requests; k++)
        haz_cancel_request(trg.cancel, trg.signo);
    if (trg.at_point != NULL)
        trg.at_point();
}

/* X3: further requests. */
static void more(int n)
{
    while (n-- > 0)
        haz_cancel_request(trg.cancel, SIGTERM);
}

static void tr_output(void *ud, const haz_task_id *task, haz_stream stream,
                      const void *data, size_t len)
{
    (void)ud;
    (void)task;
    (void)stream;
    if (trg.point == PT_OUTPUT && !trg.fired &&
        len == strlen(trg.text) && memcmp(data, trg.text, len) == 0)
        fire();
    if (trg.text2 != NULL && len == strlen(trg.text2) &&
        memcmp(data, trg.text2, len) == 0)
        more(trg.requests2);
}

static void tr_end(void *ud, const haz_task_outcome *o)
{
    (void)ud;
    if (trg.point == PT_END && !trg.fired && strcmp(o->task.id, trg.text) == 0)
        fire();
    if (trg.end2 != NULL && strcmp(o->task.id, trg.end2) == 0)
        more(trg.requests_end);
}

static const haz_observer_methods tr_methods = {
    HAZ_OBSERVER_METHODS_VERSION, NULL, tr_output, tr_end, tr_end, tr_end,
    tr_end, NULL
};

/* The context's allocator: the test's counting allocator, with the
 * trigger in every allocation made while a restore runs. */
static void restore_point(void)
{
    if (trg.in_restore && trg.point == PT_RESTORE &&
        ++trg.count == trg.target)
        fire();
}

/* The file I/O seam (lib/sys.h): a point before each rename() of a
 * restore, i.e. between the publication of two outputs. */

static int seam_rename(const char *from, const char *to)
{
    restore_point();
    return ((haz__io_rename_fn)haz__io_syscall_default("rename"))(from, to);
}

static void *rm_malloc(size_t size, void *ud)
{
    haz_test_mem *tm = ud;

    restore_point();
    return tm->mem.malloc_fn(size, ud);
}

static void rm_free(void *ptr, void *ud)
{
    haz_test_mem *tm = ud;

    tm->mem.free_fn(ptr, ud);
}

static void *rm_calloc(size_t nmemb, size_t size, void *ud)
{
    haz_test_mem *tm = ud;

    restore_point();
    return tm->mem.calloc_fn(nmemb, size, ud);
}

static void *rm_realloc(void *ptr, size_t size, void *ud)
{
    haz_test_mem *tm = ud;

    restore_point();
    return tm->mem.realloc_fn(ptr, size, ud);
}

/* A cache store that forwards to an open filesystem store (its config's
 * `backend`), with the trigger in store() and the span of restore(). */
typedef struct wstore {
    haz_cache_store base;
    haz_cache_store *inner;
} wstore;

static int ws_open(haz_cache_store *cs, const haz_cache_store_config *cfg)
{
    ((wstore *)cs)->inner = (haz_cache_store *)cfg->backend;
    return HAZ_OK;
}

static void ws_close(haz_cache_store *cs)
{
    (void)cs;
}

static int ws_lookup(haz_cache_store *cs, const unsigned char *key,
                     size_t key_len, haz_cache_entry **entry)
{
    haz_cache_store *in = ((wstore *)cs)->inner;

    return in->methods->lookup(in, key, key_len, entry);
}

static int ws_restore(haz_cache_store *cs, haz_cache_entry *entry)
{
    haz_cache_store *in = ((wstore *)cs)->inner;
    int rc;

    trg.in_restore = entry->n_outputs > 0;
    rc = in->methods->restore(in, entry);
    trg.in_restore = 0;
    return rc;
}

static int ws_store(haz_cache_store *cs, const unsigned char *key,
                    size_t key_len, const haz_cache_output *outputs,
                    size_t n_outputs, const void *out, size_t out_len,
                    const void *err, size_t err_len, int64_t created_at)
{
    haz_cache_store *in = ((wstore *)cs)->inner;

    if (trg.point == PT_STORE && !trg.fired)
        fire();
    return in->methods->store(in, key, key_len, outputs, n_outputs, out,
                              out_len, err, err_len, created_at);
}

static void ws_entry_free(haz_cache_store *cs, haz_cache_entry *entry)
{
    haz_cache_store *in = ((wstore *)cs)->inner;

    in->methods->entry_free(in, entry);
}

static const haz_cache_store_methods wstore_methods = {
    HAZ_CACHE_STORE_METHODS_VERSION, "race", sizeof(wstore), ws_open,
    ws_close, ws_lookup, ws_restore, ws_store, ws_entry_free
};

/* ------------------------------------------------------------------------
 * The system-call seam (posix runs): pids started, kill() and waitpid()
 * in call order, and the PT_SPAWN / PT_REAPED / PT_SYSCALL points.
 * ---------------------------------------------------------------------- */

typedef struct sysrec {
    char what;              /* 'k' kill, 'w' waitpid returned a pid */
    long pid;
    int sig;
} sysrec;

static long pids[MAXPID];
static size_t npids;
static sysrec slog[MAXLOG];
static size_t nslog;
static int spawn_fail_errno;    /* PT_SPAWN: then fail every start (the
                                   direct start and the shell retry) */


static void slog_add(char what, long pid, int sig)
{
    if (nslog < MAXLOG) {
        slog[nslog].what = what;
        slog[nslog].pid = pid;
        slog[nslog].sig = sig;
        nslog++;
    }
}

static void sys_point(void)
{
    if (trg.point == PT_SYSCALL && !trg.fired && ++trg.count == trg.target)
        fire();
}

static pid_t seam_fork(void)
{
    pid_t p;

    if (trg.point == PT_SPAWN && !trg.fired)
        fire();
    if (trg.point == PT_SPAWN && spawn_fail_errno != 0) {
        errno = spawn_fail_errno;
        return -1;
    }
    p = HAZ__PX_DEFAULT(fork)();
    if (p > 0 && npids < MAXPID)
        pids[npids++] = (long)p;
    return p;
}

#ifdef HAZ_POSIX_HAVE_SPAWN

static int seam_spawn(pid_t *pid, const char *path,
                      const posix_spawn_file_actions_t *fa,
                      const posix_spawnattr_t *at, char *const argv[],
                      char *const envp[])
{
    int r;

    if (trg.point == PT_SPAWN && !trg.fired)
        fire();
    if (trg.point == PT_SPAWN && spawn_fail_errno != 0)
        return spawn_fail_errno;
    r = HAZ__PX_DEFAULT(posix_spawn)(pid, path, fa, at, argv, envp);
    if (r == 0 && npids < MAXPID)
        pids[npids++] = (long)*pid;
    return r;
}
#endif

static int seam_kill(pid_t pid, int sig)
{
    sys_point();
    slog_add('k', (long)pid, sig);
    return HAZ__PX_DEFAULT(kill)(pid, sig);
}

static pid_t seam_waitpid(pid_t pid, int *st, int options)
{
    pid_t r;

    sys_point();
    r = HAZ__PX_DEFAULT(waitpid)(pid, st, options);
    if (r > 0) {
        slog_add('w', (long)r, 0);
        if (trg.point == PT_REAPED && !trg.fired)
            fire();
    }
    return r;
}

static int seam_select(int n, fd_set *r, fd_set *w, fd_set *x,
                       struct timeval *tv)
{
    sys_point();
    return HAZ__PX_DEFAULT(select)(n, r, w, x, tv);
}

static ssize_t seam_read(int fd, void *buf, size_t n)
{
    sys_point();
    return HAZ__PX_DEFAULT(read)(fd, buf, n);
}

static void seams_on(void)
{
    npids = 0;
    nslog = 0;
    spawn_fail_errno = 0;
    haz__posix_syscall_set("fork", (haz__posix_syscall_fn)seam_fork);
#ifdef HAZ_POSIX_HAVE_SPAWN
    haz__posix_syscall_set("posix_spawn", (haz__posix_syscall_fn)seam_spawn);
#endif
    haz__posix_syscall_set("kill", (haz__posix_syscall_fn)seam_kill);
    haz__posix_syscall_set("waitpid", (haz__posix_syscall_fn)seam_waitpid);
    haz__posix_syscall_set("select", (haz__posix_syscall_fn)seam_select);
    haz__posix_syscall_set("read", (haz__posix_syscall_fn)seam_read);
}

static void seams_off(void)
{
    static const char *const names[] = {
        "fork", "posix_spawn", "kill", "waitpid", "select", "read"
    };
    size_t k;

    for (k = 0; k < sizeof names / sizeof names[0]; k++)
        haz__posix_syscall_set(names[k], NULL);
    haz__posix_spawner_use_fork(0);
}

/* X1c, X2: no kill() reaches a pid (or its group) after waitpid() reaped
 * it.  Returns the number of such calls (each is printed). */
static int kills_after_reap(void)
{
    size_t i, j;
    int bad = 0;

    for (i = 0; i < nslog; i++) {
        if (slog[i].what != 'w')
            continue;
        for (j = i + 1; j < nslog; j++) {
            long p = slog[j].pid < 0 ? -slog[j].pid : slog[j].pid;

            if (slog[j].what == 'k' && p == slog[i].pid) {
                fprintf(stderr, "\n  kill(%ld, %d) after pid %ld was reaped\n",
                        slog[j].pid, slog[j].sig, slog[i].pid);
                bad++;
            }
        }
    }
    return bad;
}

/* ------------------------------------------------------------------------
 * Fixture: a hazfile graph in a real temporary workspace, run on the mock
 * spawner and clock (or on the posix ones), optionally with the wrapped
 * filesystem cache store.
 * ---------------------------------------------------------------------- */

typedef struct fx {
    haz_test_mem tm;
    haz_mem mem;               /* tm, with the PT_RESTORE trigger */
    haz_ctx *ctx;
    int posix;
    haz_clock *clk;
    haz_mock_script *script;
    haz_mock_config mc;
    haz_spawner_config scfg;
    haz_spawner *sp;
    haz_hazfile *hf;
    haz_cancel *cancel;
    haz_cache_store *fs;       /* the filesystem store */
    haz_cache_store *cache;    /* its wrapper, given to the run */
    haz_observer_obj *rec;
    haz_observer obs;
    haz_observer trigger;
    haz_run_options opt;
    haz_run_config cfg;
    haz_run_result *r;
    char ws[4096];             /* realpath() writes up to PATH_MAX */
    char cache_dir[4200];
    unsigned char fds[FDMAX];
    char *norm;
} fx;

static const char *const host_env[] = {"PATH=/usr/bin:/bin", NULL};

static void fd_snapshot(unsigned char *fds)
{
    int fd;

    for (fd = 0; fd < FDMAX; fd++)
        fds[fd] = fcntl(fd, F_GETFD) != -1;
}

static void fx_script(fx *f, const char *mock)
{
    haz_mock_script_free(f->script);
    f->script = NULL;
    CU_ASSERT_EQUAL_FATAL(haz_mock_script_new(f->ctx, &f->script), HAZ_OK);
    if (mock != NULL)
        CU_ASSERT_EQUAL_FATAL(haz_mock_script_parse(f->script, "mock", mock,
                                                    strlen(mock), NULL),
                              HAZ_OK);
    f->mc.script = f->script;
}

/* A fresh token for the next run (a fired one stays fired). */
static void fx_token(fx *f)
{
    haz_cancel_free(f->cancel);
    f->cancel = NULL;
    CU_ASSERT_EQUAL_FATAL(haz_cancel_new(f->ctx, &f->cancel), HAZ_OK);
    f->cfg.cancel = f->cancel;
    trg.cancel = f->cancel;
}

static fx *cur;     /* the fixture of the running test, for at_point */

static void fx_init(fx *f, const char *hazfile, const char *mock, int posix,
                    int with_cache)
{
    haz_diags *d = NULL;
    char rel[1024];
    int rc;

    memset(f, 0, sizeof *f);
    cur = f;
    f->posix = posix;
    fd_snapshot(f->fds);
    haz_test_mem_init(&f->tm);
    f->mem.ud = &f->tm;
    f->mem.malloc_fn = rm_malloc;
    f->mem.free_fn = rm_free;
    f->mem.calloc_fn = rm_calloc;
    f->mem.realloc_fn = rm_realloc;
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&f->ctx, &f->mem), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_diags_new(f->ctx, &d), HAZ_OK);
    rc = haz_hazfile_parse(f->ctx, "hazfile", hazfile, strlen(hazfile),
                           &f->hf, d);
    if (rc != HAZ_OK && haz_diags_count(d) > 0)
        fprintf(stderr, "%s\n", haz_diags_get(d, 0)->text);
    haz_diags_free(d);
    CU_ASSERT_EQUAL_FATAL(rc, HAZ_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(haz_test_mkdtemp(rel, sizeof rel, "races"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(realpath(rel, f->ws));
    CU_ASSERT_EQUAL_FATAL(haz_clock_open(f->ctx, posix ? &haz_clock_posix
                                         : &haz_clock_mock, NULL, &f->clk),
                          HAZ_OK);
    fx_script(f, mock);
    f->mc.workspace_root = f->ws;
    f->scfg.version = 1;
    f->scfg.clock = f->clk;
    f->scfg.backend = posix ? NULL : &f->mc;
    if (with_cache) {
        haz_cache_store_config cc;

        memset(&cc, 0, sizeof cc);
        cc.version = 1;
        cc.workspace_root = f->ws;
        cc.hash = &haz_hash_sha256;
        cc.clock = f->clk;
        CU_ASSERT_EQUAL_FATAL(haz_cache_store_open(f->ctx, &haz_cache_store_fs,
                                                   &cc, &f->fs), HAZ_OK);
        cc.backend = f->fs;
        CU_ASSERT_EQUAL_FATAL(haz_cache_store_open(f->ctx, &wstore_methods,
                                                   &cc, &f->cache), HAZ_OK);
        (void)snprintf(f->cache_dir, sizeof f->cache_dir, "%s/.haz/cache",
                       f->ws);
    }
    haz_run_options_init(&f->opt);
    f->opt.concurrency = f->hf->concurrency != 0 ? f->hf->concurrency : 8;
    f->opt.cancel_grace_ns = f->hf->cancel_grace_ns;
    f->opt.workspace_root = f->ws;
    f->opt.host_env = host_env;
    f->opt.created_at = 1700000000;
    f->cfg.graph = f->hf->graph;
    f->cfg.clock = f->clk;
    f->cfg.cache = f->cache;
    f->cfg.observer = &f->obs;
    f->cfg.options = &f->opt;
    f->trigger.methods = &tr_methods;
    f->trigger.ud = f;
    trg_reset(NULL, PT_NONE, NULL);
    fx_token(f);
    if (posix)
        seams_on();
    haz__io_syscall_set("rename", (haz__io_syscall_fn)seam_rename);
}

/* One run on a new spawner and a new recording observer. */
static int fx_run(fx *f)
{
    int rc;

    haz_run_result_free(f->r);
    f->r = NULL;
    haz_observer_free(f->rec);
    f->rec = NULL;
    haz_spawner_close(f->sp);
    f->sp = NULL;
    CU_ASSERT_EQUAL_FATAL(haz_observer_recording_new(f->ctx, &f->trigger,
                                                     &f->rec, &f->obs),
                          HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_spawner_open(f->ctx, f->posix
                                           ? &haz_spawner_posix
                                           : &haz_spawner_mock, &f->scfg,
                                           &f->sp), HAZ_OK);
    f->cfg.spawner = f->sp;
    rc = haz_run(f->ctx, &f->cfg, &f->r);
    if (rc != HAZ_OK)
        fprintf(stderr, "\n  haz_run: %s\n", haz_ctx_errmsg(f->ctx));
    return rc;
}

/* Right after a posix run: no zombie, every group gone. */
static void assert_no_process(void)
{
    size_t i;
    int st;

    CU_ASSERT(waitpid(-1, &st, WNOHANG) == -1 && errno == ECHILD);
    for (i = 0; i < npids; i++)
        CU_ASSERT(kill(-(pid_t)pids[i], 0) == -1 && errno == ESRCH);
}

static void fx_done(fx *f)
{
    unsigned char after[FDMAX];
    int fd;

    if (f->posix)
        seams_off();
    haz__io_syscall_set("rename", NULL);
    haz_run_result_free(f->r);
    haz_observer_free(f->rec);
    haz_spawner_close(f->sp);
    haz_mock_script_free(f->script);
    haz_cancel_free(f->cancel);
    haz_cache_store_close(f->cache);
    haz_cache_store_close(f->fs);
    haz_clock_close(f->clk);
    haz_hazfile_free(f->hf);
    free(f->norm);
    CU_ASSERT_EQUAL(haz_test_rmtree(f->ws), 0);
    haz_ctx_free(f->ctx);
    CU_ASSERT_EQUAL(f->tm.live, 0);
    if (f->posix)
        assert_no_process();
    fd_snapshot(after);
    for (fd = 0; fd < FDMAX; fd++)
        if (after[fd] != f->fds[fd]) {
            fprintf(stderr, "\n  descriptor %d: %s\n", fd,
                    after[fd] ? "leaked" : "closed");
            CU_FAIL("the open descriptors changed");
        }
    trg_reset(NULL, PT_NONE, NULL);
}

/* `text` with the workspace directory written "/WS". */
static const char *norm(fx *f, const char *text)
{
    free(f->norm);
    f->norm = haz_test_replace(text, f->ws, "/WS");
    return f->norm != NULL ? f->norm : "";
}

static const char *obs_text(fx *f)
{
    return norm(f, haz_observer_recording_text(f->rec, NULL));
}

static const char *mock_text(fx *f)
{
    const char *t = haz_mock_spawner_trace(f->sp, NULL);

    return norm(f, t != NULL ? t : "(no trace)");
}

#define ASSERT_TEXT(a, e) HAZ_TEST_ASSERT_TEXT(a, e)

static const haz_task_outcome *oc(fx *f, const char *id)
{
    const haz_task_outcome *o = haz_test_outcome(f->r, id);

    if (o == NULL)
        CU_FAIL_FATAL("no outcome for the task");
    return o;
}

static int exit_code(fx *f)
{
    return haz_exit_code(f->r, haz_run_result_cancel_signal(f->r));
}

static void put(fx *f, const char *rel, const char *text)
{
    char path[4400];

    (void)snprintf(path, sizeof path, "%s/%s", f->ws, rel);
    CU_ASSERT_EQUAL_FATAL(haz_test_write_file(path, text, strlen(text)), 0);
}

/* The content of workspace file `rel` (NUL-terminated), or -1. */
static long get(fx *f, const char *rel, char *buf, size_t cap)
{
    char path[4400];
    long n;
    int fd;

    (void)snprintf(path, sizeof path, "%s/%s", f->ws, rel);
    fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    n = haz_test_read_fd(fd, buf, cap - 1);
    close(fd);
    buf[n < 0 ? 0 : n] = '\0';
    return n;
}

/* The cache verifies: `entries` complete entries, nothing broken, no
 * temporary left (X1d, X4). */
static void assert_cache(fx *f, uint64_t entries)
{
    haz_cache_stats st;

    memset(&st, 0, sizeof st);
    CU_ASSERT_EQUAL(haz_cache_fs_verify(f->ctx, f->cache_dir,
                                        &haz_hash_sha256, &st), HAZ_OK);
    CU_ASSERT_EQUAL(st.entries, entries);
    CU_ASSERT_EQUAL(st.broken, 0);
    CU_ASSERT_EQUAL(st.temporaries, 0);
}

/* ------------------------------------------------------------------------
 * X1: a cancel at each lifecycle point.  (a) "while queued" is
 * test_sched.c test_cancel_mid_run (z:wait, never spawned); the mock
 * analogue of (c) is test_sched.c test_cancel_same_instant_exit.
 * ---------------------------------------------------------------------- */

static const char *hz_x1b =
    "[workspace]\nconcurrency = 1\ncancel_grace = 30\n"
    "[task p:a]\nrun = sleep 30\n"
    "[task p:b]\nrun = exit 0\n"
    "[task p:c]\nrun = exit 0\ndeps = p:a\n";

/* X1b: the token fires inside posix_spawn (or fork): the child is started,
 * then SIGTERMed at once (its group) and reaped, long before the grace
 * period; the queued task is never started, the dependent is cancelled;
 * 130.  Both start paths. */
static void x1b_run(int use_fork)
{
    fx f;
    const haz_task_outcome *o;

    fx_init(&f, hz_x1b, NULL, 1, 0);
    haz__posix_spawner_use_fork(use_fork);
    trg.point = PT_SPAWN;
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    assert_no_process();
    CU_ASSERT_EQUAL(trg.fired, 1);
    CU_ASSERT_EQUAL(npids, 1);
    ASSERT_TEXT(obs_text(&f),
                "started p:a\n"
                "cancelled p:b run-cancelled\n"
                "cancelled p:a signaled-in-flight signal=15\n"
                "cancelled p:c upstream-cancelled p:a\n");
    o = oc(&f, "p:a");
    CU_ASSERT_EQUAL(o->state, HAZ_STATE_CANCELLED);
    CU_ASSERT(o->end_ns - o->start_ns < SEC(20));
    CU_ASSERT_EQUAL(kills_after_reap(), 0);
    CU_ASSERT_EQUAL(exit_code(&f), 130);
    fx_done(&f);
}

static void test_x1b_cancel_during_spawn(void)
{
    x1b_run(0);
    x1b_run(1);
}

/* X1b, the other side: the start itself fails after the token fired: an
 * executor error (the child never existed), its dependent skipped, the
 * queued task drained; still 130. */
static void test_x1b_cancel_during_failed_spawn(void)
{
    fx f;
    const char *t;

    fx_init(&f, hz_x1b, NULL, 1, 0);
    trg.point = PT_SPAWN;
    spawn_fail_errno = EAGAIN;
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    CU_ASSERT_EQUAL(npids, 0);
    t = obs_text(&f);
    CU_ASSERT_NSTRING_EQUAL(t, "started p:a\nerrored p:a spawn: ", 31);
    t = strstr(t, "\nskipped");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    ASSERT_TEXT(t, "\nskipped p:c upstream-errored p:a\n"
                "cancelled p:b run-cancelled\n");
    CU_ASSERT_EQUAL(oc(&f, "p:a")->error, HAZ_TERR_SPAWN);
    CU_ASSERT_EQUAL(oc(&f, "p:a")->os_errno, EAGAIN);
    CU_ASSERT_EQUAL(exit_code(&f), 130);
    fx_done(&f);
}

/* X1c: the token fires right after waitpid() reaped p:a (exit 3), before
 * the spawner reported the exit.  Per the documented rule (lib/sched.c:
 * an exit handled in the batch before the cancel is noticed keeps its
 * outcome) p:a is either Completed Failed or Cancelled in flight, with its
 * real status, exit 3, either way; no kill() ever reaches the reaped pid
 * or its group; p:z, still running, is SIGTERMed; 130. */
static void test_x1c_cancel_after_exit_before_reap(void)
{
    fx f;
    const haz_task_outcome *a, *b;
    int round;

    for (round = 0; round < 20; round++) {
        fx_init(&f,
                "[workspace]\nconcurrency = 2\ncancel_grace = 30\n"
                "[task p:a]\nrun = exit 3\n"
                "[task p:b]\nrun = exit 0\ndeps = p:a\n"
                "[task p:z]\nrun = sleep 30\n", NULL, 1, 0);
        haz__posix_spawner_use_fork(round & 1);
        trg.point = PT_REAPED;
        CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
        assert_no_process();
        CU_ASSERT_EQUAL(trg.fired, 1);
        CU_ASSERT_EQUAL(kills_after_reap(), 0);
        a = oc(&f, "p:a");
        b = oc(&f, "p:b");
        CU_ASSERT_EQUAL(a->status.kind, HAZ_EXIT_CODE);
        CU_ASSERT_EQUAL(a->status.code, 3);
        if (a->kind == HAZ_OUTCOME_COMPLETED) {
            CU_ASSERT_EQUAL(a->state, HAZ_STATE_FAILED);
            CU_ASSERT_EQUAL(b->kind, HAZ_OUTCOME_SKIPPED);
            CU_ASSERT_EQUAL(b->skip_cause, HAZ_SKIP_UPSTREAM_FAILED);
        } else {
            CU_ASSERT_EQUAL(a->kind, HAZ_OUTCOME_CANCELLED);
            CU_ASSERT_EQUAL(a->cancel_kind, HAZ_CANCEL_SIGNALED_IN_FLIGHT);
            CU_ASSERT_EQUAL(b->kind, HAZ_OUTCOME_CANCELLED);
            CU_ASSERT_EQUAL(b->cancel_kind, HAZ_CANCEL_UPSTREAM_CANCELLED);
        }
        CU_ASSERT_EQUAL(oc(&f, "p:z")->kind, HAZ_OUTCOME_CANCELLED);
        CU_ASSERT_EQUAL(oc(&f, "p:z")->status.kind, HAZ_EXIT_SIGNAL);
        CU_ASSERT_EQUAL(oc(&f, "p:z")->status.signo, SIGTERM);
        CU_ASSERT_EQUAL(exit_code(&f), 130);
        fx_done(&f);
    }
}

static int subreaper;   /* 1: orphaned grandchildren come back to us */

/* X1c, with the window held open: a grandchild keeps p:a's pipes open, so
 * the spawner has reaped p:a (status 3) but waits for EOF before it
 * reports the exit (for 100 ms); the token fires at the reap.  The run
 * then stops p:a, whose exit it has not seen: the spawner sends nothing
 * to the reaped pid or its group (docs/spawner-posix.md: the ids may be
 * reused), and p:a is Cancelled in flight with its real status, exit 3;
 * 130.  The grandchild, left in the group, is the embedding program's
 * business: the test kills it (and, on Linux, reaps it as the child
 * subreaper). */
static void test_x1c_reaped_exit_not_reported(void)
{
    fx f;
    const haz_task_outcome *a;
    int round;

    for (round = 0; round < 4; round++) {
        fx_init(&f,
                "[workspace]\nconcurrency = 2\ncancel_grace = 30\n"
                "[task p:a]\nrun = sleep 30 & exit 3\n"
                "[task p:b]\nrun = exit 0\ndeps = p:a\n", NULL, 1, 0);
        haz__posix_spawner_use_fork(round & 1);
        trg.point = PT_REAPED;
        CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
        CU_ASSERT_EQUAL(trg.fired, 1);
        CU_ASSERT_EQUAL(npids, 1);
        CU_ASSERT_EQUAL(kills_after_reap(), 0);
        CU_ASSERT_EQUAL(nslog, 1);      /* the reap; no kill at all */
        a = oc(&f, "p:a");
        if (a->kind == HAZ_OUTCOME_CANCELLED)
            ASSERT_TEXT(obs_text(&f),
                        "started p:a\n"
                        "cancelled p:a signaled-in-flight exit=3\n"
                        "cancelled p:b upstream-cancelled p:a\n");
        else    /* only if the reap and the 100 ms drain fell in one
                   wait(): the exit is then handled before the cancel */
            ASSERT_TEXT(obs_text(&f),
                        "started p:a\n"
                        "finished p:a fresh failed exit=3\n"
                        "skipped p:b upstream-failed p:a\n");
        CU_ASSERT_EQUAL(a->status.kind, HAZ_EXIT_CODE);
        CU_ASSERT_EQUAL(a->status.code, 3);
        CU_ASSERT_EQUAL(exit_code(&f), 130);
        if (npids == 1) {
            (void)kill(-(pid_t)pids[0], SIGKILL);
            CU_ASSERT(haz_test_group_gone(pids[0], subreaper));
        }
        fx_done(&f);
    }
}

/* X1d: the token fires inside the cache store's store() of p:a: the store
 * completes (the entry verifies, no temporary is left), p:a keeps its
 * success; its dependent, promoted after, is drained; p:z, running, is
 * cancelled (and not stored, EXEC-015); 130.  The next run restores p:a
 * and runs the rest. */
static const char *hz_x1d =
    "[workspace]\nconcurrency = 4\ncancel_grace = 2\n"
    "[task p:a]\nrun = a\noutputs = a.txt\n"
    "[task p:b]\nrun = b\ndeps = p:a\n"
    "[task p:z]\nrun = z\n";

static void test_x1d_cancel_during_store(void)
{
    fx f;
    char buf[64];

    fx_init(&f, hz_x1d,
            "[p:a]\nstdout 1 \"A\\n\"\nfile a.txt \"made by a\"\nexit 1 0\n"
            "[p:z]\nhang\nsigterm exit 0\n", 0, 1);
    trg.point = PT_STORE;
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    CU_ASSERT_EQUAL(trg.fired, 1);
    ASSERT_TEXT(obs_text(&f),
                "started p:a\nstarted p:z\n"
                "stdout p:a 2 A\\n\n"
                "finished p:a fresh succeeded exit=0\n"
                "cancelled p:b run-cancelled\n"
                "cancelled p:z signaled-in-flight exit=0\n");
    ASSERT_TEXT(mock_text(&f),
                "0.000000000 spawn p:a child=1 argv=[/bin/sh,-c,a] cwd=/WS "
                "env=[PATH=/usr/bin:/bin] entry=1\n"
                "0.000000000 spawn p:z child=2 argv=[/bin/sh,-c,z] cwd=/WS "
                "env=[PATH=/usr/bin:/bin] entry=2\n"
                "1.000000000 stdout p:a 2 \"A\\n\"\n"
                "1.000000000 file p:a a.txt 9\n"
                "1.000000000 exit p:a code=0\n"
                "1.000000000 signal p:z SIGTERM\n"
                "1.000000000 exit p:z code=0\n");
    CU_ASSERT_EQUAL(exit_code(&f), 130);
    assert_cache(&f, 1);
    /* The next run: p:a from the cache, the others fresh. */
    put(&f, "a.txt", "stale");
    fx_script(&f, NULL);
    fx_token(&f);
    trg_reset(f.cancel, PT_NONE, NULL);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "started p:a\n"
                "stdout p:a 2 A\\n\n"
                "finished p:a cache-hit succeeded none\n"
                "started p:b\nstarted p:z\n"
                "finished p:b fresh succeeded exit=0\n"
                "finished p:z fresh succeeded exit=0\n");
    CU_ASSERT_EQUAL(get(&f, "a.txt", buf, sizeof buf), 9);
    CU_ASSERT_STRING_EQUAL(buf, "made by a");
    CU_ASSERT_EQUAL(exit_code(&f), 0);
    assert_cache(&f, 3);
    fx_done(&f);
}

/* X1e: the token fires while a hit's stdout is replayed: the replay
 * finishes cleanly (stdout then stderr, one call each, design 2.5), the
 * hit keeps its outcome, nothing else starts, nothing is spawned; 130. */
static void test_x1e_cancel_during_replay(void)
{
    fx f;

    fx_init(&f, hz_x1d,
            "[p:a]\nstdout 1 \"A\\n\"\nstderr 1 \"a-err\\n\"\n"
            "file a.txt \"made by a\"\nexit 1 0\n", 0, 1);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    CU_ASSERT_EQUAL(exit_code(&f), 0);
    assert_cache(&f, 3);
    fx_token(&f);
    trg_reset(f.cancel, PT_OUTPUT, "A\n");
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    CU_ASSERT_EQUAL(trg.fired, 1);
    ASSERT_TEXT(obs_text(&f),
                "started p:a\n"
                "stdout p:a 2 A\\n\n"
                "stderr p:a 6 a-err\\n\n"
                "finished p:a cache-hit succeeded none\n"
                "cancelled p:b run-cancelled\n"
                "cancelled p:z run-cancelled\n");
    ASSERT_TEXT(mock_text(&f), "");
    CU_ASSERT_EQUAL(exit_code(&f), 130);
    assert_cache(&f, 3);
    fx_done(&f);
}

/* ------------------------------------------------------------------------
 * X2: exit against kill, with real processes.
 * ---------------------------------------------------------------------- */

/* X2: 200 runs of a short real child (and a dependent), each cancelled at
 * another system call of the spawner (the Nth select, read, waitpid or
 * kill, N = 1..10 in turn: a run makes 8 to 16 of them; both start
 * paths), so the cancel lands before,
 * during and after the exit and the reap.  Each run: haz_run succeeds, no
 * task errors, every task ends Completed or Cancelled, exit code 130
 * once the token fired; no kill() reaches a pid or group after waitpid()
 * reaped it; no zombie, no group, no descriptor, no memory left. */
static void test_x2_exit_vs_kill(void)
{
    fx f;
    int it, kills = 0;
    size_t i;

    fx_init(&f,
            "[workspace]\nconcurrency = 2\ncancel_grace = 30\n"
            "[task p:a]\nrun = exit 0\n"
            "[task p:b]\nrun = exit 0\ndeps = p:a\n", NULL, 1, 0);
    for (it = 0; it < 200; it++) {
        fx_token(&f);
        trg_reset(f.cancel, PT_SYSCALL, NULL);
        trg.target = (unsigned long)(1 + it % 10);
        haz__posix_spawner_use_fork((it / 25) & 1);
        npids = 0;
        nslog = 0;
        CU_ASSERT_EQUAL_FATAL(fx_run(&f), HAZ_OK);
        assert_no_process();
        kills += kills_after_reap();
        for (i = 0; i < haz_run_result_count(f.r); i++) {
            const haz_task_outcome *o = haz_run_result_get(f.r, i);

            CU_ASSERT(o->kind == HAZ_OUTCOME_COMPLETED ||
                      o->kind == HAZ_OUTCOME_CANCELLED);
            if (o->kind == HAZ_OUTCOME_COMPLETED)
                CU_ASSERT_EQUAL(o->state, HAZ_STATE_SUCCEEDED);
        }
        CU_ASSERT_EQUAL(exit_code(&f), trg.fired ? 130 : 0);
    }
    CU_ASSERT_EQUAL(kills, 0);
    fx_done(&f);
}

/* ------------------------------------------------------------------------
 * X3: repeated cancels (also test_sched.c test_cancel_escalation and
 * test_cancel_twice_before_run, and test_hazrun_signals.sh second-int).
 * ---------------------------------------------------------------------- */

static const char *hz_x3 =
    "[workspace]\ncancel_grace = 2\n"
    "[task e:deaf]\nrun = deaf\n"
    "[task e:slow]\nrun = slow\n"
    "[task e:tail]\nrun = tail\ndeps = e:deaf\n";
static const char *mk_x3 =
    "[e:deaf]\nstdout 1 \"one\"\nstdout 1.01 \"two\"\nhang\nsigterm ignore\n"
    "[e:slow]\nhang\nsigterm delay 0.5 0\n";

/* X3: ten requests: one at 1 (SIGTERM to both children), three at once
 * at 1.01 (escalation, documented in run.h: one SIGKILL to each at once),
 * three when e:deaf ends, three after the run.  Each child gets exactly
 * one SIGTERM and one SIGKILL; the first request's signal is kept; the
 * outcomes and the exit code are those of a single cancel (where e:deaf
 * is SIGKILLed when the grace period ends and e:slow exits during it). */
static void test_x3_repeated_cancel(void)
{
    fx f;
    haz_outcome_kind single[3];
    static const char *const ids[] = {"e:deaf", "e:slow", "e:tail"};
    size_t k;

    /* A single cancel, for comparison. */
    fx_init(&f, hz_x3, mk_x3, 0, 0);
    trg.point = PT_OUTPUT;
    trg.text = "one";
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "started e:deaf\nstarted e:slow\n"
                "stdout e:deaf 3 one\n"
                "stdout e:deaf 3 two\n"
                "cancelled e:slow signaled-in-flight exit=0\n"
                "cancelled e:deaf signaled-in-flight signal=9\n"
                "cancelled e:tail upstream-cancelled e:deaf\n");
    for (k = 0; k < 3; k++)
        single[k] = oc(&f, ids[k])->kind;
    CU_ASSERT_EQUAL(exit_code(&f), 130);
    fx_done(&f);

    fx_init(&f, hz_x3, mk_x3, 0, 0);
    trg.point = PT_OUTPUT;
    trg.text = "one";
    trg.text2 = "two";
    trg.requests2 = 3;
    trg.end2 = "e:deaf";
    trg.requests_end = 3;
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    more(3);
    CU_ASSERT_EQUAL(haz_cancel_count(f.cancel), 10);
    ASSERT_TEXT(mock_text(&f),
                "0.000000000 spawn e:deaf child=1 argv=[/bin/sh,-c,deaf] "
                "cwd=/WS env=[PATH=/usr/bin:/bin] entry=1\n"
                "0.000000000 spawn e:slow child=2 argv=[/bin/sh,-c,slow] "
                "cwd=/WS env=[PATH=/usr/bin:/bin] entry=2\n"
                "1.000000000 stdout e:deaf 3 \"one\"\n"
                "1.000000000 signal e:deaf SIGTERM\n"
                "1.000000000 signal e:slow SIGTERM\n"
                "1.010000000 stdout e:deaf 3 \"two\"\n"
                "1.010000000 signal e:deaf SIGKILL\n"
                "1.010000000 signal e:slow SIGKILL\n"
                "1.010000000 exit e:deaf signal=9\n"
                "1.010000000 exit e:slow signal=9\n");
    ASSERT_TEXT(obs_text(&f),
                "started e:deaf\nstarted e:slow\n"
                "stdout e:deaf 3 one\n"
                "stdout e:deaf 3 two\n"
                "cancelled e:deaf signaled-in-flight signal=9\n"
                "cancelled e:tail upstream-cancelled e:deaf\n"
                "cancelled e:slow signaled-in-flight signal=9\n");
    for (k = 0; k < 3; k++)
        CU_ASSERT_EQUAL(oc(&f, ids[k])->kind, single[k]);
    CU_ASSERT_EQUAL(haz_run_result_cancel_signal(f.r), SIGINT);
    CU_ASSERT_EQUAL(exit_code(&f), 130);
    fx_done(&f);
}

/* ------------------------------------------------------------------------
 * X4: cancel during a restore.
 * ---------------------------------------------------------------------- */

#define X4_FILES 40

static const char *hz_x4 =
    "[workspace]\nconcurrency = 1\n"
    "[task p:gen]\nrun = gen\noutputs = out/*.txt\n"
    "[task p:next]\nrun = next\ndeps = p:gen\n";

static void x4_set(fx *f, const char *what)
{
    char rel[64], text[64];
    int k;

    for (k = 0; k < X4_FILES; k++) {
        (void)snprintf(rel, sizeof rel, "out/f%02d.txt", k);
        (void)snprintf(text, sizeof text, "%s-%02d", what, k);
        put(f, rel, text);
    }
}

/* How many outputs hold the new content; -1 when any holds neither the
 * old nor the new content in full. */
static int x4_count_new(fx *f)
{
    char rel[64], buf[64], old[64], nw[64];
    int k, n = 0;

    for (k = 0; k < X4_FILES; k++) {
        (void)snprintf(rel, sizeof rel, "out/f%02d.txt", k);
        (void)snprintf(old, sizeof old, "old-%02d", k);
        (void)snprintf(nw, sizeof nw, "new-%02d", k);
        if (get(f, rel, buf, sizeof buf) < 0)
            return -1;
        if (strcmp(buf, nw) == 0)
            n++;
        else if (strcmp(buf, old) != 0)
            return -1;
    }
    return n;
}

static int x4_seen;     /* x4_count_new at the cancel point */

static void x4_at_point(void)
{
    x4_seen = x4_count_new(cur);
}

/* X4: p:gen's entry has 40 output files, all present in the workspace
 * with old content of the same size.  The token fires at every point of
 * the restore in turn (each allocation: streams, the check of each
 * existing target, the staging of each blob; each rename: the
 * publication of each output).  At that point each output holds its old
 * or its new content in full, never anything else, and the points see
 * 0, 1, ..., 39 outputs published.  The restore runs inline (design
 * 2.9) and completes: p:gen is a hit with every output new; p:next, not
 * admitted yet, is cancelled; 130; the cache verifies with no temporary
 * left.  The next run restores cleanly. */
static void test_x4_cancel_during_restore(void)
{
    fx f;
    char script[4096];
    size_t n = 0;
    unsigned long points, k;
    int i;
    char seen[X4_FILES + 1];

    n += (size_t)snprintf(script + n, sizeof script - n, "[p:gen]\n");
    for (i = 0; i < X4_FILES; i++)
        n += (size_t)snprintf(script + n, sizeof script - n,
                              "file out/f%02d.txt \"new-%02d\"\n", i, i);
    (void)snprintf(script + n, sizeof script - n, "exit 1 0\n");
    fx_init(&f, hz_x4, script, 0, 1);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    CU_ASSERT_EQUAL(x4_count_new(&f), X4_FILES);
    assert_cache(&f, 2);
    /* Count the points of one restore (the second: the first one also
     * takes the cache directory's real path, once for the store). */
    for (i = 0; i < 2; i++) {
        x4_set(&f, "old");
        fx_token(&f);
        trg_reset(f.cancel, PT_RESTORE, NULL);
        trg.target = (unsigned long)-1;
        CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
        CU_ASSERT_EQUAL(x4_count_new(&f), X4_FILES);
    }
    points = trg.count;
    CU_ASSERT(points >= 3 * X4_FILES);
    memset(seen, 0, sizeof seen);
    for (k = 1; k <= points; k++) {
        x4_set(&f, "old");
        fx_token(&f);
        trg_reset(f.cancel, PT_RESTORE, NULL);
        trg.target = k;
        trg.at_point = x4_at_point;
        x4_seen = -2;
        CU_ASSERT_EQUAL_FATAL(fx_run(&f), HAZ_OK);
        CU_ASSERT_EQUAL(trg.fired, 1);
        CU_ASSERT(x4_seen >= 0 && x4_seen <= X4_FILES);
        if (x4_seen >= 0 && x4_seen <= X4_FILES)
            seen[x4_seen] = 1;
        ASSERT_TEXT(obs_text(&f),
                    "started p:gen\n"
                    "finished p:gen cache-hit succeeded none\n"
                    "cancelled p:next run-cancelled\n");
        ASSERT_TEXT(mock_text(&f), "");
        CU_ASSERT_EQUAL(x4_count_new(&f), X4_FILES);
        CU_ASSERT_EQUAL(exit_code(&f), 130);
        assert_cache(&f, 2);
    }
    /* The points saw every count of published outputs from 0 to 39:
     * there was one between every two renames. */
    for (i = 0; i < X4_FILES; i++)
        CU_ASSERT_EQUAL(seen[i], 1);
    /* The next run restores cleanly. */
    x4_set(&f, "old");
    fx_token(&f);
    trg_reset(f.cancel, PT_NONE, NULL);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "started p:gen\n"
                "finished p:gen cache-hit succeeded none\n"
                "started p:next\n"
                "finished p:next cache-hit succeeded none\n");
    CU_ASSERT_EQUAL(x4_count_new(&f), X4_FILES);
    CU_ASSERT_EQUAL(exit_code(&f), 0);
    assert_cache(&f, 2);
    fx_done(&f);
}

/* ------------------------------------------------------------------------
 * X5: outputs of an interrupted task.
 * ---------------------------------------------------------------------- */

static const char *hz_x5 =
    "[workspace]\ncancel_grace = 1\n"
    "[task p:u]\nrun = u\ninputs = in.txt\noutputs = u.out\n"
    "[task p:w]\nrun = w\ninputs = in.txt\noutputs = w.out\n";

static void x5_half(void)
{
    put(cur, "w.out", "w-v2-ha");
}

/* X5: both outputs exist from a stored earlier run; the input changes;
 * p:w rewrites its output halfway, then the run is cancelled; p:u never
 * touches its own.  Both are cancelled; the library removes nothing: the
 * half-written file stays as written and the untouched one is kept; no
 * entry is stored for either (EXEC-015).  So the next run, whose keys
 * miss, runs both again and rebuilds both outputs. */
static void test_x5_partial_outputs(void)
{
    fx f;
    char buf[64];

    fx_init(&f, hz_x5,
            "[p:u]\nfile u.out \"u-v1\"\nexit 1 0\n"
            "[p:w]\nfile w.out \"w-v1\"\nexit 1 0\n", 0, 1);
    put(&f, "in.txt", "v1");
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    CU_ASSERT_EQUAL(exit_code(&f), 0);
    assert_cache(&f, 2);
    put(&f, "in.txt", "v2");
    fx_script(&f, "[p:u]\nhang\n[p:w]\nstdout 1 \"half\"\nhang\n");
    fx_token(&f);
    trg_reset(f.cancel, PT_OUTPUT, "half");
    trg.at_point = x5_half;
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "started p:u\nstarted p:w\n"
                "stdout p:w 4 half\n"
                "cancelled p:u signaled-in-flight signal=15\n"
                "cancelled p:w signaled-in-flight signal=15\n");
    CU_ASSERT_EQUAL(exit_code(&f), 130);
    get(&f, "w.out", buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "w-v2-ha");
    get(&f, "u.out", buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "u-v1");
    assert_cache(&f, 2);
    /* The next run rebuilds both. */
    fx_script(&f, "[p:u]\nfile u.out \"u-v2\"\nexit 1 0\n"
              "[p:w]\nfile w.out \"w-v2-half\"\nexit 1 0\n");
    fx_token(&f);
    trg_reset(f.cancel, PT_NONE, NULL);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "started p:u\nstarted p:w\n"
                "finished p:u fresh succeeded exit=0\n"
                "finished p:w fresh succeeded exit=0\n");
    get(&f, "w.out", buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "w-v2-half");
    get(&f, "u.out", buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "u-v2");
    CU_ASSERT_EQUAL(exit_code(&f), 0);
    assert_cache(&f, 4);
    fx_done(&f);
}

/* ------------------------------------------------------------------------
 * X6: a failure while other tasks run (also test_sched.c
 * test_failure_cascade).
 * ---------------------------------------------------------------------- */

/* X6, keep going (EXEC-010, the run's policy): x:a fails at 0.1 while x:b
 * runs and x:c waits for a slot; x:b and x:c finish, x:d and x:e (hard
 * descendants) are skipped naming the root x:a; exit 1. */
static void test_x6_keep_going(void)
{
    fx f;

    fx_init(&f,
            "[workspace]\nconcurrency = 2\n"
            "[task x:a]\nrun = a\n[task x:b]\nrun = b\n[task x:c]\nrun = c\n"
            "[task x:d]\nrun = d\ndeps = x:a\n"
            "[task x:e]\nrun = e\ndeps = x:d\n",
            "[x:a]\nexit 0.1 1\n[x:b]\nexit 0.5 0\n[x:c]\nexit 0.3 0\n",
            0, 0);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "started x:a\nstarted x:b\n"
                "finished x:a fresh failed exit=1\n"
                "skipped x:d upstream-failed x:a\n"
                "skipped x:e upstream-failed x:a\n"
                "started x:c\n"
                "finished x:c fresh succeeded exit=0\n"
                "finished x:b fresh succeeded exit=0\n");
    CU_ASSERT_EQUAL(oc(&f, "x:c")->end_ns, SEC(4) / 10);
    CU_ASSERT_EQUAL(oc(&f, "x:b")->end_ns, SEC(5) / 10);
    CU_ASSERT_EQUAL(exit_code(&f), 1);
    fx_done(&f);
}

static const char *hz_x6 =
    "[workspace]\nconcurrency = 3\ncancel_grace = 1\n"
    "[task x:a]\nrun = a\n[task x:b]\nrun = b\n[task x:c]\nrun = c\n"
    "[task x:d]\nrun = d\ndeps = x:a\n"
    "[task x:e]\nrun = e\ndeps = x:d\n"
    "[task x:f]\nrun = f\n";
static const char *mk_x6 =
    "[x:a]\nexit 0.1 1\n[x:b]\nhang\nsigterm ignore\n[x:c]\nhang\n";

/* X6, stop on the first failure, as a caller gets it: it cancels when a
 * task fails.  x:b and x:c go through SIGTERM, grace, SIGKILL; x:d and
 * x:e are skipped (the failure's cascade comes first), x:f, waiting, is
 * cancelled.  With signal 0 the failure decides the exit code (1); with
 * SIGINT the signal wins (130, design 2.11). */
static void x6_stop(int signo, int code)
{
    fx f;

    fx_init(&f, hz_x6, mk_x6, 0, 0);
    trg.point = PT_END;
    trg.text = "x:a";
    trg.signo = signo;
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "started x:a\nstarted x:b\nstarted x:c\n"
                "finished x:a fresh failed exit=1\n"
                "skipped x:d upstream-failed x:a\n"
                "skipped x:e upstream-failed x:a\n"
                "cancelled x:f run-cancelled\n"
                "cancelled x:c signaled-in-flight signal=15\n"
                "cancelled x:b signaled-in-flight signal=9\n");
    ASSERT_TEXT(strstr(mock_text(&f), "0.100000000"),
                "0.100000000 exit x:a code=1\n"
                "0.100000000 signal x:b SIGTERM\n"
                "0.100000000 signal x:c SIGTERM\n"
                "0.100000000 exit x:c signal=15\n"
                "1.100000000 deadline\n"
                "1.100000000 signal x:b SIGKILL\n"
                "1.100000000 exit x:b signal=9\n");
    CU_ASSERT_EQUAL(oc(&f, "x:a")->state, HAZ_STATE_FAILED);
    CU_ASSERT_EQUAL(haz_run_result_cancel_signal(f.r), signo);
    CU_ASSERT_EQUAL(exit_code(&f), code);
    fx_done(&f);
}

static void test_x6_stop_on_failure(void)
{
    x6_stop(0, 1);
    x6_stop(SIGINT, 130);
}

/* ------------------------------------------------------------------------
 * X7: caps and mutexes released (also test_sched.c
 * test_spawn_error_releases_mutex and test_cancel_parked).
 * ---------------------------------------------------------------------- */

static const char *hz_x7 =
    "[workspace]\nconcurrency = 2\n"
    "[tag heavy]\ncap = 1\n"
    "[task m:h]\nrun = h\nmutex = M\ntags = heavy\n"
    "[task m:t]\nrun = t\ntags = heavy\n"
    "[task m:w1]\nrun = w1\nmutex = M\n"
    "[task m:w2]\nrun = w2\nmutex = M\n"
    "[task m:w3]\nrun = w3\nmutex = M\n";
static const char *mk_x7_waiters =
    "[m:t]\nexit 0.5 0\n[m:w1]\nexit 1 0\n[m:w2]\nexit 1 0\n"
    "[m:w3]\nexit 1 0\n";

/* X7: m:h holds M, a global slot and the one slot of tag heavy; three
 * waiters are parked on M and m:t waits for the heavy slot.  When m:h
 * fails (at 1) or cannot be spawned (at 0), every slot and M come back:
 * m:t runs at once, then the waiters hold M one after the other; every
 * task ends; exit 1. */
static void test_x7_released_on_failure(void)
{
    fx f;
    char script[512];

    (void)snprintf(script, sizeof script, "[m:h]\nexit 1 1\n%s",
                   mk_x7_waiters);
    fx_init(&f, hz_x7, script, 0, 0);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "started m:h\nstarted m:w1\nstarted m:w2\nstarted m:w3\n"
                "finished m:h fresh failed exit=1\n"
                "started m:t\n"
                "finished m:t fresh succeeded exit=0\n"
                "finished m:w1 fresh succeeded exit=0\n"
                "finished m:w2 fresh succeeded exit=0\n"
                "finished m:w3 fresh succeeded exit=0\n");
    CU_ASSERT_EQUAL(oc(&f, "m:t")->end_ns, SEC(3) / 2);
    CU_ASSERT_EQUAL(oc(&f, "m:w1")->end_ns, SEC(2));
    CU_ASSERT_EQUAL(oc(&f, "m:w2")->end_ns, SEC(3));
    CU_ASSERT_EQUAL(oc(&f, "m:w3")->end_ns, SEC(4));
    CU_ASSERT_EQUAL(exit_code(&f), 1);
    fx_done(&f);
}

static void test_x7_released_on_spawn_failure(void)
{
    fx f;
    char script[512];

    (void)snprintf(script, sizeof script, "[m:h]\nspawn-error EAGAIN\n%s",
                   mk_x7_waiters);
    fx_init(&f, hz_x7, script, 0, 0);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "started m:h\n"
                "errored m:h spawn: m:h: cannot run '/bin/sh': Resource "
                "temporarily unavailable\n"
                "started m:t\nstarted m:w1\n"
                "finished m:t fresh succeeded exit=0\n"
                "started m:w2\nstarted m:w3\n"
                "finished m:w1 fresh succeeded exit=0\n"
                "finished m:w2 fresh succeeded exit=0\n"
                "finished m:w3 fresh succeeded exit=0\n");
    CU_ASSERT_EQUAL(oc(&f, "m:w1")->end_ns, SEC(1));
    CU_ASSERT_EQUAL(oc(&f, "m:w2")->end_ns, SEC(2));
    CU_ASSERT_EQUAL(oc(&f, "m:w3")->end_ns, SEC(3));
    CU_ASSERT_EQUAL(exit_code(&f), 1);
    fx_done(&f);
}

/* X7, cancelled: the holder is SIGTERMed; the parked waiters and m:t are
 * cancelled (RunCancelled: the policy drains every waiting task); no
 * deadlock; 130. */
static void test_x7_released_on_cancel(void)
{
    fx f;
    char script[512];

    (void)snprintf(script, sizeof script, "[m:h]\nstdout 1 \"x\"\nhang\n%s",
                   mk_x7_waiters);
    fx_init(&f, hz_x7, script, 0, 0);
    trg.point = PT_OUTPUT;
    trg.text = "x";
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "started m:h\nstarted m:w1\nstarted m:w2\nstarted m:w3\n"
                "stdout m:h 1 x\n"
                "cancelled m:t run-cancelled\n"
                "cancelled m:w1 run-cancelled\n"
                "cancelled m:w2 run-cancelled\n"
                "cancelled m:w3 run-cancelled\n"
                "cancelled m:h signaled-in-flight signal=15\n");
    CU_ASSERT_EQUAL(exit_code(&f), 130);
    fx_done(&f);
}

/* ------------------------------------------------------------------------
 * Registration.
 * ---------------------------------------------------------------------- */

static CU_TestInfo x1_tests[] = {
    {"X1b cancel during spawn", test_x1b_cancel_during_spawn},
    {"X1b cancel during a failed spawn", test_x1b_cancel_during_failed_spawn},
    {"X1c cancel after exit before reap",
     test_x1c_cancel_after_exit_before_reap},
    {"X1c cancel after the reap, exit not reported",
     test_x1c_reaped_exit_not_reported},
    {"X1d cancel during cache store", test_x1d_cancel_during_store},
    {"X1e cancel during log replay", test_x1e_cancel_during_replay},
    CU_TEST_INFO_NULL
};

static CU_TestInfo x2_x3_tests[] = {
    {"X2 exit vs kill", test_x2_exit_vs_kill},
    {"X3 repeated cancel", test_x3_repeated_cancel},
    CU_TEST_INFO_NULL
};

static CU_TestInfo x4_x5_tests[] = {
    {"X4 cancel during restore", test_x4_cancel_during_restore},
    {"X5 partial outputs", test_x5_partial_outputs},
    CU_TEST_INFO_NULL
};

static CU_TestInfo x6_x7_tests[] = {
    {"X6 keep going", test_x6_keep_going},
    {"X6 stop on first failure", test_x6_stop_on_failure},
    {"X7 released on failure", test_x7_released_on_failure},
    {"X7 released on spawn failure", test_x7_released_on_spawn_failure},
    {"X7 released on cancel", test_x7_released_on_cancel},
    CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
    HAZ_TEST_SUITE("x1", x1_tests),
    HAZ_TEST_SUITE("x2-x3", x2_x3_tests),
    HAZ_TEST_SUITE("x4-x5", x4_x5_tests),
    HAZ_TEST_SUITE("x6-x7", x6_x7_tests),
    CU_SUITE_INFO_NULL
};

int main(int argc, char **argv)
{
#if defined(__linux__) && defined(PR_SET_CHILD_SUBREAPER)
    subreaper = prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0;
#endif
    return haz_test_main(argc, argv, suites);
}
