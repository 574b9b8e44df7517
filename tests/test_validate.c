/*
 * tests/test_validate.c: haz_graph_validate's diagnostics (lib/validate.c):
 * one test per diagnostic kind with its exact text, source locations
 * ("FILE:LINE: message"), escaping of user text, several problems of one
 * graph reported together in the documented order (DAG-011), cycles
 * (DAG-014) with their paths, self references (DAG-012), deps/weak_deps
 * overlap (DAG-010), literal output collisions (DAG-016), and large graphs:
 * a 10,000-task random DAG (B1 in reliability-tests.md), a 100,000-task
 * chain and a 100,000-task cycle, which must not overflow the stack.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "internal.h"
#include "testutil.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * Helpers.
 * ---------------------------------------------------------------------- */

/* One test's world: a counting context, a graph and a diagnostics list. */
typedef struct world {
    haz_test_mem tm;
    haz_ctx *ctx;
    haz_graph *g;
    haz_diags *d;
} world;

static void world_init(world *w)
{
    haz_test_mem_init(&w->tm);
    w->ctx = NULL;
    w->g = NULL;
    w->d = NULL;
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&w->ctx, &w->tm.mem), 0);
    CU_ASSERT_EQUAL_FATAL(haz_graph_new(w->ctx, &w->g), 0);
    CU_ASSERT_EQUAL_FATAL(haz_diags_new(w->ctx, &w->d), 0);
}

static void world_done(world *w)
{
    haz_diags_free(w->d);
    haz_graph_free(w->g);
    haz_ctx_free(w->ctx);
    CU_ASSERT_EQUAL(w->tm.live, 0);
}

/* Add project:name, with a shell action unless script is NULL. */
static haz_task *task(world *w, const char *project, const char *name,
                      const char *script)
{
    haz_task *t = NULL;

    CU_ASSERT_EQUAL_FATAL(haz_graph_add_task(w->g, project, name, &t), 0);
    if (script != NULL)
        CU_ASSERT_EQUAL(haz_task_set_shell(t, script), 0);
    return t;
}

static void dep(haz_task *t, const char *ref)
{
    CU_ASSERT_EQUAL(haz_task_add_dep(t, ref), 0);
}

static void weak(haz_task *t, const char *ref)
{
    CU_ASSERT_EQUAL(haz_task_add_weak_dep(t, ref), 0);
}

/* No diagnostic text may carry a control byte. */
static void no_control_bytes(const haz_diags *d)
{
    size_t i;
    const unsigned char *s;

    for (i = 0; i < haz_diags_count(d); i++)
        for (s = (const unsigned char *)haz_diags_get(d, i)->text; *s; s++)
            CU_ASSERT(*s >= 0x20 && *s != 0x7f);
}

/* Validate; expect HAZ_EGRAPH and exactly these texts, in this order. */
static void expect_texts(world *w, const char *const *want, size_t n)
{
    size_t i, got;

    haz_diags_clear(w->d);
    CU_ASSERT_EQUAL(haz_graph_validate(w->g, w->d), HAZ_EGRAPH);
    got = haz_diags_count(w->d);
    if (got != n) {
        fprintf(stderr, "\n  %lu diagnostics, want %lu:\n",
                (unsigned long)got, (unsigned long)n);
        for (i = 0; i < got; i++)
            fprintf(stderr, "    %s\n", haz_diags_get(w->d, i)->text);
    }
    CU_ASSERT_EQUAL_FATAL(got, n);
    for (i = 0; i < n; i++) {
        const char *text = haz_diags_get(w->d, i)->text;
        if (strcmp(text, want[i]) != 0)
            fprintf(stderr, "\n  [%lu] got  '%s'\n       want '%s'\n",
                    (unsigned long)i, text, want[i]);
        CU_ASSERT_STRING_EQUAL(text, want[i]);
    }
    no_control_bytes(w->d);
    /* The verdict is the same without a list. */
    CU_ASSERT_EQUAL(haz_graph_validate(w->g, NULL), HAZ_EGRAPH);
    CU_ASSERT_EQUAL(haz_graph_task_count(w->g), 0);
}

/* Exactly one diagnostic: of this kind, with this text. */
static const haz_diag *expect_one(world *w, haz_diag_kind kind,
                                  const char *text)
{
    const haz_diag *dg;

    expect_texts(w, &text, 1);
    dg = haz_diags_get(w->d, 0);
    CU_ASSERT_EQUAL(dg->kind, kind);
    return dg;
}

static void kinds_are(const world *w, const haz_diag_kind *want, size_t n)
{
    size_t i;

    CU_ASSERT_EQUAL_FATAL(haz_diags_count(w->d), n);
    for (i = 0; i < n; i++)
        CU_ASSERT_EQUAL(haz_diags_get(w->d, i)->kind, want[i]);
}

#define ALNUM "only letters, digits, '_' and '-' are allowed"

/* ------------------------------------------------------------------------
 * One test per kind.
 * ---------------------------------------------------------------------- */

static void test_bad_task_name(void)
{
    world w;
    const haz_diag *dg;
    char name[80];

    world_init(&w);
    task(&w, "core", "bu ild", "make");
    dg = expect_one(&w, HAZ_DIAG_BAD_NAME,
                    "core:bu ild: task name 'bu ild' is invalid: " ALNUM);
    CU_ASSERT_PTR_NULL(dg->file);
    CU_ASSERT_EQUAL(dg->line, 0);
    CU_ASSERT_STRING_EQUAL(dg->project, "core");
    CU_ASSERT_STRING_EQUAL(dg->task, "bu ild");
    CU_ASSERT_STRING_EQUAL(dg->message,
                           "task name 'bu ild' is invalid: " ALNUM);
    world_done(&w);

    /* ID-003: 65 bytes. */
    world_init(&w);
    memset(name, 'n', 65);
    name[65] = '\0';
    task(&w, "core", name, "make");
    {
        char want[300];
        sprintf(want, "core:%s: task name '%s' is invalid: longer than 64 "
                "bytes", name, name);
        expect_one(&w, HAZ_DIAG_BAD_NAME, want);
    }
    world_done(&w);

    world_init(&w);
    task(&w, "core", "_x", "make");
    expect_one(&w, HAZ_DIAG_BAD_NAME, "core:_x: task name '_x' is invalid: "
               "must start with a letter or a digit");
    world_done(&w);
}

