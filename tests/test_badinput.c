/*
 * tests/test_badinput.c: the bad-input tests of reliability-tests.md that
 * test_validate.c and test_hazfile.c leave open, each through both entry
 * paths (the C API and a hazfile) where both exist:
 *
 *   B2  missing and duplicate: an undefined dependency, a duplicate task,
 *       two tasks declaring the same output, an output with a '..'
 *       segment.  Every problem is reported with its exact text, before
 *       anything runs (haz_run refuses a graph that did not validate, and
 *       no process starts).  A leading '/' makes a pattern relative to
 *       the workspace root (design 2.17), so "/dist/x" is a valid output,
 *       not an absolute host path: it collides with "dist/x" of a task of
 *       the root project.  End to end, hazrun exits 2 (design 2.11) with
 *       every problem on stderr, and nothing ran.
 *   B3  empty command: "", all-blank, an empty argv, an empty argv[0], a
 *       NUL inside a command.  The one behaviour: rejected as invalid
 *       input before anything runs (haz_graph_validate gives HAZ_EGRAPH,
 *       the hazfile loader HAZ_EPARSE; hazrun exits 2 for both, design
 *       2.11).  A C string cannot hold a NUL, so through the API a command
 *       ends at its first NUL by construction; the hazfile rejects the
 *       line.  The two-byte script `""` is not empty: it runs and fails
 *       (exit 127), never "succeeds".
 *   B6  spawn environment errors on the posix spawner: a 200 KiB command
 *       string and a 200 KiB environment value (E2BIG), a working
 *       directory that does not exist and one deleted while the task is
 *       queued (ENOENT): the task ends Errored (spawn) with the cause in
 *       its message, its dependents are skipped (UpstreamErrored), an
 *       independent task still succeeds and is the only one cached, and
 *       afterwards no zombie, no process group and no new descriptor is
 *       left.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "testutil.h"
#include "../backends/spawn_posix.h"
#include "pidrec.h"

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

#define SEC(x) ((uint64_t)(x) * UINT64_C(1000000000))
#define FDMAX 1024
#define MAXPID 256
#define BIG (200 * 1024)

/* ------------------------------------------------------------------------
 * A world: context, graph, diagnostics, a workspace directory.
 * ---------------------------------------------------------------------- */

typedef struct world {
    haz_test_mem tm;
    haz_ctx *ctx;
    haz_clock *clk;
    haz_graph *g;
    haz_diags *d;
    haz_spawner *sp;
    haz_cache_store *cache;
    haz_run_result *res;
    unsigned char fds[FDMAX];
    char dir[4096];
} world;

static void fd_snapshot(unsigned char *fds)
{
    int fd;

    for (fd = 0; fd < FDMAX; fd++)
        fds[fd] = fcntl(fd, F_GETFD) != -1;
}

