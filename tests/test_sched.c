/*
 * tests/test_sched.c: scenario tests for the scheduler, haz_run()
 * (lib/sched.c; design.md section 2, reference-exec.md sections 2-6).
 *
 * Every scenario is a hazfile text (the graph), a mock script text (what
 * each fake child does, docs/mock-script.md) and run options.  It runs on a
 * mock clock and the mock spawner with the recording observer
 * (docs/observer-trace.md), optionally chained to an observer that fires
 * the cancel token when a given output chunk arrives, so cancellation
 * happens at an exact virtual instant.  Each test asserts the exact
 * observer trace, the exact mock spawner trace (virtual times of spawns,
 * signals and exits), the outcomes and haz_exit_code(); the workspace
 * directory, when one is needed, is written "/WS" in expected traces.
 *
 * Test names cite the rules they check.  Suites: basic (plans,
 * environment, failure cascades, soft edges), caps, mutex, spawn, cancel,
 * timeout, invariants (EXEC-019/020 and outputs), api (arguments,
 * selection, empty run, exit codes), robust (determinism, allocation
 * failures, a 10,000-task graph).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "testutil.h"
#include "result.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SEC(x) ((uint64_t)(x) * UINT64_C(1000000000))

/* ------------------------------------------------------------------------
 * Fixture.
 * ---------------------------------------------------------------------- */

typedef struct fx {
    haz_test_mem tm;
    haz_ctx *ctx;
    haz_clock *clk;
    haz_mock_script *script;
    haz_mock_config mc;
    haz_spawner_config scfg;
    haz_spawner *sp;
    haz_hazfile *hf;
    haz_cancel *cancel;
    haz_observer_obj *rec;
    haz_observer obs;          /* the recording observer */
    haz_observer trigger;      /* chained: fires the cancel token */
    haz_run_options opt;
    haz_run_config cfg;
    haz_run_result *r;
    int rc;
    char ws[1024];             /* workspace directory, "" when none */
    int have_ws;
    const char *cancel_on;     /* output chunk text that fires the token */
    const char *cancel_on2;    /* ... and the one that fires it again */
    int cancel_signo;
    int cancel_fired;
    char *norm;                /* last normalised text */
} fx;

static void trig_output(void *ud, const haz_task_id *task, haz_stream stream,
                        const void *data, size_t len)
{
    fx *f = ud;
    size_t n;

    (void)task;
    (void)stream;
    if (f->cancel_on != NULL && !f->cancel_fired) {
        n = strlen(f->cancel_on);
        if (len == n && memcmp(data, f->cancel_on, n) == 0) {
            f->cancel_fired = 1;
            haz_cancel_request(f->cancel, f->cancel_signo);
        }
    }
    if (f->cancel_on2 != NULL) {
        n = strlen(f->cancel_on2);
        if (len == n && memcmp(data, f->cancel_on2, n) == 0)
            haz_cancel_request(f->cancel, SIGINT);
    }
}

static const haz_observer_methods trig_methods = {
    HAZ_OBSERVER_METHODS_VERSION, NULL, trig_output, NULL, NULL, NULL, NULL,
    NULL
};

static const char *const host_env[] = {
    "PATH=/usr/bin", "HOME=/home/u", "TERM=xterm", "OTHER=x", NULL
};

/*
 * Set up a scenario: `hazfile` (the graph), `mock` (the script, may be
 * NULL), `with_ws`: a real workspace directory (for outputs), else the
 * workspace root is "/ws".  The hazfile's concurrency (8 when it says
 * auto, so that traces do not depend on the host) and cancel_grace go into
 * the options.
 */
static void fx_init(fx *f, const char *hazfile, const char *mock, int with_ws)
{
    haz_diags *d = NULL;
    int rc;

    memset(f, 0, sizeof *f);
    haz_test_mem_init(&f->tm);
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&f->ctx, &f->tm.mem), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_diags_new(f->ctx, &d), HAZ_OK);
    rc = haz_hazfile_parse(f->ctx, "hazfile", hazfile, strlen(hazfile),
                           &f->hf, d);
    if (rc != HAZ_OK) {
        size_t i;

        for (i = 0; i < haz_diags_count(d); i++)
            fprintf(stderr, "%s\n", haz_diags_get(d, i)->text);
    }
    haz_diags_free(d);
    CU_ASSERT_EQUAL_FATAL(rc, HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_clock_open(f->ctx, &haz_clock_mock, NULL,
                                         &f->clk), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_mock_script_new(f->ctx, &f->script), HAZ_OK);
    if (mock != NULL) {
        rc = haz_mock_script_parse(f->script, "mock", mock, strlen(mock),
                                   NULL);
        CU_ASSERT_EQUAL_FATAL(rc, HAZ_OK);
    }
    if (with_ws) {
        char rel[400], cwd[400];

        CU_ASSERT_PTR_NOT_NULL_FATAL(haz_test_mkdtemp(rel, sizeof rel,
                                                      "sched"));
        if (rel[0] == '/') {
            strcpy(f->ws, rel);
        } else {
            /* The mock wants an absolute workspace root. */
            CU_ASSERT_PTR_NOT_NULL_FATAL(getcwd(cwd, sizeof cwd));
            sprintf(f->ws, "%s/%s", cwd, rel);
        }
        f->have_ws = 1;
    } else {
        strcpy(f->ws, "/ws");
    }
    f->mc.script = f->script;
    f->mc.workspace_root = with_ws ? f->ws : NULL;
    f->scfg.version = 1;
    f->scfg.clock = f->clk;
    f->scfg.backend = &f->mc;
    CU_ASSERT_EQUAL_FATAL(haz_cancel_new(f->ctx, &f->cancel), HAZ_OK);
    f->trigger.methods = &trig_methods;
    f->trigger.ud = f;
    CU_ASSERT_EQUAL_FATAL(haz_observer_recording_new(f->ctx, &f->trigger,
                                                     &f->rec, &f->obs),
                          HAZ_OK);
    haz_run_options_init(&f->opt);
    f->opt.concurrency = f->hf->concurrency != 0 ? f->hf->concurrency : 8;
    f->opt.cancel_grace_ns = f->hf->cancel_grace_ns;
    f->opt.workspace_root = f->ws;
    f->opt.host_env = host_env;
    f->cfg.graph = f->hf->graph;
    f->cfg.clock = f->clk;
    f->cfg.observer = &f->obs;
    f->cfg.cancel = f->cancel;
    f->cfg.options = &f->opt;
}

/* Open the spawner (after the test adjusted f->mc) and run. */
static int fx_run(fx *f)
{
    if (f->sp == NULL)
        CU_ASSERT_EQUAL_FATAL(haz_spawner_open(f->ctx, &haz_spawner_mock,
                                               &f->scfg, &f->sp), HAZ_OK);
    f->cfg.spawner = f->sp;
    f->rc = haz_run(f->ctx, &f->cfg, &f->r);
    if (f->rc != HAZ_OK)
        fprintf(stderr, "haz_run: %s\n", haz_ctx_errmsg(f->ctx));
    return f->rc;
}

static void fx_done(fx *f)
{
    haz_run_result_free(f->r);
    haz_observer_free(f->rec);
    haz_spawner_close(f->sp);
    haz_mock_script_free(f->script);
    haz_cancel_free(f->cancel);
    haz_clock_close(f->clk);
    haz_hazfile_free(f->hf);
    free(f->norm);
    if (f->have_ws)
        CU_ASSERT_EQUAL(haz_test_rmtree(f->ws), 0);
    haz_ctx_free(f->ctx);
    CU_ASSERT_EQUAL(f->tm.live, 0);
}

/* `text` with every occurrence of the workspace directory written "/WS". */
static const char *norm(fx *f, const char *text)
{
    free(f->norm);
    f->norm = haz_test_replace(text, f->have_ws ? f->ws : NULL, "/WS");
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

/* The outcome of task `id`, or NULL (a test failure). */
static const haz_task_outcome *oc(fx *f, const char *id)
{
    const haz_task_outcome *o = haz_test_outcome(f->r, id);

    if (o == NULL)
        CU_FAIL("no outcome for the task");
    return o;
}

static int upstream_is(const haz_task_outcome *o, const char *id)
{
    return o != NULL && o->upstream != NULL &&
           strcmp(o->upstream->id, id) == 0;
}

static int exit_code(fx *f)
{
    return haz_exit_code(f->r, haz_run_result_cancel_signal(f->r));
}

/* Completed with the given state and exit code (-1: any). */
static void assert_completed(fx *f, const char *id, haz_run_state state,
                             int code)
{
    const haz_task_outcome *o = oc(f, id);

    if (o == NULL)
        return;
    CU_ASSERT_EQUAL(o->kind, HAZ_OUTCOME_COMPLETED);
    CU_ASSERT_EQUAL(o->source, HAZ_SOURCE_FRESH);
    CU_ASSERT_EQUAL(o->state, state);
    if (code >= 0) {
        CU_ASSERT_EQUAL(o->status.kind, HAZ_EXIT_CODE);
        CU_ASSERT_EQUAL(o->status.code, code);
    }
}

static void assert_skipped(fx *f, const char *id, haz_skip_cause cause,
                           const char *upstream)
{
    const haz_task_outcome *o = oc(f, id);

    if (o == NULL)
        return;
    CU_ASSERT_EQUAL(o->kind, HAZ_OUTCOME_SKIPPED);
    CU_ASSERT_EQUAL(o->skip_cause, cause);
    if (upstream != NULL) {
        CU_ASSERT_TRUE(upstream_is(o, upstream));
    } else {
        CU_ASSERT_PTR_NULL(o->upstream);
    }
    CU_ASSERT_EQUAL(o->start_ns, 0);
}

static void assert_cancelled(fx *f, const char *id, haz_cancel_kind kind,
                             const char *upstream)
{
    const haz_task_outcome *o = oc(f, id);

    if (o == NULL)
        return;
    CU_ASSERT_EQUAL(o->kind, HAZ_OUTCOME_CANCELLED);
    CU_ASSERT_EQUAL(o->cancel_kind, kind);
    if (upstream != NULL) {
        CU_ASSERT_TRUE(upstream_is(o, upstream));
    } else {
        CU_ASSERT_PTR_NULL(o->upstream);
    }
    if (kind == HAZ_CANCEL_SIGNALED_IN_FLIGHT)
        CU_ASSERT_EQUAL(o->state, HAZ_STATE_CANCELLED);
}

/* Every task of the run has exactly one decided outcome. */
static void assert_all_decided(fx *f)
{
    size_t i;

    for (i = 0; i < haz_run_result_count(f->r); i++)
        CU_ASSERT_NOT_EQUAL(haz_run_result_get(f->r, i)->kind,
                            HAZ_OUTCOME_NONE);
}

/* The mock spawner has no child left: every id it gave out is retired. */
static void assert_no_child(fx *f, haz_child max_id)
{
    haz_child c;

    for (c = 1; c <= max_id; c++)
        CU_ASSERT_EQUAL(f->sp->methods->signal(f->sp, c, 0), HAZ_ENOENT);
}

/* ------------------------------------------------------------------------
 * basic: plans, environment, failure cascades, soft edges.
 * ---------------------------------------------------------------------- */

/* One shell task (design 2.14): /bin/sh -c, cwd = workspace root +
 * project root, env = the default allow-list (PATH) from the snapshot;
 * output streamed (design 2.6) and hashed; exit 0 is Succeeded (EXEC-009). */
static void test_single_shell(void)
{
    fx f;
    const haz_task_outcome *o;
    unsigned char h[32];

    fx_init(&f,
            "[project core]\nroot = core\n"
            "[task core:build]\nrun = make all\n",
            "[core:build]\nstdout 0.5 \"hello\\n\"\n"
            "stderr 0.75 \"warn\"\nexit 1 0\n", 0);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "started core:build\n"
                "stdout core:build 6 hello\\n\n"
                "stderr core:build 4 warn\n"
                "finished core:build fresh succeeded exit=0\n");
    ASSERT_TEXT(mock_text(&f),
                "0.000000000 spawn core:build child=1 "
                "argv=[/bin/sh,-c,make all] cwd=/ws/core env=[PATH=/usr/bin] "
                "entry=1\n"
                "0.500000000 stdout core:build 6 \"hello\\n\"\n"
                "0.750000000 stderr core:build 4 \"warn\"\n"
                "1.000000000 exit core:build code=0\n");
    CU_ASSERT_EQUAL(haz_run_result_count(f.r), 1);
    assert_completed(&f, "core:build", HAZ_STATE_SUCCEEDED, 0);
    o = oc(&f, "core:build");
    if (o != NULL) {
        CU_ASSERT_EQUAL(o->start_ns, 0);
        CU_ASSERT_EQUAL(o->end_ns, SEC(1));
        CU_ASSERT_EQUAL(o->timed_out, 0);
        CU_ASSERT_EQUAL(o->hash_len, 32);
        haz_sha256("hello\n", 6, h);
        CU_ASSERT_EQUAL(memcmp(o->stdout_hash, h, 32), 0);
        haz_sha256("warn", 4, h);
        CU_ASSERT_EQUAL(memcmp(o->stderr_hash, h, 32), 0);
        CU_ASSERT_EQUAL(o->n_outputs, 0);
        CU_ASSERT_EQUAL(o->has_key, 0);
    }
    CU_ASSERT_EQUAL(exit_code(&f), 0);
    CU_ASSERT_EQUAL(haz_run_result_cancel_signal(f.r), 0);
    fx_done(&f);
}

