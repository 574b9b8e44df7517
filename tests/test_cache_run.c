/*
 * tests/test_cache_run.c: the cache wired into a run (EXEC-007,
 * EXEC-015..017, CACHE-007, CACHE-018, design 2.5 and 2.16), with the
 * filesystem store in a temporary workspace and the mock spawner, whose
 * scripted children create their output files when they exit:
 *   - a first run is all fresh and stores every successful task;
 *   - a second run restores every task, replays stdout then stderr in one
 *     call each, spawns nothing and takes no mutex;
 *   - deleted outputs come back byte for byte;
 *   - a failed task and a cancelled task are never stored;
 *   - a changed input changes the key of its task and, through the stream
 *     hashes, of its dependants only when their output changes;
 *   - haz_run_probe and haz_run_explain agree with what a run does;
 *   - reference-io.md 9.1 T1 to T4 across two projects, and the 9.4 errors
 *     (a missing literal input, a declared output not produced): never
 *     stored, dependants skipped;
 *   - an output already in place is trusted through the store's record of
 *     outputs without being read, and one replaced, rewritten in place in
 *     the same second (same size and mtime) or deleted is still restored.
 * Every test ends with a verify of the cache it filled (fx_free): no
 * broken entry, no temporary; most also check its number of entries.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "internal.h"
#include "testutil.h"
#include "fsutil.h"
#include "../backends/cache_fs.h"
#include "filestat.h"
#include "sys.h"

#include <fcntl.h>
#include <time.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct fx {
    haz_ctx *ctx;
    char ws[1024];
    haz_hazfile *hf;
    haz_clock *clock;
    haz_cache_store *store;
    haz_run_options opt;
    const char *script;         /* the mock script of every run */
} fx;

static const char *const host_env[] = {"PATH=/bin", NULL};

static const char graph_text[] =
    "[workspace]\n"
    "concurrency = 4\n"
    "[task p:gen]\n"
    "run = gen\n"
    "inputs = src.txt\n"
    "outputs = out/gen.txt\n"
    "mutex = db\n"
    "[task p:use]\n"
    "run = use\n"
    "deps = ~:gen\n"
    "inputs = out/gen.txt\n"
    "outputs = out/use.txt\n"
    "mutex = db\n"
    "[task p:bad]\n"
    "run = bad\n";

static const char script_text[] =
    "[p:gen]\n"
    "stdout 0.1 \"made\\n\"\n"
    "stderr 0.2 \"warn\\n\"\n"
    "file out/gen.txt \"generated\"\n"
    "exit 0.5 0\n"
    "[p:use]\n"
    "stdout 0.1 \"used\\n\"\n"
    "file out/use.txt \"consumed\"\n"
    "exit 0.5 0\n"
    "[p:bad]\n"
    "stderr 0.1 \"oops\\n\"\n"
    "exit 0.2 1\n";

static void write_file(const fx *f, const char *rel, const char *text)
{
    char path[2048], *slash;

    (void)snprintf(path, sizeof path, "%s/%s", f->ws, rel);
    slash = strrchr(path, '/');
    *slash = '\0';
    CU_ASSERT_EQUAL_FATAL(haz__mkdir_p(path, 0777), 0);
    *slash = '/';
    CU_ASSERT_EQUAL_FATAL(haz_test_write_file(path, text, strlen(text)), 0);
}

static int read_file(const fx *f, const char *rel, char *buf, size_t cap)
{
    char path[2048];
    FILE *fp;
    size_t n;

    (void)snprintf(path, sizeof path, "%s/%s", f->ws, rel);
    fp = fopen(path, "rb");
    if (fp == NULL)
        return -1;
    n = fread(buf, 1, cap - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return (int)n;
}

/* A fresh workspace running `graph` with the mock `script`, and its
 * filesystem cache store. */
static void fx_init_with(fx *f, const char *graph, const char *script)
{
    haz_diags *d;
    haz_cache_store_config cc;

    memset(f, 0, sizeof *f);
    f->script = script;
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&f->ctx, NULL), HAZ_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(haz_test_mkdtemp(f->ws, sizeof f->ws,
                                                  "cache-run"));
    CU_ASSERT_EQUAL_FATAL(haz_diags_new(f->ctx, &d), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_hazfile_parse(f->ctx, "hazfile", graph,
                                            strlen(graph), &f->hf, d),
                          HAZ_OK);
    haz_diags_free(d);
    write_file(f, "src.txt", "source v1\n");
    CU_ASSERT_EQUAL_FATAL(haz_clock_open(f->ctx, &haz_clock_mock, NULL,
                                         &f->clock), HAZ_OK);
    memset(&cc, 0, sizeof cc);
    cc.version = 1;
    cc.workspace_root = f->ws;
    cc.hash = &haz_hash_sha256;
    cc.clock = f->clock;
    CU_ASSERT_EQUAL_FATAL(haz_cache_store_open(f->ctx, &haz_cache_store_fs,
                                               &cc, &f->store), HAZ_OK);
    haz_run_options_init(&f->opt);
    f->opt.concurrency = 4;
    f->opt.workspace_root = f->ws;
    f->opt.host_env = host_env;
    f->opt.created_at = 1700000000;
}