static void test_bad_project_name_and_tags(void)
{
    world w;
    haz_task *t;
    const haz_diag *dg;
    static const char *const want[] = {
        "tag cap name 'x y' is invalid: " ALNUM,
        "project name 'a b' is invalid: " ALNUM,
        "project 'core': tag 'h h' is invalid: " ALNUM,
        "core:build: tag 's s' is invalid: " ALNUM,
        "core:build: mutex name 'd b' is invalid: " ALNUM,
        "core:build: mutex name '' is invalid: empty",
    };
    static const haz_diag_kind kinds[] = {
        HAZ_DIAG_BAD_NAME, HAZ_DIAG_BAD_NAME, HAZ_DIAG_BAD_NAME,
        HAZ_DIAG_BAD_NAME, HAZ_DIAG_BAD_NAME, HAZ_DIAG_BAD_NAME
    };

    world_init(&w);
    task(&w, "a b", "t", "make");
    CU_ASSERT_EQUAL(haz_graph_add_project_tag(w.g, "core", "h h"), 0);
    CU_ASSERT_EQUAL(haz_graph_add_project_tag(w.g, "core", "ok"), 0);
    CU_ASSERT_EQUAL(haz_graph_set_tag_cap(w.g, "x y", 2), 0);
    CU_ASSERT_EQUAL(haz_graph_set_tag_cap(w.g, "fine", 2), 0);
    t = task(&w, "core", "build", "make");
    CU_ASSERT_EQUAL(haz_task_add_tag(t, "s s"), 0);
    CU_ASSERT_EQUAL(haz_task_add_tag(t, "fine"), 0);
    CU_ASSERT_EQUAL(haz_task_add_mutex(t, HAZ_MUTEX_WORKSPACE,
                                       HAZ_MUTEX_EXCLUSIVE, "d b"), 0);
    CU_ASSERT_EQUAL(haz_task_add_mutex(t, HAZ_MUTEX_PROJECT,
                                       HAZ_MUTEX_SHARED, ""), 0);
    expect_texts(&w, want, HAZ_ARRAY_LEN(want));
    kinds_are(&w, kinds, HAZ_ARRAY_LEN(kinds));
    /* Items that are not tasks carry no project or task. */
    dg = haz_diags_get(w.d, 1);
    CU_ASSERT_PTR_NULL(dg->project);
    CU_ASSERT_PTR_NULL(dg->task);
    dg = haz_diags_get(w.d, 3);
    CU_ASSERT_STRING_EQUAL(dg->project, "core");
    CU_ASSERT_STRING_EQUAL(dg->task, "build");
    world_done(&w);
}

static void test_bad_env(void)
{
    world w;
    haz_task *t;
    const char *defaults[] = { "PATH", "1X", "LANG" };
    static const char *const want[] = {
        "environment variable name '1X' in the default env_from_host is "
        "invalid: must start with a letter or '_'",
        "p:t: environment variable name 'A-B' in env_from_host is invalid: "
        "only letters, digits and '_' are allowed",
        "p:t: environment variable name '' in env is invalid: empty",
        "p:t: environment variable name 'X=Y' in env is invalid: "
        "only letters, digits and '_' are allowed",
    };

    world_init(&w);
    CU_ASSERT_EQUAL(haz_graph_set_env_from_host(w.g, defaults, 3), 0);
    t = task(&w, "p", "t", "make");
    CU_ASSERT_EQUAL(haz_task_add_env_from_host(t, "A-B"), 0);
    CU_ASSERT_EQUAL(haz_task_add_env_from_host(t, "HOME"), 0);
    CU_ASSERT_EQUAL(haz_task_set_env(t, "", "v"), 0);
    CU_ASSERT_EQUAL(haz_task_set_env(t, "X=Y", "v"), 0);
    CU_ASSERT_EQUAL(haz_task_set_env(t, "OK", "v"), 0);
    expect_texts(&w, want, HAZ_ARRAY_LEN(want));
    CU_ASSERT_EQUAL(haz_diags_get(w.d, 0)->kind, HAZ_DIAG_BAD_ENV);
    CU_ASSERT_EQUAL(haz_diags_get(w.d, 3)->kind, HAZ_DIAG_BAD_ENV);
    world_done(&w);
}

static void test_bad_root(void)
{
    world w;
    static const char *const want[] = {
        "project 'a': root '../x' is invalid: '..' segment",
        ("project 'b': root '/abs' is invalid: must be relative (no "
         "leading '/')"),
        "project 'c': root 'c/' is invalid: trailing '/'",
        "project 'd': root '' is invalid: empty path",
        "project 'e': root 'e\\x01' is invalid: control character",
    };

    world_init(&w);
    CU_ASSERT_EQUAL(haz_graph_add_project(w.g, "e", "e\x01"), 0);
    CU_ASSERT_EQUAL(haz_graph_add_project(w.g, "d", ""), 0);
    CU_ASSERT_EQUAL(haz_graph_add_project(w.g, "c", "c/"), 0);
    CU_ASSERT_EQUAL(haz_graph_add_project(w.g, "b", "/abs"), 0);
    CU_ASSERT_EQUAL(haz_graph_add_project(w.g, "a", "../x"), 0);
    CU_ASSERT_EQUAL(haz_graph_add_project(w.g, "ok1", "."), 0);
    CU_ASSERT_EQUAL(haz_graph_add_project(w.g, "ok2", "libs/ok2"), 0);
    expect_texts(&w, want, HAZ_ARRAY_LEN(want));
    CU_ASSERT_EQUAL(haz_diags_get(w.d, 0)->kind, HAZ_DIAG_BAD_PATH);
    CU_ASSERT_EQUAL(haz_diags_get(w.d, 4)->kind, HAZ_DIAG_BAD_PATH);
    world_done(&w);
}