/* argv plan (design 2.14): argv as given; environment = allow-listed host
 * variables present in the snapshot (LANG is absent: omitted) plus the
 * overrides, an override winning (PATH), sorted (CACHE-008); cwd joins the
 * workspace root (given with a trailing '/') and a nested project root. */
static void test_argv_env_cwd(void)
{
    fx f;

    fx_init(&f,
            "[workspace]\nenv_from_host = PATH HOME LANG\n"
            "[project p]\nroot = sub/dir\n"
            "[task p:tool]\nargv = tool \"a b\" c\n"
            "env_from_host = TERM\nenv.PATH = /opt/bin\nenv.A = 1\n"
            "[task q:top]\nrun = true\nenv_from_host = OTHER\n",
            "[argv:tool a b c]\nexit 1 0\n", 0);
    f.opt.workspace_root = "/ws/";
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(mock_text(&f),
                "0.000000000 spawn p:tool child=1 argv=[tool,a b,c] "
                "cwd=/ws/sub/dir "
                "env=[A=1,HOME=/home/u,PATH=/opt/bin,TERM=xterm] entry=1\n"
                "0.000000000 spawn q:top child=2 argv=[/bin/sh,-c,true] "
                "cwd=/ws env=[HOME=/home/u,OTHER=x,PATH=/usr/bin] "
                "unscripted\n"
                "0.000000000 exit q:top code=0\n"
                "1.000000000 exit p:tool code=0\n");
    CU_ASSERT_EQUAL(exit_code(&f), 0);
    fx_done(&f);
}

/* A NULL host snapshot: no host variable is set; only overrides remain. */
static void test_no_host_env(void)
{
    fx f;

    fx_init(&f, "[task a:x]\nrun = true\nenv.B = 2\n", NULL, 0);
    f.opt.host_env = NULL;
    f.opt.workspace_root = "/";
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(mock_text(&f),
                "0.000000000 spawn a:x child=1 argv=[/bin/sh,-c,true] cwd=/ "
                "env=[B=2] unscripted\n"
                "0.000000000 exit a:x code=0\n");
    fx_done(&f);
}

/* EXEC-010/011, U1, U3: a failure skips every hard descendant naming the
 * ROOT (a:a for a:b behind a:z too), emitted at once in canonical order
 * (design 2.7: a:b, a:c, a:z, although a breadth-first walk meets a:c and
 * a:z first); the independent x:x keeps running (X6, keep going).  */
static void test_failure_cascade(void)
{
    fx f;

    fx_init(&f,
            "[task a:a]\nrun = a\n"
            "[task a:z]\nrun = z\ndeps = a:a\n"
            "[task a:b]\nrun = b\ndeps = a:z\n"
            "[task a:c]\nrun = c\ndeps = a:a\n"
            "[task x:x]\nrun = x\n",
            "[a:a]\nexit 1 1\n[x:x]\nexit 3 0\n", 0);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "started a:a\n"
                "started x:x\n"
                "finished a:a fresh failed exit=1\n"
                "skipped a:b upstream-failed a:a\n"
                "skipped a:c upstream-failed a:a\n"
                "skipped a:z upstream-failed a:a\n"
                "finished x:x fresh succeeded exit=0\n");
    ASSERT_TEXT(mock_text(&f),
                "0.000000000 spawn a:a child=1 argv=[/bin/sh,-c,a] cwd=/ws "
                "env=[PATH=/usr/bin] entry=1\n"
                "0.000000000 spawn x:x child=2 argv=[/bin/sh,-c,x] cwd=/ws "
                "env=[PATH=/usr/bin] entry=2\n"
                "1.000000000 exit a:a code=1\n"
                "3.000000000 exit x:x code=0\n");
    assert_completed(&f, "a:a", HAZ_STATE_FAILED, 1);
    assert_skipped(&f, "a:b", HAZ_SKIP_UPSTREAM_FAILED, "a:a");
    assert_skipped(&f, "a:c", HAZ_SKIP_UPSTREAM_FAILED, "a:a");
    assert_skipped(&f, "a:z", HAZ_SKIP_UPSTREAM_FAILED, "a:a");
    assert_completed(&f, "x:x", HAZ_STATE_SUCCEEDED, 0);
    CU_ASSERT_EQUAL(oc(&f, "a:b")->end_ns, SEC(1));
    CU_ASSERT_EQUAL(exit_code(&f), 1);
    fx_done(&f);
}

/* A death by a signal the executor did not send is Failed (EXEC-009). */
static void test_foreign_signal_fails(void)
{
    fx f;

    fx_init(&f, "[task a:a]\nrun = a\n[task a:b]\nrun = b\ndeps = a:a\n",
            "[a:a]\ndie 2 SIGSEGV\n", 0);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "started a:a\n"
                "finished a:a fresh failed signal=11\n"
                "skipped a:b upstream-failed a:a\n");
    CU_ASSERT_EQUAL(oc(&f, "a:a")->status.kind, HAZ_EXIT_SIGNAL);
    CU_ASSERT_EQUAL(exit_code(&f), 1);
    fx_done(&f);
}

/* Soft edges (design 2.1, U4): never cascaded (s:b runs although s:a
 * failed); the successor starts only once the soft predecessor is
 * terminal, whatever the outcome (s:q at 2 after s:p; s:w at 1, released
 * by s:s being skipped); promotion needs every hard predecessor (s:h). */
static void test_soft_edges(void)
{
    fx f;

    fx_init(&f,
            "[task s:a]\nrun = a\n"
            "[task s:b]\nrun = b\nweak_deps = s:a\n"
            "[task s:p]\nrun = p\n"
            "[task s:q]\nrun = q\nweak_deps = s:p\n"
            "[task s:f]\nrun = f\n"
            "[task s:s]\nrun = s\ndeps = s:f\n"
            "[task s:w]\nrun = w\nweak_deps = s:s\n"
            "[task s:h]\nrun = h\ndeps = s:p s:b\n",
            "[s:a]\nexit 1 1\n[s:p]\nexit 2 0\n[s:f]\nexit 1 1\n"
            "[s:b]\nexit 0.5 0\n", 0);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "started s:a\n"
                "started s:f\n"
                "started s:p\n"
                "finished s:a fresh failed exit=1\n"
                "finished s:f fresh failed exit=1\n"
                "skipped s:s upstream-failed s:f\n"
                "started s:b\n"
                "started s:w\n"
                "finished s:w fresh succeeded exit=0\n"
                "finished s:b fresh succeeded exit=0\n"
                "finished s:p fresh succeeded exit=0\n"
                "started s:h\n"
                "started s:q\n"
                "finished s:h fresh succeeded exit=0\n"
                "finished s:q fresh succeeded exit=0\n");
    ASSERT_TEXT(mock_text(&f),
                "0.000000000 spawn s:a child=1 argv=[/bin/sh,-c,a] cwd=/ws "
                "env=[PATH=/usr/bin] entry=1\n"
                "0.000000000 spawn s:f child=2 argv=[/bin/sh,-c,f] cwd=/ws "
                "env=[PATH=/usr/bin] entry=3\n"
                "0.000000000 spawn s:p child=3 argv=[/bin/sh,-c,p] cwd=/ws "
                "env=[PATH=/usr/bin] entry=2\n"
                "1.000000000 exit s:a code=1\n"
                "1.000000000 exit s:f code=1\n"
                "1.000000000 spawn s:b child=4 argv=[/bin/sh,-c,b] cwd=/ws "
                "env=[PATH=/usr/bin] entry=4\n"
                "1.000000000 spawn s:w child=5 argv=[/bin/sh,-c,w] cwd=/ws "
                "env=[PATH=/usr/bin] unscripted\n"
                "1.000000000 exit s:w code=0\n"
                "1.500000000 exit s:b code=0\n"
                "2.000000000 exit s:p code=0\n"
                "2.000000000 spawn s:h child=6 argv=[/bin/sh,-c,h] cwd=/ws "
                "env=[PATH=/usr/bin] unscripted\n"
                "2.000000000 spawn s:q child=7 argv=[/bin/sh,-c,q] cwd=/ws "
                "env=[PATH=/usr/bin] unscripted\n"
                "2.000000000 exit s:h code=0\n"
                "2.000000000 exit s:q code=0\n");
    assert_completed(&f, "s:b", HAZ_STATE_SUCCEEDED, 0);
    assert_completed(&f, "s:w", HAZ_STATE_SUCCEEDED, 0);
    CU_ASSERT_EQUAL(exit_code(&f), 1);
    fx_done(&f);
}

/* ------------------------------------------------------------------------
 * caps.
 * ---------------------------------------------------------------------- */

/* EXEC-004, U5: cap 2, five 1-second tasks: spawn times 0,0,1,1,2, in
 * canonical order, byte-wise: project "Q" < "p", task "B" < "a". */
static void test_global_cap(void)
{
    fx f;

    fx_init(&f,
            "[workspace]\nconcurrency = 2\n"
            "[task p:a]\nrun = t\n[task p:b]\nrun = t\n"
            "[task p:B]\nrun = t\n[task Q:z]\nrun = t\n[task p:c]\nrun = t\n",
            "[*]\nexit 1 0\n[*]\nexit 1 0\n[*]\nexit 1 0\n[*]\nexit 1 0\n"
            "[*]\nexit 1 0\n", 0);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(mock_text(&f),
                "0.000000000 spawn Q:z child=1 argv=[/bin/sh,-c,t] cwd=/ws "
                "env=[PATH=/usr/bin] entry=1\n"
                "0.000000000 spawn p:B child=2 argv=[/bin/sh,-c,t] cwd=/ws "
                "env=[PATH=/usr/bin] entry=2\n"
                "1.000000000 exit Q:z code=0\n"
                "1.000000000 exit p:B code=0\n"
                "1.000000000 spawn p:a child=3 argv=[/bin/sh,-c,t] cwd=/ws "
                "env=[PATH=/usr/bin] entry=3\n"
                "1.000000000 spawn p:b child=4 argv=[/bin/sh,-c,t] cwd=/ws "
                "env=[PATH=/usr/bin] entry=4\n"
                "2.000000000 exit p:a code=0\n"
                "2.000000000 exit p:b code=0\n"
                "2.000000000 spawn p:c child=5 argv=[/bin/sh,-c,t] cwd=/ws "
                "env=[PATH=/usr/bin] entry=5\n"
                "3.000000000 exit p:c code=0\n");
    ASSERT_TEXT(obs_text(&f),
                "started Q:z\nstarted p:B\n"
                "finished Q:z fresh succeeded exit=0\n"
                "finished p:B fresh succeeded exit=0\n"
                "started p:a\nstarted p:b\n"
                "finished p:a fresh succeeded exit=0\n"
                "finished p:b fresh succeeded exit=0\n"
                "started p:c\n"
                "finished p:c fresh succeeded exit=0\n");
    CU_ASSERT_EQUAL(oc(&f, "p:c")->start_ns, SEC(2));
    CU_ASSERT_EQUAL(exit_code(&f), 0);
    fx_done(&f);
}

/*
 * EXEC-005, T6, design 2.12: tag caps count across projects (heavy: cap
 * 1, from project tags and task tags); the untagged x:free runs beside
 * them; c:both carries two capped tags and needs room in both (at 4 heavy
 * is free but io is not), while d:h4, behind it in canonical order, fits
 * and is admitted (every task that fits, not a prefix).
 */
static void test_tag_caps(void)
{
    fx f;

    fx_init(&f,
            "[workspace]\nconcurrency = 8\n"
            "[tag heavy]\ncap = 1\n[tag io]\ncap = 1\n[tag free]\n"
            "[project a]\ntags = heavy\n[project b]\ntags = heavy\n"
            "[task a:h1]\nrun = t\n[task a:h2]\nrun = t\n"
            "[task b:h3]\nrun = t\n"
            "[task c:both]\nrun = t\ntags = heavy io\n"
            "[task c:io1]\nrun = t\ntags = io\n"
            "[task d:h4]\nrun = t\ntags = heavy\n"
            "[task x:free]\nrun = t\ntags = free\n",
            "[a:h1]\nexit 2 0\n[a:h2]\nexit 1 0\n[b:h3]\nexit 1 0\n"
            "[c:both]\nexit 1 0\n[c:io1]\nexit 5 0\n[d:h4]\nexit 1 0\n"
            "[x:free]\nexit 1 0\n", 0);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "started a:h1\nstarted c:io1\nstarted x:free\n"
                "finished x:free fresh succeeded exit=0\n"
                "finished a:h1 fresh succeeded exit=0\n"
                "started a:h2\n"
                "finished a:h2 fresh succeeded exit=0\n"
                "started b:h3\n"
                "finished b:h3 fresh succeeded exit=0\n"
                "started d:h4\n"
                "finished c:io1 fresh succeeded exit=0\n"
                "finished d:h4 fresh succeeded exit=0\n"
                "started c:both\n"
                "finished c:both fresh succeeded exit=0\n");
    CU_ASSERT_EQUAL(oc(&f, "c:both")->start_ns, SEC(5));
    CU_ASSERT_EQUAL(oc(&f, "d:h4")->start_ns, SEC(4));
    CU_ASSERT_EQUAL(oc(&f, "a:h2")->start_ns, SEC(2));
    CU_ASSERT_EQUAL(oc(&f, "b:h3")->start_ns, SEC(3));
    fx_done(&f);
}