static void fx_init(fx *f)
{
    fx_init_with(f, graph_text, script_text);
}

/* The verify of the workspace's cache (INV-CACHE): no broken entry, no
 * temporary; returns the number of entries. */
static uint64_t fx_verify(fx *f)
{
    char dir[1100];
    haz_cache_stats st;
    int rc;

    (void)snprintf(dir, sizeof dir, "%s/.haz/cache", f->ws);
    memset(&st, 0, sizeof st);
    rc = haz_cache_fs_verify(f->ctx, dir, &haz_hash_sha256, &st);
    CU_ASSERT_EQUAL(rc, HAZ_OK);
    CU_ASSERT_EQUAL(st.broken, 0);
    CU_ASSERT_EQUAL(st.temporaries, 0);
    return st.entries;
}

/* Every test ends here: the cache it filled verifies clean. */
static void fx_free(fx *f)
{
    (void)fx_verify(f);
    haz_cache_store_close(f->store);
    haz_clock_close(f->clock);
    haz_hazfile_free(f->hf);
    haz_test_rmtree(f->ws);
    haz_ctx_free(f->ctx);
}

/* One run with a fresh mock spawner; returns the result and fills the
 * observer and spawner traces (malloc'ed copies). */
static haz_run_result *run(fx *f, haz_cancel *cancel, char **obs_trace,
                           char **mock_trace)
{
    haz_mock_script *ms;
    haz_mock_config mc;
    haz_spawner_config sc;
    haz_spawner *sp;
    haz_observer_obj *rec;
    haz_observer obs;
    haz_run_config cfg;
    haz_run_result *r = NULL;
    haz_diags *d;

    CU_ASSERT_EQUAL_FATAL(haz_mock_script_new(f->ctx, &ms), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_diags_new(f->ctx, &d), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_mock_script_parse(ms, "script", f->script,
                                                strlen(f->script), d),
                          HAZ_OK);
    haz_diags_free(d);
    memset(&mc, 0, sizeof mc);
    mc.script = ms;
    mc.workspace_root = f->ws;
    memset(&sc, 0, sizeof sc);
    sc.version = 1;
    sc.clock = f->clock;
    sc.backend = &mc;
    CU_ASSERT_EQUAL_FATAL(haz_spawner_open(f->ctx, &haz_spawner_mock, &sc,
                                           &sp), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_observer_recording_new(f->ctx, NULL, &rec,
                                                     &obs), HAZ_OK);
    memset(&cfg, 0, sizeof cfg);
    cfg.graph = f->hf->graph;
    cfg.spawner = sp;
    cfg.clock = f->clock;
    cfg.cache = f->store;
    cfg.observer = &obs;
    cfg.cancel = cancel;
    cfg.options = &f->opt;
    CU_ASSERT_EQUAL(haz_run(f->ctx, &cfg, &r), HAZ_OK);
    *obs_trace = strdup(haz_observer_recording_text(rec, NULL));
    *mock_trace = strdup(haz_mock_spawner_trace(sp, NULL));
    haz_observer_free(rec);
    haz_spawner_close(sp);
    haz_mock_script_free(ms);
    return r;
}

static size_t index_of(const fx *f, const char *id)
{
    size_t i = 0;

    CU_ASSERT_EQUAL_FATAL(haz_graph_find_task(f->hf->graph, id, NULL, &i), 0);
    return i;
}