static void test_bad_pattern(void)
{
    world w;
    haz_task *t;
    static const char *const want[] = {
        "core:build: input pattern 'a//b' is invalid: empty segment",
        "core:build: input pattern '{a,{b}}' is invalid: nested '{'",
        "core:build: input pattern '' is invalid: empty path",
        "core:build: output pattern 'src/**x' is invalid: '**' must be a "
        "whole segment",
        "core:build: output pattern '[z-a]' is invalid: invalid range in "
        "'[...]'",
        "core:build: output pattern '../up' is invalid: '..' segment",
    };

    world_init(&w);
    t = task(&w, "core", "build", "make");
    CU_ASSERT_EQUAL(haz_task_add_input(t, "a//b"), 0);          /* PATH-003 */
    CU_ASSERT_EQUAL(haz_task_add_input(t, "src/**/*.c"), 0);
    CU_ASSERT_EQUAL(haz_task_add_input(t, "{a,{b}}"), 0);       /* PATH-014 */
    CU_ASSERT_EQUAL(haz_task_add_input(t, ""), 0);              /* PATH-002 */
    CU_ASSERT_EQUAL(haz_task_add_output(t, "src/**x"), 0);
    CU_ASSERT_EQUAL(haz_task_add_output(t, "[z-a]"), 0);
    CU_ASSERT_EQUAL(haz_task_add_output(t, "../up"), 0);        /* PATH-002 */
    CU_ASSERT_EQUAL(haz_task_add_output(t, "/dist/a.o"), 0);
    expect_texts(&w, want, HAZ_ARRAY_LEN(want));
    CU_ASSERT_EQUAL(haz_diags_get(w.d, 0)->kind, HAZ_DIAG_BAD_PATTERN);
    CU_ASSERT_EQUAL(haz_diags_get(w.d, 5)->kind, HAZ_DIAG_BAD_PATTERN);
    world_done(&w);
}

static void test_bad_ref(void)
{
    world w;
    haz_task *t;
    static const char *const want[] = {
        "core:build: reference 'gen' in deps is invalid: expected "
        "'project:task' or '~:task'",
        "core:build: reference '^:gen' in deps is invalid: unsupported "
        "reference form",
        "core:build: reference '^~:gen' in deps is invalid: unsupported "
        "reference form",
        "core:build: reference '[t]:gen' in deps is invalid: unsupported "
        "reference form",
        "core:build: reference 'a b:gen' in deps is invalid: bad project "
        "name (" ALNUM ")",
        "core:build: reference ':gen' in deps is invalid: bad project name "
        "(empty)",
        "core:build: reference '~:' in weak_deps is invalid: bad task name "
        "(empty)",
        "core:build: reference 'core:g en' in weak_deps is invalid: bad task "
        "name (" ALNUM ")",
        "core:build: reference '[t]~:gen' in weak_deps is invalid: "
        "unsupported reference form",
        "core:build: reference '' in weak_deps is invalid: expected "
        "'project:task' or '~:task'",
    };

    world_init(&w);
    task(&w, "core", "gen", "gen");
    t = task(&w, "core", "build", "make");
    dep(t, "gen");
    dep(t, "^:gen");                                      /* REF-004 */
    dep(t, "^~:gen");                                     /* REF-008 */
    dep(t, "[t]:gen");                                    /* REF-005 */
    dep(t, "a b:gen");
    dep(t, ":gen");
    dep(t, "core:gen");                                   /* fine */
    weak(t, "~:");
    weak(t, "core:g en");
    weak(t, "[t]~:gen");
    weak(t, "");
    expect_texts(&w, want, HAZ_ARRAY_LEN(want));
    CU_ASSERT_EQUAL(haz_diags_get(w.d, 0)->kind, HAZ_DIAG_BAD_REF);
    CU_ASSERT_EQUAL(haz_diags_get(w.d, 9)->kind, HAZ_DIAG_BAD_REF);
    world_done(&w);
}

static void test_unknown_ref(void)
{
    world w;
    haz_task *t;
    static const char *const want[] = {
        "core:build: unknown task 'core:gen' in deps",
        "core:build: unknown task 'other:gen' in deps",
        "core:build: unknown task 'core:lint' in weak_deps",
        "core:build: unknown task 'Core:x' in weak_deps",
    };

    world_init(&w);
    task(&w, "core", "x", "true");
    t = task(&w, "core", "build", "make");
    dep(t, "core:gen");
    dep(t, "other:gen");
    dep(t, "core:x");
    weak(t, "~:lint");                                    /* REF-002 */
    weak(t, "Core:x");                                    /* ID-004 */
    expect_texts(&w, want, HAZ_ARRAY_LEN(want));
    CU_ASSERT_EQUAL(haz_diags_get(w.d, 0)->kind, HAZ_DIAG_UNKNOWN_REF);
    CU_ASSERT_EQUAL(haz_diags_get(w.d, 3)->kind, HAZ_DIAG_UNKNOWN_REF);
    world_done(&w);
}