static void w_begin(world *w)
{
    char tmp[4096];

    memset(w, 0, sizeof *w);
    fd_snapshot(w->fds);
    haz_test_mem_init(&w->tm);
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&w->ctx, &w->tm.mem), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_clock_open(w->ctx, &haz_clock_posix, NULL,
                                         &w->clk), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_graph_new(w->ctx, &w->g), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_diags_new(w->ctx, &w->d), HAZ_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(haz_test_mkdtemp(tmp, sizeof tmp,
                                                  "badinput"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(realpath(tmp, w->dir));
    haz_pidrec_start(MAXPID);
}

/* Free everything, then check: no memory, no zombie, no process group,
 * the same descriptors as before. */
static void w_end(world *w)
{
    unsigned char after[FDMAX];
    int fd, st;

    haz_pidrec_stop();
    haz_run_result_free(w->res);
    haz_cache_store_close(w->cache);
    haz_spawner_close(w->sp);
    haz_diags_free(w->d);
    haz_graph_free(w->g);
    haz_clock_close(w->clk);
    haz_ctx_free(w->ctx);
    CU_ASSERT_EQUAL(w->tm.live, 0);
    CU_ASSERT(waitpid(-1, &st, WNOHANG) == -1 && errno == ECHILD);
    CU_ASSERT(haz_pidrec_groups_gone());
    fd_snapshot(after);
    for (fd = 0; fd < FDMAX; fd++)
        if (after[fd] != w->fds[fd]) {
            fprintf(stderr, "\n  descriptor %d: %s\n", fd,
                    after[fd] ? "leaked" : "closed");
            CU_FAIL("the open descriptors changed");
        }
    CU_ASSERT_EQUAL(haz_test_rmtree(w->dir), 0);
}

static haz_task *add_sh(world *w, const char *project, const char *name,
                        const char *script)
{
    haz_task *t = NULL;

    CU_ASSERT_EQUAL_FATAL(haz_graph_add_task(w->g, project, name, &t),
                          HAZ_OK);
    if (script != NULL)
        CU_ASSERT_EQUAL_FATAL(haz_task_set_shell(t, script), HAZ_OK);
    return t;
}

static void expect_diags(int at, const haz_diags *d, const char *want)
{
    char *got = haz_test_join_diags(d);

    if (strcmp(got, want) != 0)
        fprintf(stderr, "\ntest_badinput.c:%d:\n--- got:\n%s--- want:\n%s"
                "---\n", at, got, want);
    CU_ASSERT_STRING_EQUAL(got, want);
    free(got);
}

static const char *const host_env[] = {"PATH=/usr/bin:/bin", NULL};

/* Run the graph (validated or not) on the posix spawner. */
static int w_run(world *w, unsigned jobs)
{
    haz_spawner_config sc;
    haz_run_options ro;
    haz_run_config cfg;

    if (w->sp == NULL) {
        memset(&sc, 0, sizeof sc);
        sc.version = 1;
        sc.clock = w->clk;
        CU_ASSERT_EQUAL_FATAL(haz_spawner_open(w->ctx, &haz_spawner_posix,
                                               &sc, &w->sp), HAZ_OK);
    }
    haz_run_result_free(w->res);
    w->res = NULL;
    haz_run_options_init(&ro);
    ro.concurrency = jobs;
    ro.cancel_grace_ns = SEC(5);
    ro.workspace_root = w->dir;
    ro.host_env = host_env;
    ro.no_cache = w->cache == NULL;
    memset(&cfg, 0, sizeof cfg);
    cfg.graph = w->g;
    cfg.spawner = w->sp;
    cfg.clock = w->clk;
    cfg.cache = w->cache;
    cfg.options = &ro;
    return haz_run(w->ctx, &cfg, &w->res);
}

static const haz_task_outcome *outcome(world *w, const char *id)
{
    const haz_task_outcome *o = haz_test_outcome(w->res, id);

    if (o == NULL)
        CU_FAIL_FATAL("no outcome for the task");
    return o;
}

static int exists(const char *dir, const char *name)
{
    char path[4300];
    struct stat st;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    return lstat(path, &st) == 0;
}

/* Parse a hazfile text; expect `want_rc` and exactly the diagnostics. */
static void hazfile_expect(int at, const char *text, size_t len,
                           int want_rc, const char *want)
{
    haz_test_mem tm;
    haz_ctx *ctx = NULL;
    haz_diags *d = NULL;
    haz_hazfile *hf = NULL;

    haz_test_mem_init(&tm);
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, &tm.mem), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_diags_new(ctx, &d), HAZ_OK);
    CU_ASSERT_EQUAL(haz_hazfile_parse(ctx, "hazfile", text, len, &hf, d),
                    want_rc);
    CU_ASSERT_PTR_NULL(hf);
    expect_diags(at, d, want);
    haz_hazfile_free(hf);
    haz_diags_free(d);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

#define HAZFILE(text, rc, want) \
    hazfile_expect(__LINE__, (text), strlen(text), (rc), (want))

