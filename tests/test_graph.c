/*
 * tests/test_graph.c: building a task graph and querying a validated one
 * (include/hazexec/graph.h, lib/graph.c, lib/validate.c): every error
 * return of the building API, the frozen state, canonical order (DAG-007,
 * byte-wise), the task view after validation (deps, dependents, merged
 * tags and host environment, sorted overrides, mutexes, patterns), the
 * scheduler's internal view (lib/graph_private.h), haz_graph_find_task,
 * haz_graph_select (design 2.13) and allocation-failure sweeps over
 * building, validating and selecting.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "internal.h"
#include "testutil.h"

#include <stdio.h>
#include <string.h>

#include "graph_private.h"

/* ------------------------------------------------------------------------
 * Helpers.
 * ---------------------------------------------------------------------- */

static haz_ctx *new_ctx(haz_test_mem *tm)
{
    haz_ctx *ctx = NULL;

    haz_test_mem_init(tm);
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, &tm->mem), HAZ_OK);
    return ctx;
}

static haz_graph *new_graph(haz_ctx *ctx)
{
    haz_graph *g = NULL;

    CU_ASSERT_EQUAL_FATAL(haz_graph_new(ctx, &g), HAZ_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    return g;
}

/* Add project:name with a shell action. */
static haz_task *add(haz_graph *g, const char *project, const char *name)
{
    haz_task *t = NULL;

    CU_ASSERT_EQUAL_FATAL(haz_graph_add_task(g, project, name, &t), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(haz_task_set_shell(t, "true"), 0);
    return t;
}

static void validate_ok(haz_graph *g)
{
    CU_ASSERT_EQUAL_FATAL(haz_graph_validate(g, NULL), 0);
}

static haz_task_info info_of(const haz_graph *g, const char *ref)
{
    haz_task_info in;
    size_t i = 0;

    memset(&in, 0, sizeof in);
    CU_ASSERT_EQUAL_FATAL(haz_graph_find_task(g, ref, NULL, &i), 0);
    CU_ASSERT_EQUAL_FATAL(haz_graph_task_info(g, i, &in), 0);
    CU_ASSERT_EQUAL(in.index, i);
    return in;
}

/* Compare a string list with the expected one. */
static void strs_are(const char *const *got, size_t n, const char *const *want,
                     size_t nwant)
{
    size_t i;

    CU_ASSERT_EQUAL_FATAL(n, nwant);
    for (i = 0; i < n; i++)
        CU_ASSERT_STRING_EQUAL(got[i], want[i]);
}

static void idx_are(const size_t *got, size_t n, const size_t *want,
                    size_t nwant)
{
    size_t i;

    CU_ASSERT_EQUAL_FATAL(n, nwant);
    for (i = 0; i < n; i++)
        CU_ASSERT_EQUAL(got[i], want[i]);
}

/* ------------------------------------------------------------------------
 * Building: every error return.
 * ---------------------------------------------------------------------- */

static void test_new_free(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    haz_graph *g = NULL;

    CU_ASSERT_EQUAL(haz_graph_new(NULL, &g), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_graph_new(ctx, NULL), HAZ_EINVAL);
    g = new_graph(ctx);
    haz_graph_free(g);
    haz_graph_free(NULL);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

static void test_project_errors(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    haz_graph *g = new_graph(ctx);

    CU_ASSERT_EQUAL(haz_graph_add_project(NULL, "core", "core"), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_graph_add_project(g, NULL, "core"), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_graph_add_project(g, "core", "core"), 0);
    CU_ASSERT_EQUAL(haz_graph_add_project(g, "core", "other"), HAZ_EEXIST);
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(ctx),
                           "project 'core' is already declared");
    CU_ASSERT_EQUAL(haz_graph_add_project(g, "core", NULL), HAZ_EEXIST);
    /* NULL root is the workspace root. */
    CU_ASSERT_EQUAL(haz_graph_add_project(g, "top", NULL), 0);

    CU_ASSERT_EQUAL(haz_graph_add_project_tag(NULL, "core", "t"), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_graph_add_project_tag(g, NULL, "t"), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_graph_add_project_tag(g, "core", NULL), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_graph_add_project_tag(g, "core", "t"), 0);
    CU_ASSERT_EQUAL(haz_graph_add_project_tag(g, "core", "t"), 0);
    /* A tag creates the project implicitly; it can still be declared. */
    CU_ASSERT_EQUAL(haz_graph_add_project_tag(g, "late", "t"), 0);
    CU_ASSERT_EQUAL(haz_graph_add_project(g, "late", "late/dir"), 0);
    CU_ASSERT_EQUAL(haz_graph_add_project(g, "late", "x"), HAZ_EEXIST);

    CU_ASSERT_EQUAL(haz_graph_set_tag_cap(NULL, "t", 1), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_graph_set_tag_cap(g, NULL, 1), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_graph_set_tag_cap(g, "t", 0), HAZ_EINVAL);
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(ctx),
                           "the cap of tag 't' must be at least 1");
    CU_ASSERT_EQUAL(haz_graph_set_tag_cap(g, "t", 1), 0);
    CU_ASSERT_EQUAL(haz_graph_set_tag_cap(g, "t", 4), 0);   /* replaces */

    {
        const char *names[] = { "PATH", NULL };
        CU_ASSERT_EQUAL(haz_graph_set_env_from_host(NULL, names, 1),
                        HAZ_EINVAL);
        CU_ASSERT_EQUAL(haz_graph_set_env_from_host(g, NULL, 1), HAZ_EINVAL);
        CU_ASSERT_EQUAL(haz_graph_set_env_from_host(g, names, 2), HAZ_EINVAL);
        CU_ASSERT_EQUAL(haz_graph_set_env_from_host(g, NULL, 0), 0);
        CU_ASSERT_EQUAL(haz_graph_set_env_from_host(g, names, 1), 0);
    }

    CU_ASSERT_EQUAL(haz_graph_set_source(NULL, "f", 1), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_graph_set_source(g, "f", 1), 0);
    CU_ASSERT_EQUAL(haz_graph_set_source(g, NULL, 0), 0);

    validate_ok(g);
    {
        size_t n = 0;
        const haz_tag_cap *caps = haz_graph_tag_caps(g, &n);
        CU_ASSERT_EQUAL_FATAL(n, 1);
        CU_ASSERT_STRING_EQUAL(caps[0].tag, "t");
        CU_ASSERT_EQUAL(caps[0].cap, 4);
    }
    haz_graph_free(g);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

static void test_task_errors(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    haz_graph *g = new_graph(ctx);
    haz_task *t = NULL, *u = NULL, *w = NULL;
    const char *argv[] = { "cc", NULL, "x" };

    CU_ASSERT_EQUAL(haz_graph_add_task(NULL, "p", "t", &t), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_graph_add_task(g, NULL, "t", &t), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_graph_add_task(g, "p", NULL, &t), HAZ_EINVAL);
    CU_ASSERT_PTR_NULL(t);
    CU_ASSERT_EQUAL(haz_graph_add_task(g, "p", "t", &t), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_EQUAL(haz_graph_add_task(g, "p", "t", &u), HAZ_EEXIST);
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(ctx), "task 'p:t' already exists");
    CU_ASSERT_PTR_NULL(u);
    CU_ASSERT_EQUAL(haz_graph_add_task(g, "q", "t", NULL), 0);  /* out NULL */
    CU_ASSERT_EQUAL(haz_graph_add_task(g, "q", "u", &u), 0);
    CU_ASSERT_EQUAL(haz_graph_add_task(g, "q", "w", &w), 0);

    /* NULL task or argument. */
    CU_ASSERT_EQUAL(haz_task_set_shell(NULL, "x"), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_task_set_shell(t, NULL), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_task_set_argv(NULL, 1, argv), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_task_set_argv(t, 1, NULL), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_task_set_argv(t, 3, argv), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_task_add_dep(NULL, "p:x"), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_task_add_dep(t, NULL), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_task_add_weak_dep(NULL, "p:x"), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_task_add_weak_dep(t, NULL), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_task_add_tag(NULL, "x"), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_task_add_tag(t, NULL), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_task_add_mutex(NULL, HAZ_MUTEX_WORKSPACE,
                                       HAZ_MUTEX_EXCLUSIVE, "m"), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_task_add_mutex(t, HAZ_MUTEX_WORKSPACE,
                                       HAZ_MUTEX_EXCLUSIVE, NULL), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_task_add_mutex(t, (haz_mutex_scope)7,
                                       HAZ_MUTEX_EXCLUSIVE, "m"), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_task_add_mutex(t, HAZ_MUTEX_WORKSPACE,
                                       (haz_mutex_mode)7, "m"), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_task_add_env_from_host(NULL, "X"), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_task_add_env_from_host(t, NULL), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_task_set_env(NULL, "X", "1"), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_task_set_env(t, NULL, "1"), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_task_set_env(t, "X", NULL), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_task_add_input(NULL, "a"), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_task_add_input(t, NULL), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_task_add_output(NULL, "a"), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_task_add_output(t, NULL), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_task_set_timeout_ns(NULL, 1), HAZ_EINVAL);

    /* One action per task. */
    CU_ASSERT_EQUAL(haz_task_set_shell(t, "make"), 0);
    CU_ASSERT_EQUAL(haz_task_set_shell(t, "make"), HAZ_EEXIST);
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(ctx),
                           "task 'p:t' already has an action");
    CU_ASSERT_EQUAL(haz_task_set_argv(t, 1, argv), HAZ_EEXIST);
    CU_ASSERT_EQUAL(haz_task_set_argv(u, 1, argv), 0);
    CU_ASSERT_EQUAL(haz_task_set_shell(u, "x"), HAZ_EEXIST);
    CU_ASSERT_EQUAL(haz_task_set_argv(u, 1, argv), HAZ_EEXIST);
    /* An empty argv is recorded (and rejected by validation). */
    CU_ASSERT_EQUAL(haz_task_set_argv(w, 0, NULL), 0);
    CU_ASSERT_EQUAL(haz_task_set_argv(w, 0, NULL), HAZ_EEXIST);

    /* Mutexes: the same lock (scope and name) once. */
    CU_ASSERT_EQUAL(haz_task_add_mutex(t, HAZ_MUTEX_WORKSPACE,
                                       HAZ_MUTEX_EXCLUSIVE, "db"), 0);
    CU_ASSERT_EQUAL(haz_task_add_mutex(t, HAZ_MUTEX_WORKSPACE,
                                       HAZ_MUTEX_SHARED, "db"), HAZ_EEXIST);
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(ctx),
                           "task 'p:t' already declares mutex 'db'");
    CU_ASSERT_EQUAL(haz_task_add_mutex(t, HAZ_MUTEX_PROJECT,
                                       HAZ_MUTEX_SHARED, "db"), 0);
    CU_ASSERT_EQUAL(haz_task_add_mutex(t, HAZ_MUTEX_PROJECT,
                                       HAZ_MUTEX_EXCLUSIVE, "db"), HAZ_EEXIST);
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(ctx),
                           "task 'p:t' already declares mutex '~:db'");
    CU_ASSERT_EQUAL(haz_task_add_mutex(u, HAZ_MUTEX_WORKSPACE,
                                       HAZ_MUTEX_EXCLUSIVE, "db"), 0);

    /* Environment overrides: a name once. */
    CU_ASSERT_EQUAL(haz_task_set_env(t, "CFLAGS", "-O2"), 0);
    CU_ASSERT_EQUAL(haz_task_set_env(t, "CFLAGS", "-O0"), HAZ_EEXIST);
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(ctx),
                           "task 'p:t' already sets 'CFLAGS'");
    CU_ASSERT_EQUAL(haz_task_set_env(u, "CFLAGS", "-O0"), 0);

    /* Repeats of list items are accepted. */
    CU_ASSERT_EQUAL(haz_task_add_tag(t, "x"), 0);
    CU_ASSERT_EQUAL(haz_task_add_tag(t, "x"), 0);
    CU_ASSERT_EQUAL(haz_task_add_env_from_host(t, "HOME"), 0);
    CU_ASSERT_EQUAL(haz_task_add_env_from_host(t, "HOME"), 0);
    CU_ASSERT_EQUAL(haz_task_set_timeout_ns(t, 0), 0);

    /* Error messages never carry raw control bytes. */
    CU_ASSERT_EQUAL(haz_graph_add_task(g, "p\x1b[2J", "t", NULL), 0);
    CU_ASSERT_EQUAL(haz_graph_add_task(g, "p\x1b[2J", "t", NULL), HAZ_EEXIST);
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(ctx),
                           "task 'p\\x1b[2J:t' already exists");

    haz_graph_free(g);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