/* DAG-012: a self reference is an error and contributes no edge, so there
 * is no cycle of length 1 to report besides it. */
static void test_self_ref(void)
{
    world w;
    haz_task *t;
    static const char *const want[] = {
        "core:build: reference '~:build' in deps names the task itself",
        "core:build: reference 'core:build' in weak_deps names the task "
        "itself",
    };
    static const haz_diag_kind kinds[] = { HAZ_DIAG_SELF_REF,
                                           HAZ_DIAG_SELF_REF };

    world_init(&w);
    t = task(&w, "core", "build", "make");
    dep(t, "~:build");
    weak(t, "core:build");
    expect_texts(&w, want, HAZ_ARRAY_LEN(want));
    kinds_are(&w, kinds, 2);
    world_done(&w);
}

/* DAG-010: the same task through deps and weak_deps, however spelt. */
static void test_overlap(void)
{
    world w;
    haz_task *t;
    static const char *const want[] = {
        "core:build: task 'app:x' is in both deps and weak_deps",
        "core:build: task 'core:gen' is in both deps and weak_deps",
    };

    world_init(&w);
    task(&w, "core", "gen", "gen");
    task(&w, "app", "x", "x");
    task(&w, "app", "y", "y");
    t = task(&w, "core", "build", "make");
    dep(t, "~:gen");
    dep(t, "app:x");
    dep(t, "app:y");
    weak(t, "core:gen");
    weak(t, "app:x");
    weak(t, "app:x");
    expect_texts(&w, want, HAZ_ARRAY_LEN(want));
    CU_ASSERT_EQUAL(haz_diags_get(w.d, 0)->kind, HAZ_DIAG_DEPS_OVERLAP);
    CU_ASSERT_EQUAL(haz_diags_get(w.d, 1)->kind, HAZ_DIAG_DEPS_OVERLAP);
    world_done(&w);
}

/* B3: no action, empty or blank script, empty argv or argv[0]. */
static void test_no_action(void)
{
    world w;
    haz_task *t;
    const char *empty0[] = { "", "x" };
    static const char *const want[] = {
        "p:a: no action: set a shell script or an argv",
        "p:b: shell script is empty",
        "p:c: shell script is blank",
        "p:d: argv is empty",
        "p:e: argv[0] is empty",
    };

    world_init(&w);
    task(&w, "p", "a", NULL);
    task(&w, "p", "b", "");
    task(&w, "p", "c", " \t\n\r\v\f ");
    t = task(&w, "p", "d", NULL);
    CU_ASSERT_EQUAL(haz_task_set_argv(t, 0, NULL), 0);
    t = task(&w, "p", "e", NULL);
    CU_ASSERT_EQUAL(haz_task_set_argv(t, 2, empty0), 0);
    task(&w, "p", "f", " x ");
    expect_texts(&w, want, HAZ_ARRAY_LEN(want));
    CU_ASSERT_EQUAL(haz_diags_get(w.d, 0)->kind, HAZ_DIAG_NO_ACTION);
    CU_ASSERT_EQUAL(haz_diags_get(w.d, 4)->kind, HAZ_DIAG_NO_ACTION);
    world_done(&w);
}

/* DAG-016: literal outputs compared after resolving against the roots. */
static void test_output_collision(void)
{
    world w;
    haz_task *t;
    static const char *const want[] = {
        "project 'bad': root '../bad' is invalid: '..' segment",
        "output '/core/a.o' is declared by 3 tasks: app:c, core:a, core:b",
        "output '/x' is declared by 2 tasks: app:c, core:b",
    };

    world_init(&w);
    CU_ASSERT_EQUAL(haz_graph_add_project(w.g, "core", "core"), 0);
    CU_ASSERT_EQUAL(haz_graph_add_project(w.g, "bad", "../bad"), 0);
    t = task(&w, "core", "b", "b");
    CU_ASSERT_EQUAL(haz_task_add_output(t, "/core/a.o"), 0);
    CU_ASSERT_EQUAL(haz_task_add_output(t, "/x"), 0);
    CU_ASSERT_EQUAL(haz_task_add_output(t, "*.o"), 0);
    t = task(&w, "core", "a", "a");
    CU_ASSERT_EQUAL(haz_task_add_output(t, "a.o"), 0);
    CU_ASSERT_EQUAL(haz_task_add_output(t, "/core/a.o"), 0); /* same task */
    CU_ASSERT_EQUAL(haz_task_add_output(t, "*.o"), 0);       /* globs: no */
    CU_ASSERT_EQUAL(haz_task_add_input(t, "/x"), 0);         /* inputs: no */
    t = task(&w, "app", "c", "c");
    CU_ASSERT_EQUAL(haz_task_add_output(t, "core/a.o"), 0);
    CU_ASSERT_EQUAL(haz_task_add_output(t, "x"), 0);
    t = task(&w, "app", "d", "d");
    CU_ASSERT_EQUAL(haz_task_add_output(t, "a.o"), 0);        /* "/a.o" */
    t = task(&w, "app", "e", "e");
    CU_ASSERT_EQUAL(haz_task_add_output(t, "/a.o/b"), 0);
    t = task(&w, "bad", "f", "f");                 /* invalid root: skipped */
    CU_ASSERT_EQUAL(haz_task_add_output(t, "/x"), 0);
    expect_texts(&w, want, HAZ_ARRAY_LEN(want));
    CU_ASSERT_EQUAL(haz_diags_get(w.d, 1)->kind, HAZ_DIAG_OUTPUT_COLLISION);
    CU_ASSERT_PTR_NULL(haz_diags_get(w.d, 1)->project);
    CU_ASSERT_PTR_NULL(haz_diags_get(w.d, 1)->task);
    CU_ASSERT_EQUAL(haz_diags_get(w.d, 2)->kind, HAZ_DIAG_OUTPUT_COLLISION);
    world_done(&w);
}