/* ------------------------------------------------------------------------
 * B2: missing and duplicate.
 * ---------------------------------------------------------------------- */

/* B2 through the C API: a duplicate task is refused when it is added
 * (HAZ_EEXIST, the graph unchanged); the rest is reported all at once by
 * validation (DAG-011), and a run of the graph refuses to start: no
 * process, no marker file. */
static void test_b2_api(void)
{
    world w;
    haz_task *t, *dup = NULL;
    static const char want[] =
        "app:link: unknown task 'core:gen' in deps\n"
        "app:link: unknown task 'app:nope' in weak_deps\n"
        "core:build: output pattern '../escape.o' is invalid: '..' "
        "segment\n"
        "core:build: output pattern 'obj/../a.o' is invalid: '..' "
        "segment\n"
        "output '/core/a.o' is declared by 2 tasks: core:build, core:copy\n"
        "output '/dist/x' is declared by 2 tasks: app:link, root:pack\n";

    w_begin(&w);
    CU_ASSERT_EQUAL(haz_graph_add_project(w.g, "core", "core"), HAZ_OK);
    CU_ASSERT_EQUAL(haz_graph_add_project(w.g, "app", "app"), HAZ_OK);
    t = add_sh(&w, "core", "build", "touch ../built-marker");
    CU_ASSERT_EQUAL(haz_task_add_output(t, "a.o"), HAZ_OK);
    CU_ASSERT_EQUAL(haz_task_add_output(t, "../escape.o"), HAZ_OK);
    CU_ASSERT_EQUAL(haz_task_add_output(t, "obj/../a.o"), HAZ_OK);
    t = add_sh(&w, "core", "copy", "touch ../copy-marker");
    CU_ASSERT_EQUAL(haz_task_add_output(t, "/core/a.o"), HAZ_OK);
    t = add_sh(&w, "app", "link", "touch ../link-marker");
    CU_ASSERT_EQUAL(haz_task_add_dep(t, "core:gen"), HAZ_OK);
    CU_ASSERT_EQUAL(haz_task_add_weak_dep(t, "~:nope"), HAZ_OK);
    CU_ASSERT_EQUAL(haz_task_add_output(t, "/dist/x"), HAZ_OK);
    t = add_sh(&w, "root", "pack", "touch pack-marker");
    CU_ASSERT_EQUAL(haz_task_add_output(t, "dist/x"), HAZ_OK);
    /* The duplicate: refused at once, nothing added. */
    CU_ASSERT_EQUAL(haz_graph_add_task(w.g, "core", "build", &dup),
                    HAZ_EEXIST);
    CU_ASSERT_EQUAL(haz_ctx_errcode(w.ctx), HAZ_EEXIST);

    CU_ASSERT_EQUAL(haz_graph_validate(w.g, w.d), HAZ_EGRAPH);
    expect_diags(__LINE__, w.d, want);
    CU_ASSERT_EQUAL(haz_graph_task_count(w.g), 0);
    /* Nothing runs: the run refuses a graph that did not validate. */
    CU_ASSERT_EQUAL(w_run(&w, 4), HAZ_EINVAL);
    CU_ASSERT_PTR_NULL(w.res);
    CU_ASSERT_EQUAL(haz_pidrec_count(), 0);
    CU_ASSERT(!exists(w.dir, "built-marker"));
    CU_ASSERT(!exists(w.dir, "copy-marker"));
    CU_ASSERT(!exists(w.dir, "link-marker"));
    CU_ASSERT(!exists(w.dir, "pack-marker"));
    w_end(&w);
}

/* B2 through a hazfile: the same problems, each "FILE:LINE: message".
 * The hazfile loader checks a pattern when it reads the line, so a '..'
 * output is a syntax error, and a file with a syntax error is not
 * validated as a graph: its problems come in two rounds, every problem of
 * each round reported.  The duplicate task is a duplicate section. */