/* EXEC-007, EXEC-017, CACHE-018, MUTEX-007: fill, then restore. */
static void test_fill_then_restore(void)
{
    fx f;
    haz_run_result *r1, *r2;
    char *o1, *m1, *o2, *m2, buf[64];
    const haz_task_outcome *g1, *g2, *u1, *u2;

    fx_init(&f);
    r1 = run(&f, NULL, &o1, &m1);
    CU_ASSERT_STRING_EQUAL(o1,
        "started p:bad\n"
        "started p:gen\n"
        "stderr p:bad 5 oops\\n\n"
        "stdout p:gen 5 made\\n\n"
        "finished p:bad fresh failed exit=1\n"
        "stderr p:gen 5 warn\\n\n"
        "finished p:gen fresh succeeded exit=0\n"
        "started p:use\n"
        "stdout p:use 5 used\\n\n"
        "finished p:use fresh succeeded exit=0\n");
    CU_ASSERT_EQUAL(haz_exit_code(r1, 0), 1);

    /* Outputs deleted: the second run brings them back from the cache. */
    {
        char p[2048];

        (void)snprintf(p, sizeof p, "%s/out/gen.txt", f.ws);
        CU_ASSERT_EQUAL(unlink(p), 0);
        (void)snprintf(p, sizeof p, "%s/out/use.txt", f.ws);
        CU_ASSERT_EQUAL(unlink(p), 0);
    }
    r2 = run(&f, NULL, &o2, &m2);
    /* Hits replay stdout then stderr, one call each; the failed task was
     * never stored, so it runs again. */
    CU_ASSERT_STRING_EQUAL(o2,
        "started p:bad\n"
        "started p:gen\n"
        "stdout p:gen 5 made\\n\n"
        "stderr p:gen 5 warn\\n\n"
        "finished p:gen cache-hit succeeded none\n"
        "started p:use\n"
        "stdout p:use 5 used\\n\n"
        "finished p:use cache-hit succeeded none\n"
        "stderr p:bad 5 oops\\n\n"
        "finished p:bad fresh failed exit=1\n");
    /* Only the failed task was spawned. */
    CU_ASSERT_PTR_NOT_NULL(strstr(m2, "spawn p:bad"));
    CU_ASSERT_PTR_NULL(strstr(m2, "spawn p:gen"));
    CU_ASSERT_PTR_NULL(strstr(m2, "spawn p:use"));
    CU_ASSERT_EQUAL(read_file(&f, "out/gen.txt", buf, sizeof buf), 9);
    CU_ASSERT_STRING_EQUAL(buf, "generated");
    CU_ASSERT_EQUAL(read_file(&f, "out/use.txt", buf, sizeof buf), 8);
    CU_ASSERT_STRING_EQUAL(buf, "consumed");

    g1 = haz_run_result_get(r1, index_of(&f, "p:gen"));
    g2 = haz_run_result_get(r2, index_of(&f, "p:gen"));
    u1 = haz_run_result_get(r1, index_of(&f, "p:use"));
    u2 = haz_run_result_get(r2, index_of(&f, "p:use"));
    CU_ASSERT_EQUAL(g2->source, HAZ_SOURCE_CACHE_HIT);
    CU_ASSERT_EQUAL(g2->status.kind, HAZ_EXIT_NONE);
    CU_ASSERT(g1->has_key && g2->has_key);
    CU_ASSERT_EQUAL(memcmp(g1->key, g2->key, 32), 0);
    CU_ASSERT_EQUAL(memcmp(u1->key, u2->key, 32), 0);
    /* CACHE-011: the hit's stream hashes are the fresh run's. */
    CU_ASSERT_EQUAL(memcmp(g1->stdout_hash, g2->stdout_hash, 32), 0);
    CU_ASSERT_EQUAL(memcmp(g1->stderr_hash, g2->stderr_hash, 32), 0);
    CU_ASSERT_EQUAL_FATAL(g2->n_outputs, 1);
    CU_ASSERT_STRING_EQUAL(g2->outputs[0], "/out/gen.txt");
    CU_ASSERT_EQUAL(haz_exit_code(r2, 0), 1);
    CU_ASSERT_EQUAL(fx_verify(&f), 2);      /* gen and use, not bad */

    haz_run_result_free(r1);
    haz_run_result_free(r2);
    free(o1);
    free(m1);
    free(o2);
    free(m2);
    fx_free(&f);
}

/* CACHE-007: a changed input reruns its task; the dependant's key changes
 * only when the predecessor's streams change.  Probe and explain agree. */