/* ------------------------------------------------------------------------
 * Locations and escaping.
 * ---------------------------------------------------------------------- */

static void test_source_locations(void)
{
    world w;
    haz_task *t;
    const haz_diag *dg;
    static const char *const want[] = {
        "hazfile:2: project 'bad': root '/bad' is invalid: must be "
        "relative (no leading '/')",
        "hazfile:12: no action: set a shell script or an argv",
        "hazfile:13: unknown task 'core:gen' in deps",
        "core:other: unknown task 'core:zz' in deps",
        "extra.haz:5: output pattern 'a//b' is invalid: empty segment",
        "hazfile:13: dependency cycle: core:build -> core:other -> "
        "core:build",
        "hazfile:14: output '/core/x' is declared by 2 tasks: core:build, "
        "core:other",
    };

    world_init(&w);
    CU_ASSERT_EQUAL(haz_graph_set_source(w.g, "hazfile", 2), 0);
    CU_ASSERT_EQUAL(haz_graph_add_project(w.g, "bad", "/bad"), 0);
    CU_ASSERT_EQUAL(haz_graph_set_source(w.g, "hazfile", 12), 0);
    t = task(&w, "core", "build", NULL);
    CU_ASSERT_EQUAL(haz_graph_set_source(w.g, "hazfile", 13), 0);
    dep(t, "core:gen");
    dep(t, "core:other");
    CU_ASSERT_EQUAL(haz_graph_set_source(w.g, "hazfile", 14), 0);
    CU_ASSERT_EQUAL(haz_task_add_output(t, "/core/x"), 0);
    /* No source: "project:task: message". */
    CU_ASSERT_EQUAL(haz_graph_set_source(w.g, NULL, 0), 0);
    t = task(&w, "core", "other", "x");
    dep(t, "core:zz");
    dep(t, "~:build");
    CU_ASSERT_EQUAL(haz_task_add_output(t, "/core/x"), 0);
    CU_ASSERT_EQUAL(haz_graph_set_source(w.g, "extra.haz", 5), 0);
    CU_ASSERT_EQUAL(haz_task_add_output(t, "a//b"), 0);
    expect_texts(&w, want, HAZ_ARRAY_LEN(want));

    dg = haz_diags_get(w.d, 2);
    CU_ASSERT_STRING_EQUAL(dg->file, "hazfile");
    CU_ASSERT_EQUAL(dg->line, 13);
    CU_ASSERT_STRING_EQUAL(dg->project, "core");
    CU_ASSERT_STRING_EQUAL(dg->task, "build");
    CU_ASSERT_STRING_EQUAL(dg->message, "unknown task 'core:gen' in deps");
    dg = haz_diags_get(w.d, 3);
    CU_ASSERT_PTR_NULL(dg->file);
    CU_ASSERT_EQUAL(dg->line, 0);
    dg = haz_diags_get(w.d, 5);
    CU_ASSERT_EQUAL(dg->kind, HAZ_DIAG_CYCLE);
    CU_ASSERT_STRING_EQUAL(dg->message,
                           "dependency cycle: core:build -> core:other -> "
                           "core:build");
    world_done(&w);
}

static void test_escaping(void)
{
    world w;
    haz_task *t;
    char big[301];
    char want_big[700];
    static const char *const want[] = {
        "f\\x1b[31m:3: task name 'a\\x01b' is invalid: " ALNUM,
        "f\\x1b[31m:3: reference '~:\\u202eevil' in deps is invalid: bad "
        "task name (must start with a letter or a digit)",
        "f\\x1b[31m:3: input pattern '\\xff\\x7f' is invalid: control "
        "character",
        "f\\x1b[31m:3: input pattern 'caf\xc3\xa9\\u0085\\x0a' is invalid: "
        "control character",
    };

    world_init(&w);
    CU_ASSERT_EQUAL(haz_graph_set_source(w.g, "f\x1b[31m", 3), 0);
    t = task(&w, "p", "a\x01" "b", "x");
    dep(t, "~:\xe2\x80\xae" "evil");               /* U+202E RLO */
    CU_ASSERT_EQUAL(haz_task_add_input(t, "\xff\x7f"), 0);
    CU_ASSERT_EQUAL(haz_task_add_input(t, "caf\xc3\xa9\xc2\x85\n"), 0);
    expect_texts(&w, want, HAZ_ARRAY_LEN(want));
    /* The structured fields are escaped as well. */
    CU_ASSERT_STRING_EQUAL(haz_diags_get(w.d, 0)->file, "f\\x1b[31m");
    CU_ASSERT_STRING_EQUAL(haz_diags_get(w.d, 0)->task, "a\\x01b");
    world_done(&w);

    /* Long user text is cut after 256 bytes in the message (not in the
     * location prefix). */
    world_init(&w);
    memset(big, 'n', 300);
    big[300] = '\0';
    task(&w, "p", big, "x");
    sprintf(want_big, "p:%s: task name '%.256s...' is invalid: longer than "
            "64 bytes", big, big);
    expect_one(&w, HAZ_DIAG_BAD_NAME, want_big);
    world_done(&w);
}

/* ------------------------------------------------------------------------
 * Several problems at once (DAG-011), in the documented order.
 * ---------------------------------------------------------------------- */