static void test_b2_hazfile(void)
{
    static const char graph[] =
        "[project core]\n"                          /* 1 */
        "root = core\n"
        "[project app]\n"
        "root = app\n"
        "[task core:build]\n"                       /* 5 */
        "run = touch built\n"
        "outputs = a.o\n"
        "[task core:copy]\n"
        "run = touch copied\n"
        "outputs = /core/a.o\n"                     /* 10 */
        "[task app:link]\n"
        "run = touch linked\n"
        "deps = core:gen\n"
        "weak_deps = ~:nope\n"
        "outputs = /dist/x\n"                       /* 15 */
        "[task root:pack]\n"
        "run = touch packed\n"
        "outputs = dist/x\n";
    static const char dotdot[] =
        "[task core:build]\n"
        "run = touch built\n"
        "outputs = a.o ../escape.o obj/../a.o\n"
        "deps = core:gen\n"
        "[task core:copy]\n"
        "run = touch copied\n"
        "outputs = ../../etc/x\n";
    static const char dup[] =
        "[task core:build]\n"
        "run = touch built\n"
        "[task core:other]\n"
        "run = true\n"
        "[task core:build]\n"
        "run = touch built-again\n"
        "deps = core:gen\n";

    HAZFILE(graph, HAZ_EGRAPH,
            "hazfile:13: unknown task 'core:gen' in deps\n"
            "hazfile:14: unknown task 'app:nope' in weak_deps\n"
            "hazfile:7: output '/core/a.o' is declared by 2 tasks: "
            "core:build, core:copy\n"
            "hazfile:15: output '/dist/x' is declared by 2 tasks: app:link, "
            "root:pack\n");
    HAZFILE(dotdot, HAZ_EPARSE,
            "hazfile:3: invalid output pattern '../escape.o': '..' "
            "segment\n"
            "hazfile:3: invalid output pattern 'obj/../a.o': '..' segment\n"
            "hazfile:7: invalid output pattern '../../etc/x': '..' "
            "segment\n");
    HAZFILE(dup, HAZ_EPARSE,
            "hazfile:5: duplicate section [task core:build] (first at line "
            "1)\n");
}

/* ------------------------------------------------------------------------
 * B3: empty commands.
 * ---------------------------------------------------------------------- */

/* B3: each empty form is rejected before anything runs, through the API
 * (HAZ_EGRAPH, HAZ_DIAG_NO_ACTION) and through a hazfile (HAZ_EPARSE). */
static void test_b3_rejected_both_ways(void)
{
    world w;
    haz_task *t;
    const char *empty0[] = {"", "x"};
    const char *blank[] = {"   "};
    static const char want[] =
        "p:a: shell script is empty\n"
        "p:b: shell script is blank\n"
        "p:c: argv is empty\n"
        "p:d: argv[0] is empty\n"
        "p:e: no action: set a shell script or an argv\n";
    static const char nul_run[] = "[task p:x]\nrun = touch m\0arker\n";

    w_begin(&w);
    add_sh(&w, "p", "a", "");
    add_sh(&w, "p", "b", "   ");
    t = add_sh(&w, "p", "c", NULL);
    CU_ASSERT_EQUAL(haz_task_set_argv(t, 0, NULL), HAZ_OK);
    t = add_sh(&w, "p", "d", NULL);
    CU_ASSERT_EQUAL(haz_task_set_argv(t, 2, empty0), HAZ_OK);
    add_sh(&w, "p", "e", NULL);
    /* argv[0] of blanks is a name, not an empty command: it is looked up
     * (and not found) at run time, so it is no validation error. */
    t = add_sh(&w, "q", "blank0", NULL);
    CU_ASSERT_EQUAL(haz_task_set_argv(t, 1, blank), HAZ_OK);
    CU_ASSERT_EQUAL(haz_graph_validate(w.g, w.d), HAZ_EGRAPH);
    expect_diags(__LINE__, w.d, want);
    CU_ASSERT_EQUAL(haz_diags_get(w.d, 0)->kind, HAZ_DIAG_NO_ACTION);
    CU_ASSERT_EQUAL(haz_diags_get(w.d, 4)->kind, HAZ_DIAG_NO_ACTION);
    CU_ASSERT_EQUAL(w_run(&w, 2), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_pidrec_count(), 0);
    w_end(&w);

    HAZFILE("[task p:a]\nrun =\n", HAZ_EPARSE, "hazfile:2: run is empty\n");
    HAZFILE("[task p:b]\nrun =    \n", HAZ_EPARSE,
            "hazfile:2: run is empty\n");
    HAZFILE("[task p:c]\nargv =\n", HAZ_EPARSE, "hazfile:2: argv is empty\n");
    HAZFILE("[task p:d]\nargv = \"\" x\n", HAZ_EPARSE,
            "hazfile:2: argv[0] is empty: '\"\" x'\n");
    HAZFILE("[task p:e]\n", HAZ_EPARSE,
            "hazfile:1: [task p:e] has no 'run' or 'argv'\n");
    /* A NUL inside a command: the line is rejected, never run cut short
     * at the NUL. */
    hazfile_expect(__LINE__, nul_run, sizeof nul_run - 1, HAZ_EPARSE,
                   "hazfile:1: [task p:x] has no 'run' or 'argv'\n"
                   "hazfile:2: NUL byte in line\n");
}