static void test_changed_input_probe_explain(void)
{
    fx f;
    haz_run_result *r1, *r2;
    char *o, *m;
    haz_probe st[3];
    haz_run_config cfg;
    haz_key_explain *e = NULL;
    const haz_key_info *ki;
    size_t gen, use, bad;

    fx_init(&f);
    gen = index_of(&f, "p:gen");
    use = index_of(&f, "p:use");
    bad = index_of(&f, "p:bad");
    memset(&cfg, 0, sizeof cfg);
    cfg.graph = f.hf->graph;
    cfg.cache = f.store;
    cfg.options = &f.opt;

    CU_ASSERT_EQUAL(haz_run_probe(f.ctx, &cfg, st), HAZ_OK);
    CU_ASSERT_EQUAL(st[gen], HAZ_PROBE_MISS);
    CU_ASSERT_EQUAL(st[use], HAZ_PROBE_UNKNOWN);
    CU_ASSERT_EQUAL(st[bad], HAZ_PROBE_MISS);
    CU_ASSERT_EQUAL(haz_run_explain(f.ctx, &cfg, NULL, use, &e), HAZ_ENOENT);
    CU_ASSERT_PTR_NULL(e);
    CU_ASSERT_PTR_NOT_NULL(strstr(haz_ctx_errmsg(f.ctx), "p:gen"));

    r1 = run(&f, NULL, &o, &m);
    free(o);
    free(m);
    CU_ASSERT_EQUAL(haz_run_probe(f.ctx, &cfg, st), HAZ_OK);
    CU_ASSERT_EQUAL(st[gen], HAZ_PROBE_HIT);
    CU_ASSERT_EQUAL(st[use], HAZ_PROBE_HIT);
    CU_ASSERT_EQUAL(st[bad], HAZ_PROBE_MISS);   /* failed: never stored */

    /* explain from the run's result and from the cache: the same key as
     * the run derived. */
    CU_ASSERT_EQUAL_FATAL(haz_run_explain(f.ctx, &cfg, r1, use, &e), HAZ_OK);
    ki = haz_key_explain_info(e);
    CU_ASSERT_STRING_EQUAL(ki->task, "p:use");
    CU_ASSERT_EQUAL(ki->hash_len, 32);
    CU_ASSERT_EQUAL(memcmp(ki->key, haz_run_result_get(r1, use)->key, 32),
                    0);
    CU_ASSERT_EQUAL(ki->action, HAZ_ACTION_SHELL);
    CU_ASSERT_STRING_EQUAL(ki->script, "use");
    CU_ASSERT_EQUAL_FATAL(ki->n_env, 1);
    CU_ASSERT_STRING_EQUAL(ki->env[0].name, "PATH");
    CU_ASSERT_STRING_EQUAL(ki->env[0].value, "/bin");
    CU_ASSERT_EQUAL_FATAL(ki->n_inputs, 1);
    CU_ASSERT_STRING_EQUAL(ki->inputs[0].path, "/out/gen.txt");
    CU_ASSERT_EQUAL_FATAL(ki->n_preds, 1);
    CU_ASSERT_STRING_EQUAL(ki->preds[0].id, "p:gen");
    CU_ASSERT_EQUAL(memcmp(ki->preds[0].stdout_hash,
                           haz_run_result_get(r1, gen)->stdout_hash, 32), 0);
    haz_key_explain_free(e);
    CU_ASSERT_EQUAL_FATAL(haz_run_explain(f.ctx, &cfg, NULL, use, &e),
                          HAZ_OK);
    CU_ASSERT_EQUAL(memcmp(haz_key_explain_info(e)->key,
                           haz_run_result_get(r1, use)->key, 32), 0);
    haz_key_explain_free(e);
    /* A task that failed has no stream hashes to offer its dependants. */
    CU_ASSERT_EQUAL(haz_run_explain(f.ctx, &cfg, r1, 99, &e), HAZ_EINVAL);

    /* Change the input: gen misses; use is unknown until gen runs; after
     * the run gen's streams are the same, so use's key is unchanged and it
     * is a hit (its own input came back identical). */
    write_file(&f, "src.txt", "source v2\n");
    CU_ASSERT_EQUAL(haz_run_probe(f.ctx, &cfg, st), HAZ_OK);
    CU_ASSERT_EQUAL(st[gen], HAZ_PROBE_MISS);
    CU_ASSERT_EQUAL(st[use], HAZ_PROBE_UNKNOWN);
    r2 = run(&f, NULL, &o, &m);
    CU_ASSERT_EQUAL(haz_run_result_get(r2, gen)->source, HAZ_SOURCE_FRESH);
    CU_ASSERT_EQUAL(haz_run_result_get(r2, use)->source,
                    HAZ_SOURCE_CACHE_HIT);
    CU_ASSERT_NOT_EQUAL(memcmp(haz_run_result_get(r1, gen)->key,
                               haz_run_result_get(r2, gen)->key, 32), 0);
    /* gen under both keys, use under its one key. */
    CU_ASSERT_EQUAL(fx_verify(&f), 3);
    free(o);
    free(m);
    haz_run_result_free(r1);
    haz_run_result_free(r2);
    fx_free(&f);
}

/* EXEC-015: a cancelled task is never stored, even when it exits 0. */
static void test_cancelled_not_stored(void)
{
    fx f;
    haz_cancel *c;
    haz_run_result *r;
    haz_probe st[3];
    haz_run_config cfg;
    char *o, *m;

    fx_init(&f);
    CU_ASSERT_EQUAL_FATAL(haz_cancel_new(f.ctx, &c), HAZ_OK);
    haz_cancel_request(c, SIGINT);
    r = run(&f, c, &o, &m);
    CU_ASSERT_EQUAL(haz_exit_code(r, haz_run_result_cancel_signal(r)), 130);
    memset(&cfg, 0, sizeof cfg);
    cfg.graph = f.hf->graph;
    cfg.cache = f.store;
    cfg.options = &f.opt;
    CU_ASSERT_EQUAL(haz_run_probe(f.ctx, &cfg, st), HAZ_OK);
    CU_ASSERT_EQUAL(st[index_of(&f, "p:gen")], HAZ_PROBE_MISS);
    CU_ASSERT_EQUAL(fx_verify(&f), 0);
    free(o);
    free(m);
    haz_run_result_free(r);
    haz_cancel_free(c);
    fx_free(&f);
}