/* EXEC-004, U18: concurrency 0 is auto, haz_online_cpus(): with one task
 * more than that, exactly that many spawn at 0 and the last at 1. */
static void test_cap_auto(void)
{
    fx f;
    unsigned cpus = haz_online_cpus(), i;
    size_t cap = (cpus + 1) * 40 + 64, at0 = 0, at1 = 0;
    char *hz = malloc(cap), *mk = malloc(cap);
    const char *p;

    CU_ASSERT_PTR_NOT_NULL_FATAL(hz);
    CU_ASSERT_PTR_NOT_NULL_FATAL(mk);
    hz[0] = mk[0] = '\0';
    for (i = 0; i <= cpus; i++) {
        sprintf(hz + strlen(hz), "[task p:t%05u]\nrun = t\n", i);
        strcat(mk, "[*]\nexit 1 0\n");
    }
    fx_init(&f, hz, mk, 0);
    CU_ASSERT_EQUAL(f.hf->concurrency, 0);
    f.opt.concurrency = f.hf->concurrency;
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    for (p = mock_text(&f); (p = strstr(p, " spawn ")) != NULL; p++) {
        if (p - 11 >= f.norm && strncmp(p - 11, "0.000000000", 11) == 0)
            at0++;
        if (p - 11 >= f.norm && strncmp(p - 11, "1.000000000", 11) == 0)
            at1++;
    }
    CU_ASSERT_EQUAL(at0, cpus);
    CU_ASSERT_EQUAL(at1, 1);
    fx_done(&f);
    free(hz);
    free(mk);
}

/* The spawner's own limit (max_children) caps the run as well. */
static void test_spawner_limit(void)
{
    fx f;

    fx_init(&f,
            "[workspace]\nconcurrency = 8\n"
            "[task a:a]\nrun = t\n[task a:b]\nrun = t\n[task a:c]\nrun = t\n",
            "[*]\nexit 1 0\n[*]\nexit 1 0\n[*]\nexit 1 0\n", 0);
    f.mc.max_children = 2;
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    CU_ASSERT_EQUAL(oc(&f, "a:a")->start_ns, 0);
    CU_ASSERT_EQUAL(oc(&f, "a:b")->start_ns, 0);
    CU_ASSERT_EQUAL(oc(&f, "a:c")->start_ns, SEC(1));
    CU_ASSERT_EQUAL(exit_code(&f), 0);
    fx_done(&f);
}

/* Start a foreign child on the spawner before the run (a spawner shared
 * with someone else). */
static void spawn_foreign(fx *f)
{
    haz_spawn_plan p;
    haz_child foreign = 0;

    CU_ASSERT_EQUAL_FATAL(haz_spawner_open(f->ctx, &haz_spawner_mock,
                                           &f->scfg, &f->sp), HAZ_OK);
    memset(&p, 0, sizeof p);
    p.task_id = "x:foreign";
    p.action = HAZ_ACTION_SHELL;
    p.script = "sleep";
    p.cwd = "/ws";
    CU_ASSERT_EQUAL(f->sp->methods->spawn(f->sp, &p, &foreign), HAZ_OK);
    CU_ASSERT_EQUAL(foreign, 1);
}

/* A spawner shared with someone else refuses a spawn (HAZ_ELIMIT) although
 * the run is under the limit: the task (announced once, at its admission)
 * waits for one of the run's children to exit and spawns then; with none
 * of the run's children running, it is a spawn error (design 2.7). */
static void test_spawner_elimit(void)
{
    fx f;

    fx_init(&f,
            "[workspace]\nconcurrency = 4\n"
            "[task e:a]\nrun = a\n[task e:b]\nrun = b\n",
            "[x:foreign]\nhang\n[e:a]\nexit 1 0\n[e:b]\nexit 1 0\n", 0);
    f.mc.max_children = 2;
    spawn_foreign(&f);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "started e:a\n"
                "started e:b\n"
                "finished e:a fresh succeeded exit=0\n"
                "finished e:b fresh succeeded exit=0\n");
    ASSERT_TEXT(strstr(mock_text(&f), "0.000000000 spawn e:a"),
                "0.000000000 spawn e:a child=2 argv=[/bin/sh,-c,a] cwd=/ws "
                "env=[PATH=/usr/bin] entry=2\n"
                "1.000000000 exit e:a code=0\n"
                "1.000000000 spawn e:b child=3 argv=[/bin/sh,-c,b] cwd=/ws "
                "env=[PATH=/usr/bin] entry=3\n"
                "2.000000000 exit e:b code=0\n");
    CU_ASSERT_EQUAL(oc(&f, "e:b")->start_ns, 0);
    CU_ASSERT_EQUAL(exit_code(&f), 0);
    fx_done(&f);

    fx_init(&f, "[task e:c]\nrun = c\n[task e:d]\nrun = d\ndeps = e:c\n",
            "[x:foreign]\nhang\n", 0);
    f.mc.max_children = 1;
    spawn_foreign(&f);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "started e:c\n"
                "errored e:c spawn: mock spawner: e:c: 1 children already "
                "running\n"
                "skipped e:d upstream-errored e:c\n");
    CU_ASSERT_EQUAL(oc(&f, "e:c")->error, HAZ_TERR_SPAWN);
    CU_ASSERT_EQUAL(exit_code(&f), 1);
    fx_done(&f);
}

/* ------------------------------------------------------------------------
 * mutex.
 * ---------------------------------------------------------------------- */

/* T4 (MUTEX-001/003/005/006, EXEC-006 condition 3): one workspace-global
 * exclusive mutex serialises three tasks of two projects under a cap of
 * 4; U7: on_task_started fires once per task although two are parked and
 * re-admitted. */
static void test_mutex_exclusive_t4(void)
{
    fx f;

    fx_init(&f,
            "[workspace]\nconcurrency = 4\n"
            "[task db_a:migrate]\nrun = m\nmutex = db\n"
            "[task db_a:seed]\nrun = s\nmutex = db\n"
            "[task db_b:migrate]\nrun = m2\nmutex = db\n",
            "[*]\nexit 1 0\n[*]\nexit 1 0\n[*]\nexit 1 0\n", 0);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "started db_a:migrate\n"
                "started db_a:seed\n"
                "started db_b:migrate\n"
                "finished db_a:migrate fresh succeeded exit=0\n"
                "finished db_a:seed fresh succeeded exit=0\n"
                "finished db_b:migrate fresh succeeded exit=0\n");
    ASSERT_TEXT(mock_text(&f),
                "0.000000000 spawn db_a:migrate child=1 "
                "argv=[/bin/sh,-c,m] cwd=/ws env=[PATH=/usr/bin] entry=1\n"
                "1.000000000 exit db_a:migrate code=0\n"
                "1.000000000 spawn db_a:seed child=2 "
                "argv=[/bin/sh,-c,s] cwd=/ws env=[PATH=/usr/bin] entry=2\n"
                "2.000000000 exit db_a:seed code=0\n"
                "2.000000000 spawn db_b:migrate child=3 "
                "argv=[/bin/sh,-c,m2] cwd=/ws env=[PATH=/usr/bin] entry=3\n"
                "3.000000000 exit db_b:migrate code=0\n");
    CU_ASSERT_EQUAL(oc(&f, "db_b:migrate")->start_ns, 0);
    CU_ASSERT_EQUAL(exit_code(&f), 0);
    fx_done(&f);
}

/* U8 and design 2.2: shared holders run together; an exclusive request
 * waits for both; writer preference: m:b (shared, ready at 1, canonically
 * before m:w) waits while the exclusive m:w is parked, and still yields
 * to it at 2 when the key falls free. */
static void test_mutex_shared_writer_pref(void)
{
    fx f;

    fx_init(&f,
            "[workspace]\nconcurrency = 8\n"
            "[task m:gate]\nrun = g\n"
            "[task m:b]\nrun = b\nmutex = shared:cfg\ndeps = m:gate\n"
            "[task m:r1]\nrun = r1\nmutex = shared:cfg\n"
            "[task m:r2]\nrun = r2\nmutex = shared:cfg\n"
            "[task m:w]\nrun = w\nmutex = cfg\n",
            "[m:gate]\nexit 1 0\n[m:b]\nexit 1 0\n[m:r1]\nexit 1.5 0\n"
            "[m:r2]\nexit 2 0\n[m:w]\nexit 1 0\n", 0);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "started m:gate\nstarted m:r1\nstarted m:r2\nstarted m:w\n"
                "finished m:gate fresh succeeded exit=0\n"
                "started m:b\n"
                "finished m:r1 fresh succeeded exit=0\n"
                "finished m:r2 fresh succeeded exit=0\n"
                "finished m:w fresh succeeded exit=0\n"
                "finished m:b fresh succeeded exit=0\n");
    CU_ASSERT_EQUAL(oc(&f, "m:r1")->start_ns, 0);
    CU_ASSERT_EQUAL(oc(&f, "m:r2")->start_ns, 0);
    CU_ASSERT_EQUAL(oc(&f, "m:w")->end_ns, SEC(3));
    CU_ASSERT_EQUAL(oc(&f, "m:b")->end_ns, SEC(4));
    ASSERT_TEXT(strstr(mock_text(&f), "2.000000000 exit m:r2"),
                "2.000000000 exit m:r2 code=0\n"
                "2.000000000 spawn m:w child=4 argv=[/bin/sh,-c,w] cwd=/ws "
                "env=[PATH=/usr/bin] entry=5\n"
                "3.000000000 exit m:w code=0\n"
                "3.000000000 spawn m:b child=5 argv=[/bin/sh,-c,b] cwd=/ws "
                "env=[PATH=/usr/bin] entry=2\n"
                "4.000000000 exit m:b code=0\n");
    fx_done(&f);
}

/* U9, MUTEX-001: ~:db is one lock per project (p and q do not exclude
 * each other) and differs from the workspace lock db; U19: names are
 * case-sensitive ("Native" and "native" are two locks). */
static void test_mutex_scope_case(void)
{
    fx f;

    fx_init(&f,
            "[workspace]\nconcurrency = 8\n"
            "[task p:x]\nrun = t\nmutex = ~:db\n"
            "[task p:y]\nrun = t\nmutex = ~:db\n"
            "[task q:x]\nrun = t\nmutex = ~:db\n"
            "[task r:z]\nrun = t\nmutex = db\n"
            "[task c:a]\nrun = t\nmutex = Native\n"
            "[task c:b]\nrun = t\nmutex = native\n",
            "[*]\nexit 1 0\n[*]\nexit 1 0\n[*]\nexit 1 0\n[*]\nexit 1 0\n"
            "[*]\nexit 1 0\n[*]\nexit 1 0\n", 0);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    CU_ASSERT_EQUAL(oc(&f, "c:a")->start_ns, 0);
    CU_ASSERT_EQUAL(oc(&f, "c:b")->start_ns, 0);
    CU_ASSERT_EQUAL(oc(&f, "p:x")->end_ns, SEC(1));
    CU_ASSERT_EQUAL(oc(&f, "p:y")->end_ns, SEC(2));
    CU_ASSERT_EQUAL(oc(&f, "q:x")->end_ns, SEC(1));
    CU_ASSERT_EQUAL(oc(&f, "r:z")->end_ns, SEC(1));
    fx_done(&f);
}

/* Design 2.2: several mutexes are taken all at once or not at all (no
 * hold-and-wait): k:c (m1 and m2) does not sit on m2 while m1 is busy, so
 * k:d (m2) runs at 1; k:c runs at 2 when both are free. */
static void test_mutex_all_or_nothing(void)
{
    fx f;

    fx_init(&f,
            "[workspace]\nconcurrency = 8\n"
            "[task k:a]\nrun = a\nmutex = m1\n"
            "[task k:b]\nrun = b\nmutex = m2\n"
            "[task k:c]\nrun = c\nmutex = m1 m2\n"
            "[task k:d]\nrun = d\nmutex = m2\n",
            "[k:a]\nexit 2 0\n[k:b]\nexit 1 0\n[k:c]\nexit 1 0\n"
            "[k:d]\nexit 1 0\n", 0);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "started k:a\nstarted k:b\nstarted k:c\nstarted k:d\n"
                "finished k:b fresh succeeded exit=0\n"
                "finished k:a fresh succeeded exit=0\n"
                "finished k:d fresh succeeded exit=0\n"
                "finished k:c fresh succeeded exit=0\n");
    CU_ASSERT_EQUAL(oc(&f, "k:d")->end_ns, SEC(2));
    CU_ASSERT_EQUAL(oc(&f, "k:c")->end_ns, SEC(3));
    fx_done(&f);
}