static void test_many_errors_in_order(void)
{
    world w;
    haz_task *t;
    const char *defaults[] = { "PATH", "9" };
    static const char *const want[] = {
        /* workspace settings: default env, then tag caps by tag */
        "environment variable name '9' in the default env_from_host is "
        "invalid: must start with a letter or '_'",
        "tag cap name 'a a' is invalid: " ALNUM,
        "tag cap name 'b b' is invalid: " ALNUM,
        /* projects by name, byte-wise ("Zp" < "a b") */
        "project 'Zp': root 'Zp/' is invalid: trailing '/'",
        "project name 'a b' is invalid: " ALNUM,
        /* tasks in canonical order */
        "Zp:t: no action: set a shell script or an argv",
        "a b:t: unknown task 'a b:nope' in deps",
        "app:a: unknown task 'app:zz' in weak_deps",
        "app:a: input pattern 'x//y' is invalid: empty segment",
        "app:b!: task name 'b!' is invalid: " ALNUM,
        "app:bb: reference '~:bb' in deps names the task itself",
        /* cycles by smallest task, then collisions by path */
        "dependency cycle: app:c -> app:d -> app:c",
        "dependency cycle: z:1 -> z:2 -> z:3 -> z:1",
        "output '/o' is declared by 2 tasks: app:c, z:1",
    };
    static const haz_diag_kind kinds[] = {
        HAZ_DIAG_BAD_ENV, HAZ_DIAG_BAD_NAME, HAZ_DIAG_BAD_NAME,
        HAZ_DIAG_BAD_PATH, HAZ_DIAG_BAD_NAME, HAZ_DIAG_NO_ACTION,
        HAZ_DIAG_UNKNOWN_REF, HAZ_DIAG_UNKNOWN_REF, HAZ_DIAG_BAD_PATTERN,
        HAZ_DIAG_BAD_NAME, HAZ_DIAG_SELF_REF, HAZ_DIAG_CYCLE, HAZ_DIAG_CYCLE,
        HAZ_DIAG_OUTPUT_COLLISION
    };

    world_init(&w);
    /* Added in an order unlike the expected one. */
    t = task(&w, "z", "3", "x");
    dep(t, "z:1");
    t = task(&w, "z", "1", "x");
    dep(t, "~:2");
    CU_ASSERT_EQUAL(haz_task_add_output(t, "/o"), 0);
    t = task(&w, "z", "2", "x");
    weak(t, "~:3");
    t = task(&w, "app", "d", "x");
    dep(t, "~:c");
    t = task(&w, "app", "c", "x");
    dep(t, "~:d");
    CU_ASSERT_EQUAL(haz_task_add_output(t, "o"), 0);
    task(&w, "app", "b!", "x");
    t = task(&w, "app", "bb", "x");
    dep(t, "~:bb");
    t = task(&w, "app", "a", "x");
    weak(t, "~:zz");
    CU_ASSERT_EQUAL(haz_task_add_input(t, "x//y"), 0);
    t = task(&w, "a b", "t", "x");
    dep(t, "~:nope");
    task(&w, "Zp", "t", NULL);
    CU_ASSERT_EQUAL(haz_graph_add_project(w.g, "Zp", "Zp/"), 0);
    CU_ASSERT_EQUAL(haz_graph_set_tag_cap(w.g, "b b", 1), 0);
    CU_ASSERT_EQUAL(haz_graph_set_tag_cap(w.g, "a a", 1), 0);
    CU_ASSERT_EQUAL(haz_graph_set_env_from_host(w.g, defaults, 2), 0);

    expect_texts(&w, want, HAZ_ARRAY_LEN(want));
    kinds_are(&w, kinds, HAZ_ARRAY_LEN(kinds));
    CU_ASSERT_STRING_EQUAL(haz_ctx_errmsg(w.ctx),
                           "the graph is invalid: 14 problems found");
    /* The same again: the order is stable. */
    expect_texts(&w, want, HAZ_ARRAY_LEN(want));
    world_done(&w);
}

/* ------------------------------------------------------------------------
 * Cycles (DAG-014).
 * ---------------------------------------------------------------------- */

static void test_cycle_2(void)
{
    world w;
    haz_task *t;
    const haz_diag *dg;

    world_init(&w);
    t = task(&w, "app", "b", "x");
    dep(t, "app:a");
    t = task(&w, "app", "a", "x");
    dep(t, "app:b");
    dg = expect_one(&w, HAZ_DIAG_CYCLE,
                    "dependency cycle: app:a -> app:b -> app:a");
    CU_ASSERT_PTR_NULL(dg->file);
    CU_ASSERT_PTR_NULL(dg->project);
    CU_ASSERT_PTR_NULL(dg->task);
    world_done(&w);
}

static void test_cycle_3(void)
{
    world w;
    haz_task *t;

    world_init(&w);
    t = task(&w, "app", "c", "x");
    dep(t, "app:a");
    t = task(&w, "app", "b", "x");
    dep(t, "~:c");
    t = task(&w, "app", "a", "x");
    dep(t, "~:b");
    expect_one(&w, HAZ_DIAG_CYCLE,
               "dependency cycle: app:a -> app:b -> app:c -> app:a");
    world_done(&w);
}

/* Hard and soft edges count together. */
static void test_cycle_soft(void)
{
    world w;
    haz_task *t;

    world_init(&w);
    t = task(&w, "app", "a", "x");
    dep(t, "app:b");
    t = task(&w, "app", "b", "x");
    weak(t, "app:a");
    expect_one(&w, HAZ_DIAG_CYCLE,
               "dependency cycle: app:a -> app:b -> app:a");
    world_done(&w);

    world_init(&w);                                 /* soft edges only */
    t = task(&w, "app", "a", "x");
    weak(t, "app:b");
    t = task(&w, "app", "b", "x");
    weak(t, "app:a");
    expect_one(&w, HAZ_DIAG_CYCLE,
               "dependency cycle: app:a -> app:b -> app:a");
    world_done(&w);
}