/* reference-io.md 9.1: two projects, app:build depending on lib:compile
 * and reading its output through a workspace-absolute input. */
static const char xproj_graph[] =
    "[workspace]\n"
    "concurrency = 4\n"
    "[project lib]\n"
    "root = lib\n"
    "[project app]\n"
    "root = app\n"
    "[task lib:compile]\n"
    "run = compile\n"
    "inputs = src/lib.c\n"
    "outputs = out/lib.o\n"
    "[task app:build]\n"
    "run = build\n"
    "deps = lib:compile\n"
    "inputs = /lib/out/lib.o\n"
    "outputs = out/app\n";

static const char xproj_script[] =
    "[lib:compile]\n"
    "stdout 0.1 \"compiled\\n\"\n"
    "file lib/out/lib.o \"LIB\"\n"
    "exit 0.2 0\n"
    "[app:build]\n"
    "file app/out/app \"APP\"\n"
    "exit 0.2 0\n";

static const char xproj_fail_script[] =
    "[lib:compile]\n"
    "stderr 0.1 \"error\\n\"\n"
    "exit 0.2 2\n"
    "[app:build]\n"
    "exit 0.2 0\n";

/* reference-io.md 9.1 T1, T2 and T4: a cross-project fresh run stores both
 * tasks; a second run against the same cache is all hits and spawns
 * nothing; the store is the real filesystem store (T4: the two-phase store
 * and its rename, here in a temporary workspace). */
static void test_cross_project_t1_t2_t4(void)
{
    fx f;
    haz_run_result *r1, *r2;
    char *o1, *m1, *o2, *m2, buf[16];
    haz_probe st[2];
    haz_run_config cfg;
    size_t lib, app;

    fx_init_with(&f, xproj_graph, xproj_script);
    write_file(&f, "lib/src/lib.c", "int lib;\n");
    lib = index_of(&f, "lib:compile");
    app = index_of(&f, "app:build");
    memset(&cfg, 0, sizeof cfg);
    cfg.graph = f.hf->graph;
    cfg.cache = f.store;
    cfg.options = &f.opt;

    /* T1: both fresh and succeeded, both stored. */
    r1 = run(&f, NULL, &o1, &m1);
    CU_ASSERT_STRING_EQUAL(o1,
        "started lib:compile\n"
        "stdout lib:compile 9 compiled\\n\n"
        "finished lib:compile fresh succeeded exit=0\n"
        "started app:build\n"
        "finished app:build fresh succeeded exit=0\n");
    CU_ASSERT_EQUAL(haz_exit_code(r1, 0), 0);
    CU_ASSERT_EQUAL(haz_run_probe(f.ctx, &cfg, st), HAZ_OK);
    CU_ASSERT_EQUAL(st[lib], HAZ_PROBE_HIT);
    CU_ASSERT_EQUAL(st[app], HAZ_PROBE_HIT);
    CU_ASSERT_EQUAL(fx_verify(&f), 2);

    /* T2: the same cache again: both hits, no spawn at all. */
    r2 = run(&f, NULL, &o2, &m2);
    CU_ASSERT_STRING_EQUAL(o2,
        "started lib:compile\n"
        "stdout lib:compile 9 compiled\\n\n"
        "finished lib:compile cache-hit succeeded none\n"
        "started app:build\n"
        "finished app:build cache-hit succeeded none\n");
    CU_ASSERT_PTR_NULL(strstr(m2, "spawn"));
    CU_ASSERT_EQUAL(haz_run_result_get(r2, lib)->source,
                    HAZ_SOURCE_CACHE_HIT);
    CU_ASSERT_EQUAL(haz_run_result_get(r2, app)->source,
                    HAZ_SOURCE_CACHE_HIT);
    CU_ASSERT_EQUAL(memcmp(haz_run_result_get(r1, app)->key,
                           haz_run_result_get(r2, app)->key, 32), 0);
    CU_ASSERT_EQUAL(haz_exit_code(r2, 0), 0);
    CU_ASSERT_EQUAL(read_file(&f, "app/out/app", buf, sizeof buf), 3);
    CU_ASSERT_EQUAL(fx_verify(&f), 2);
    haz_run_result_free(r1);
    haz_run_result_free(r2);
    free(o1);
    free(m1);
    free(o2);
    free(m2);
    fx_free(&f);
}

/* reference-io.md 9.1 T3 (EXEC-011): lib:compile fails, app:build is
 * skipped naming it; nothing is stored for either; exit code 1. */