/* Design 2.2 decision: two tasks that each want one key exclusive and the
 * other's key shared, with a stale waiter registration each, must not
 * deadlock once nothing is held: d:v runs at 2, d:t at 3. */
static void test_mutex_no_deadlock(void)
{
    fx f;

    fx_init(&f,
            "[workspace]\nconcurrency = 8\n"
            "[task d:ha]\nrun = ha\nmutex = shared:A\n"
            "[task d:hb]\nrun = hb\nmutex = shared:B\n"
            "[task d:t]\nrun = t\nmutex = B shared:A\n"
            "[task d:v]\nrun = v\nmutex = A shared:B\n",
            "[d:ha]\nexit 2 0\n[d:hb]\nexit 1 0\n[d:t]\nexit 1 0\n"
            "[d:v]\nexit 1 0\n", 0);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    assert_all_decided(&f);
    assert_completed(&f, "d:t", HAZ_STATE_SUCCEEDED, 0);
    assert_completed(&f, "d:v", HAZ_STATE_SUCCEEDED, 0);
    CU_ASSERT_EQUAL(oc(&f, "d:v")->end_ns, SEC(3));
    CU_ASSERT_EQUAL(oc(&f, "d:t")->end_ns, SEC(4));
    CU_ASSERT_EQUAL(exit_code(&f), 0);
    fx_done(&f);
}

/* Design 2.2 decision: a waiter registration withdrawn because its key
 * fell free re-queues the parked tasks: q:p (shared L), which yielded at 1
 * to q:w's stale registration, runs at 1 once q:w (still blocked by M)
 * withdraws it, not at 3. */
static void test_mutex_withdraw_requeues(void)
{
    fx f;

    fx_init(&f,
            "[workspace]\nconcurrency = 8\n"
            "[task q:h]\nrun = h\nmutex = L\n"
            "[task q:p]\nrun = p\nmutex = shared:L\n"
            "[task q:w]\nrun = w\nmutex = L M\n"
            "[task q:x]\nrun = x\nmutex = M\n",
            "[q:h]\nexit 1 0\n[q:p]\nexit 1 0\n[q:w]\nexit 1 0\n"
            "[q:x]\nexit 3 0\n", 0);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "started q:h\nstarted q:p\nstarted q:w\nstarted q:x\n"
                "finished q:h fresh succeeded exit=0\n"
                "finished q:p fresh succeeded exit=0\n"
                "finished q:x fresh succeeded exit=0\n"
                "finished q:w fresh succeeded exit=0\n");
    CU_ASSERT_EQUAL(oc(&f, "q:p")->end_ns, SEC(2));
    CU_ASSERT_EQUAL(oc(&f, "q:w")->end_ns, SEC(4));
    fx_done(&f);
}

/* Design 2.3: parked tasks re-compete in canonical order after a release,
 * not in the order they were parked (z:z parked at 0, a:a at 1; a:a goes
 * first at 3). */
static void test_mutex_requeue_canonical(void)
{
    fx f;

    fx_init(&f,
            "[workspace]\nconcurrency = 8\n"
            "[task h:h]\nrun = h\nmutex = L\n"
            "[task z:z]\nrun = z\nmutex = L\n"
            "[task a:gate]\nrun = g\n"
            "[task a:a]\nrun = a\nmutex = L\ndeps = a:gate\n",
            "[h:h]\nexit 3 0\n[z:z]\nexit 1 0\n[a:gate]\nexit 1 0\n"
            "[a:a]\nexit 1 0\n", 0);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "started a:gate\nstarted h:h\nstarted z:z\n"
                "finished a:gate fresh succeeded exit=0\n"
                "started a:a\n"
                "finished h:h fresh succeeded exit=0\n"
                "finished a:a fresh succeeded exit=0\n"
                "finished z:z fresh succeeded exit=0\n");
    CU_ASSERT_EQUAL(oc(&f, "a:a")->end_ns, SEC(4));
    CU_ASSERT_EQUAL(oc(&f, "z:z")->end_ns, SEC(5));
    fx_done(&f);
}

/* ------------------------------------------------------------------------
 * spawn failures.
 * ---------------------------------------------------------------------- */

/* Design 2.7, U2-like: a spawn failure ends the task ERRORED with the
 * spawner's message and errno; its hard descendants are skipped
 * upstream-errored naming it; the rest runs; exit code 1. */
static void test_spawn_error(void)
{
    fx f;
    const haz_task_outcome *o;

    fx_init(&f,
            "[task a:gen]\nrun = gen\n"
            "[task a:build]\nrun = b\ndeps = a:gen\n"
            "[task a:pack]\nrun = p\ndeps = a:build\n"
            "[task x:ok]\nrun = ok\n",
            "[a:gen]\nspawn-error ENOENT\n", 0);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "started a:gen\n"
                "errored a:gen spawn: a:gen: cannot run '/bin/sh': No such "
                "file or directory\n"
                "skipped a:build upstream-errored a:gen\n"
                "skipped a:pack upstream-errored a:gen\n"
                "started x:ok\n"
                "finished x:ok fresh succeeded exit=0\n");
    ASSERT_TEXT(mock_text(&f),
                "0.000000000 spawn-error a:gen errno=ENOENT entry=1\n"
                "0.000000000 spawn x:ok child=1 argv=[/bin/sh,-c,ok] cwd=/ws "
                "env=[PATH=/usr/bin] unscripted\n"
                "0.000000000 exit x:ok code=0\n");
    o = oc(&f, "a:gen");
    if (o != NULL) {
        CU_ASSERT_EQUAL(o->kind, HAZ_OUTCOME_ERRORED);
        CU_ASSERT_EQUAL(o->error, HAZ_TERR_SPAWN);
        CU_ASSERT_EQUAL(o->os_errno, ENOENT);
        CU_ASSERT_EQUAL(o->status.kind, HAZ_EXIT_NONE);
    }
    assert_skipped(&f, "a:build", HAZ_SKIP_UPSTREAM_ERRORED, "a:gen");
    assert_skipped(&f, "a:pack", HAZ_SKIP_UPSTREAM_ERRORED, "a:gen");
    CU_ASSERT_EQUAL(exit_code(&f), 1);
    fx_done(&f);
}

/* Reference-exec.md 3.4 step 3 (CapturedStreamReadFailed): a stream that
 * cannot be read is lost from the failure on (the mock drops its later
 * chunks; the other stream goes on), the child is left to exit, and the
 * task then ends ERRORED stream-read with the errno and the stream named,
 * whatever its exit status; its hard descendants are skipped
 * upstream-errored, the rest runs; nothing is stored; exit code 1. */
static void test_stream_read_error(void)
{
    fx f;
    const haz_task_outcome *o;

    fx_init(&f,
            "[task a:gen]\nrun = gen\n"
            "[task a:build]\nrun = b\ndeps = a:gen\n"
            "[task x:ok]\nrun = ok\n",
            "[a:gen]\nstdout 1 \"one\\n\"\nread-error 2 stdout EIO\n"
            "stdout 3 \"lost\\n\"\nstderr 3 \"kept\\n\"\n"
            "read-error 4 stderr EBADF\nexit 5 0\n", 0);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "started a:gen\n"
                "started x:ok\n"
                "finished x:ok fresh succeeded exit=0\n"
                "stdout a:gen 4 one\\n\n"
                "stderr a:gen 5 kept\\n\n"
                "errored a:gen stream-read: a:gen: reading the child's "
                "stdout: Input/output error\n"
                "skipped a:build upstream-errored a:gen\n");
    ASSERT_TEXT(mock_text(&f),
                "0.000000000 spawn a:gen child=1 argv=[/bin/sh,-c,gen] "
                "cwd=/ws env=[PATH=/usr/bin] entry=1\n"
                "0.000000000 spawn x:ok child=2 argv=[/bin/sh,-c,ok] cwd=/ws "
                "env=[PATH=/usr/bin] unscripted\n"
                "0.000000000 exit x:ok code=0\n"
                "1.000000000 stdout a:gen 4 \"one\\n\"\n"
                "2.000000000 read-error a:gen stdout errno=EIO\n"
                "3.000000000 stderr a:gen 5 \"kept\\n\"\n"
                "4.000000000 read-error a:gen stderr errno=EBADF\n"
                "5.000000000 exit a:gen code=0\n");
    o = oc(&f, "a:gen");
    if (o != NULL) {
        CU_ASSERT_EQUAL(o->kind, HAZ_OUTCOME_ERRORED);
        CU_ASSERT_EQUAL(o->error, HAZ_TERR_STREAM_READ);
        CU_ASSERT_EQUAL(o->os_errno, EIO);
        CU_ASSERT_EQUAL(o->status.kind, HAZ_EXIT_CODE);
        CU_ASSERT_EQUAL(o->hash_len, 0);
    }
    assert_skipped(&f, "a:build", HAZ_SKIP_UPSTREAM_ERRORED, "a:gen");
    CU_ASSERT_EQUAL(exit_code(&f), 1);
    fx_done(&f);
}

/* X7: a writer whose spawn fails gives its key back: the reader parked
 * behind its waiter registration runs at once (no task left undecided). */
static void test_spawn_error_releases_mutex(void)
{
    fx f;

    fx_init(&f,
            "[workspace]\nconcurrency = 8\n"
            "[task l:h]\nrun = h\nmutex = shared:L\n"
            "[task l:r]\nrun = r\nmutex = shared:L\ndeps = l:gate\n"
            "[task l:gate]\nrun = g\n"
            "[task l:w]\nrun = w\nmutex = L\n",
            "[l:h]\nexit 2 0\n[l:gate]\nexit 1 0\n[l:w]\nspawn-error EACCES\n"
            "[l:r]\nexit 1 0\n", 0);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "started l:gate\nstarted l:h\nstarted l:w\n"
                "finished l:gate fresh succeeded exit=0\n"
                "started l:r\n"
                "finished l:h fresh succeeded exit=0\n"
                "errored l:w spawn: l:w: cannot run '/bin/sh': Permission "
                "denied\n"
                "finished l:r fresh succeeded exit=0\n");
    CU_ASSERT_EQUAL(oc(&f, "l:r")->end_ns, SEC(3));
    CU_ASSERT_EQUAL(exit_code(&f), 1);
    fx_done(&f);
}

/* ------------------------------------------------------------------------
 * cancel.
 * ---------------------------------------------------------------------- */

/* U12, EXEC-013 step 1: a token fired before the run: every ready task is
 * RunCancelled, hard descendants UpstreamCancelled naming the root, a
 * soft successor released by a cancelled task is drained too; nothing is
 * spawned; exit code 130. */
static void test_cancel_before_run(void)
{
    fx f;

    fx_init(&f,
            "[task a:a]\nrun = a\n"
            "[task a:b]\nrun = b\ndeps = a:a\n"
            "[task a:c]\nrun = c\nweak_deps = a:a\n"
            "[task x:x]\nrun = x\n", NULL, 0);
    haz_cancel_request(f.cancel, SIGINT);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "cancelled a:a run-cancelled\n"
                "cancelled a:b upstream-cancelled a:a\n"
                "cancelled a:c run-cancelled\n"
                "cancelled x:x run-cancelled\n");
    ASSERT_TEXT(mock_text(&f), "");
    assert_cancelled(&f, "a:a", HAZ_CANCEL_RUN_CANCELLED, NULL);
    assert_cancelled(&f, "a:b", HAZ_CANCEL_UPSTREAM_CANCELLED, "a:a");
    assert_cancelled(&f, "a:c", HAZ_CANCEL_RUN_CANCELLED, NULL);
    assert_cancelled(&f, "x:x", HAZ_CANCEL_RUN_CANCELLED, NULL);
    CU_ASSERT_EQUAL(haz_run_result_cancel_signal(f.r), SIGINT);
    CU_ASSERT_EQUAL(exit_code(&f), 130);
    fx_done(&f);
}

/*
 * EXEC-012..015, T7, U13, U14: the token fires at 1 (when a:long prints
 * "tick"); every running child gets SIGTERM at 1; a:polite exits 0 at once
 * and is still Cancelled(SignaledInFlight) with its exit status (U13);
 * a:slow exits during the grace period and is never SIGKILLed; a:long
 * ignores SIGTERM and gets SIGKILL exactly cancel_grace (2 s) later (U14);
 * the cap-blocked z:wait is RunCancelled, never started (X1a); b:next
 * (hard on a:long) is UpstreamCancelled naming it; b:soft (soft on
 * a:polite) is released by the cancelled predecessor and drained.  Exit
 * code 130 (SIGINT).
 */
static const char *hz_cancel =
    "[workspace]\nconcurrency = 3\ncancel_grace = 2\n"
    "[task a:long]\nrun = long\n"
    "[task a:polite]\nrun = polite\n"
    "[task a:slow]\nrun = slow\n"
    "[task b:next]\nrun = next\ndeps = a:long\n"
    "[task b:soft]\nrun = soft\nweak_deps = a:polite\n"
    "[task z:wait]\nrun = wait\n";
static const char *mk_cancel =
    "[a:long]\nstdout 1 \"tick\\n\"\nhang\nsigterm ignore\n"
    "[a:polite]\nhang\nsigterm exit 0\n"
    "[a:slow]\nhang\nsigterm delay 0.5 3\n";