/* The shortest cycle through the smallest task of the component. */
static void test_cycle_shortest(void)
{
    world w;
    haz_task *t;

    world_init(&w);
    t = task(&w, "app", "a", "x");
    dep(t, "~:b");
    dep(t, "~:c");
    t = task(&w, "app", "b", "x");
    dep(t, "~:c");
    t = task(&w, "app", "c", "x");
    dep(t, "~:d");
    t = task(&w, "app", "d", "x");
    dep(t, "~:a");
    expect_one(&w, HAZ_DIAG_CYCLE,
               "dependency cycle: app:a -> app:c -> app:d -> app:a");
    world_done(&w);
}

/* One report per strongly connected component, components by their
 * smallest task; tasks that only lead into a cycle are not in it. */
static void test_cycles_disjoint(void)
{
    world w;
    haz_task *t;
    static const char *const want[] = {
        "dependency cycle: a:1 -> a:2 -> a:1",
        "dependency cycle: m:1 -> m:3 -> m:1",
        "dependency cycle: x:1 -> x:2 -> x:1",
    };

    world_init(&w);
    t = task(&w, "x", "1", "x");
    dep(t, "~:2");
    t = task(&w, "x", "2", "x");
    dep(t, "~:1");
    t = task(&w, "a", "2", "x");
    dep(t, "~:1");
    t = task(&w, "a", "1", "x");
    dep(t, "~:2");
    t = task(&w, "a", "0", "x");                    /* leads in */
    dep(t, "~:1");
    t = task(&w, "b", "0", "x");                    /* leads in from x */
    dep(t, "x:1");
    /* One component holding two cycles, m:1 <-> m:3 and m:2 <-> m:4,
     * joined by m:3 -> m:2 -> ... -> m:1. */
    t = task(&w, "m", "1", "x");
    dep(t, "~:3");
    t = task(&w, "m", "3", "x");
    dep(t, "~:1");
    dep(t, "~:2");
    t = task(&w, "m", "2", "x");
    dep(t, "~:4");
    t = task(&w, "m", "4", "x");
    dep(t, "~:2");
    dep(t, "~:1");
    expect_texts(&w, want, HAZ_ARRAY_LEN(want));
    world_done(&w);
}

/* DAG-012 with ~: is not a cycle; an unknown ref adds no edge. */
static void test_self_loop_is_not_a_cycle(void)
{
    world w;
    haz_task *t;

    world_init(&w);
    t = task(&w, "app", "fmt", "fmt");
    dep(t, "~:fmt");
    dep(t, "~:zz");
    t = task(&w, "app", "zz2", "x");
    dep(t, "app:fmt");
    {
        static const char *const want[] = {
            "app:fmt: reference '~:fmt' in deps names the task itself",
            "app:fmt: unknown task 'app:zz' in deps",
        };
        expect_texts(&w, want, HAZ_ARRAY_LEN(want));
    }
    world_done(&w);
}

/* B1: a 1000-task cycle, named in full. */
static void test_cycle_1000(void)
{
    enum { N = 1000 };
    world w;
    char name[32], ref[48];
    const char *text;
    size_t i, arrows = 0;

    world_init(&w);
    for (i = 0; i < N; i++) {
        haz_task *t;
        sprintf(name, "n%04lu", (unsigned long)i);
        sprintf(ref, "~:n%04lu", (unsigned long)((i + 1) % N));
        t = task(&w, "big", name, "x");
        dep(t, ref);
    }
    CU_ASSERT_EQUAL(haz_graph_validate(w.g, w.d), HAZ_EGRAPH);
    CU_ASSERT_EQUAL_FATAL(haz_diags_count(w.d), 1);
    CU_ASSERT_EQUAL(haz_diags_get(w.d, 0)->kind, HAZ_DIAG_CYCLE);
    text = haz_diags_get(w.d, 0)->text;
    CU_ASSERT_EQUAL(strncmp(text, "dependency cycle: big:n0000 -> "
                            "big:n0001 -> big:n0002 -> ", 54), 0);
    CU_ASSERT_STRING_EQUAL(text + strlen(text) - 22,
                           "big:n0999 -> big:n0000");
    for (; (text = strstr(text, " -> ")) != NULL; text += 4)
        arrows++;
    CU_ASSERT_EQUAL(arrows, N);
    world_done(&w);
}

/* ------------------------------------------------------------------------
 * Large graphs.
 * ---------------------------------------------------------------------- */

static unsigned long lcg(unsigned long *s)
{
    *s = (*s * 1103515245UL + 12345UL) & 0x7fffffffUL;
    return *s >> 8;
}

/* B1: a 10,000-task random DAG with ~3 edges per task validates (the
 * timing requirement is checked by the benchmark, not here). */
static void build_random_dag(world *w, size_t n)
{
    unsigned long seed = 12345;
    char project[32], name[32], ref[80];
    size_t i, k, picks[3];

    for (i = 0; i < n; i++) {
        haz_task *t;
        sprintf(project, "p%02lu", (unsigned long)(i % 20));
        sprintf(name, "t%05lu", (unsigned long)i);
        t = task(w, project, name, "x");
        for (k = 0; i > 0 && k < 3; k++) {
            size_t j = picks[k] = lcg(&seed) % i;
            if (k == 2 && (j == picks[0] || j == picks[1]))
                continue;               /* DAG-010 */
            if (j % 20 == i % 20 && k == 0)
                sprintf(ref, "~:t%05lu", (unsigned long)j);
            else
                sprintf(ref, "p%02lu:t%05lu", (unsigned long)(j % 20),
                        (unsigned long)j);
            if (k == 2)
                weak(t, ref);
            else
                dep(t, ref);
        }
        if (i % 7 == 0)
            CU_ASSERT_EQUAL(haz_task_add_output(t, name), 0);
    }
}