static void test_cross_project_t3(void)
{
    fx f;
    haz_run_result *r;
    const haz_task_outcome *a;
    char *o, *m;
    haz_probe st[2];
    haz_run_config cfg;

    fx_init_with(&f, xproj_graph, xproj_fail_script);
    write_file(&f, "lib/src/lib.c", "int lib;\n");
    r = run(&f, NULL, &o, &m);
    CU_ASSERT_STRING_EQUAL(o,
        "started lib:compile\n"
        "stderr lib:compile 6 error\\n\n"
        "finished lib:compile fresh failed exit=2\n"
        "skipped app:build upstream-failed lib:compile\n");
    a = haz_run_result_get(r, index_of(&f, "app:build"));
    CU_ASSERT_EQUAL(a->kind, HAZ_OUTCOME_SKIPPED);
    CU_ASSERT_EQUAL(a->skip_cause, HAZ_SKIP_UPSTREAM_FAILED);
    CU_ASSERT_EQUAL(haz_exit_code(r, 0), 1);
    memset(&cfg, 0, sizeof cfg);
    cfg.graph = f.hf->graph;
    cfg.cache = f.store;
    cfg.options = &f.opt;
    CU_ASSERT_EQUAL(haz_run_probe(f.ctx, &cfg, st), HAZ_OK);
    CU_ASSERT_EQUAL(st[index_of(&f, "lib:compile")], HAZ_PROBE_MISS);
    CU_ASSERT_EQUAL(st[index_of(&f, "app:build")], HAZ_PROBE_UNKNOWN);
    CU_ASSERT_EQUAL(fx_verify(&f), 0);
    haz_run_result_free(r);
    free(o);
    free(m);
    fx_free(&f);
}

/* reference-io.md 9.4, "missing literal input" and "declared literal
 * output not produced": each task is an error, nothing is stored, and its
 * dependant is skipped as upstream-errored. */
static void test_errors_not_stored(void)
{
    static const char graph[] =
        "[task p:noin]\n"
        "run = noin\n"
        "inputs = none.txt\n"
        "[task p:after_noin]\n"
        "run = after\n"
        "deps = ~:noin\n"
        "[task p:noout]\n"
        "run = noout\n"
        "outputs = out/never.txt\n"
        "[task p:after_noout]\n"
        "run = after\n"
        "deps = ~:noout\n";
    static const char script[] =
        "[p:noin]\n"
        "exit 0.1 0\n"
        "[p:noout]\n"
        "stdout 0.1 \"done\\n\"\n"
        "exit 0.2 0\n"
        "[p:after_noin]\n"
        "exit 0.1 0\n"
        "[p:after_noout]\n"
        "exit 0.1 0\n";
    fx f;
    haz_run_result *r;
    const haz_task_outcome *t;
    char *o, *m;
    haz_probe st[4];
    haz_run_config cfg;

    fx_init_with(&f, graph, script);
    r = run(&f, NULL, &o, &m);
    t = haz_run_result_get(r, index_of(&f, "p:noin"));
    CU_ASSERT_EQUAL(t->kind, HAZ_OUTCOME_ERRORED);
    CU_ASSERT_PTR_NOT_NULL(t->message != NULL ?
                           strstr(t->message, "/none.txt") : NULL);
    t = haz_run_result_get(r, index_of(&f, "p:after_noin"));
    CU_ASSERT_EQUAL(t->kind, HAZ_OUTCOME_SKIPPED);
    CU_ASSERT_EQUAL(t->skip_cause, HAZ_SKIP_UPSTREAM_ERRORED);
    t = haz_run_result_get(r, index_of(&f, "p:noout"));
    CU_ASSERT_EQUAL(t->kind, HAZ_OUTCOME_ERRORED);
    CU_ASSERT_EQUAL(t->error, HAZ_TERR_OUTPUT_MISSING);
    CU_ASSERT_PTR_NOT_NULL(t->message != NULL ?
                           strstr(t->message, "/out/never.txt") : NULL);
    t = haz_run_result_get(r, index_of(&f, "p:after_noout"));
    CU_ASSERT_EQUAL(t->kind, HAZ_OUTCOME_SKIPPED);
    CU_ASSERT_EQUAL(t->skip_cause, HAZ_SKIP_UPSTREAM_ERRORED);
    /* The mock never started p:noin: its key could not be derived. */
    CU_ASSERT_PTR_NULL(strstr(m, "spawn p:noin"));
    memset(&cfg, 0, sizeof cfg);
    cfg.graph = f.hf->graph;
    cfg.cache = f.store;
    cfg.options = &f.opt;
    CU_ASSERT_EQUAL(haz_run_probe(f.ctx, &cfg, st), HAZ_OK);
    CU_ASSERT_EQUAL(st[index_of(&f, "p:noout")], HAZ_PROBE_MISS);
    CU_ASSERT_EQUAL(fx_verify(&f), 0);
    haz_run_result_free(r);
    free(o);
    free(m);
    fx_free(&f);
}

/* ------------------------------------------------------------------------
 * Outputs already in place and the record of outputs (lib/filestat.h).
 * ---------------------------------------------------------------------- */