static void run_cancel_mid(fx *f, int signo)
{
    fx_init(f, hz_cancel, mk_cancel, 0);
    f->cancel_on = "tick\n";
    f->cancel_signo = signo;
    CU_ASSERT_EQUAL(fx_run(f), HAZ_OK);
}

static void test_cancel_mid_run(void)
{
    fx f;
    const haz_task_outcome *o;

    run_cancel_mid(&f, SIGINT);
    ASSERT_TEXT(obs_text(&f),
                "started a:long\nstarted a:polite\nstarted a:slow\n"
                "stdout a:long 5 tick\\n\n"
                "cancelled z:wait run-cancelled\n"
                "cancelled a:polite signaled-in-flight exit=0\n"
                "cancelled b:soft run-cancelled\n"
                "cancelled a:slow signaled-in-flight exit=3\n"
                "cancelled a:long signaled-in-flight signal=9\n"
                "cancelled b:next upstream-cancelled a:long\n");
    ASSERT_TEXT(mock_text(&f),
                "0.000000000 spawn a:long child=1 argv=[/bin/sh,-c,long] "
                "cwd=/ws env=[PATH=/usr/bin] entry=1\n"
                "0.000000000 spawn a:polite child=2 argv=[/bin/sh,-c,polite] "
                "cwd=/ws env=[PATH=/usr/bin] entry=2\n"
                "0.000000000 spawn a:slow child=3 argv=[/bin/sh,-c,slow] "
                "cwd=/ws env=[PATH=/usr/bin] entry=3\n"
                "1.000000000 stdout a:long 5 \"tick\\n\"\n"
                "1.000000000 signal a:long SIGTERM\n"
                "1.000000000 signal a:polite SIGTERM\n"
                "1.000000000 signal a:slow SIGTERM\n"
                "1.000000000 exit a:polite code=0\n"
                "1.500000000 exit a:slow code=3\n"
                "3.000000000 deadline\n"
                "3.000000000 signal a:long SIGKILL\n"
                "3.000000000 exit a:long signal=9\n");
    assert_cancelled(&f, "a:long", HAZ_CANCEL_SIGNALED_IN_FLIGHT, NULL);
    assert_cancelled(&f, "a:polite", HAZ_CANCEL_SIGNALED_IN_FLIGHT, NULL);
    assert_cancelled(&f, "a:slow", HAZ_CANCEL_SIGNALED_IN_FLIGHT, NULL);
    assert_cancelled(&f, "b:next", HAZ_CANCEL_UPSTREAM_CANCELLED, "a:long");
    assert_cancelled(&f, "b:soft", HAZ_CANCEL_RUN_CANCELLED, NULL);
    assert_cancelled(&f, "z:wait", HAZ_CANCEL_RUN_CANCELLED, NULL);
    o = oc(&f, "a:polite");
    if (o != NULL) {
        CU_ASSERT_EQUAL(o->status.kind, HAZ_EXIT_CODE);
        CU_ASSERT_EQUAL(o->status.code, 0);
        CU_ASSERT_EQUAL(o->end_ns, SEC(1));
    }
    o = oc(&f, "a:long");
    if (o != NULL) {
        CU_ASSERT_EQUAL(o->status.kind, HAZ_EXIT_SIGNAL);
        CU_ASSERT_EQUAL(o->status.signo, SIGKILL);
        CU_ASSERT_EQUAL(o->end_ns, SEC(3));
    }
    CU_ASSERT_EQUAL(haz_run_result_cancel_signal(f.r), SIGINT);
    CU_ASSERT_EQUAL(exit_code(&f), 130);
    /* The caller may pass another signal: it wins over everything. */
    CU_ASSERT_EQUAL(haz_exit_code(f.r, SIGTERM), 143);
    fx_done(&f);
}

/* EXEC-021: a cancellation by SIGTERM exits 143. */
static void test_cancel_sigterm_143(void)
{
    fx f;

    run_cancel_mid(&f, SIGTERM);
    CU_ASSERT_EQUAL(haz_run_result_cancel_signal(f.r), SIGTERM);
    CU_ASSERT_EQUAL(exit_code(&f), 143);
    fx_done(&f);
}

/* EXEC-014 with cancel_grace 0: SIGKILL follows SIGTERM at the same
 * instant, but only for the child that did not die of the SIGTERM. */
static void test_cancel_grace_zero(void)
{
    fx f;

    fx_init(&f,
            "[workspace]\ncancel_grace = 0\n"
            "[task g:deaf]\nrun = deaf\n[task g:dies]\nrun = dies\n",
            "[g:deaf]\nstdout 1 \"go\"\nhang\nsigterm ignore\n"
            "[g:dies]\nhang\n", 0);
    f.cancel_on = "go";
    f.cancel_signo = SIGINT;
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(mock_text(&f),
                "0.000000000 spawn g:deaf child=1 argv=[/bin/sh,-c,deaf] "
                "cwd=/ws env=[PATH=/usr/bin] entry=1\n"
                "0.000000000 spawn g:dies child=2 argv=[/bin/sh,-c,dies] "
                "cwd=/ws env=[PATH=/usr/bin] entry=2\n"
                "1.000000000 stdout g:deaf 2 \"go\"\n"
                "1.000000000 signal g:deaf SIGTERM\n"
                "1.000000000 signal g:dies SIGTERM\n"
                "1.000000000 exit g:dies signal=15\n"
                "1.000000000 deadline\n"
                "1.000000000 signal g:deaf SIGKILL\n"
                "1.000000000 exit g:deaf signal=9\n");
    ASSERT_TEXT(obs_text(&f),
                "started g:deaf\nstarted g:dies\n"
                "stdout g:deaf 2 go\n"
                "cancelled g:dies signaled-in-flight signal=15\n"
                "cancelled g:deaf signaled-in-flight signal=9\n");
    CU_ASSERT_EQUAL(exit_code(&f), 130);
    fx_done(&f);
}

/* A child whose exit arrives in the same batch as the chunk that fires
 * the token keeps its normal outcome (its successor is then drained; the
 * mock analogue of X1c);
 * a token fired with signal 0 records no signal, so the exit code
 * follows the outcomes. */
static void test_cancel_same_instant_exit(void)
{
    fx f;

    fx_init(&f,
            "[task c:a]\nrun = a\n[task c:b]\nrun = b\n"
            "[task c:n]\nrun = n\ndeps = c:b\n",
            "[c:a]\nstdout 1 \"stop\"\nhang\n[c:b]\nexit 1 0\n", 0);
    f.cancel_on = "stop";
    f.cancel_signo = 0;
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "started c:a\nstarted c:b\n"
                "stdout c:a 4 stop\n"
                "finished c:b fresh succeeded exit=0\n"
                "cancelled c:n run-cancelled\n"
                "cancelled c:a signaled-in-flight signal=15\n");
    CU_ASSERT_EQUAL(haz_run_result_cancel_signal(f.r), 0);
    CU_ASSERT_EQUAL(exit_code(&f), 0);
    fx_done(&f);
}

/* X3, run.h, haz_cancel_request: a further request escalates: every running
 * process group is SIGKILLed at once, long before the grace period ends;
 * the first request's signal stays the run's (SIGTERM here, 143). */
static void test_cancel_escalation(void)
{
    fx f;

    fx_init(&f,
            "[workspace]\ncancel_grace = 10\n"
            "[task e:deaf]\nrun = deaf\n[task e:talk]\nrun = talk\n",
            "[e:deaf]\nhang\nsigterm ignore\n"
            "[e:talk]\nstdout 1 \"first\"\nstdout 3 \"second\"\nhang\n"
            "sigterm ignore\n", 0);
    f.cancel_on = "first";
    f.cancel_signo = SIGTERM;
    f.cancel_on2 = "second";
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(strstr(mock_text(&f), "1.000000000"),
                "1.000000000 stdout e:talk 5 \"first\"\n"
                "1.000000000 signal e:deaf SIGTERM\n"
                "1.000000000 signal e:talk SIGTERM\n"
                "3.000000000 stdout e:talk 6 \"second\"\n"
                "3.000000000 signal e:deaf SIGKILL\n"
                "3.000000000 signal e:talk SIGKILL\n"
                "3.000000000 exit e:deaf signal=9\n"
                "3.000000000 exit e:talk signal=9\n");
    ASSERT_TEXT(strstr(obs_text(&f), "stdout"),
                "stdout e:talk 5 first\n"
                "stdout e:talk 6 second\n"
                "cancelled e:deaf signaled-in-flight signal=9\n"
                "cancelled e:talk signaled-in-flight signal=9\n");
    CU_ASSERT_EQUAL(haz_cancel_pending(f.cancel), 0);   /* acknowledged */
    CU_ASSERT_EQUAL(haz_run_result_cancel_signal(f.r), SIGTERM);
    CU_ASSERT_EQUAL(exit_code(&f), 143);
    fx_done(&f);
}

/* X3: two requests made before the run: the flow starts and escalates at
 * once (nothing runs, so only the drain shows). */
static void test_cancel_twice_before_run(void)
{
    fx f;

    fx_init(&f, "[task a:a]\nrun = a\n", NULL, 0);
    haz_cancel_request(f.cancel, SIGINT);
    haz_cancel_request(f.cancel, SIGTERM);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f), "cancelled a:a run-cancelled\n");
    CU_ASSERT_EQUAL(haz_cancel_pending(f.cancel), 0);
    CU_ASSERT_EQUAL(exit_code(&f), 130);
    fx_done(&f);
}

/* X7: a cancellation caught the run while a task was parked on a mutex:
 * the parked task (started once) is RunCancelled. */
static void test_cancel_parked(void)
{
    fx f;

    fx_init(&f,
            "[task m:a]\nrun = a\nmutex = L\n[task m:b]\nrun = b\nmutex = L\n",
            "[m:a]\nstdout 1 \"x\"\nhang\n", 0);
    f.cancel_on = "x";
    f.cancel_signo = SIGINT;
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "started m:a\nstarted m:b\n"
                "stdout m:a 1 x\n"
                "cancelled m:b run-cancelled\n"
                "cancelled m:a signaled-in-flight signal=15\n");
    fx_done(&f);
}

/* ------------------------------------------------------------------------
 * timeout.
 * ---------------------------------------------------------------------- */

/* Design 2.10: SIGTERM at the timeout (own or default_timeout_ns), SIGKILL
 * cancel_grace later if ignored; the outcome is Completed Failed timed
 * out whatever the status (t:c exits 0 after SIGTERM); hard descendants
 * are skipped upstream-failed; a child exiting exactly at its timeout
 * (t:e) is not timed out. */
static void test_timeouts(void)
{
    fx f;
    const haz_task_outcome *o;

    fx_init(&f,
            "[workspace]\ncancel_grace = 0.5\n"
            "[task t:a]\nrun = a\ntimeout = 2\n"
            "[task t:b]\nrun = b\ntimeout = 1\n"
            "[task t:c]\nrun = c\n"
            "[task t:d]\nrun = d\ndeps = t:a\n"
            "[task t:e]\nrun = e\ntimeout = 4\n",
            "[t:a]\nhang\n[t:b]\nhang\nsigterm ignore\n"
            "[t:c]\nhang\nsigterm exit 0\n[t:e]\nexit 4 0\n", 0);
    f.opt.default_timeout_ns = SEC(3);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "started t:a\nstarted t:b\nstarted t:c\nstarted t:e\n"
                "finished t:b fresh failed signal=9 timed-out\n"
                "finished t:a fresh failed signal=15 timed-out\n"
                "skipped t:d upstream-failed t:a\n"
                "finished t:c fresh failed exit=0 timed-out\n"
                "finished t:e fresh succeeded exit=0\n");
    ASSERT_TEXT(strstr(mock_text(&f), "1.000000000"),
                "1.000000000 deadline\n"
                "1.000000000 signal t:b SIGTERM\n"
                "1.500000000 deadline\n"
                "1.500000000 signal t:b SIGKILL\n"
                "1.500000000 exit t:b signal=9\n"
                "2.000000000 deadline\n"
                "2.000000000 signal t:a SIGTERM\n"
                "2.000000000 exit t:a signal=15\n"
                "3.000000000 deadline\n"
                "3.000000000 signal t:c SIGTERM\n"
                "3.000000000 exit t:c code=0\n"
                "4.000000000 exit t:e code=0\n"
                "4.000000000 deadline\n");
    o = oc(&f, "t:c");
    if (o != NULL) {
        CU_ASSERT_EQUAL(o->kind, HAZ_OUTCOME_COMPLETED);
        CU_ASSERT_EQUAL(o->state, HAZ_STATE_FAILED);
        CU_ASSERT_EQUAL(o->timed_out, 1);
    }
    CU_ASSERT_EQUAL(oc(&f, "t:e")->timed_out, 0);
    assert_skipped(&f, "t:d", HAZ_SKIP_UPSTREAM_FAILED, "t:a");
    CU_ASSERT_EQUAL(exit_code(&f), 1);
    fx_done(&f);
}

/* A task already stopping for its timeout when the run is cancelled keeps
 * its timeout outcome and its SIGKILL time; the others are cancelled. */