/* ------------------------------------------------------------------------
 * The frozen state.
 * ---------------------------------------------------------------------- */

static void test_queries_before_validation(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    haz_graph *g = new_graph(ctx);
    haz_task_info in;
    unsigned char sel[1];
    size_t i = 0, n = 5;

    add(g, "p", "a");
    CU_ASSERT_EQUAL(haz_graph_set_tag_cap(g, "t", 1), 0);
    CU_ASSERT_EQUAL(haz_graph_task_count(g), 0);
    CU_ASSERT_EQUAL(haz_graph_task_count(NULL), 0);
    CU_ASSERT_EQUAL(haz_graph_task_info(g, 0, &in), HAZ_ESTATE);
    CU_ASSERT_EQUAL(haz_graph_find_task(g, "p:a", NULL, &i), HAZ_ESTATE);
    CU_ASSERT_EQUAL(haz_graph_select(g, NULL, 0, sel, NULL), HAZ_ESTATE);
    CU_ASSERT_PTR_NULL(haz_graph_tag_caps(g, &n));
    CU_ASSERT_EQUAL(n, 0);
    n = 5;
    CU_ASSERT_PTR_NULL(haz__graph_tasks(g, &n));
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_PTR_NULL(haz_graph_tag_caps(NULL, NULL));
    CU_ASSERT_EQUAL(haz_graph_validate(NULL, NULL), HAZ_EINVAL);
    haz_graph_free(g);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

static void test_frozen(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    haz_graph *g = new_graph(ctx);
    haz_task *t = add(g, "p", "a"), *u;
    const char *argv[] = { "x" };
    const char *names[] = { "PATH" };
    haz_diags *d = NULL;

    u = add(g, "p", "b");
    CU_ASSERT_EQUAL_FATAL(haz_diags_new(ctx, &d), 0);
    CU_ASSERT_EQUAL(haz_graph_validate(g, d), 0);
    CU_ASSERT_EQUAL(haz_diags_count(d), 0);
    CU_ASSERT_EQUAL(haz_graph_task_count(g), 2);

    CU_ASSERT_EQUAL(haz_graph_set_source(g, "f", 1), HAZ_ESTATE);
    CU_ASSERT_EQUAL(haz_graph_add_project(g, "q", "."), HAZ_ESTATE);
    CU_ASSERT_EQUAL(haz_graph_add_project_tag(g, "p", "t"), HAZ_ESTATE);
    CU_ASSERT_EQUAL(haz_graph_set_tag_cap(g, "t", 1), HAZ_ESTATE);
    CU_ASSERT_EQUAL(haz_graph_set_env_from_host(g, names, 1), HAZ_ESTATE);
    CU_ASSERT_EQUAL(haz_graph_add_task(g, "p", "c", NULL), HAZ_ESTATE);
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(ctx),
                           "the graph is validated and can no longer change");
    CU_ASSERT_EQUAL(haz_task_set_shell(u, "x"), HAZ_ESTATE);
    CU_ASSERT_EQUAL(haz_task_set_argv(t, 1, argv), HAZ_ESTATE);
    CU_ASSERT_EQUAL(haz_task_add_dep(t, "p:b"), HAZ_ESTATE);
    CU_ASSERT_EQUAL(haz_task_add_weak_dep(t, "p:b"), HAZ_ESTATE);
    CU_ASSERT_EQUAL(haz_task_add_tag(t, "x"), HAZ_ESTATE);
    CU_ASSERT_EQUAL(haz_task_add_mutex(t, HAZ_MUTEX_WORKSPACE,
                                       HAZ_MUTEX_EXCLUSIVE, "m"), HAZ_ESTATE);
    CU_ASSERT_EQUAL(haz_task_add_env_from_host(t, "X"), HAZ_ESTATE);
    CU_ASSERT_EQUAL(haz_task_set_env(t, "X", "1"), HAZ_ESTATE);
    CU_ASSERT_EQUAL(haz_task_add_input(t, "a"), HAZ_ESTATE);
    CU_ASSERT_EQUAL(haz_task_add_output(t, "a"), HAZ_ESTATE);
    CU_ASSERT_EQUAL(haz_task_set_timeout_ns(t, 1), HAZ_ESTATE);

    /* Validating again is a no-op that succeeds. */
    CU_ASSERT_EQUAL(haz_graph_validate(g, d), 0);
    CU_ASSERT_EQUAL(haz_diags_count(d), 0);
    CU_ASSERT_EQUAL(haz_graph_task_count(g), 2);

    haz_diags_free(d);
    haz_graph_free(g);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

static void test_invalid_graph_stays_open(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    haz_graph *g = new_graph(ctx);
    haz_task *t = add(g, "p", "a");

    CU_ASSERT_EQUAL(haz_task_add_dep(t, "p:b"), 0);
    CU_ASSERT_EQUAL(haz_graph_validate(g, NULL), HAZ_EGRAPH);
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(ctx),
                           "the graph is invalid: 1 problem found");
    CU_ASSERT_EQUAL(haz_graph_task_count(g), 0);
    /* Not frozen: correct it and validate again. */
    add(g, "p", "b");
    CU_ASSERT_EQUAL(haz_graph_validate(g, NULL), 0);
    CU_ASSERT_EQUAL(haz_graph_task_count(g), 2);
    haz_graph_free(g);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

/* ------------------------------------------------------------------------
 * Canonical order (DAG-007, reference-exec 2.1).
 * ---------------------------------------------------------------------- */

static void test_canonical_order(void)
{
    static const char *const want[] = {
        "B:Z", "B:y", "a:A", "a:a-b", "a:a0", "a:aB", "a:a_b", "a:x",
        "ab:a"
    };
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    haz_graph *g = new_graph(ctx);
    haz_task_info in;
    size_t i;

    /* Added out of order; sorted byte-wise: "B" < "a", '-' < '0' < 'B' <
     * '_' < 'a', and "a" < "ab" for projects. */
    add(g, "ab", "a");
    add(g, "a", "x");
    add(g, "B", "y");
    add(g, "a", "a_b");
    add(g, "B", "Z");
    add(g, "a", "aB");
    add(g, "a", "A");
    add(g, "a", "a0");
    add(g, "a", "a-b");
    validate_ok(g);
    CU_ASSERT_EQUAL_FATAL(haz_graph_task_count(g), HAZ_ARRAY_LEN(want));
    for (i = 0; i < HAZ_ARRAY_LEN(want); i++) {
        CU_ASSERT_EQUAL_FATAL(haz_graph_task_info(g, i, &in), 0);
        CU_ASSERT_EQUAL(in.index, i);
        CU_ASSERT_STRING_EQUAL(in.id, want[i]);
    }
    CU_ASSERT_EQUAL(haz_graph_task_info(g, i, &in), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_graph_task_info(g, 0, NULL), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_graph_task_info(NULL, 0, &in), HAZ_EINVAL);
    haz_graph_free(g);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

/* ------------------------------------------------------------------------
 * The task view after validation.
 * ---------------------------------------------------------------------- */

/* app:lint(0), app:test(1), core:build(2), core:gen(3). */
static haz_graph *info_graph(haz_ctx *ctx)
{
    haz_graph *g = new_graph(ctx);
    haz_task *t;
    const char *gen_argv[] = { "gen", "--out", "x" };
    const char *defaults[] = { "PATH", "LANG" };
    char buf[16];

    CU_ASSERT_EQUAL(haz_graph_set_env_from_host(g, defaults, 2), 0);
    CU_ASSERT_EQUAL(haz_graph_set_tag_cap(g, "zzz", 3), 0);
    CU_ASSERT_EQUAL(haz_graph_set_tag_cap(g, "slow", 2), 0);
    CU_ASSERT_EQUAL(haz_graph_set_tag_cap(g, "heavy", 1), 0);

    add(g, "app", "lint");
    t = add(g, "app", "test");
    CU_ASSERT_EQUAL(haz_task_add_dep(t, "core:build"), 0);

    /* core:build uses core before it is declared: it takes the root. */
    CU_ASSERT_EQUAL_FATAL(haz_graph_add_task(g, "core", "build", &t), 0);
    CU_ASSERT_EQUAL(haz_graph_add_project(g, "core", "libs/core"), 0);
    CU_ASSERT_EQUAL(haz_graph_add_project_tag(g, "core", "heavy"), 0);
    CU_ASSERT_EQUAL(haz_graph_add_project_tag(g, "core", "alpha"), 0);
    CU_ASSERT_EQUAL(haz_graph_add_project_tag(g, "core", "heavy"), 0);
    /* Strings are copied: the caller's buffer is reused afterwards. */
    strcpy(buf, "cc -c a.c");
    CU_ASSERT_EQUAL(haz_task_set_shell(t, buf), 0);
    strcpy(buf, "~:gen");
    CU_ASSERT_EQUAL(haz_task_add_dep(t, buf), 0);
    strcpy(buf, "XXXXXXX");
    CU_ASSERT_EQUAL(haz_task_add_dep(t, "core:gen"), 0);   /* duplicates */
    CU_ASSERT_EQUAL(haz_task_add_dep(t, "core:gen"), 0);
    CU_ASSERT_EQUAL(haz_task_add_weak_dep(t, "app:lint"), 0);
    CU_ASSERT_EQUAL(haz_task_add_tag(t, "slow"), 0);
    CU_ASSERT_EQUAL(haz_task_add_tag(t, "heavy"), 0);
    CU_ASSERT_EQUAL(haz_task_add_tag(t, "b"), 0);
    CU_ASSERT_EQUAL(haz_task_add_mutex(t, HAZ_MUTEX_PROJECT,
                                       HAZ_MUTEX_SHARED, "scratch"), 0);
    CU_ASSERT_EQUAL(haz_task_add_mutex(t, HAZ_MUTEX_WORKSPACE,
                                       HAZ_MUTEX_EXCLUSIVE, "db"), 0);
    CU_ASSERT_EQUAL(haz_task_add_env_from_host(t, "HOME"), 0);
    CU_ASSERT_EQUAL(haz_task_add_env_from_host(t, "PATH"), 0);
    CU_ASSERT_EQUAL(haz_task_add_env_from_host(t, "AAA"), 0);
    CU_ASSERT_EQUAL(haz_task_set_env(t, "Z", "1"), 0);
    CU_ASSERT_EQUAL(haz_task_set_env(t, "A", "2"), 0);
    CU_ASSERT_EQUAL(haz_task_set_env(t, "M", ""), 0);
    CU_ASSERT_EQUAL(haz_task_add_input(t, "a.c"), 0);
    CU_ASSERT_EQUAL(haz_task_add_input(t, "include/*.h"), 0);
    CU_ASSERT_EQUAL(haz_task_add_output(t, "a.o"), 0);
    CU_ASSERT_EQUAL(haz_task_add_output(t, "/dist/{x,y}.bin"), 0);
    CU_ASSERT_EQUAL(haz_task_set_timeout_ns(t, UINT64_C(5000000000)), 0);

    CU_ASSERT_EQUAL_FATAL(haz_graph_add_task(g, "core", "gen", &t), 0);
    CU_ASSERT_EQUAL(haz_task_set_argv(t, 3, gen_argv), 0);
    CU_ASSERT_EQUAL(haz_task_add_mutex(t, HAZ_MUTEX_PROJECT,
                                       HAZ_MUTEX_EXCLUSIVE, "scratch"), 0);
    CU_ASSERT_EQUAL(haz_task_add_mutex(t, HAZ_MUTEX_WORKSPACE,
                                       HAZ_MUTEX_EXCLUSIVE, "scratch"), 0);
    validate_ok(g);
    return g;
}

static void test_info_fields(void)
{
    static const char *const build_tags[] = { "alpha", "b", "heavy", "slow" };
    static const char *const build_env_host[] = { "AAA", "HOME", "LANG",
                                                  "PATH" };
    static const char *const gen_tags[] = { "alpha", "heavy" };
    static const char *const lint_env_host[] = { "LANG", "PATH" };
    static const char *const inputs[] = { "a.c", "include/*.h" };
    static const char *const outputs[] = { "a.o", "/dist/{x,y}.bin" };
    static const size_t three[] = { 3 }, zero[] = { 0 }, one[] = { 1 },
                        two[] = { 2 };
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    haz_graph *g = info_graph(ctx);
    haz_task_info in;

    CU_ASSERT_EQUAL_FATAL(haz_graph_task_count(g), 4);

    in = info_of(g, "core:build");
    CU_ASSERT_EQUAL(in.index, 2);
    CU_ASSERT_STRING_EQUAL(in.project, "core");
    CU_ASSERT_STRING_EQUAL(in.name, "build");
    CU_ASSERT_STRING_EQUAL(in.id, "core:build");
    CU_ASSERT_STRING_EQUAL(in.project_root, "libs/core");
    CU_ASSERT_EQUAL(in.action, HAZ_ACTION_SHELL);
    CU_ASSERT_STRING_EQUAL(in.script, "cc -c a.c");
    CU_ASSERT_PTR_NULL(in.argv);
    CU_ASSERT_EQUAL(in.argc, 0);
    idx_are(in.deps, in.n_deps, three, 1);          /* de-duplicated */
    idx_are(in.weak_deps, in.n_weak_deps, zero, 1);
    idx_are(in.dependents, in.n_dependents, one, 1);
    CU_ASSERT_EQUAL(in.n_weak_dependents, 0);
    strs_are(in.tags, in.n_tags, build_tags, 4);
    CU_ASSERT_EQUAL_FATAL(in.n_mutexes, 2);         /* declaration order */
    CU_ASSERT_EQUAL(in.mutexes[0].scope, HAZ_MUTEX_PROJECT);
    CU_ASSERT_EQUAL(in.mutexes[0].mode, HAZ_MUTEX_SHARED);
    CU_ASSERT_STRING_EQUAL(in.mutexes[0].name, "scratch");
    CU_ASSERT_EQUAL(in.mutexes[1].scope, HAZ_MUTEX_WORKSPACE);
    CU_ASSERT_EQUAL(in.mutexes[1].mode, HAZ_MUTEX_EXCLUSIVE);
    CU_ASSERT_STRING_EQUAL(in.mutexes[1].name, "db");
    strs_are(in.env_from_host, in.n_env_from_host, build_env_host, 4);
    CU_ASSERT_EQUAL_FATAL(in.n_env, 3);             /* sorted by name */
    CU_ASSERT_STRING_EQUAL(in.env[0].name, "A");
    CU_ASSERT_STRING_EQUAL(in.env[0].value, "2");
    CU_ASSERT_STRING_EQUAL(in.env[1].name, "M");
    CU_ASSERT_STRING_EQUAL(in.env[1].value, "");
    CU_ASSERT_STRING_EQUAL(in.env[2].name, "Z");
    CU_ASSERT_STRING_EQUAL(in.env[2].value, "1");
    strs_are(in.inputs, in.n_inputs, inputs, 2);
    strs_are(in.outputs, in.n_outputs, outputs, 2);
    CU_ASSERT(in.timeout_ns == UINT64_C(5000000000));

    in = info_of(g, "core:gen");
    CU_ASSERT_EQUAL(in.index, 3);
    CU_ASSERT_EQUAL(in.action, HAZ_ACTION_ARGV);
    CU_ASSERT_PTR_NULL(in.script);
    CU_ASSERT_EQUAL_FATAL(in.argc, 3);
    CU_ASSERT_STRING_EQUAL(in.argv[0], "gen");
    CU_ASSERT_STRING_EQUAL(in.argv[1], "--out");
    CU_ASSERT_STRING_EQUAL(in.argv[2], "x");
    CU_ASSERT_PTR_NULL(in.argv[3]);
    CU_ASSERT_EQUAL(in.n_deps, 0);
    idx_are(in.dependents, in.n_dependents, two, 1);
    strs_are(in.tags, in.n_tags, gen_tags, 2);
    strs_are(in.env_from_host, in.n_env_from_host, lint_env_host, 2);
    CU_ASSERT_EQUAL(in.n_env, 0);
    CU_ASSERT(in.timeout_ns == 0);

    in = info_of(g, "app:lint");
    CU_ASSERT_EQUAL(in.index, 0);
    CU_ASSERT_STRING_EQUAL(in.project_root, ".");
    CU_ASSERT_EQUAL(in.n_tags, 0);
    CU_ASSERT_EQUAL(in.n_dependents, 0);
    idx_are(in.weak_dependents, in.n_weak_dependents, two, 1);
    strs_are(in.env_from_host, in.n_env_from_host, lint_env_host, 2);
    CU_ASSERT_EQUAL(in.n_mutexes, 0);
    CU_ASSERT_EQUAL(in.n_inputs, 0);
    CU_ASSERT_EQUAL(in.n_outputs, 0);

    in = info_of(g, "app:test");
    idx_are(in.deps, in.n_deps, two, 1);
    CU_ASSERT_EQUAL(in.n_weak_deps, 0);

    {
        size_t n = 0;
        const haz_tag_cap *caps = haz_graph_tag_caps(g, &n);
        CU_ASSERT_EQUAL_FATAL(n, 3);                /* sorted by tag */
        CU_ASSERT_STRING_EQUAL(caps[0].tag, "heavy");
        CU_ASSERT_EQUAL(caps[0].cap, 1);
        CU_ASSERT_STRING_EQUAL(caps[1].tag, "slow");
        CU_ASSERT_EQUAL(caps[1].cap, 2);
        CU_ASSERT_STRING_EQUAL(caps[2].tag, "zzz");
        CU_ASSERT_EQUAL(caps[2].cap, 3);
        CU_ASSERT_PTR_EQUAL(haz_graph_tag_caps(g, NULL), caps);
    }
    haz_graph_free(g);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

static void test_default_env(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    haz_graph *g = new_graph(ctx);
    haz_graph *h = new_graph(ctx);
    haz_task_info in;

    /* design 2.14: the workspace default is PATH. */
    add(g, "p", "a");
    validate_ok(g);
    in = info_of(g, "p:a");
    CU_ASSERT_EQUAL_FATAL(in.n_env_from_host, 1);
    CU_ASSERT_STRING_EQUAL(in.env_from_host[0], "PATH");
    CU_ASSERT_STRING_EQUAL(in.project_root, ".");
    CU_ASSERT_PTR_NULL(haz_graph_tag_caps(g, NULL));

    /* An empty default list. */
    CU_ASSERT_EQUAL(haz_graph_set_env_from_host(h, NULL, 0), 0);
    add(h, "p", "a");
    validate_ok(h);
    in = info_of(h, "p:a");
    CU_ASSERT_EQUAL(in.n_env_from_host, 0);
    haz_graph_free(g);
    haz_graph_free(h);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

/* The scheduler's view: caps per task, lock ids, absolute patterns. */
static void test_internal_view(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    haz_graph *g = info_graph(ctx);
    const haz__gtask *gt;
    const haz__glock *locks;
    size_t n = 0, nl = 0;

    CU_ASSERT_PTR_EQUAL(haz__graph_ctx(g), ctx);
    gt = haz__graph_tasks(g, &n);
    CU_ASSERT_EQUAL_FATAL(n, 4);
    CU_ASSERT_STRING_EQUAL(gt[2].info.id, "core:build");
    /* Caps carried: heavy (0) and slow (1) of heavy/slow/zzz. */
    CU_ASSERT_EQUAL_FATAL(gt[2].n_caps, 2);
    CU_ASSERT_EQUAL(gt[2].caps[0], 0);
    CU_ASSERT_EQUAL(gt[2].caps[1], 1);
    CU_ASSERT_EQUAL_FATAL(gt[3].n_caps, 1);
    CU_ASSERT_EQUAL(gt[3].caps[0], 0);
    CU_ASSERT_EQUAL(gt[0].n_caps, 0);

    /* Lock keys (scope, project, name): workspace db, workspace scratch,
     * core's scratch. */
    locks = haz__graph_locks(g, &nl);
    CU_ASSERT_EQUAL_FATAL(nl, 3);
    CU_ASSERT_EQUAL(locks[0].scope, HAZ_MUTEX_WORKSPACE);
    CU_ASSERT_PTR_NULL(locks[0].project);
    CU_ASSERT_STRING_EQUAL(locks[0].name, "db");
    CU_ASSERT_EQUAL(locks[1].scope, HAZ_MUTEX_WORKSPACE);
    CU_ASSERT_STRING_EQUAL(locks[1].name, "scratch");
    CU_ASSERT_EQUAL(locks[2].scope, HAZ_MUTEX_PROJECT);
    CU_ASSERT_STRING_EQUAL(locks[2].project, "core");
    CU_ASSERT_STRING_EQUAL(locks[2].name, "scratch");
    CU_ASSERT_EQUAL(gt[2].locks[0], 2);             /* ~:scratch */
    CU_ASSERT_EQUAL(gt[2].locks[1], 0);             /* db */
    CU_ASSERT_EQUAL(gt[3].locks[0], 2);             /* ~:scratch */
    CU_ASSERT_EQUAL(gt[3].locks[1], 1);             /* scratch */

    /* Patterns made workspace-absolute (PATH-004/005). */
    CU_ASSERT_STRING_EQUAL(gt[2].inputs[0].abs, "/libs/core/a.c");
    CU_ASSERT_EQUAL(gt[2].inputs[0].is_glob, 0);
    CU_ASSERT_PTR_EQUAL(gt[2].inputs[0].text, gt[2].info.inputs[0]);
    CU_ASSERT_STRING_EQUAL(gt[2].inputs[1].abs, "/libs/core/include/*.h");
    CU_ASSERT_EQUAL(gt[2].inputs[1].is_glob, 1);
    CU_ASSERT_STRING_EQUAL(gt[2].outputs[0].abs, "/libs/core/a.o");
    CU_ASSERT_STRING_EQUAL(gt[2].outputs[1].abs, "/dist/{x,y}.bin");
    CU_ASSERT_EQUAL(gt[2].outputs[1].is_glob, 1);

    /* A graph without mutexes has no lock table. */
    {
        haz_graph *h = new_graph(ctx);
        add(h, "p", "a");
        validate_ok(h);
        nl = 9;
        CU_ASSERT_PTR_NULL(haz__graph_locks(h, &nl));
        CU_ASSERT_EQUAL(nl, 0);
        haz_graph_free(h);
    }
    haz_graph_free(g);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

/* ------------------------------------------------------------------------
 * haz_graph_find_task.
 * ---------------------------------------------------------------------- */

static void test_find_task(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    haz_graph *g = info_graph(ctx);
    size_t i = 99;

    CU_ASSERT_EQUAL(haz_graph_find_task(g, "core:gen", NULL, &i), 0);
    CU_ASSERT_EQUAL(i, 3);
    CU_ASSERT_EQUAL(haz_graph_find_task(g, "core:gen", "app", &i), 0);
    CU_ASSERT_EQUAL(i, 3);
    /* REF-002: ~ is the bearing project. */
    CU_ASSERT_EQUAL(haz_graph_find_task(g, "~:build", "core", &i), 0);
    CU_ASSERT_EQUAL(i, 2);
    CU_ASSERT_EQUAL(haz_graph_find_task(g, "~:lint", "app", &i), 0);
    CU_ASSERT_EQUAL(i, 0);
    i = 99;
    CU_ASSERT_EQUAL(haz_graph_find_task(g, "~:lint", "core", &i), HAZ_ENOENT);
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(ctx), "no task '~:lint'");
    CU_ASSERT_EQUAL(haz_graph_find_task(g, "~:lint", NULL, &i), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_graph_find_task(g, "core:nope", NULL, &i),
                    HAZ_ENOENT);
    CU_ASSERT_EQUAL(haz_graph_find_task(g, "nope:gen", NULL, &i), HAZ_ENOENT);
    CU_ASSERT_EQUAL(i, 99);
    CU_ASSERT_EQUAL(haz_graph_find_task(g, "gen", NULL, &i), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_graph_find_task(g, "^:gen", NULL, &i), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_graph_find_task(g, "[t]:gen", NULL, &i), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_graph_find_task(g, "core:", NULL, &i), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_graph_find_task(g, ":gen", NULL, &i), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_graph_find_task(g, NULL, NULL, &i), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_graph_find_task(g, "core:gen", NULL, NULL),
                    HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_graph_find_task(NULL, "core:gen", NULL, &i),
                    HAZ_EINVAL);
    haz_graph_free(g);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

/* ------------------------------------------------------------------------
 * haz_graph_select (design 2.13).
 * ---------------------------------------------------------------------- */

/* p1:a(0) -> p1:b(1) ~> p1:c(2); p1:d(3); p2:a(4) -> p2:e(5); p2:f(6).
 * "->" hard, "~>" soft. */
static haz_graph *select_graph(haz_ctx *ctx)
{
    haz_graph *g = new_graph(ctx);
    haz_task *t;

    t = add(g, "p1", "a");
    CU_ASSERT_EQUAL(haz_task_add_dep(t, "~:b"), 0);
    t = add(g, "p1", "b");
    CU_ASSERT_EQUAL(haz_task_add_weak_dep(t, "~:c"), 0);
    add(g, "p1", "c");
    add(g, "p1", "d");
    t = add(g, "p2", "a");
    CU_ASSERT_EQUAL(haz_task_add_dep(t, "p2:e"), 0);
    add(g, "p2", "e");
    add(g, "p2", "f");
    validate_ok(g);
    return g;
}

static void mask_is(const unsigned char *sel, const char *want)
{
    size_t i;

    for (i = 0; want[i] != '\0'; i++)
        CU_ASSERT_EQUAL(sel[i], want[i] == '1');
}

static void test_select(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    haz_graph *g = select_graph(ctx);
    haz_diags *d = NULL;
    unsigned char sel[7];
    const char *t1[] = { "p1:a" };
    const char *t2[] = { "a" };
    const char *t3[] = { "p1:c", "p2:e", "p1:c" };
    const char *t4[] = { "p1:zz", "p1:a", "nope", "~:a", "p1", "" };
    const char *t5[] = { "p1:a", NULL };

    CU_ASSERT_EQUAL_FATAL(haz_diags_new(ctx, &d), 0);
    /* The closure over hard and soft edges. */
    memset(sel, 7, sizeof sel);
    CU_ASSERT_EQUAL(haz_graph_select(g, t1, 1, sel, d), 0);
    mask_is(sel, "1110000");
    /* A bare name: that task in every project. */
    CU_ASSERT_EQUAL(haz_graph_select(g, t2, 1, sel, d), 0);
    mask_is(sel, "1110110");
    CU_ASSERT_EQUAL(haz_graph_select(g, t3, 3, sel, d), 0);
    mask_is(sel, "0010010");
    /* No target: every task. */
    memset(sel, 0, sizeof sel);
    CU_ASSERT_EQUAL(haz_graph_select(g, NULL, 0, sel, d), 0);
    mask_is(sel, "1111111");
    CU_ASSERT_EQUAL(haz_diags_count(d), 0);

    /* Unknown targets: each reported, nothing selected. */
    CU_ASSERT_EQUAL(haz_graph_select(g, t4, 6, sel, d), HAZ_ENOENT);
    mask_is(sel, "0000000");
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(ctx),
                           "unknown target 'p1:zz' (and others)");
    CU_ASSERT_EQUAL_FATAL(haz_diags_count(d), 5);
    CU_ASSERT_EQUAL(haz_diags_get(d, 0)->kind, HAZ_DIAG_UNKNOWN_TARGET);
    CU_ASSERT_STRING_EQUAL(haz_diags_get(d, 0)->text,
                           "unknown target 'p1:zz'");
    CU_ASSERT_STRING_EQUAL(haz_diags_get(d, 1)->text,
                           "unknown target 'nope'");
    CU_ASSERT_STRING_EQUAL(haz_diags_get(d, 2)->text,
                           "unknown target '~:a'");
    CU_ASSERT_STRING_EQUAL(haz_diags_get(d, 3)->text, "unknown target 'p1'");
    CU_ASSERT_STRING_EQUAL(haz_diags_get(d, 4)->text, "unknown target ''");
    CU_ASSERT_EQUAL(haz_diags_get(d, 4)->kind, HAZ_DIAG_UNKNOWN_TARGET);
    /* Without a list, the verdict only. */
    memset(sel, 1, sizeof sel);
    CU_ASSERT_EQUAL(haz_graph_select(g, t4, 1, sel, NULL), HAZ_ENOENT);
    mask_is(sel, "0000000");
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(ctx), "unknown target 'p1:zz'");

    CU_ASSERT_EQUAL(haz_graph_select(NULL, t1, 1, sel, d), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_graph_select(g, t1, 1, NULL, d), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_graph_select(g, NULL, 1, sel, d), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_graph_select(g, t5, 2, sel, d), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_diags_count(d), 5);

    haz_diags_free(d);
    haz_graph_free(g);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

static void test_select_empty_graph(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    haz_graph *g = new_graph(ctx);
    const char *t[] = { "x" };

    CU_ASSERT_PTR_NULL(haz__graph_tasks(g, NULL));
    validate_ok(g);
    CU_ASSERT_EQUAL(haz_graph_task_count(g), 0);
    {
        size_t n = 9;
        CU_ASSERT_PTR_NOT_NULL(haz__graph_tasks(g, &n));  /* frozen */
        CU_ASSERT_EQUAL(n, 0);
    }
    CU_ASSERT_EQUAL(haz_graph_select(g, NULL, 0, NULL, NULL), 0);
    CU_ASSERT_EQUAL(haz_graph_select(g, t, 1, NULL, NULL), HAZ_ENOENT);
    haz_graph_free(g);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

/* A long chain: the closure walk is iterative. */
static void test_select_long_chain(void)
{
    enum { N = 100000 };
    haz_test_mem tm;
    haz_ctx *ctx = new_ctx(&tm);
    haz_graph *g = new_graph(ctx);
    static unsigned char sel[N];
    const char *target[] = { "c:t099999" };
    char name[32], ref[48];
    size_t i, count = 0;

    for (i = 0; i < N; i++) {
        haz_task *t;
        sprintf(name, "t%06lu", (unsigned long)i);
        t = add(g, "c", name);
        if (i > 0) {
            sprintf(ref, "~:t%06lu", (unsigned long)(i - 1));
            CU_ASSERT_EQUAL(haz_task_add_dep(t, ref), 0);
        }
    }
    validate_ok(g);
    CU_ASSERT_EQUAL(haz_graph_select(g, target, 1, sel, NULL), 0);
    for (i = 0; i < N; i++)
        count += sel[i];
    CU_ASSERT_EQUAL(count, N);
    haz_graph_free(g);
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm.live, 0);
}

/* ------------------------------------------------------------------------
 * Allocation failures.
 * ---------------------------------------------------------------------- */

typedef struct scen {
    haz_graph *g;
    haz_task *t[5];
} scen;

#define SCEN_STEPS 35

/* One building call of the scenario. */
static int scen_step(haz_ctx *ctx, scen *s, int k)
{
    static const char *gen_argv[] = { "gen", "-o" };
    static const char *test_argv[] = { "t" };
    static const char *env[] = { "PATH", "HOME" };
    haz_task **t = s->t;

    switch (k) {
    case 0: return haz_graph_new(ctx, &s->g);
    case 1: return haz_graph_set_source(s->g, "hazfile", 1);
    case 2: return haz_graph_add_project(s->g, "core", "libs/core");
    case 3: return haz_graph_add_project_tag(s->g, "core", "heavy");
    case 4: return haz_graph_add_project_tag(s->g, "app", "ui");
    case 5: return haz_graph_set_tag_cap(s->g, "heavy", 1);
    case 6: return haz_graph_set_tag_cap(s->g, "heavy", 2);
    case 7: return haz_graph_set_env_from_host(s->g, env, 2);
    case 8: return haz_graph_set_source(s->g, "other.haz", 7);
    case 9: return haz_graph_add_task(s->g, "core", "gen", &t[0]);
    case 10: return haz_task_set_argv(t[0], 2, gen_argv);
    case 11: return haz_task_add_output(t[0], "gen.h");
    case 12: return haz_graph_add_task(s->g, "core", "build", &t[1]);
    case 13: return haz_task_set_shell(t[1], "cc -c a.c");
    case 14: return haz_task_add_dep(t[1], "~:gen");
    case 15: return haz_task_add_weak_dep(t[1], "app:lint");
    case 16: return haz_task_add_tag(t[1], "slow");
    case 17: return haz_task_add_mutex(t[1], HAZ_MUTEX_WORKSPACE,
                                       HAZ_MUTEX_EXCLUSIVE, "db");
    case 18: return haz_task_add_mutex(t[1], HAZ_MUTEX_PROJECT,
                                       HAZ_MUTEX_SHARED, "scratch");
    case 19: return haz_task_add_env_from_host(t[1], "CC");
    case 20: return haz_task_set_env(t[1], "CFLAGS", "-O2");
    case 21: return haz_task_set_env(t[1], "A", "1");
    case 22: return haz_task_add_input(t[1], "src/*.c");
    case 23: return haz_task_add_output(t[1], "a.o");
    case 24: return haz_task_set_timeout_ns(t[1], 7);
    case 25: return haz_graph_add_task(s->g, "app", "lint", &t[2]);
    case 26: return haz_task_set_shell(t[2], "lint");
    case 27: return haz_graph_add_task(s->g, "app", "test", &t[3]);
    case 28: return haz_task_set_argv(t[3], 1, test_argv);
    case 29: return haz_task_add_dep(t[3], "core:build");
    case 30: return haz_graph_add_project(s->g, "app", ".");
    case 31: return haz_graph_set_source(s->g, NULL, 0);
    case 32: return haz_graph_add_task(s->g, "zz", "x", &t[4]);
    case 33: return haz_task_set_shell(t[4], "x");
    case 34: return haz_graph_set_source(s->g, "hazfile", 40);
    default: return HAZ_EINTERNAL;
    }
}

/* A text that sums up a validated graph, to compare two of them. */
static void fingerprint(const haz_graph *g, char *buf, size_t cap)
{
    size_t i, j, n = haz_graph_task_count(g), len = 0;
    const haz__gtask *gt = haz__graph_tasks(g, NULL);

#define ADD(...) do { if (len < cap) \
        len += (size_t)snprintf(buf + len, cap - len, __VA_ARGS__); } while (0)
    for (i = 0; i < n; i++) {
        const haz_task_info *in = &gt[i].info;
        ADD("%s root=%s act=%d", in->id, in->project_root, (int)in->action);
        for (j = 0; j < in->n_deps; j++)
            ADD(" d%lu", (unsigned long)in->deps[j]);
        for (j = 0; j < in->n_weak_deps; j++)
            ADD(" w%lu", (unsigned long)in->weak_deps[j]);
        for (j = 0; j < in->n_tags; j++) ADD(" t=%s", in->tags[j]);
        for (j = 0; j < in->n_mutexes; j++)
            ADD(" m=%d%d%s", (int)in->mutexes[j].scope,
                (int)in->mutexes[j].mode, in->mutexes[j].name);
        for (j = 0; j < in->n_env_from_host; j++)
            ADD(" h=%s", in->env_from_host[j]);
        for (j = 0; j < in->n_env; j++)
            ADD(" e=%s=%s", in->env[j].name, in->env[j].value);
        for (j = 0; j < in->n_inputs; j++) ADD(" i=%s", gt[i].inputs[j].abs);
        for (j = 0; j < in->n_outputs; j++) ADD(" o=%s", gt[i].outputs[j].abs);
        for (j = 0; j < gt[i].n_caps; j++)
            ADD(" c%lu", (unsigned long)gt[i].caps[j]);
        ADD(" to=%lu;", (unsigned long)in->timeout_ns);
    }
#undef ADD
}

/*
 * Fail one allocation (the n-th) for n = 1, 2, ... until a run has no
 * failure.  Each call returns 0 or HAZ_ENOMEM; after a HAZ_ENOMEM the same
 * call made again without failures must succeed (nothing was half-added:
 * no spurious HAZ_EEXIST), and the final graph must equal the reference.
 */
static void test_alloc_sweep_build(void)
{
    haz_test_mem tm;
    char want[2048], got[2048];
    unsigned long n;
    int k;

    {
        haz_ctx *ctx = new_ctx(&tm);
        scen s;
        memset(&s, 0, sizeof s);
        for (k = 0; k < SCEN_STEPS; k++)
            CU_ASSERT_EQUAL_FATAL(scen_step(ctx, &s, k), 0);
        CU_ASSERT_EQUAL_FATAL(haz_graph_validate(s.g, NULL), 0);
        fingerprint(s.g, want, sizeof want);
        CU_ASSERT_EQUAL(haz_graph_task_count(s.g), 5);
        haz_graph_free(s.g);
        haz_ctx_free(ctx);
        CU_ASSERT_EQUAL_FATAL(tm.live, 0);
    }
    for (n = 1; n < 100000; n++) {
        haz_ctx *ctx = new_ctx(&tm);
        int failed = 0, r;
        scen s;

        memset(&s, 0, sizeof s);
        haz_test_mem_fail_at(&tm, n, 0);
        for (k = 0; k < SCEN_STEPS; k++) {
            r = scen_step(ctx, &s, k);
            if (r == HAZ_ENOMEM) {
                failed = 1;
                CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), HAZ_ENOMEM);
                r = scen_step(ctx, &s, k);
            }
            CU_ASSERT_EQUAL(r, 0);
            if (r != 0)
                fprintf(stderr, "\n  fail_at %lu: step %d gave %d\n", n, k,
                        r);
        }
        r = haz_graph_validate(s.g, NULL);
        if (r == HAZ_ENOMEM) {
            failed = 1;
            CU_ASSERT_EQUAL(haz_graph_task_count(s.g), 0);  /* not frozen */
            r = haz_graph_validate(s.g, NULL);
        }
        CU_ASSERT_EQUAL(r, 0);
        fingerprint(s.g, got, sizeof got);
        CU_ASSERT_STRING_EQUAL(got, want);
        haz_graph_free(s.g);
        haz_ctx_free(ctx);
        CU_ASSERT_EQUAL(tm.live, 0);
        if (!failed) {
            CU_ASSERT_EQUAL(tm.failures, 0);
            break;
        }
    }
    CU_ASSERT(n > 50);                  /* the sweep did reach far */
}

/* Fail every allocation from the n-th on: each call returns 0 or
 * HAZ_ENOMEM and freeing afterwards leaks nothing. */
static void test_alloc_sweep_persistent(void)
{
    haz_test_mem tm;
    unsigned long n;

    for (n = 1; n < 100000; n++) {
        haz_ctx *ctx = new_ctx(&tm);
        haz_diags *d = NULL;
        unsigned char sel[5];
        const char *target[] = { "build" };
        int k, r, failed = 0;
        scen s;

        memset(&s, 0, sizeof s);
        CU_ASSERT_EQUAL_FATAL(haz_diags_new(ctx, &d), 0);
        haz_test_mem_fail_at(&tm, n, 1);
        for (k = 0; k < SCEN_STEPS; k++) {
            r = scen_step(ctx, &s, k);
            CU_ASSERT(r == 0 || r == HAZ_ENOMEM);
            if (r != 0) {
                failed = 1;         /* later steps need what failed */
                break;
            }
        }
        if (s.g != NULL && !failed) {
            r = haz_graph_validate(s.g, d);
            CU_ASSERT(r == 0 || r == HAZ_ENOMEM);
            if (r == 0) {
                r = haz_graph_select(s.g, target, 1, sel, d);
                CU_ASSERT(r == 0 || r == HAZ_ENOMEM);
            }
            if (r != 0)
                failed = 1;
        }
        haz_graph_free(s.g);
        haz_diags_free(d);
        haz_ctx_free(ctx);
        CU_ASSERT_EQUAL(tm.live, 0);
        if (!failed)
            break;
    }
    CU_ASSERT(n > 50);
}

/* The same over validating an invalid graph with diagnostics: the verdict
 * is HAZ_EGRAPH or HAZ_ENOMEM, and a retry gives the full list. */
static void test_alloc_sweep_invalid(void)
{
    haz_test_mem tm;
    unsigned long n;
    size_t want = 0;

    for (n = 0; n < 100000; n++) {
        haz_ctx *ctx = new_ctx(&tm);
        haz_graph *g = new_graph(ctx);
        haz_diags *d = NULL;
        unsigned long failures;
        haz_task *t;
        int r;

        CU_ASSERT_EQUAL_FATAL(haz_diags_new(ctx, &d), 0);
        CU_ASSERT_EQUAL(haz_graph_set_source(g, "f\x01", 3), 0);
        CU_ASSERT_EQUAL(haz_graph_add_project(g, "b d", "../x"), 0);
        CU_ASSERT_EQUAL(haz_graph_set_tag_cap(g, "x y", 1), 0);
        t = add(g, "p", "a");
        CU_ASSERT_EQUAL(haz_task_add_dep(t, "~:b"), 0);
        CU_ASSERT_EQUAL(haz_task_add_dep(t, "~:zz"), 0);
        CU_ASSERT_EQUAL(haz_task_add_output(t, "o"), 0);
        t = add(g, "p", "b");
        CU_ASSERT_EQUAL(haz_task_add_weak_dep(t, "~:a"), 0);
        CU_ASSERT_EQUAL(haz_task_add_dep(t, "~:b"), 0);
        CU_ASSERT_EQUAL(haz_task_add_input(t, "a//b"), 0);
        CU_ASSERT_EQUAL(haz_task_add_output(t, "/o"), 0);
        if (n > 0)
            haz_test_mem_fail_at(&tm, n, 0);
        r = haz_graph_validate(g, d);
        failures = tm.failures;
        haz_test_mem_fail_at(&tm, 0, 0);
        if (n == 0) {
            CU_ASSERT_EQUAL(r, HAZ_EGRAPH);
            want = haz_diags_count(d);
            CU_ASSERT_EQUAL(want, 8);
        } else if (r == HAZ_ENOMEM) {
            haz_diags_clear(d);
            r = haz_graph_validate(g, d);
            CU_ASSERT_EQUAL(r, HAZ_EGRAPH);
        } else {
            CU_ASSERT_EQUAL(r, HAZ_EGRAPH);
        }
        CU_ASSERT_EQUAL(haz_diags_count(d), want);
        haz_diags_free(d);
        haz_graph_free(g);
        haz_ctx_free(ctx);
        CU_ASSERT_EQUAL(tm.live, 0);
        if (n > 0 && failures == 0)
            break;
    }
    CU_ASSERT(n > 10);
}

static CU_TestInfo build_tests[] = {
    { "new and free", test_new_free },
    { "projects, tag caps, env defaults: error returns",
      test_project_errors },
    { "tasks and setters: error returns", test_task_errors },
    { "queries before validation (HAZ_ESTATE)",
      test_queries_before_validation },
    { "frozen graph (HAZ_ESTATE)", test_frozen },
    { "an invalid graph stays open", test_invalid_graph_stays_open },
    CU_TEST_INFO_NULL
};

static CU_TestInfo view_tests[] = {
    { "canonical order, byte-wise (DAG-007)", test_canonical_order },
    { "task info fields", test_info_fields },
    { "default host environment (design 2.14)", test_default_env },
    { "scheduler view: caps, locks, patterns", test_internal_view },
    { "find_task with ~: (REF-002/003)", test_find_task },
    CU_TEST_INFO_NULL
};

static CU_TestInfo select_tests[] = {
    { "closure, bare names, unknown targets (design 2.13)", test_select },
    { "empty graph", test_select_empty_graph },
    { "100000-task chain", test_select_long_chain },
    CU_TEST_INFO_NULL
};

static CU_TestInfo alloc_tests[] = {
    { "one failure at each allocation: build + validate",
      test_alloc_sweep_build },
    { "persistent failure from each allocation",
      test_alloc_sweep_persistent },
    { "one failure at each allocation: invalid graph",
      test_alloc_sweep_invalid },
    CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
    HAZ_TEST_SUITE("build", build_tests),
    HAZ_TEST_SUITE("view", view_tests),
    HAZ_TEST_SUITE("select", select_tests),
    HAZ_TEST_SUITE("alloc", alloc_tests),
    CU_SUITE_INFO_NULL
};

int main(int argc, char **argv)
{
    return haz_test_main(argc, argv, suites);
}