static void test_random_dag_10000(void)
{
    world w;
    haz_task_info in;
    size_t i, j, edges = 0;

    world_init(&w);
    build_random_dag(&w, 10000);
    CU_ASSERT_EQUAL_FATAL(haz_graph_validate(w.g, w.d), 0);
    CU_ASSERT_EQUAL(haz_diags_count(w.d), 0);
    CU_ASSERT_EQUAL_FATAL(haz_graph_task_count(w.g), 10000);
    for (i = 0; i < 10000; i++) {
        CU_ASSERT_EQUAL_FATAL(haz_graph_task_info(w.g, i, &in), 0);
        for (j = 1; j < in.n_deps; j++)
            CU_ASSERT(in.deps[j - 1] < in.deps[j]);
        edges += in.n_deps + in.n_weak_deps;
    }
    CU_ASSERT(edges > 25000);
    world_done(&w);
}

/* A random DAG with one cycle hanging off it (through a soft edge):
 * exactly that cycle is reported. */
static void test_random_dag_with_cycle(void)
{
    world w;
    haz_task *t = NULL;

    world_init(&w);
    build_random_dag(&w, 2000);
    t = task(&w, "zz", "tail", "x");
    weak(t, "zz:head");
    dep(t, "p07:t01987");
    t = task(&w, "zz", "head", "x");
    dep(t, "zz:tail");
    dep(t, "p19:t01999");
    expect_one(&w, HAZ_DIAG_CYCLE,
               "dependency cycle: zz:head -> zz:tail -> zz:head");
    world_done(&w);
}

/* 100,000 tasks in a chain, then in one cycle: the DFS and the BFS are
 * iterative, so the stack stays small. */
static void test_long_chain_and_cycle(void)
{
    enum { N = 100000 };
    world w;
    char name[32], ref[48];
    const char *text;
    size_t i, arrows = 0;
    int closed;

    for (closed = 0; closed <= 1; closed++) {
        world_init(&w);
        for (i = 0; i < N; i++) {
            haz_task *t;
            sprintf(name, "n%06lu", (unsigned long)i);
            t = task(&w, "c", name, "x");
            if (i + 1 < N || closed) {
                sprintf(ref, "~:n%06lu", (unsigned long)((i + 1) % N));
                dep(t, ref);
            }
        }
        if (!closed) {
            CU_ASSERT_EQUAL(haz_graph_validate(w.g, w.d), 0);
            CU_ASSERT_EQUAL(haz_graph_task_count(w.g), N);
        } else {
            CU_ASSERT_EQUAL(haz_graph_validate(w.g, w.d), HAZ_EGRAPH);
            CU_ASSERT_EQUAL_FATAL(haz_diags_count(w.d), 1);
            text = haz_diags_get(w.d, 0)->text;
            CU_ASSERT_EQUAL(strncmp(text, "dependency cycle: c:n000000 -> "
                                    "c:n000001 -> ", 43), 0);
            CU_ASSERT_STRING_EQUAL(text + strlen(text) - 22,
                                   "c:n099999 -> c:n000000");
            for (; (text = strstr(text, " -> ")) != NULL; text += 4)
                arrows++;
            CU_ASSERT_EQUAL(arrows, N);
        }
        world_done(&w);
    }
}

static CU_TestInfo kind_tests[] = {
    { "task names (ID-001..003)", test_bad_task_name },
    { "project, tag, mutex, tag cap names", test_bad_project_name_and_tags },
    { "environment variable names", test_bad_env },
    { "project roots", test_bad_root },
    { "input and output patterns (PATH-002/003/008..016)", test_bad_pattern },
    { "unparsable references (REF-002..008)", test_bad_ref },
    { "unknown references", test_unknown_ref },
    { "self references (DAG-012)", test_self_ref },
    { "deps and weak_deps overlap (DAG-010)", test_overlap },
    { "missing or empty actions (B3)", test_no_action },
    { "literal output collisions (DAG-016)", test_output_collision },
    CU_TEST_INFO_NULL
};

static CU_TestInfo text_tests[] = {
    { "source locations", test_source_locations },
    { "escaping of user text", test_escaping },
    { "many problems, documented order (DAG-011)",
      test_many_errors_in_order },
    CU_TEST_INFO_NULL
};

static CU_TestInfo cycle_tests[] = {
    { "2-cycle (DAG-014)", test_cycle_2 },
    { "3-cycle from its smallest task", test_cycle_3 },
    { "cycle through a soft edge", test_cycle_soft },
    { "shortest cycle through the smallest task", test_cycle_shortest },
    { "disjoint cycles, one per component", test_cycles_disjoint },
    { "self loop via ~: is DAG-012, not a cycle",
      test_self_loop_is_not_a_cycle },
    { "1000-task cycle (B1)", test_cycle_1000 },
    CU_TEST_INFO_NULL
};

static CU_TestInfo large_tests[] = {
    { "10000-task random DAG (B1)", test_random_dag_10000 },
    { "random DAG plus one cycle", test_random_dag_with_cycle },
    { "100000-task chain and cycle", test_long_chain_and_cycle },
    CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
    HAZ_TEST_SUITE("kinds", kind_tests),
    HAZ_TEST_SUITE("texts", text_tests),
    HAZ_TEST_SUITE("cycles", cycle_tests),
    HAZ_TEST_SUITE("large", large_tests),
    CU_SUITE_INFO_NULL
};

int main(int argc, char **argv)
{
    return haz_test_main(argc, argv, suites);
}