static void test_timeout_then_cancel(void)
{
    fx f;

    fx_init(&f,
            "[workspace]\ncancel_grace = 2\n"
            "[task t:a]\nrun = a\ntimeout = 1\n[task t:b]\nrun = b\n",
            "[t:a]\nhang\nsigterm ignore\n"
            "[t:b]\nstdout 2 \"now\"\nhang\n", 0);
    f.cancel_on = "now";
    f.cancel_signo = SIGINT;
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(strstr(mock_text(&f), "1.000000000"),
                "1.000000000 deadline\n"
                "1.000000000 signal t:a SIGTERM\n"
                "2.000000000 stdout t:b 3 \"now\"\n"
                "2.000000000 signal t:b SIGTERM\n"
                "2.000000000 exit t:b signal=15\n"
                "3.000000000 deadline\n"
                "3.000000000 signal t:a SIGKILL\n"
                "3.000000000 exit t:a signal=9\n");
    ASSERT_TEXT(strstr(obs_text(&f), "stdout"),
                "stdout t:b 3 now\n"
                "cancelled t:b signaled-in-flight signal=15\n"
                "finished t:a fresh failed signal=9 timed-out\n");
    CU_ASSERT_EQUAL(exit_code(&f), 130);
    fx_done(&f);
}

/* ------------------------------------------------------------------------
 * invariants: EXEC-019, EXEC-020, output resolution.
 * ---------------------------------------------------------------------- */

/*
 * EXEC-020, U10: three tasks materialise /out/x through different globs,
 * all admitted before any completes (cap 3); o:b and o:c are each reported
 * against the first finisher o:a; admission closes at 2 (design 2.8): o:g,
 * admitted at 1, finishes; o:d and o:e, promoted after the gate closed,
 * end Skipped(AdmissionClosed).  Exit code 1.
 */
static void test_overlap_u10(void)
{
    fx f;
    const haz_task_outcome *o;
    const haz_violation *v;
    size_t nv = 0;

    fx_init(&f,
            "[workspace]\nconcurrency = 3\n"
            "[task o:a]\nrun = a\noutputs = out/x*\n"
            "[task o:b]\nrun = b\noutputs = out/*x\n"
            "[task o:c]\nrun = c\noutputs = /out/?\n"
            "[task o:d]\nrun = d\ndeps = o:b\n"
            "[task o:e]\nrun = e\ndeps = o:c\n"
            "[task o:g]\nrun = g\n",
            "[o:a]\nfile out/x \"a\"\nexit 1 0\n"
            "[o:b]\nfile out/x \"b\"\nexit 2 0\n"
            "[o:c]\nfile out/x \"c\"\nexit 3 0\n"
            "[o:g]\nexit 3 0\n", 1);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "started o:a\nstarted o:b\nstarted o:c\n"
                "finished o:a fresh succeeded exit=0\n"
                "started o:g\n"
                "finished o:b fresh succeeded exit=0\n"
                "violation output-overlap o:a o:b /out/x\n"
                "finished o:c fresh succeeded exit=0\n"
                "violation output-overlap o:a o:c /out/x\n"
                "finished o:g fresh succeeded exit=0\n"
                "skipped o:d admission-closed\n"
                "skipped o:e admission-closed\n");
    v = haz_run_result_violations(f.r, &nv);
    CU_ASSERT_EQUAL_FATAL(nv, 2);
    CU_ASSERT_EQUAL(v[0].kind, HAZ_VIOLATION_OUTPUT_OVERLAP);
    CU_ASSERT_STRING_EQUAL(v[0].first->id, "o:a");
    CU_ASSERT_STRING_EQUAL(v[0].second->id, "o:b");
    CU_ASSERT_STRING_EQUAL(v[0].path, "/out/x");
    CU_ASSERT_STRING_EQUAL(v[1].first->id, "o:a");
    CU_ASSERT_STRING_EQUAL(v[1].second->id, "o:c");
    o = oc(&f, "o:a");
    if (o != NULL) {
        CU_ASSERT_EQUAL_FATAL(o->n_outputs, 1);
        CU_ASSERT_STRING_EQUAL(o->outputs[0], "/out/x");
    }
    assert_skipped(&f, "o:d", HAZ_SKIP_ADMISSION_CLOSED, NULL);
    assert_skipped(&f, "o:e", HAZ_SKIP_ADMISSION_CLOSED, NULL);
    CU_ASSERT_EQUAL(exit_code(&f), 1);
    fx_done(&f);
}

/* U11: one task materialising the same path through two patterns is no
 * overlap; outputs are listed sorted, workspace-absolute, once. */
static void test_overlap_same_task_u11(void)
{
    fx f;
    const haz_task_outcome *o;
    size_t nv = 9;

    fx_init(&f,
            "[project u]\nroot = pkg\n"
            "[task u:a]\nrun = a\noutputs = out/a.txt out/*.txt\n",
            "[u:a]\nfile pkg/out/b.txt \"b\"\nfile pkg/out/a.txt \"a\"\n", 1);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    (void)haz_run_result_violations(f.r, &nv);
    CU_ASSERT_EQUAL(nv, 0);
    o = oc(&f, "u:a");
    if (o != NULL) {
        CU_ASSERT_EQUAL_FATAL(o->n_outputs, 2);
        CU_ASSERT_STRING_EQUAL(o->outputs[0], "/pkg/out/a.txt");
        CU_ASSERT_STRING_EQUAL(o->outputs[1], "/pkg/out/b.txt");
    }
    CU_ASSERT_EQUAL(exit_code(&f), 0);
    fx_done(&f);
}

/* Reference-exec.md 3.4 step 6: a declared literal output that was not
 * produced, or that is not a regular file, makes a successful child an
 * executor error (output-missing, output-not-regular); hard descendants
 * are skipped upstream-errored; a glob matching nothing is fine. */
static void test_output_errors(void)
{
    fx f;

    fx_init(&f,
            "[project m]\nroot = sub\n"
            "[task m:miss]\nrun = a\noutputs = gen/*.c gen/missing.o\n"
            "[task m:next]\nrun = n\ndeps = m:miss\n"
            "[task m:dir]\nrun = d\noutputs = d/out\n",
            "[m:dir]\nfile sub/d/out/inner \"x\"\n", 1);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "started m:dir\nstarted m:miss\n"
                "errored m:dir output-not-regular: m:dir: output "
                "'/sub/d/out' is not a regular file\n"
                "errored m:miss output-missing: m:miss: output "
                "'/sub/gen/missing.o' was not produced\n"
                "skipped m:next upstream-errored m:miss\n");
    CU_ASSERT_EQUAL(oc(&f, "m:dir")->error, HAZ_TERR_OUTPUT_NOT_REGULAR);
    CU_ASSERT_EQUAL(oc(&f, "m:miss")->error, HAZ_TERR_OUTPUT_MISSING);
    assert_skipped(&f, "m:next", HAZ_SKIP_UPSTREAM_ERRORED, "m:miss");
    CU_ASSERT_EQUAL(exit_code(&f), 1);
    fx_done(&f);
}

/* EXEC-019, T5: lib:produce reads /app/b_out and writes /lib/a_out,
 * app:consume the reverse; no static edge.  The cycle closes when the
 * second one completes: exactly one violation (edge lib:produce ->
 * app:consume, members both), both Succeeded; exit code 1 without any
 * caller signal. */
static void test_runtime_cycle_t5(void)
{
    fx f;
    const haz_violation *v;
    size_t nv = 0;

    fx_init(&f,
            "[workspace]\nconcurrency = 4\n"
            "[task lib:produce]\nargv = produce\n"
            "inputs = /app/b_out\noutputs = /lib/a_out\n"
            "[task app:consume]\nargv = consume\n"
            "inputs = /lib/a_out\noutputs = /app/b_out\n",
            "[lib:produce]\nfile lib/a_out \"a\"\nexit 2 0\n"
            "[app:consume]\nfile app/b_out \"b\"\nexit 1 0\n", 1);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "started app:consume\nstarted lib:produce\n"
                "finished app:consume fresh succeeded exit=0\n"
                "finished lib:produce fresh succeeded exit=0\n"
                "violation runtime-cycle lib:produce app:consume "
                "app:consume lib:produce\n");
    v = haz_run_result_violations(f.r, &nv);
    CU_ASSERT_EQUAL_FATAL(nv, 1);
    CU_ASSERT_EQUAL(v[0].kind, HAZ_VIOLATION_RUNTIME_CYCLE);
    CU_ASSERT_EQUAL_FATAL(v[0].n_cycle, 2);
    CU_ASSERT_STRING_EQUAL(v[0].cycle[0]->id, "app:consume");
    CU_ASSERT_STRING_EQUAL(v[0].cycle[1]->id, "lib:produce");
    assert_completed(&f, "app:consume", HAZ_STATE_SUCCEEDED, 0);
    assert_completed(&f, "lib:produce", HAZ_STATE_SUCCEEDED, 0);
    CU_ASSERT_EQUAL(haz_run_result_cancel_signal(f.r), 0);
    CU_ASSERT_EQUAL(exit_code(&f), 1);
    fx_done(&f);
}

/*
 * EXEC-019, design 2.8: a cycle with a member still waiting.  p:w fails
 * at 0.5, skipping p:v, which releases p:i (soft on p:v); p:i writes
 * /out.txt, read by p:u, which waits on the running p:slow: the producer
 * edge p:i -> p:u closes p:u -> p:v -> p:i.  p:u ends Skipped(RuntimeCycle),
 * its hard descendant p:z can never run (RunCancelled), r:r (released by
 * p:i) is drained RunCancelled and the running p:slow is SIGTERMed by the
 * internal cancellation: no caller signal, exit code 1.
 */
static void test_runtime_cycle_waiting_member(void)
{
    fx f;

    fx_init(&f,
            "[workspace]\nconcurrency = 4\n"
            "[task p:slow]\nrun = slow\n"
            "[task p:u]\nrun = u\ndeps = p:slow\ninputs = /out.txt\n"
            "[task p:w]\nrun = w\n"
            "[task p:v]\nrun = v\ndeps = p:u p:w\n"
            "[task p:i]\nrun = i\nweak_deps = p:v\noutputs = /out.txt\n"
            "[task p:z]\nrun = z\ndeps = p:u\n"
            "[task r:r]\nrun = r\nweak_deps = p:i\n",
            "[p:slow]\nhang\n[p:w]\nexit 0.5 1\n"
            "[p:i]\nfile out.txt \"o\"\nexit 1 0\n", 1);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    ASSERT_TEXT(obs_text(&f),
                "started p:slow\nstarted p:w\n"
                "finished p:w fresh failed exit=1\n"
                "skipped p:v upstream-failed p:w\n"
                "started p:i\n"
                "finished p:i fresh succeeded exit=0\n"
                "violation runtime-cycle p:i p:u p:i p:u p:v\n"
                "skipped p:u runtime-cycle\n"
                "cancelled p:z run-cancelled\n"
                "cancelled r:r run-cancelled\n"
                "cancelled p:slow signaled-in-flight signal=15\n");
    ASSERT_TEXT(strstr(mock_text(&f), "1.500000000"),
                "1.500000000 file p:i out.txt 1\n"
                "1.500000000 exit p:i code=0\n"
                "1.500000000 signal p:slow SIGTERM\n"
                "1.500000000 exit p:slow signal=15\n");
    assert_skipped(&f, "p:u", HAZ_SKIP_RUNTIME_CYCLE, NULL);
    assert_cancelled(&f, "p:z", HAZ_CANCEL_RUN_CANCELLED, NULL);
    assert_cancelled(&f, "r:r", HAZ_CANCEL_RUN_CANCELLED, NULL);
    assert_cancelled(&f, "p:slow", HAZ_CANCEL_SIGNALED_IN_FLIGHT, NULL);
    CU_ASSERT_EQUAL(haz_run_result_cancel_signal(f.r), 0);
    CU_ASSERT_EQUAL(exit_code(&f), 1);
    fx_done(&f);
}

/* A producer edge that matches a hard edge already there, or a glob
 * input, closes no cycle (T1-like: lib:compile -> app:build). */
static void test_producer_edge_no_cycle(void)
{
    fx f;
    size_t nv = 9;

    fx_init(&f,
            "[task lib:compile]\nrun = cc\noutputs = /lib/a.o\n"
            "[task app:build]\nrun = ld\ndeps = lib:compile\n"
            "inputs = /lib/a.o /lib/*.o\n",
            "[lib:compile]\nfile lib/a.o \"o\"\nexit 1 0\n", 1);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    (void)haz_run_result_violations(f.r, &nv);
    CU_ASSERT_EQUAL(nv, 0);
    CU_ASSERT_EQUAL(oc(&f, "app:build")->start_ns, SEC(1));
    CU_ASSERT_EQUAL(exit_code(&f), 0);
    fx_done(&f);
}

/* ------------------------------------------------------------------------
 * api: arguments, selection, empty run, exit codes.
 * ---------------------------------------------------------------------- */