static const char one_graph[] =
    "[workspace]\n"
    "concurrency = 1\n"
    "[task p:gen]\n"
    "run = gen\n"
    "inputs = src.txt\n"
    "outputs = out/gen.txt\n";

static const char one_script[] =
    "[p:gen]\n"
    "stdout 0.1 \"made\\n\"\n"
    "file out/gen.txt \"generated\"\n"
    "exit 0.5 0\n";

static const char one_hit[] =
    "started p:gen\n"
    "stdout p:gen 5 made\\n\n"
    "finished p:gen cache-hit succeeded none\n";

/* Opens of the output through the file I/O seam. */
static unsigned long out_opens;

static int counting_open(const char *path, int flags, unsigned mode)
{
    const char *tail = "/out/gen.txt";
    size_t n = strlen(path), m = strlen(tail);

    if (n >= m && strcmp(path + n - m, tail) == 0)
        out_opens++;
    return ((int (*)(const char *, int, unsigned))
            haz__io_syscall_default("open"))(path, flags, mode);
}

/* One run of one_graph that must be a hit restoring stdout "made\n";
 * returns how many times it opened out/gen.txt. */
static unsigned long run_hit(fx *f)
{
    haz_run_result *r;
    char *o, *m;

    out_opens = 0;
    CU_ASSERT_EQUAL_FATAL(haz__io_syscall_set(
        "open", (haz__io_syscall_fn)counting_open), 0);
    r = run(f, NULL, &o, &m);
    (void)haz__io_syscall_set("open", NULL);
    CU_ASSERT_STRING_EQUAL(o, one_hit);
    CU_ASSERT_PTR_NULL(strstr(m, "spawn p:gen"));
    CU_ASSERT_EQUAL(haz_exit_code(r, 0), 0);
    CU_ASSERT_EQUAL(haz_run_result_get(r, 0)->source, HAZ_SOURCE_CACHE_HIT);
    haz_run_result_free(r);
    free(o);
    free(m);
    return out_opens;
}

static void run_fresh(fx *f)
{
    haz_run_result *r;
    char *o, *m;

    r = run(f, NULL, &o, &m);
    CU_ASSERT_STRING_EQUAL(o,
        "started p:gen\n"
        "stdout p:gen 5 made\\n\n"
        "finished p:gen fresh succeeded exit=0\n");
    CU_ASSERT_EQUAL(haz_exit_code(r, 0), 0);
    haz_run_result_free(r);
    free(o);
    free(m);
}

static void expect_output(fx *f, const char *text)
{
    char buf[64];

    CU_ASSERT_EQUAL(read_file(f, "out/gen.txt", buf, sizeof buf),
                    (int)strlen(text));
    CU_ASSERT_STRING_EQUAL(buf, text);
}

/* Write out/gen.txt as a new file (a new inode: the old one still exists
 * when the new one is made) renamed over the old. */
static void replace_output(fx *f, const char *text)
{
    char tmp[2048], dst[2048];

    (void)snprintf(tmp, sizeof tmp, "%s/out/gen.txt.new", f->ws);
    (void)snprintf(dst, sizeof dst, "%s/out/gen.txt", f->ws);
    CU_ASSERT_EQUAL_FATAL(haz_test_write_file(tmp, text, strlen(text)), 0);
    CU_ASSERT_EQUAL_FATAL(rename(tmp, dst), 0);
}

/* CACHE-023 (a hit with its output in place is still exactly the fresh
 * run's result), C6: the record of outputs.  The store's record is opened
 * here with its session start an hour ahead, as if the output had been
 * written long before the run: the first hit reads the output and notes
 * it, the next trusts it without opening it.  An output replaced by other
 * bytes of the same size, or deleted, is restored; a restored output is
 * not trusted (it was written in the session) until read once more. */