/* B3: the script `""` (two quote characters) is not empty; /bin/sh runs
 * it and the empty command name fails (127).  It must never come back as
 * a success.  The argv "   " fails to start (ENOENT). */
static void test_b3_quoted_empty_fails(void)
{
    world w;
    const char *blank[] = {"   "};
    const haz_task_outcome *o;
    haz_task *t;

    w_begin(&w);
    add_sh(&w, "p", "quotes", "\"\"");
    t = add_sh(&w, "p", "blank0", NULL);
    CU_ASSERT_EQUAL(haz_task_set_argv(t, 1, blank), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_graph_validate(w.g, w.d), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(w_run(&w, 2), HAZ_OK);
    o = outcome(&w, "p:quotes");
    CU_ASSERT_EQUAL(o->kind, HAZ_OUTCOME_COMPLETED);
    CU_ASSERT_EQUAL(o->state, HAZ_STATE_FAILED);
    CU_ASSERT_EQUAL(o->status.kind, HAZ_EXIT_CODE);
    CU_ASSERT_EQUAL(o->status.code, 127);
    o = outcome(&w, "p:blank0");
    CU_ASSERT_EQUAL(o->kind, HAZ_OUTCOME_ERRORED);
    CU_ASSERT_EQUAL(o->error, HAZ_TERR_SPAWN);
    CU_ASSERT_EQUAL(o->os_errno, ENOENT);
    CU_ASSERT_EQUAL(haz_exit_code(w.res, 0), HAZ_EXIT_FAILED);
    w_end(&w);
}

/* ------------------------------------------------------------------------
 * B6: spawn environment errors on the posix spawner.
 * ---------------------------------------------------------------------- */

static void open_cache(world *w)
{
    haz_cache_store_config cc;

    memset(&cc, 0, sizeof cc);
    cc.version = 1;
    cc.workspace_root = w->dir;
    cc.hash = &haz_hash_sha256;
    cc.clock = w->clk;
    CU_ASSERT_EQUAL_FATAL(haz_cache_store_open(w->ctx, &haz_cache_store_fs,
                                               &cc, &w->cache), HAZ_OK);
}

static uint64_t cache_entries(world *w)
{
    char dir[4200];
    haz_cache_stats st;

    snprintf(dir, sizeof dir, "%s/.haz/cache", w->dir);
    memset(&st, 0, sizeof st);
    CU_ASSERT_EQUAL(haz_cache_fs_verify(w->ctx, dir, &haz_hash_sha256, &st),
                    HAZ_OK);
    CU_ASSERT_EQUAL(st.broken, 0);
    return st.entries;
}

/* The task `id` ended Errored (spawn) with `err` and exactly `msg`; `dep`
 * was skipped below it. */
static void expect_spawn_error(world *w, const char *id, int err,
                               const char *msg, const char *dep)
{
    const haz_task_outcome *o = outcome(w, id), *d = outcome(w, dep);

    CU_ASSERT_EQUAL(o->kind, HAZ_OUTCOME_ERRORED);
    CU_ASSERT_EQUAL(o->error, HAZ_TERR_SPAWN);
    CU_ASSERT_EQUAL(o->os_errno, err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o->message);
    if (strcmp(o->message, msg) != 0)
        fprintf(stderr, "\n  %s: got  '%s'\n       want '%s'\n", id,
                o->message, msg);
    CU_ASSERT_STRING_EQUAL(o->message, msg);
    CU_ASSERT_EQUAL(d->kind, HAZ_OUTCOME_SKIPPED);
    CU_ASSERT_EQUAL(d->skip_cause, HAZ_SKIP_UPSTREAM_ERRORED);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d->upstream);
    CU_ASSERT_STRING_EQUAL(d->upstream->id, id);
}