/* U21: a run with no task: an empty result, exit code 0. */
static void test_empty_run(void)
{
    fx f;

    fx_init(&f, "[workspace]\nconcurrency = 2\n", NULL, 0);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    CU_ASSERT_EQUAL(haz_run_result_count(f.r), 0);
    CU_ASSERT_PTR_NULL(haz_run_result_get(f.r, 0));
    ASSERT_TEXT(obs_text(&f), "");
    ASSERT_TEXT(mock_text(&f), "");
    CU_ASSERT_EQUAL(exit_code(&f), 0);
    fx_done(&f);
}

/* Design 2.13: only selected tasks get outcomes (canonical order); a mask
 * missing a hard dependency is HAZ_EINVAL; a soft predecessor outside the
 * run is ignored. */
static void test_selection(void)
{
    fx f;
    unsigned char sel[4];
    const char *const targets[] = {"s:b"};

    fx_init(&f,
            "[task s:a]\nrun = a\n[task s:b]\nrun = b\ndeps = s:a\n"
            "[task s:c]\nrun = c\n[task s:d]\nrun = d\nweak_deps = s:c\n",
            NULL, 0);
    CU_ASSERT_EQUAL(haz_graph_select(f.hf->graph, targets, 1, sel, NULL),
                    HAZ_OK);
    f.cfg.selected = sel;
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_run_result_count(f.r), 2);
    CU_ASSERT_STRING_EQUAL(haz_run_result_get(f.r, 0)->task.id, "s:a");
    CU_ASSERT_STRING_EQUAL(haz_run_result_get(f.r, 1)->task.id, "s:b");
    CU_ASSERT_EQUAL(haz_run_result_get(f.r, 1)->task.index, 1);
    ASSERT_TEXT(obs_text(&f),
                "started s:a\nfinished s:a fresh succeeded exit=0\n"
                "started s:b\nfinished s:b fresh succeeded exit=0\n");
    haz_run_result_free(f.r);
    f.r = NULL;
    /* s:d alone: its soft predecessor s:c is not in the run. */
    memset(sel, 0, sizeof sel);
    sel[3] = 1;
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    CU_ASSERT_EQUAL(haz_run_result_count(f.r), 1);
    assert_completed(&f, "s:d", HAZ_STATE_SUCCEEDED, 0);
    haz_run_result_free(f.r);
    f.r = NULL;
    /* s:b without its hard dependency s:a. */
    memset(sel, 0, sizeof sel);
    sel[1] = 1;
    f.rc = haz_run(f.ctx, &f.cfg, &f.r);
    CU_ASSERT_EQUAL(f.rc, HAZ_EINVAL);
    CU_ASSERT_PTR_NULL(f.r);
    CU_ASSERT_PTR_NOT_NULL(strstr(haz_ctx_errmsg(f.ctx), "s:a"));
    fx_done(&f);
}

/* Bad configurations are refused before anything runs (HAZ_EINVAL): an
 * unvalidated graph (left unvalidated), a relative workspace root, options
 * not initialised, unusable hash methods, missing pieces. */
static void test_bad_config(void)
{
    fx f;
    haz_graph *g = NULL;
    haz_task *t = NULL;
    haz_run_config c;
    haz_run_options o;

    fx_init(&f, "[task a:a]\nrun = a\n", NULL, 0);
    CU_ASSERT_EQUAL_FATAL(haz_spawner_open(f.ctx, &haz_spawner_mock, &f.scfg,
                                           &f.sp), HAZ_OK);
    f.cfg.spawner = f.sp;
    /* not validated */
    CU_ASSERT_EQUAL_FATAL(haz_graph_new(f.ctx, &g), HAZ_OK);
    CU_ASSERT_EQUAL(haz_graph_add_task(g, "a", "a", &t), HAZ_OK);
    CU_ASSERT_EQUAL(haz_task_set_shell(t, "a"), HAZ_OK);
    c = f.cfg;
    c.graph = g;
    f.r = (haz_run_result *)&c;   /* must be set to NULL */
    CU_ASSERT_EQUAL(haz_run(f.ctx, &c, &f.r), HAZ_EINVAL);
    CU_ASSERT_PTR_NULL(f.r);
    CU_ASSERT_EQUAL(haz_graph_task_count(g), 0);   /* still not frozen */
    haz_graph_free(g);
    /* relative workspace root */
    c = f.cfg;
    o = f.opt;
    o.workspace_root = "ws";
    c.options = &o;
    CU_ASSERT_EQUAL(haz_run(f.ctx, &c, &f.r), HAZ_EINVAL);
    o.workspace_root = NULL;
    CU_ASSERT_EQUAL(haz_run(f.ctx, &c, &f.r), HAZ_EINVAL);
    c.options = NULL;   /* defaults: no workspace root */
    CU_ASSERT_EQUAL(haz_run(f.ctx, &c, &f.r), HAZ_EINVAL);
    /* options not initialised */
    memset(&o, 0, sizeof o);
    o.workspace_root = "/ws";
    c.options = &o;
    CU_ASSERT_EQUAL(haz_run(f.ctx, &c, &f.r), HAZ_EINVAL);
    /* unusable hash methods */
    {
        haz_hash_methods h = haz_hash_sha256;

        c = f.cfg;
        h.context_size = 0;
        c.hash = &h;
        CU_ASSERT_EQUAL(haz_run(f.ctx, &c, &f.r), HAZ_EINVAL);
        h = haz_hash_sha256;
        h.digest_len = HAZ_HASH_MAX_DIGEST + 1;
        CU_ASSERT_EQUAL(haz_run(f.ctx, &c, &f.r), HAZ_EINVAL);
    }
    /* missing pieces */
    c = f.cfg;
    c.spawner = NULL;
    CU_ASSERT_EQUAL(haz_run(f.ctx, &c, &f.r), HAZ_EINVAL);
    c = f.cfg;
    c.clock = NULL;
    CU_ASSERT_EQUAL(haz_run(f.ctx, &c, &f.r), HAZ_EINVAL);
    c = f.cfg;
    c.graph = NULL;
    CU_ASSERT_EQUAL(haz_run(f.ctx, &c, &f.r), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_run(f.ctx, NULL, &f.r), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_run(f.ctx, &f.cfg, NULL), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_run(NULL, &f.cfg, &f.r), HAZ_EINVAL);
    CU_ASSERT_PTR_NULL(f.r);
    ASSERT_TEXT(mock_text(&f), "");
    fx_done(&f);
}

/* EXEC-021, U16: the exit-code table on hand-built results, first match
 * wins: signal (130, 143) over errors, violations and failures (1); else
 * 0, Skipped and Cancelled alone included; NULL is an empty run. */
static void test_exit_codes(void)
{
    haz_test_mem tm;
    haz_ctx *ctx;
    haz_run_result *r;
    haz_violation v;

    haz_test_mem_init(&tm);
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, &tm.mem), HAZ_OK);
    r = haz__run_result_new(ctx, 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    r->outcomes[0].kind = HAZ_OUTCOME_COMPLETED;
    r->outcomes[0].state = HAZ_STATE_SUCCEEDED;
    r->outcomes[1].kind = HAZ_OUTCOME_SKIPPED;
    r->outcomes[2].kind = HAZ_OUTCOME_CANCELLED;
    CU_ASSERT_EQUAL(haz_exit_code(r, 0), 0);          /* row 6 */
    CU_ASSERT_EQUAL(haz_exit_code(r, SIGINT), 130);   /* row 1 */
    CU_ASSERT_EQUAL(haz_exit_code(r, SIGTERM), 143);  /* row 2 */
    r->outcomes[0].state = HAZ_STATE_FAILED;
    CU_ASSERT_EQUAL(haz_exit_code(r, 0), 1);          /* row 5 */
    CU_ASSERT_EQUAL(haz_exit_code(r, SIGINT), 130);
    r->outcomes[0].state = HAZ_STATE_SUCCEEDED;
    r->outcomes[1].kind = HAZ_OUTCOME_ERRORED;
    CU_ASSERT_EQUAL(haz_exit_code(r, 0), 1);          /* row 3 */
    CU_ASSERT_EQUAL(haz_exit_code(r, SIGTERM), 143);
    r->outcomes[1].kind = HAZ_OUTCOME_SKIPPED;
    memset(&v, 0, sizeof v);
    v.kind = HAZ_VIOLATION_RUNTIME_CYCLE;
    CU_ASSERT_EQUAL(haz__run_result_add_violation(r, &v), HAZ_OK);
    CU_ASSERT_EQUAL(haz_exit_code(r, 0), 1);          /* row 4 */
    CU_ASSERT_EQUAL(haz_exit_code(r, SIGINT), 130);
    haz_run_result_free(r);
    CU_ASSERT_EQUAL(haz_exit_code(NULL, 0), 0);
    CU_ASSERT_EQUAL(haz_exit_code(NULL, SIGINT), 130);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

/* ------------------------------------------------------------------------
 * robust: determinism, allocation failures, a large graph.
 * ---------------------------------------------------------------------- */

/* Design section 4: the same scenario twice yields identical traces. */
static void test_determinism(void)
{
    fx a, b;
    char *ta, *tb, *ma, *mb;

    run_cancel_mid(&a, SIGINT);
    ta = strdup(obs_text(&a));
    ma = strdup(mock_text(&a));
    fx_done(&a);
    run_cancel_mid(&b, SIGINT);
    tb = strdup(obs_text(&b));
    mb = strdup(mock_text(&b));
    fx_done(&b);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ta);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tb);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ma);
    CU_ASSERT_PTR_NOT_NULL_FATAL(mb);
    CU_ASSERT_STRING_EQUAL(ta, tb);
    CU_ASSERT_STRING_EQUAL(ma, mb);
    CU_ASSERT_TRUE(strlen(ma) > 100);
    free(ta);
    free(tb);
    free(ma);
    free(mb);
}

/* A representative run: caps, tags, mutex parking, soft edges, a failure
 * cascade, a spawn error, outputs and an overlap, a runtime-cycle-free
 * producer edge, a timeout with SIGKILL, and a cancellation fired from an
 * output chunk. */
static const char *hz_sweep =
    "[workspace]\nconcurrency = 3\ncancel_grace = 1\n"
    "[tag t]\ncap = 1\n"
    "[task a:gen]\nrun = gen\noutputs = out/gen.txt\n"
    "[task a:use]\nrun = use\ndeps = a:gen\ninputs = out/gen.txt\n"
    "outputs = out/*.o\nmutex = db\n"
    "[task a:lock]\nrun = lock\nmutex = db shared:cfg\ntags = t\n"
    "[task b:fail]\nrun = fail\ntags = t\n"
    "[task b:after]\nrun = after\ndeps = b:fail\n"
    "[task b:soft]\nrun = soft\nweak_deps = b:fail\nenv.X = 1\n"
    "[task c:err]\nrun = err\n[task c:below]\nrun = below\ndeps = c:err\n"
    "[task d:slow]\nrun = slow\ntimeout = 1\n"
    "[task e:dup]\nrun = dup\noutputs = out/*.o\n"
    "[task z:last]\nrun = last\ndeps = a:use\n";
static const char *mk_sweep =
    "[a:gen]\nstdout 0.1 \"gen\\n\"\nfile out/gen.txt \"g\"\nexit 0.5 0\n"
    "[a:use]\nfile out/u.o \"u\"\nexit 0.5 0\n"
    "[a:lock]\nstderr 0.2 \"lock\"\nexit 0.3 0\n"
    "[b:fail]\nexit 0.2 2\n"
    "[c:err]\nspawn-error ENOEXEC\n"
    "[d:slow]\nhang\nsigterm ignore\n"
    "[e:dup]\nfile out/u.o \"e\"\nexit 2 0\n"
    "[b:soft]\nstdout 0.1 \"stop\"\nhang\n";

static void sweep_init(fx *f)
{
    fx_init(f, hz_sweep, mk_sweep, 1);
    f->cancel_on = "stop";
    f->cancel_signo = SIGINT;
}

/* The sweep scenario with enough memory, as a regression of its own: a
 * task set aside by a full tag cap (b:fail) while a spawn error cascades
 * in the same admission round (c:err) is neither lost nor confused with
 * the cascaded tasks; d:slow, cancelled before its timeout, is killed at
 * the end of the grace period. */