static void test_outputs_in_place_trusted(void)
{
    fx f;
    cfs_store *s;
    char dir[1100];

    fx_init_with(&f, one_graph, one_script);
    run_fresh(&f);
    s = (cfs_store *)f.store;
    CU_ASSERT_PTR_NULL(s->rec);
    (void)snprintf(dir, sizeof dir, "%s/.haz/cache", f.ws);
    CU_ASSERT_EQUAL_FATAL(haz__filestat_open_outputs(f.ctx, dir,
                                                     &haz_hash_sha256,
                                                     &s->rec), HAZ_OK);
    s->rec_tried = 1;
    haz__filestat_set_epoch(s->rec, (int64_t)time(NULL) + 3600);

    CU_ASSERT_EQUAL(run_hit(&f), 1);        /* read and noted */
    CU_ASSERT_EQUAL(haz__filestat_count(s->rec), 1);
    CU_ASSERT_EQUAL(run_hit(&f), 0);        /* trusted: not opened */
    CU_ASSERT_EQUAL(run_hit(&f), 0);
    expect_output(&f, "generated");

    /* Other bytes, same size, a new file: read, found wrong, restored. */
    replace_output(&f, "GENERATED");
    CU_ASSERT_EQUAL(run_hit(&f), 1);
    expect_output(&f, "generated");
    CU_ASSERT_EQUAL(haz__filestat_count(s->rec), 0);   /* forgotten */
    CU_ASSERT_EQUAL(run_hit(&f), 1);        /* written in the session */
    CU_ASSERT_EQUAL(run_hit(&f), 0);

    /* The same bytes in a new file: read once, left in place. */
    replace_output(&f, "generated");
    CU_ASSERT_EQUAL(run_hit(&f), 1);
    CU_ASSERT_EQUAL(run_hit(&f), 0);

    /* Deleted: restored without opening the (missing) target. */
    {
        char p[2048];

        (void)snprintf(p, sizeof p, "%s/out/gen.txt", f.ws);
        CU_ASSERT_EQUAL(unlink(p), 0);
    }
    CU_ASSERT_EQUAL(run_hit(&f), 0);
    expect_output(&f, "generated");
    CU_ASSERT_EQUAL(run_hit(&f), 1);
    expect_output(&f, "generated");
    CU_ASSERT_EQUAL(fx_verify(&f), 1);
    fx_free(&f);
}

/* CACHE-023, C6, and the racy rule of the record (docs/cache-format.md):
 * with the record's real session start, an output rewritten in place
 * (same inode, same size, its mtime put back as it was) right after a hit
 * noted it, within the same second, is never trusted: the next hit reads
 * it, finds other bytes and restores the recorded ones.  Whatever second
 * each step falls in, the rewrite cannot go unseen: either the noted entry
 * is racy, or the rewrite's stamps lie in a later second than the noted
 * ones. */
static void test_output_rewritten_same_second(void)
{
    fx f;
    char p[2048];
    struct stat before, after;
    struct timespec ts[2];
    int fd;

    fx_init_with(&f, one_graph, one_script);
    run_fresh(&f);
    CU_ASSERT_EQUAL(run_hit(&f), 1);        /* read and noted */
    CU_ASSERT_PTR_NOT_NULL(((cfs_store *)f.store)->rec);

    (void)snprintf(p, sizeof p, "%s/out/gen.txt", f.ws);
    CU_ASSERT_EQUAL_FATAL(stat(p, &before), 0);
    fd = open(p, O_WRONLY);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(write(fd, "GENERATED", 9), 9);
    ts[0].tv_sec = 0;
    ts[0].tv_nsec = UTIME_OMIT;
    ts[1] = HAZ__ST_MTIM(&before);
    CU_ASSERT_EQUAL(futimens(fd, ts), 0);
    CU_ASSERT_EQUAL(close(fd), 0);
    CU_ASSERT_EQUAL_FATAL(stat(p, &after), 0);
    CU_ASSERT_EQUAL(after.st_ino, before.st_ino);
    CU_ASSERT_EQUAL(after.st_size, before.st_size);
    CU_ASSERT_EQUAL(HAZ__ST_MTIM(&after).tv_sec,
                    HAZ__ST_MTIM(&before).tv_sec);
    CU_ASSERT_EQUAL(HAZ__ST_MTIM(&after).tv_nsec,
                    HAZ__ST_MTIM(&before).tv_nsec);

    CU_ASSERT_EQUAL(run_hit(&f), 1);        /* read: not trusted */
    expect_output(&f, "generated");
    CU_ASSERT_EQUAL(fx_verify(&f), 1);
    fx_free(&f);
}

static CU_TestInfo tests[] = {
    {"fill, then restore (EXEC-017, CACHE-018)", test_fill_then_restore},
    {"changed input, probe and explain (CACHE-007)",
     test_changed_input_probe_explain},
    {"cancelled runs are not stored (EXEC-015)", test_cancelled_not_stored},
    {"reference-io 9.1 T1 T2 T4: cross-project fresh run, then all hits",
     test_cross_project_t1_t2_t4},
    {"reference-io 9.1 T3: upstream failure across projects, nothing stored",
     test_cross_project_t3},
    {"reference-io 9.4: missing input, unproduced output, nothing stored",
     test_errors_not_stored},
    {"outputs in place trusted by the record; replaced or deleted ones "
     "restored (CACHE-023, C6)", test_outputs_in_place_trusted},
    {"an output rewritten in place in the same second is restored "
     "(CACHE-023, C6, racy rule)", test_output_rewritten_same_second},
    CU_TEST_INFO_NULL
};

int main(int argc, char **argv)
{
    CU_SuiteInfo suites[] = {
        HAZ_TEST_SUITE("cache-run", tests),
        CU_SUITE_INFO_NULL
    };

    return haz_test_main(argc, argv, suites);
}