static char *big_string(char c)
{
    char *s = malloc(BIG + 1);

    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    memset(s, c, BIG);
    s[BIG] = '\0';
    return s;
}

/* B6: a 200 KiB command string and a 200 KiB environment value are over
 * Linux's 128 KiB limit for one argument or environment string: E2BIG. */
static void test_b6_e2big(void)
{
    world w;
    haz_task *t;
    char *script, *value;
    char msg[256];
    const char *pre = getenv("LD_PRELOAD");

    /* Under valgrind a failing execve takes the child's emulator down
     * with it ("EXEC FAILED: I can't recover"): the error never comes
     * back as E2BIG, so the case says so and is left out there. */
    if (pre != NULL && strstr(pre, "vgpreload") != NULL) {
        fprintf(stderr, "\n  B6 E2BIG left out under valgrind\n");
        return;
    }
    script = big_string('x');
    value = big_string('v');
    memcpy(script, ": ", 2);            /* ": xxxx...": a no-op command */
    w_begin(&w);
    open_cache(&w);
    add_sh(&w, "p", "bigcmd", script);
    CU_ASSERT_EQUAL(haz_task_add_dep(add_sh(&w, "p", "after-cmd", "true"),
                                     "p:bigcmd"), HAZ_OK);
    t = add_sh(&w, "p", "bigenv", "echo $BIG");
    CU_ASSERT_EQUAL(haz_task_set_env(t, "BIG", value), HAZ_OK);
    CU_ASSERT_EQUAL(haz_task_add_dep(add_sh(&w, "p", "after-env", "true"),
                                     "p:bigenv"), HAZ_OK);
    add_sh(&w, "p", "ok", "echo fine");
    CU_ASSERT_EQUAL_FATAL(haz_graph_validate(w.g, w.d), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(w_run(&w, 4), HAZ_OK);
    snprintf(msg, sizeof msg, "p:bigcmd: cannot run '/bin/sh': %s",
             strerror(E2BIG));
    expect_spawn_error(&w, "p:bigcmd", E2BIG, msg, "p:after-cmd");
    snprintf(msg, sizeof msg, "p:bigenv: cannot run '/bin/sh': %s",
             strerror(E2BIG));
    expect_spawn_error(&w, "p:bigenv", E2BIG, msg, "p:after-env");
    CU_ASSERT_EQUAL(outcome(&w, "p:ok")->state, HAZ_STATE_SUCCEEDED);
    CU_ASSERT_EQUAL(haz_exit_code(w.res, 0), HAZ_EXIT_FAILED);
    CU_ASSERT_EQUAL(cache_entries(&w), 1);      /* p:ok only */
    w_end(&w);
    free(script);
    free(value);
}

/* B6: a working directory that does not exist, and one that exists when
 * the run starts but is removed (by a hard predecessor) while the task is
 * queued: ENOENT, the directory named in the message. */
static void test_b6_missing_cwd(void)
{
    world w;
    haz_task *t;
    char path[4200], msg[4400];

    w_begin(&w);
    open_cache(&w);
    snprintf(path, sizeof path, "%s/gone", w.dir);
    CU_ASSERT_EQUAL_FATAL(mkdir(path, 0755), 0);
    CU_ASSERT_EQUAL(haz_graph_add_project(w.g, "ghost", "ghost"), HAZ_OK);
    CU_ASSERT_EQUAL(haz_graph_add_project(w.g, "gone", "gone"), HAZ_OK);
    add_sh(&w, "ghost", "t", "touch ghost-marker");
    CU_ASSERT_EQUAL(haz_task_add_dep(add_sh(&w, "ghost", "after", "true"),
                                     "ghost:t"), HAZ_OK);
    add_sh(&w, "p", "rm", "rmdir gone");
    t = add_sh(&w, "gone", "t", "touch gone-marker");
    CU_ASSERT_EQUAL(haz_task_add_dep(t, "p:rm"), HAZ_OK);
    CU_ASSERT_EQUAL(haz_task_add_dep(add_sh(&w, "gone", "after", "true"),
                                     "gone:t"), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_graph_validate(w.g, w.d), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(w_run(&w, 4), HAZ_OK);
    snprintf(msg, sizeof msg,
             "ghost:t: working directory '%s/ghost' does not exist", w.dir);
    expect_spawn_error(&w, "ghost:t", ENOENT, msg, "ghost:after");
    CU_ASSERT_EQUAL(outcome(&w, "p:rm")->state, HAZ_STATE_SUCCEEDED);
    snprintf(msg, sizeof msg,
             "gone:t: working directory '%s/gone' does not exist", w.dir);
    expect_spawn_error(&w, "gone:t", ENOENT, msg, "gone:after");
    CU_ASSERT(!exists(w.dir, "gone"));
    CU_ASSERT(!exists(w.dir, "ghost"));
    CU_ASSERT_EQUAL(haz_exit_code(w.res, 0), HAZ_EXIT_FAILED);
    CU_ASSERT_EQUAL(cache_entries(&w), 1);      /* p:rm only */
    w_end(&w);
}

/* ------------------------------------------------------------------------
 * B2 and B3 end to end: hazrun exits 2 (design 2.11) with every problem
 * on stderr, and nothing ran: no marker file, no cache directory.
 * ---------------------------------------------------------------------- */

/* Run hazrun in `dir` with no argument; its exit status, and its stdout
 * and stderr in dir/../hazrun.out and dir/../hazrun.err. */
static int run_hazrun(const char *dir, char *err, size_t cap)
{
    char hazrun[4200], out_path[4400], err_path[4400];
    pid_t pid;
    int st, fd;
    long n;

    snprintf(hazrun, sizeof hazrun, "%s/examples/hazrun",
             haz_test_builddir());
    snprintf(out_path, sizeof out_path, "%s/../hazrun.out", dir);
    snprintf(err_path, sizeof err_path, "%s/../hazrun.err", dir);
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int er = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

        if (in < 0 || out < 0 || er < 0 || chdir(dir) != 0 ||
            dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(er, 2) < 0)
            _exit(98);
        execl(hazrun, "hazrun", (char *)NULL);
        _exit(97);
    }
    CU_ASSERT_EQUAL_FATAL(waitpid(pid, &st, 0), pid);
    fd = open(err_path, O_RDONLY);
    CU_ASSERT_FATAL(fd >= 0);
    n = haz_test_read_fd(fd, err, cap - 1);
    close(fd);
    CU_ASSERT_FATAL(n >= 0);
    err[n] = '\0';
    CU_ASSERT_EQUAL(unlink(out_path), 0);
    CU_ASSERT_EQUAL(unlink(err_path), 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void hazrun_rejects(int at, const char *text, const char *want)
{
    char tmp[4096], dir[4096], path[4200], err[8192];
    int status;

    CU_ASSERT_PTR_NOT_NULL_FATAL(haz_test_mkdtemp(tmp, sizeof tmp,
                                                  "badinput-hazrun"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(realpath(tmp, dir));
    snprintf(path, sizeof path, "%s/ws", dir);
    CU_ASSERT_EQUAL_FATAL(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/ws/hazfile", dir);
    CU_ASSERT_EQUAL_FATAL(haz_test_write_file(path, text, strlen(text)), 0);
    snprintf(path, sizeof path, "%s/ws", dir);
    status = run_hazrun(path, err, sizeof err);
    if (status != 2 || strcmp(err, want) != 0)
        fprintf(stderr, "\ntest_badinput.c:%d: exit %d (want 2)\n--- got:\n"
                "%s--- want:\n%s---\n", at, status, err, want);
    CU_ASSERT_EQUAL(status, 2);
    CU_ASSERT_STRING_EQUAL(err, want);
    CU_ASSERT(!exists(path, "marker-a"));
    CU_ASSERT(!exists(path, "marker-b"));
    CU_ASSERT(!exists(path, ".haz"));
    CU_ASSERT_EQUAL(haz_test_rmtree(dir), 0);
}

static void test_b2_b3_hazrun(void)
{
    unsigned char fds[FDMAX], after[FDMAX];
    int st;

    fd_snapshot(fds);
    /* B2: an undefined dependency and a shared output, both reported. */
    hazrun_rejects(__LINE__,
                   "[task s:a]\nrun = touch marker-a\ndeps = s:nope\n"
                   "outputs = x\n[task s:b]\nrun = touch marker-b\n"
                   "outputs = x\n",
                   "hazfile:3: unknown task 's:nope' in deps\n"
                   "hazfile:4: output '/x' is declared by 2 tasks: s:a, s:b\n");
    /* B2: a duplicate task. */
    hazrun_rejects(__LINE__,
                   "[task s:a]\nrun = touch marker-a\n"
                   "[task s:a]\nrun = touch marker-b\n",
                   "hazfile:3: duplicate section [task s:a] (first at line "
                   "1)\n");
    /* B3: a blank command beside a sound task: nothing runs at all. */
    hazrun_rejects(__LINE__,
                   "[task s:a]\nrun =   \n[task s:b]\nrun = touch marker-b\n",
                   "hazfile:2: run is empty\n");
    CU_ASSERT(waitpid(-1, &st, WNOHANG) == -1 && errno == ECHILD);
    fd_snapshot(after);
    CU_ASSERT(memcmp(fds, after, sizeof fds) == 0);
}

static CU_TestInfo b2_tests[] = {
    {"B2 through the API", test_b2_api},
    {"B2 through a hazfile", test_b2_hazfile},
    {"B2 and B3 through hazrun: exit 2, nothing ran", test_b2_b3_hazrun},
    CU_TEST_INFO_NULL
};

static CU_TestInfo b3_tests[] = {
    {"B3 rejected through the API and a hazfile",
     test_b3_rejected_both_ways},
    {"B3 a quoted empty command fails", test_b3_quoted_empty_fails},
    CU_TEST_INFO_NULL
};

static CU_TestInfo b6_tests[] = {
    {"B6 E2BIG: command and environment", test_b6_e2big},
    {"B6 ENOENT: missing and deleted working directory",
     test_b6_missing_cwd},
    CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
    HAZ_TEST_SUITE("B2 missing and duplicate", b2_tests),
    HAZ_TEST_SUITE("B3 empty command", b3_tests),
    HAZ_TEST_SUITE("B6 spawn environment errors", b6_tests),
    CU_SUITE_INFO_NULL
};

int main(int argc, char **argv)
{
    return haz_test_main(argc, argv, suites);
}