static void test_sweep_scenario(void)
{
    fx f;

    sweep_init(&f);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    assert_all_decided(&f);
    ASSERT_TEXT(obs_text(&f),
                "started a:gen\nstarted a:lock\nstarted c:err\n"
                "errored c:err spawn: c:err: cannot run '/bin/sh': Exec "
                "format error\n"
                "skipped c:below upstream-errored c:err\n"
                "started d:slow\n"
                "stdout a:gen 4 gen\\n\n"
                "stderr a:lock 4 lock\n"
                "finished a:lock fresh succeeded exit=0\n"
                "started b:fail\n"
                "finished a:gen fresh succeeded exit=0\n"
                "finished b:fail fresh failed exit=2\n"
                "skipped b:after upstream-failed b:fail\n"
                "started a:use\nstarted b:soft\n"
                "stdout b:soft 4 stop\n"
                "cancelled e:dup run-cancelled\n"
                "cancelled a:use signaled-in-flight signal=15\n"
                "cancelled z:last upstream-cancelled a:use\n"
                "cancelled b:soft signaled-in-flight signal=15\n"
                "cancelled d:slow signaled-in-flight signal=9\n");
    ASSERT_TEXT(strstr(mock_text(&f), "0.300000000"),
                "0.300000000 exit a:lock code=0\n"
                "0.300000000 spawn b:fail child=4 argv=[/bin/sh,-c,fail] "
                "cwd=/WS env=[PATH=/usr/bin] entry=4\n"
                "0.500000000 file a:gen out/gen.txt 1\n"
                "0.500000000 exit a:gen code=0\n"
                "0.500000000 exit b:fail code=2\n"
                "0.500000000 spawn a:use child=5 argv=[/bin/sh,-c,use] "
                "cwd=/WS env=[PATH=/usr/bin] entry=2\n"
                "0.500000000 spawn b:soft child=6 argv=[/bin/sh,-c,soft] "
                "cwd=/WS env=[PATH=/usr/bin,X=1] entry=8\n"
                "0.600000000 stdout b:soft 4 \"stop\"\n"
                "0.600000000 signal a:use SIGTERM\n"
                "0.600000000 signal b:soft SIGTERM\n"
                "0.600000000 signal d:slow SIGTERM\n"
                "0.600000000 exit a:use signal=15\n"
                "0.600000000 exit b:soft signal=15\n"
                "1.600000000 deadline\n"
                "1.600000000 signal d:slow SIGKILL\n"
                "1.600000000 exit d:slow signal=9\n");
    CU_ASSERT_EQUAL(exit_code(&f), 130);
    assert_no_child(&f, 32);
    fx_done(&f);
}

/* Style 8: fail the Nth allocation of the run, for every N until a run
 * sees no failure: the result is 0 or HAZ_ENOMEM, nothing leaks, and no
 * child is left (every mock child id is retired).  Then the same with
 * every allocation from the Nth on failing. */
static void test_alloc_failures(void)
{
    int persistent;

    for (persistent = 0; persistent <= 1; persistent++) {
        unsigned long n;
        int done = 0;

        for (n = 1; !done && n < 100000; n++) {
            fx f;
            int rc;

            sweep_init(&f);
            CU_ASSERT_EQUAL_FATAL(haz_spawner_open(f.ctx, &haz_spawner_mock,
                                                   &f.scfg, &f.sp), HAZ_OK);
            f.cfg.spawner = f.sp;
            haz_test_mem_fail_at(&f.tm, n, persistent);
            rc = haz_run(f.ctx, &f.cfg, &f.r);
            done = f.tm.failures == 0;
            haz_test_mem_fail_at(&f.tm, 0, 0);
            CU_ASSERT_TRUE(rc == HAZ_OK || rc == HAZ_ENOMEM);
            if (rc == HAZ_OK) {
                CU_ASSERT_PTR_NOT_NULL(f.r);
                if (f.r != NULL)
                    assert_all_decided(&f);
            } else {
                CU_ASSERT_PTR_NULL(f.r);
            }
            if (rc != HAZ_OK && rc != HAZ_ENOMEM)
                fprintf(stderr, "alloc sweep n=%lu: rc %d\n", n, rc);
            assert_no_child(&f, 32);
            fx_done(&f);
        }
        CU_ASSERT_TRUE(done);
        CU_ASSERT_TRUE(n > 20);
    }
}

/* A small deterministic generator. */
static unsigned long rnd(unsigned long *seed)
{
    *seed = (*seed * 1103515245UL + 12345UL) & 0xffffffffUL;
    return (*seed >> 16) & 0x7fff;
}

/* A 10,000-task random DAG (hard and soft edges, tags, mutexes, some
 * failures) on the mock with cap 8 ends with exactly one outcome per task,
 * consistent with the edges. */
static void test_big_dag(void)
{
    enum { N = 10000 };
    fx f;
    char *hz, *mk;
    size_t cap = (size_t)N * 300 + 1024, len = 0, mlen = 0, i, k;
    unsigned long seed = 12345;
    size_t completed = 0, starts = 0;
    const char *p;

#define RND() rnd(&seed)
    hz = malloc(cap);
    mk = malloc((size_t)N * 40 + 64);
    CU_ASSERT_PTR_NOT_NULL_FATAL(hz);
    CU_ASSERT_PTR_NOT_NULL_FATAL(mk);
    len += (size_t)sprintf(hz + len,
                           "[workspace]\nconcurrency = 8\n[tag hot]\ncap = 2\n");
    mk[0] = '\0';
    for (i = 0; i < N; i++) {
        len += (size_t)sprintf(hz + len, "[task p%02u:t%05u]\nrun = t%lu\n",
                               (unsigned)(i % 37), (unsigned)i,
                               (unsigned long)i);
        if (i > 0) {
            size_t nd = RND() % 4, nw = RND() % 2;

            size_t picked[4], np = 0, m;

            len += (size_t)sprintf(hz + len, "deps =");
            for (k = 0; k < nd; k++) {
                size_t d = i - 1 - RND() % (i < 50 ? i : 50);

                for (m = 0; m < np && picked[m] != d; m++)
                    ;
                if (m < np)
                    continue;
                picked[np++] = d;
                len += (size_t)sprintf(hz + len, " p%02u:t%05u",
                                       (unsigned)(d % 37), (unsigned)d);
            }
            len += (size_t)sprintf(hz + len, "\n");
            if (nw && i > 60) {
                size_t d = i - 51 - RND() % 10;

                len += (size_t)sprintf(hz + len,
                                       "weak_deps = p%02u:t%05u\n",
                                       (unsigned)(d % 37), (unsigned)d);
            }
        }
        if (RND() % 20 == 0)
            len += (size_t)sprintf(hz + len, "tags = hot\n");
        if (RND() % 25 == 0) {
            const char *mode = RND() % 2 ? "shared:" : "";

            len += (size_t)sprintf(hz + len, "mutex = %sm%u\n", mode,
                                   (unsigned)(RND() % 3));
        }
        if (RND() % 400 == 0)
            mlen += (size_t)sprintf(mk + mlen, "[p%02u:t%05u]\nexit 0 1\n",
                                    (unsigned)(i % 37), (unsigned)i);
    }
#undef RND
    CU_ASSERT_TRUE_FATAL(len < cap);
    fx_init(&f, hz, mk, 0);
    CU_ASSERT_EQUAL(fx_run(&f), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_run_result_count(f.r), N);
    for (i = 0; i < N; i++) {
        const haz_task_outcome *o = haz_run_result_get(f.r, i);
        haz_task_info ti;

        CU_ASSERT_EQUAL(o->task.index, i);
        CU_ASSERT_TRUE(o->kind == HAZ_OUTCOME_COMPLETED ||
                       o->kind == HAZ_OUTCOME_SKIPPED);
        CU_ASSERT_EQUAL(haz_graph_task_info(f.hf->graph, i, &ti), HAZ_OK);
        if (o->kind == HAZ_OUTCOME_COMPLETED) {
            completed++;
            /* every hard predecessor succeeded */
            for (k = 0; k < ti.n_deps; k++) {
                const haz_task_outcome *d =
                    haz_run_result_get(f.r, ti.deps[k]);

                CU_ASSERT_TRUE(d->kind == HAZ_OUTCOME_COMPLETED &&
                               d->state == HAZ_STATE_SUCCEEDED);
            }
        } else {
            /* skipped: the root failed */
            CU_ASSERT_EQUAL(o->skip_cause, HAZ_SKIP_UPSTREAM_FAILED);
            CU_ASSERT_PTR_NOT_NULL_FATAL(o->upstream);
            CU_ASSERT_EQUAL(haz_run_result_get(f.r, o->upstream->index)->state,
                            HAZ_STATE_FAILED);
        }
    }
    for (p = haz_observer_recording_text(f.rec, NULL);
         (p = strstr(p, "started ")) != NULL; p++)
        starts++;
    CU_ASSERT_EQUAL(starts, completed);
    /* Some roots failed and their cascades skipped a good share. */
    CU_ASSERT_TRUE(completed > N / 4);
    CU_ASSERT_TRUE(completed < N);
    fx_done(&f);
    free(hz);
    free(mk);
}

/* ------------------------------------------------------------------------
 * Registration.
 * ---------------------------------------------------------------------- */

static CU_TestInfo basic_tests[] = {
    {"single shell task (design 2.14, EXEC-009)", test_single_shell},
    {"argv plan, env allow-list + overrides, cwd (CACHE-008)",
     test_argv_env_cwd},
    {"no host snapshot", test_no_host_env},
    {"failure cascade names the root, canonical (EXEC-010/011, U1, U3)",
     test_failure_cascade},
    {"foreign signal is Failed (EXEC-009)", test_foreign_signal_fails},
    {"soft edges: order, no cascade (design 2.1, U4)", test_soft_edges},
    CU_TEST_INFO_NULL
};

static CU_TestInfo caps_tests[] = {
    {"global cap 2: spawns at 0,0,1,1,2 (EXEC-004, U5)", test_global_cap},
    {"tag caps, two capped tags (EXEC-005, T6)", test_tag_caps},
    {"concurrency auto = online CPUs (U18)", test_cap_auto},
    {"spawner max_children", test_spawner_limit},
    {"spawner HAZ_ELIMIT", test_spawner_elimit},
    CU_TEST_INFO_NULL
};

static CU_TestInfo mutex_tests[] = {
    {"exclusive across projects, started once (T4, U7)",
     test_mutex_exclusive_t4},
    {"shared holders, writer preference (U8, design 2.2)",
     test_mutex_shared_writer_pref},
    {"project scope, case-sensitive (U9, U19)", test_mutex_scope_case},
    {"several mutexes all or nothing (design 2.2)",
     test_mutex_all_or_nothing},
    {"no deadlock between crossed requests", test_mutex_no_deadlock},
    {"withdrawn waiter registration re-queues", test_mutex_withdraw_requeues},
    {"parked tasks re-compete canonically (design 2.3)",
     test_mutex_requeue_canonical},
    CU_TEST_INFO_NULL
};

static CU_TestInfo spawn_tests[] = {
    {"spawn error cascades upstream-errored (design 2.7)", test_spawn_error},
    {"stream read error: task errored, child left to exit (ref 3.4 step 3)",
     test_stream_read_error},
    {"spawn error releases the mutex", test_spawn_error_releases_mutex},
    CU_TEST_INFO_NULL
};

static CU_TestInfo cancel_tests[] = {
    {"token before the run (U12)", test_cancel_before_run},
    {"mid-run: TERM, grace, KILL, drain, cascade (T7, U13, U14)",
     test_cancel_mid_run},
    {"SIGTERM exits 143 (EXEC-021)", test_cancel_sigterm_143},
    {"cancel_grace 0 (EXEC-014)", test_cancel_grace_zero},
    {"exit in the same batch keeps its outcome", test_cancel_same_instant_exit},
    {"parked task is run-cancelled", test_cancel_parked},
    {"a further request escalates to SIGKILL", test_cancel_escalation},
    {"two requests before the run", test_cancel_twice_before_run},
    CU_TEST_INFO_NULL
};

static CU_TestInfo timeout_tests[] = {
    {"timeouts: TERM, KILL after grace, timed-out (design 2.10)",
     test_timeouts},
    {"timeout then cancellation", test_timeout_then_cancel},
    CU_TEST_INFO_NULL
};

static CU_TestInfo invariant_tests[] = {
    {"output overlap, admission closed (EXEC-020, U10)", test_overlap_u10},
    {"same task same path is no overlap (U11)", test_overlap_same_task_u11},
    {"missing and non-regular outputs", test_output_errors},
    {"runtime cycle (EXEC-019, T5)", test_runtime_cycle_t5},
    {"runtime cycle with a waiting member (design 2.8)",
     test_runtime_cycle_waiting_member},
    {"producer edge without cycle", test_producer_edge_no_cycle},
    CU_TEST_INFO_NULL
};

static CU_TestInfo api_tests[] = {
    {"empty run (U21)", test_empty_run},
    {"selection mask (design 2.13)", test_selection},
    {"bad configurations", test_bad_config},
    {"exit-code table (EXEC-021, U16)", test_exit_codes},
    CU_TEST_INFO_NULL
};

static CU_TestInfo robust_tests[] = {
    {"determinism (design 4)", test_determinism},
    {"sweep scenario", test_sweep_scenario},
    {"allocation failures", test_alloc_failures},
    {"10,000-task DAG", test_big_dag},
    CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
    HAZ_TEST_SUITE("basic", basic_tests),
    HAZ_TEST_SUITE("caps", caps_tests),
    HAZ_TEST_SUITE("mutex", mutex_tests),
    HAZ_TEST_SUITE("spawn", spawn_tests),
    HAZ_TEST_SUITE("cancel", cancel_tests),
    HAZ_TEST_SUITE("timeout", timeout_tests),
    HAZ_TEST_SUITE("invariants", invariant_tests),
    HAZ_TEST_SUITE("api", api_tests),
    HAZ_TEST_SUITE("robust", robust_tests),
    CU_SUITE_INFO_NULL
};

int main(int argc, char **argv)
{
    return haz_test_main(argc, argv, suites);
}
