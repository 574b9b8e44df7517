/*
 * tests/test_hazfile.c: unit tests for the hazfile parser (lib/hazfile.c).
 *
 * Suites:
 *   valid       files that parse: every key, the defaults, CRLF, comments,
 *               blanks, argv quoting and escapes, number forms; the graph
 *               is checked through haz_graph_task_info.
 *   errors      every kind of parser error with its exact "FILE:LINE:
 *               message" text; many errors in one file, in line order;
 *               graph errors carrying the line of the item at fault.
 *   robustness  10,000 random and mutated inputs; an allocation-failure
 *               sweep over a valid and an invalid file.
 *   load        haz_hazfile_load on a data file, a missing file, a
 *               directory, and files around the 64 MiB limit.
 *
 * Every parse runs on the counting allocator and ends with a leak check.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NAME_RULE_TEXT "names are 1 to 64 bytes of [A-Za-z0-9_-], " \
                       "starting with a letter or digit"
#define NAME_RULE "(" NAME_RULE_TEXT ")"
/* 65 bytes: one too many for a name. */
#define LONG_NAME "a234567890123456789012345678901234567890" \
                  "1234567890123456789012345"
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define ENV_RULE "(expected [A-Za-z_][A-Za-z0-9_]*, at most 256 bytes)"

/* The example of design.md section 3, plus the two tasks it refers to. */
static const char design_example[] =
    "[workspace]\n"
    "# an integer >= 1, or auto (the number of online CPUs)\n"
    "concurrency = auto\n"
    "# seconds between SIGTERM and SIGKILL on cancellation; decimals allowed\n"
    "cancel_grace = 5\n"
    "# live or buffered\n"
    "output = live\n"
    "# the default allow-list of host variables for every task\n"
    "env_from_host = PATH\n"
    "\n"
    "[tag heavy]\n"
    "cap = 1\n"
    "\n"
    "[project core]\n"
    "# relative to the workspace root; default \".\"\n"
    "root = core\n"
    "tags = heavy\n"
    "\n"
    "[task core:build]\n"
    "# a shell action (/bin/sh -c); or a command action without a shell:\n"
    "#   argv = cc -c \"a b.c\"     (words; double quotes group, backslash "
    "escapes)\n"
    "run = cc -c a.c -o a.o\n"
    "inputs = a.c include/*.h\n"
    "outputs = a.o\n"
    "# hard edges; ~:name means a task of this project\n"
    "deps = core:gen\n"
    "# soft edges\n"
    "weak_deps = core:lint\n"
    "tags = slow\n"
    "# exclusive unless prefixed shared:; ~: scopes a mutex to this project\n"
    "mutex = db ~:scratch shared:cfg\n"
    "env_from_host = HOME\n"
    "env.CFLAGS = -O2\n"
    "# seconds\n"
    "timeout = 60\n"
    "\n"
    "[task core:gen]\n"
    "argv = gen --out include/gen.h\n"
    "\n"
    "[task core:lint]\n"
    "run = lint *.c\n";

/* ------------------------------------------------------------------------
 * Helpers.
 * ---------------------------------------------------------------------- */

/* A context on the counting allocator, and its leak check. */
static haz_ctx *ctx_new(haz_test_mem *tm)
{
    haz_ctx *ctx = NULL;

    haz_test_mem_init(tm);
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&ctx, &tm->mem), HAZ_OK);
    return ctx;
}

static void ctx_done(haz_ctx *ctx, haz_test_mem *tm)
{
    haz_ctx_free(ctx);
    CU_ASSERT_EQUAL(tm->live, 0);
}

/*
 * Parse `len` bytes as "hazfile" and expect return code `want_rc` and the
 * diagnostics `want` exactly (each line ends with "\n").  With `prefix`
 * set, `want` needs only to be a prefix of the diagnostics (for messages
 * whose end comes from another module).  Mismatches are printed with the
 * line of the test.
 */
static void check_n(int at, const char *text, size_t len, int want_rc,
                    const char *want, int prefix)
{
    haz_test_mem tm;
    haz_ctx *ctx = ctx_new(&tm);
    haz_diags *d = NULL;
    haz_hazfile *hf = NULL;
    char *got;
    int rc, ok;

    CU_ASSERT_EQUAL_FATAL(haz_diags_new(ctx, &d), HAZ_OK);
    rc = haz_hazfile_parse(ctx, "hazfile", text, len, &hf, d);
    got = haz_test_join_diags(d);
    ok = prefix ? strncmp(got, want, strlen(want)) == 0
                : strcmp(got, want) == 0;
    if (rc != want_rc || !ok)
        fprintf(stderr, "\ntest_hazfile.c:%d: rc %d (want %d)\n"
                "--- got:\n%s--- want%s:\n%s---\n", at, rc, want_rc, got,
                prefix ? " (prefix)" : "", want);
    CU_ASSERT_EQUAL(rc, want_rc);
    CU_ASSERT(ok);
    CU_ASSERT((hf != NULL) == (rc == 0));
    if (rc != 0)
        CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), rc);
    free(got);
    haz_hazfile_free(hf);
    haz_diags_free(d);
    ctx_done(ctx, &tm);
}

#define CHECK(text, want) \
    check_n(__LINE__, (text), strlen(text), HAZ_EPARSE, (want), 0)
#define CHECK_N(text, len, want) \
    check_n(__LINE__, (text), (len), HAZ_EPARSE, (want), 0)
#define CHECK_PREFIX(text, want) \
    check_n(__LINE__, (text), strlen(text), HAZ_EPARSE, (want), 1)

/* CHECK on a text made with a printf format. */
static void check_fmt(int at, const char *want_fmt, const char *value,
                      const char *text_fmt)
{
    char text[512], want[1024];

    snprintf(text, sizeof text, text_fmt, value);
    snprintf(want, sizeof want, want_fmt, value);
    check_n(at, text, strlen(text), HAZ_EPARSE, want, 0);
}

/* A parse that must succeed without diagnostics; NULL on failure. */
static haz_hazfile *parse_ok_n(int at, haz_ctx *ctx, const char *text,
                               size_t len)
{
    haz_diags *d = NULL;
    haz_hazfile *hf = NULL;
    int rc;

    CU_ASSERT_EQUAL_FATAL(haz_diags_new(ctx, &d), HAZ_OK);
    rc = haz_hazfile_parse(ctx, "hazfile", text, len, &hf, d);
    if (rc != 0 || haz_diags_count(d) != 0) {
        char *got = haz_test_join_diags(d);

        fprintf(stderr, "\ntest_hazfile.c:%d: rc %d: %s\n%s", at, rc,
                haz_ctx_errmsg(ctx), got);
        free(got);
    }
    CU_ASSERT_EQUAL(rc, HAZ_OK);
    CU_ASSERT_EQUAL(haz_diags_count(d), 0);
    haz_diags_free(d);
    return hf;
}

#define PARSE_OK(ctx, text) parse_ok_n(__LINE__, (ctx), (text), strlen(text))

/* Fill *t with the task `ref`; 0 on success. */
static int get_task(const haz_hazfile *hf, const char *ref, haz_task_info *t)
{
    size_t idx;

    if (haz_graph_find_task(hf->graph, ref, NULL, &idx) != 0)
        return -1;
    return haz_graph_task_info(hf->graph, idx, t);
}

/* The id of task index i. */
static const char *task_id(const haz_hazfile *hf, size_t i)
{
    haz_task_info t;

    if (haz_graph_task_info(hf->graph, i, &t) != 0)
        return "?";
    return t.id;
}

/* Words of a string vector joined with "|", in a static buffer. */
static const char *joinv(const char *const *v, size_t n)
{
    static char buf[1024];
    size_t i;

    buf[0] = '\0';
    for (i = 0; i < n; i++) {
        if (i > 0)
            strcat(buf, "|");
        if (strlen(buf) + strlen(v[i]) + 2 < sizeof buf)
            strcat(buf, v[i]);
    }
    return buf;
}

/* ------------------------------------------------------------------------
 * valid
 * ---------------------------------------------------------------------- */

static void test_design_example(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = ctx_new(&tm);
    haz_hazfile *hf = PARSE_OK(ctx, design_example);
    const haz_tag_cap *caps;
    haz_task_info t;
    size_t n_caps = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(hf);
    CU_ASSERT_STRING_EQUAL(hf->path, "hazfile");
    CU_ASSERT_EQUAL(hf->concurrency, 0);
    CU_ASSERT(hf->cancel_grace_ns == UINT64_C(5000000000));
    CU_ASSERT_EQUAL(hf->output, HAZ_OUTPUT_LIVE);
    CU_ASSERT_EQUAL(haz_graph_task_count(hf->graph), 3);
    caps = haz_graph_tag_caps(hf->graph, &n_caps);
    CU_ASSERT_EQUAL_FATAL(n_caps, 1);
    CU_ASSERT_STRING_EQUAL(caps[0].tag, "heavy");
    CU_ASSERT_EQUAL(caps[0].cap, 1);

    /* canonical order */
    CU_ASSERT_STRING_EQUAL(task_id(hf, 0), "core:build");
    CU_ASSERT_STRING_EQUAL(task_id(hf, 1), "core:gen");
    CU_ASSERT_STRING_EQUAL(task_id(hf, 2), "core:lint");

    CU_ASSERT_EQUAL_FATAL(get_task(hf, "core:build", &t), 0);
    CU_ASSERT_STRING_EQUAL(t.project, "core");
    CU_ASSERT_STRING_EQUAL(t.name, "build");
    CU_ASSERT_STRING_EQUAL(t.project_root, "core");
    CU_ASSERT_EQUAL(t.action, HAZ_ACTION_SHELL);
    CU_ASSERT_STRING_EQUAL(t.script, "cc -c a.c -o a.o");
    CU_ASSERT_STRING_EQUAL(joinv(t.inputs, t.n_inputs), "a.c|include/*.h");
    CU_ASSERT_STRING_EQUAL(joinv(t.outputs, t.n_outputs), "a.o");
    CU_ASSERT_EQUAL_FATAL(t.n_deps, 1);
    CU_ASSERT_STRING_EQUAL(task_id(hf, t.deps[0]), "core:gen");
    CU_ASSERT_EQUAL_FATAL(t.n_weak_deps, 1);
    CU_ASSERT_STRING_EQUAL(task_id(hf, t.weak_deps[0]), "core:lint");
    CU_ASSERT_STRING_EQUAL(joinv(t.tags, t.n_tags), "heavy|slow");
    CU_ASSERT_EQUAL_FATAL(t.n_mutexes, 3);
    CU_ASSERT_STRING_EQUAL(t.mutexes[0].name, "db");
    CU_ASSERT_EQUAL(t.mutexes[0].scope, HAZ_MUTEX_WORKSPACE);
    CU_ASSERT_EQUAL(t.mutexes[0].mode, HAZ_MUTEX_EXCLUSIVE);
    CU_ASSERT_STRING_EQUAL(t.mutexes[1].name, "scratch");
    CU_ASSERT_EQUAL(t.mutexes[1].scope, HAZ_MUTEX_PROJECT);
    CU_ASSERT_EQUAL(t.mutexes[1].mode, HAZ_MUTEX_EXCLUSIVE);
    CU_ASSERT_STRING_EQUAL(t.mutexes[2].name, "cfg");
    CU_ASSERT_EQUAL(t.mutexes[2].scope, HAZ_MUTEX_WORKSPACE);
    CU_ASSERT_EQUAL(t.mutexes[2].mode, HAZ_MUTEX_SHARED);
    CU_ASSERT_STRING_EQUAL(joinv(t.env_from_host, t.n_env_from_host),
                           "HOME|PATH");
    CU_ASSERT_EQUAL_FATAL(t.n_env, 1);
    CU_ASSERT_STRING_EQUAL(t.env[0].name, "CFLAGS");
    CU_ASSERT_STRING_EQUAL(t.env[0].value, "-O2");
    CU_ASSERT(t.timeout_ns == UINT64_C(60000000000));

    CU_ASSERT_EQUAL_FATAL(get_task(hf, "core:gen", &t), 0);
    CU_ASSERT_EQUAL(t.action, HAZ_ACTION_ARGV);
    CU_ASSERT_EQUAL(t.argc, 3);
    CU_ASSERT_STRING_EQUAL(joinv(t.argv, t.argc), "gen|--out|include/gen.h");
    CU_ASSERT_PTR_NULL(t.argv[t.argc]);
    CU_ASSERT_PTR_NULL(t.script);
    CU_ASSERT_STRING_EQUAL(joinv(t.tags, t.n_tags), "heavy");
    CU_ASSERT_EQUAL(t.n_dependents, 1);
    CU_ASSERT(t.timeout_ns == 0);

    haz_hazfile_free(hf);
    ctx_done(ctx, &tm);
}

/* A lone task: every default. */
static void test_defaults(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = ctx_new(&tm);
    haz_hazfile *hf = PARSE_OK(ctx, "[task p:t]\nrun = true\n");
    haz_task_info t;

    CU_ASSERT_PTR_NOT_NULL_FATAL(hf);
    CU_ASSERT_EQUAL(hf->concurrency, 0);
    CU_ASSERT(hf->cancel_grace_ns == HAZ_DEFAULT_CANCEL_GRACE_NS);
    CU_ASSERT_EQUAL(hf->output, HAZ_OUTPUT_LIVE);
    CU_ASSERT_EQUAL_FATAL(get_task(hf, "p:t", &t), 0);
    CU_ASSERT_STRING_EQUAL(t.project_root, ".");
    CU_ASSERT_STRING_EQUAL(t.script, "true");
    CU_ASSERT_EQUAL(t.n_deps + t.n_weak_deps + t.n_tags + t.n_mutexes +
                    t.n_env + t.n_inputs + t.n_outputs, 0);
    CU_ASSERT_STRING_EQUAL(joinv(t.env_from_host, t.n_env_from_host),
                           "PATH");
    CU_ASSERT(t.timeout_ns == 0);
    haz_hazfile_free(hf);
    ctx_done(ctx, &tm);
}

/* Empty input, and input of blanks and comments only. */
static void test_empty(void)
{
    static const char *const texts[] = {
        "", "\n", "\n\n\r\n", "   \t \n", "# only a comment", "  # x\n\t#\n"
    };
    haz_test_mem tm;
    haz_ctx *ctx = ctx_new(&tm);
    haz_hazfile *hf = NULL;
    size_t i;

    for (i = 0; i < COUNT(texts); i++) {
        hf = PARSE_OK(ctx, texts[i]);
        CU_ASSERT_PTR_NOT_NULL(hf);
        if (hf)
            CU_ASSERT_EQUAL(haz_graph_task_count(hf->graph), 0);
        haz_hazfile_free(hf);
    }
    /* NULL text with length 0 is an empty file. */
    CU_ASSERT_EQUAL(haz_hazfile_parse(ctx, "x", NULL, 0, &hf, NULL), 0);
    haz_hazfile_free(hf);
    ctx_done(ctx, &tm);
}

/* CRLF line ends give the same graph as LF; a final CR without LF too. */
static void test_crlf(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = ctx_new(&tm);
    char *crlf = malloc(2 * sizeof design_example);
    haz_hazfile *hf;
    haz_task_info t;
    size_t i, o = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(crlf);
    for (i = 0; design_example[i]; i++) {
        if (design_example[i] == '\n')
            crlf[o++] = '\r';
        crlf[o++] = design_example[i];
    }
    crlf[o] = '\0';
    hf = PARSE_OK(ctx, crlf);
    CU_ASSERT_PTR_NOT_NULL_FATAL(hf);
    CU_ASSERT_EQUAL(haz_graph_task_count(hf->graph), 3);
    CU_ASSERT_EQUAL_FATAL(get_task(hf, "core:build", &t), 0);
    CU_ASSERT_STRING_EQUAL(t.script, "cc -c a.c -o a.o");
    CU_ASSERT_STRING_EQUAL(t.env[0].value, "-O2");
    CU_ASSERT_STRING_EQUAL(t.project_root, "core");
    haz_hazfile_free(hf);

    hf = PARSE_OK(ctx, "[task p:t]\r\nrun = a b\r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(hf);
    CU_ASSERT_EQUAL_FATAL(get_task(hf, "p:t", &t), 0);
    CU_ASSERT_STRING_EQUAL(t.script, "a b");
    haz_hazfile_free(hf);
    free(crlf);
    ctx_done(ctx, &tm);
}

/* Comments, blank lines, blanks around keys, '=' and '#' in values. */
static void test_comments_and_blanks(void)
{
    static const char text[] =
        "\n"
        "   # an indented comment\n"
        "\t\n"
        "  [ task   p:t ]  \n"
        "\t run\t=\t echo a=b # not a comment \t\n"
        "#run = ignored\n"
        "  env.X=1\n"
        "env.Y =\n"
        "env.Z = \"quoted\" stays\n"
        "\n";
    haz_test_mem tm;
    haz_ctx *ctx = ctx_new(&tm);
    haz_hazfile *hf = PARSE_OK(ctx, text);
    haz_task_info t;

    CU_ASSERT_PTR_NOT_NULL_FATAL(hf);
    CU_ASSERT_EQUAL_FATAL(get_task(hf, "p:t", &t), 0);
    CU_ASSERT_STRING_EQUAL(t.script, "echo a=b # not a comment");
    CU_ASSERT_EQUAL_FATAL(t.n_env, 3);
    CU_ASSERT_STRING_EQUAL(t.env[0].name, "X");
    CU_ASSERT_STRING_EQUAL(t.env[0].value, "1");
    CU_ASSERT_STRING_EQUAL(t.env[1].name, "Y");
    CU_ASSERT_STRING_EQUAL(t.env[1].value, "");
    CU_ASSERT_STRING_EQUAL(t.env[2].value, "\"quoted\" stays");
    haz_hazfile_free(hf);
    ctx_done(ctx, &tm);
}

/* argv words: blanks separate, double quotes group, backslash escapes. */
static void test_argv_quoting(void)
{
    static const struct {
        const char *value;
        const char *words;   /* joined with | */
        size_t argc;
    } cases[] = {
        { "cc -c a.c", "cc|-c|a.c", 3 },
        { "cc   -c\t\ta.c  ", "cc|-c|a.c", 3 },
        { "cc -c \"a b.c\"", "cc|-c|a b.c", 3 },
        { "echo \"\"", "echo|", 2 },
        { "echo \"\" \"\"", "echo||", 3 },
        { "echo a\"b c\"d", "echo|ab cd", 2 },
        { "echo a\\ b", "echo|a b", 2 },
        { "echo \\\"x\\\"", "echo|\"x\"", 2 },
        { "echo \"a \\\" b\"", "echo|a \" b", 2 },
        { "echo \\\\", "echo|\\", 2 },
        { "echo \"\\\\n\"", "echo|\\n", 2 },
        { "echo \"\\n\"", "echo|n", 2 },
        { "echo 'single quotes are plain'", "echo|'single|quotes|are|plain'",
          5 },
        { "echo \"#\" # x", "echo|#|#|x", 4 },
        { "\"prog name\"", "prog name", 1 },
    };
    haz_test_mem tm;
    haz_ctx *ctx = ctx_new(&tm);
    size_t i;

    for (i = 0; i < COUNT(cases); i++) {
        char text[256];
        haz_hazfile *hf;
        haz_task_info t;

        snprintf(text, sizeof text, "[task p:t]\nargv = %s\n",
                 cases[i].value);
        hf = parse_ok_n(__LINE__, ctx, text, strlen(text));
        CU_ASSERT_PTR_NOT_NULL(hf);
        if (!hf)
            continue;
        CU_ASSERT_EQUAL_FATAL(get_task(hf, "p:t", &t), 0);
        CU_ASSERT_EQUAL(t.action, HAZ_ACTION_ARGV);
        CU_ASSERT_EQUAL(t.argc, cases[i].argc);
        if (strcmp(joinv(t.argv, t.argc), cases[i].words) != 0)
            fprintf(stderr, "\nargv = %s: got %s, want %s\n",
                    cases[i].value, joinv(t.argv, t.argc), cases[i].words);
        CU_ASSERT_STRING_EQUAL(joinv(t.argv, t.argc), cases[i].words);
        haz_hazfile_free(hf);
    }
    ctx_done(ctx, &tm);
}

/* Decimal seconds, parsed exactly into nanoseconds. */
static void test_seconds(void)
{
    static const struct {
        const char *value;
        uint64_t ns;
    } cases[] = {
        { "0", 0 },
        { "5", UINT64_C(5000000000) },
        { "2.5", UINT64_C(2500000000) },
        { "0.25", UINT64_C(250000000) },
        { "0.1", UINT64_C(100000000) },
        { "007", UINT64_C(7000000000) },
        { "1.000000001", UINT64_C(1000000001) },
        { "0.123456789", UINT64_C(123456789) },
        { "3.140", UINT64_C(3140000000) },
        { "1000000", UINT64_C(1000000000000000) },
        { "1000000.000000000", UINT64_C(1000000000000000) },
    };
    haz_test_mem tm;
    haz_ctx *ctx = ctx_new(&tm);
    size_t i;

    for (i = 0; i < COUNT(cases); i++) {
        char text[256];
        haz_hazfile *hf;
        haz_task_info t;

        snprintf(text, sizeof text,
                 "[workspace]\ncancel_grace = %s\n[task p:t]\nrun = x\n"
                 "timeout = %s\n", cases[i].value,
                 cases[i].ns ? cases[i].value : "1");
        hf = parse_ok_n(__LINE__, ctx, text, strlen(text));
        CU_ASSERT_PTR_NOT_NULL(hf);
        if (!hf)
            continue;
        CU_ASSERT(hf->cancel_grace_ns == cases[i].ns);
        CU_ASSERT_EQUAL_FATAL(get_task(hf, "p:t", &t), 0);
        CU_ASSERT(t.timeout_ns ==
                  (cases[i].ns ? cases[i].ns : UINT64_C(1000000000)));
        haz_hazfile_free(hf);
    }
    ctx_done(ctx, &tm);
}

/* [workspace] values other than the defaults. */
static void test_workspace(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = ctx_new(&tm);
    haz_hazfile *hf;
    haz_task_info t;
    char text[128];

    hf = PARSE_OK(ctx, "[workspace]\nconcurrency = 8\noutput = buffered\n"
                       "env_from_host = USER HOME\n[task p:t]\nrun = x\n"
                       "env_from_host = LANG\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(hf);
    CU_ASSERT_EQUAL(hf->concurrency, 8);
    CU_ASSERT_EQUAL(hf->output, HAZ_OUTPUT_BUFFERED);
    CU_ASSERT_EQUAL_FATAL(get_task(hf, "p:t", &t), 0);
    CU_ASSERT_STRING_EQUAL(joinv(t.env_from_host, t.n_env_from_host),
                           "HOME|LANG|USER");
    haz_hazfile_free(hf);

    /* An empty list passes no host variable at all. */
    hf = PARSE_OK(ctx, "[workspace]\nenv_from_host =\n[task p:t]\nrun = x\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(hf);
    CU_ASSERT_EQUAL_FATAL(get_task(hf, "p:t", &t), 0);
    CU_ASSERT_EQUAL(t.n_env_from_host, 0);
    haz_hazfile_free(hf);

    /* The largest concurrency, and leading zeros. */
    snprintf(text, sizeof text, "[workspace]\nconcurrency = %u\n", UINT_MAX);
    hf = PARSE_OK(ctx, text);
    CU_ASSERT_PTR_NOT_NULL_FATAL(hf);
    CU_ASSERT_EQUAL(hf->concurrency, UINT_MAX);
    haz_hazfile_free(hf);
    hf = PARSE_OK(ctx, "[workspace]\nconcurrency = 0012\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(hf);
    CU_ASSERT_EQUAL(hf->concurrency, 12);
    haz_hazfile_free(hf);
    ctx_done(ctx, &tm);
}

/* Projects: declared before or after their tasks, roots, tags, caps. */
static void test_projects_and_tags(void)
{
    static const char text[] =
        "[task app:link]\n"
        "run = link\n"
        "deps = lib:build\n"
        "tags = slow\n"
        "[project app]\n"
        "root = apps/app\n"
        "tags = fast ui\n"
        "[project lib]\n"
        "[task lib:build]\n"
        "run = build\n"
        "tags = slow slow\n"
        "[tag slow]\n"
        "cap = 2\n"
        "[tag x]\n"
        "[task x:y]\n"   /* a tag and a task section may share a name */
        "run = z\n";
    haz_test_mem tm;
    haz_ctx *ctx = ctx_new(&tm);
    haz_hazfile *hf = PARSE_OK(ctx, text);
    const haz_tag_cap *caps;
    haz_task_info t;
    size_t n = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(hf);
    CU_ASSERT_EQUAL_FATAL(get_task(hf, "app:link", &t), 0);
    CU_ASSERT_STRING_EQUAL(t.project_root, "apps/app");
    CU_ASSERT_STRING_EQUAL(joinv(t.tags, t.n_tags), "fast|slow|ui");
    CU_ASSERT_EQUAL_FATAL(t.n_deps, 1);
    CU_ASSERT_STRING_EQUAL(task_id(hf, t.deps[0]), "lib:build");
    CU_ASSERT_EQUAL_FATAL(get_task(hf, "lib:build", &t), 0);
    CU_ASSERT_STRING_EQUAL(t.project_root, ".");
    CU_ASSERT_STRING_EQUAL(joinv(t.tags, t.n_tags), "slow");
    caps = haz_graph_tag_caps(hf->graph, &n);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_STRING_EQUAL(caps[0].tag, "slow");
    CU_ASSERT_EQUAL(caps[0].cap, 2);
    haz_hazfile_free(hf);
    ctx_done(ctx, &tm);
}

/* Lists of references, mutexes and patterns in their accepted forms. */
static void test_lists(void)
{
    static const char text[] =
        "[task p:a]\n"
        "run = a\n"
        "deps = ~:b q:c\n"
        "weak_deps = ~:d\n"
        "mutex = exclusive:y shared:~:x ~:y y-2\n"
        "inputs = /ws/abs.txt src/**/*.c {a,b}.h x[0-9].txt with\\*star\n"
        "outputs = out/a.o out/b.o\n"
        "env_from_host = HOME _X X_1\n"
        "[task p:b]\nrun = b\n"
        "[task q:c]\nrun = c\n"
        "[task p:d]\nrun = d\n";
    haz_test_mem tm;
    haz_ctx *ctx = ctx_new(&tm);
    haz_hazfile *hf = PARSE_OK(ctx, text);
    haz_task_info t;

    CU_ASSERT_PTR_NOT_NULL_FATAL(hf);
    CU_ASSERT_EQUAL_FATAL(get_task(hf, "p:a", &t), 0);
    CU_ASSERT_EQUAL_FATAL(t.n_deps, 2);
    CU_ASSERT_STRING_EQUAL(task_id(hf, t.deps[0]), "p:b");
    CU_ASSERT_STRING_EQUAL(task_id(hf, t.deps[1]), "q:c");
    CU_ASSERT_EQUAL_FATAL(t.n_weak_deps, 1);
    CU_ASSERT_STRING_EQUAL(task_id(hf, t.weak_deps[0]), "p:d");
    CU_ASSERT_EQUAL_FATAL(t.n_mutexes, 4);
    CU_ASSERT_EQUAL(t.mutexes[0].mode, HAZ_MUTEX_EXCLUSIVE);
    CU_ASSERT_EQUAL(t.mutexes[0].scope, HAZ_MUTEX_WORKSPACE);
    CU_ASSERT_STRING_EQUAL(t.mutexes[0].name, "y");
    CU_ASSERT_EQUAL(t.mutexes[1].mode, HAZ_MUTEX_SHARED);
    CU_ASSERT_EQUAL(t.mutexes[1].scope, HAZ_MUTEX_PROJECT);
    CU_ASSERT_STRING_EQUAL(t.mutexes[1].name, "x");
    CU_ASSERT_EQUAL(t.mutexes[2].scope, HAZ_MUTEX_PROJECT);
    CU_ASSERT_STRING_EQUAL(t.mutexes[2].name, "y");
    CU_ASSERT_STRING_EQUAL(t.mutexes[3].name, "y-2");
    CU_ASSERT_STRING_EQUAL(joinv(t.inputs, t.n_inputs),
                           "/ws/abs.txt|src/**/*.c|{a,b}.h|x[0-9].txt|"
                           "with\\*star");
    CU_ASSERT_STRING_EQUAL(joinv(t.outputs, t.n_outputs), "out/a.o|out/b.o");
    CU_ASSERT_STRING_EQUAL(joinv(t.env_from_host, t.n_env_from_host),
                           "HOME|PATH|X_1|_X");
    haz_hazfile_free(hf);
    ctx_done(ctx, &tm);
}

/* Lines of exactly 65536 bytes are fine; the byte values of a run script
 * are kept as they are. */
static void test_long_line_and_bytes(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = ctx_new(&tm);
    size_t n = 65536;
    char *text = malloc(n + 64);
    haz_hazfile *hf;
    haz_task_info t;

    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    strcpy(text, "[task p:t]\n");
    memset(text + 11, 'x', n);
    memcpy(text + 11, "run = ", 6);
    strcpy(text + 11 + n, "\r\n");
    hf = parse_ok_n(__LINE__, ctx, text, strlen(text));
    CU_ASSERT_PTR_NOT_NULL_FATAL(hf);
    CU_ASSERT_EQUAL_FATAL(get_task(hf, "p:t", &t), 0);
    CU_ASSERT_EQUAL(strlen(t.script), n - 6);
    haz_hazfile_free(hf);

    hf = PARSE_OK(ctx, "[task p:t]\nrun = printf '\xc3\xa9\\t\x01'\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(hf);
    CU_ASSERT_EQUAL_FATAL(get_task(hf, "p:t", &t), 0);
    CU_ASSERT_STRING_EQUAL(t.script, "printf '\xc3\xa9\\t\x01'");
    haz_hazfile_free(hf);
    free(text);
    ctx_done(ctx, &tm);
}

/* ------------------------------------------------------------------------
 * errors
 * ---------------------------------------------------------------------- */

static void test_err_line_level(void)
{
    static const char nul_run[] = "[task a:b]\nrun = x\0y\n";
    static const char nul_header[] = "[task a:b]\nrun = x\n[task\0]\nrnu = 1\n";
    size_t n = 65537;
    char *text = malloc(n + 64);

    /* A command cut short at a NUL byte is rejected, never kept. */
    CHECK_N(nul_run, sizeof nul_run - 1,
            "hazfile:1: [task a:b] has no 'run' or 'argv'\n"
            "hazfile:2: NUL byte in line\n");
    /* An unreadable header: the keys after it are not checked. */
    CHECK_N(nul_header, sizeof nul_header - 1,
            "hazfile:3: NUL byte in line\n");
    CHECK_N("\0", 1, "hazfile:1: NUL byte in line\n");

    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    strcpy(text, "[workspace]\n#");
    memset(text + 13, 'x', n - 1);
    strcpy(text + 12 + n, "\noutput = x\n");
    CHECK(text,
          "hazfile:2: line is longer than 65536 bytes\n"
          "hazfile:3: output must be 'live' or 'buffered', got 'x'\n");
    text[12] = '[';
    CHECK(text, "hazfile:2: line is longer than 65536 bytes\n");
    free(text);

    /* Only one CR is a line end. */
    CHECK("[workspace]\r\r\n",
          "hazfile:1: unexpected text after ']': '\\x0d'\n");
}

static void test_err_sections(void)
{
    CHECK("concurrency = 2\n[workspace]\n",
          "hazfile:1: key 'concurrency' before any section header\n");
    CHECK("[workspace\nfoo = 1\n",
          "hazfile:1: section header is missing ']': '[workspace'\n");
    CHECK("[workspace] x\nconcurrency = 0\n",
          "hazfile:1: unexpected text after ']': 'x'\n"
          "hazfile:2: concurrency must be 'auto' or an integer >= 1, "
          "got '0'\n");
    CHECK("[task a:b] # build\nrun = x\n",
          "hazfile:1: unexpected text after ']': '# build'\n");
    CHECK("[]\n[ \t]\n",
          "hazfile:1: empty section header '[]'\n"
          "hazfile:2: empty section header '[]'\n");
    CHECK("[tasks a:b]\nrnu = 1\n",
          "hazfile:1: unknown section kind 'tasks' (expected workspace, tag, "
          "project or task)\n");
    CHECK("[Workspace]\n",
          "hazfile:1: unknown section kind 'Workspace' (expected workspace, "
          "tag, project or task)\n");
    CHECK("[workspace main]\n",
          "hazfile:1: [workspace] takes no name, got 'main'\n");
    CHECK("[tag]\n[project]\n[task]\n",
          "hazfile:1: [tag] needs a name, as in [tag NAME]\n"
          "hazfile:2: [project] needs a name, as in [project NAME]\n"
          "hazfile:3: [task] needs a name, as in [task PROJECT:TASK]\n");
    CHECK("[tag a b]\n[task a:b c]\n",
          "hazfile:1: [tag] takes one name, got 'a b'\n"
          "hazfile:2: [task] takes one name, got 'a:b c'\n");
    CHECK("[task core]\n[task :b]\n[task a:]\n[task a:b:c]\n[task :]\n",
          "hazfile:1: [task] needs PROJECT:TASK, got 'core'\n"
          "hazfile:2: [task] needs PROJECT:TASK, got ':b'\n"
          "hazfile:3: [task] needs PROJECT:TASK, got 'a:'\n"
          "hazfile:4: [task] needs PROJECT:TASK, got 'a:b:c'\n"
          "hazfile:5: [task] needs PROJECT:TASK, got ':'\n");
    CHECK("[tag b@d]\n[project -x]\n[task ok:b.d]\nrun = x\n"
          "[task \xc3\x96:x]\nrun = y\n"
          "[project " LONG_NAME "]\n",
          "hazfile:1: invalid tag name 'b@d' " NAME_RULE "\n"
          "hazfile:2: invalid project name '-x' " NAME_RULE "\n"
          "hazfile:3: invalid task name 'b.d' " NAME_RULE "\n"
          "hazfile:5: invalid project name '\xc3\x96' " NAME_RULE "\n"
          "hazfile:7: invalid project name '" LONG_NAME "' " NAME_RULE "\n");
    CHECK("[workspace]\n[workspace]\n[tag t]\ncap = 1\n[tag t]\n"
          "[project p]\n[project p]\n[task p:x]\nrun = a\n[task p:x]\n"
          "run = b\n",
          "hazfile:2: duplicate section [workspace] (first at line 1)\n"
          "hazfile:5: duplicate section [tag t] (first at line 3)\n"
          "hazfile:7: duplicate section [project p] (first at line 6)\n"
          "hazfile:10: duplicate section [task p:x] (first at line 8)\n");
}

static void test_err_keys(void)
{
    CHECK("[workspace]\nconcurrency 4\n",
          "hazfile:2: expected 'key = value', got 'concurrency 4'\n");
    CHECK("[workspace]\n= 4\n", "hazfile:2: missing key before '='\n");
    CHECK("[workspace]\ncon-currency = 4\nconcurrency x = 4\n",
          "hazfile:2: invalid key 'con-currency' (keys are made of "
          "[A-Za-z0-9_.])\n"
          "hazfile:3: invalid key 'concurrency x' (keys are made of "
          "[A-Za-z0-9_.])\n");
    CHECK("[workspace]\njobs = 4\nroot = x\n[tag t]\nlimit = 1\n"
          "[project p]\nrun = x\nenv.X = 1\n[task p:x]\nrnu = x\nrun = y\n"
          "cap = 1\nenvX = 1\nEnv.X = 1\n",
          "hazfile:2: unknown key 'jobs' in [workspace]\n"
          "hazfile:3: unknown key 'root' in [workspace]\n"
          "hazfile:5: unknown key 'limit' in [tag t]\n"
          "hazfile:7: unknown key 'run' in [project p]\n"
          "hazfile:8: unknown key 'env.X' in [project p]\n"
          "hazfile:10: unknown key 'rnu' in [task p:x]\n"
          "hazfile:12: unknown key 'cap' in [task p:x]\n"
          "hazfile:13: unknown key 'envX' in [task p:x]\n"
          "hazfile:14: unknown key 'Env.X' in [task p:x]\n");
    CHECK("[task p:x]\nrun = a\ninputs = a\ninputs = b\nenv.A = 1\n"
          "env.A = 2\nrun = b\n[workspace]\noutput = live\noutput = live\n"
          "[project p]\nroot = a\nroot = a\n[tag t]\ncap = 1\ncap = 2\n",
          "hazfile:4: duplicate key 'inputs' in [task p:x] (first at line "
          "3)\n"
          "hazfile:6: duplicate key 'env.A' in [task p:x] (first at line 5)\n"
          "hazfile:7: duplicate key 'run' in [task p:x] (first at line 2)\n"
          "hazfile:10: duplicate key 'output' in [workspace] (first at line "
          "9)\n"
          "hazfile:13: duplicate key 'root' in [project p] (first at line "
          "12)\n"
          "hazfile:16: duplicate key 'cap' in [tag t] (first at line 15)\n");
    /* The keys of a header that could not be read are skipped. */
    CHECK("[bogus]\nrnu = 1\nrun = 2\n[workspace]\nrnu = 3\n",
          "hazfile:1: unknown section kind 'bogus' (expected workspace, tag, "
          "project or task)\n"
          "hazfile:5: unknown key 'rnu' in [workspace]\n");
    /* ... but those of a section in error are checked one by one. */
    CHECK("[task a:b@]\nrnu = 1\n",
          "hazfile:1: invalid task name 'b@' " NAME_RULE "\n"
          "hazfile:2: unknown key 'rnu' in [task a:b@]\n");
}

#define CHECK_FMT(want_fmt, value, text_fmt) \
    check_fmt(__LINE__, (want_fmt), (value), (text_fmt))

static void test_err_workspace_values(void)
{
    static const char *const bad_conc[] = {
        "0", "-1", "+1", "1x", "1.5", "", "AUTO", "0x10", "1 2", "00",
        "99999999999999999999x"
    };
    static const char *const bad_secs[] = {
        "-1", "nan", "NaN", "inf", "infinity", "1e3", "1E3", "1.5.2", ".5",
        "5.", "5s", "", "0x1", "+5", "1,5", "1 000", "- 1", "2.5e0"
    };
    static const char *const big_secs[] = {
        "1000001", "1000000.5", "1000000.000000001",
        "99999999999999999999999999999"
    };
    static const char *const bad_output[] = { "quiet", "Live", "", "live x" };
    char buf[64];
    size_t i;

    for (i = 0; i < COUNT(bad_conc); i++)
        CHECK_FMT("hazfile:2: concurrency must be 'auto' or an integer >= 1,"
                  " got '%s'\n", bad_conc[i],
                  "[workspace]\nconcurrency = %s\n");
    /* unsigned long long: UINT_MAX + 1 wraps to 0 where long is 32 bits */
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)UINT_MAX + 1);
    CHECK_FMT("hazfile:2: concurrency must be at most 4294967295, "
              "got '%s'\n", buf, "[workspace]\nconcurrency = %s\n");
    CHECK_FMT("hazfile:2: concurrency must be at most 4294967295, "
              "got '%s'\n", "99999999999999999999999",
              "[workspace]\nconcurrency = %s\n");

    for (i = 0; i < COUNT(bad_secs); i++)
        CHECK_FMT("hazfile:2: cancel_grace must be a number of seconds >= 0 "
                  "such as 5 or 2.5, got '%s'\n", bad_secs[i],
                  "[workspace]\ncancel_grace = %s\n");
    for (i = 0; i < COUNT(big_secs); i++)
        CHECK_FMT("hazfile:2: cancel_grace must be at most 1000000 seconds, "
                  "got '%s'\n", big_secs[i],
                  "[workspace]\ncancel_grace = %s\n");
    CHECK_FMT("hazfile:2: cancel_grace has more than 9 decimal places: "
              "'%s'\n", "0.0000000001", "[workspace]\ncancel_grace = %s\n");

    for (i = 0; i < COUNT(bad_output); i++)
        CHECK_FMT("hazfile:2: output must be 'live' or 'buffered', "
                  "got '%s'\n", bad_output[i], "[workspace]\noutput = %s\n");

    CHECK("[workspace]\nenv_from_host = PATH 1X A-B\n",
          "hazfile:2: invalid environment variable name '1X' " ENV_RULE "\n"
          "hazfile:2: invalid environment variable name 'A-B' " ENV_RULE
          "\n");
}

static void test_err_tag_project_values(void)
{
    static const char *const bad_cap[] = { "0", "-1", "abc", "", "1.0",
                                           "+2" };
    size_t i;

    for (i = 0; i < COUNT(bad_cap); i++)
        CHECK_FMT("hazfile:2: cap must be an integer >= 1, got '%s'\n",
                  bad_cap[i], "[tag t]\ncap = %s\n");
    CHECK("[tag t]\ncap = 4294967296\n",
          "hazfile:2: cap must be at most 4294967295, got '4294967296'\n");

    CHECK("[project p]\nroot =\n",
          "hazfile:2: root must not be empty (use '.' for the workspace "
          "root)\n");
    CHECK("[project p]\nroot = /abs\n",
          "hazfile:2: invalid root '/abs': it must be relative to the "
          "workspace root\n");
    /* The reason comes from haz_path_check. */
    CHECK_PREFIX("[project p]\nroot = a/../b\n",
                 "hazfile:2: invalid root 'a/../b': ");
    CHECK_PREFIX("[project p]\nroot = a//b\n",
                 "hazfile:2: invalid root 'a//b': ");
    CHECK_PREFIX("[project p]\nroot = a/\n", "hazfile:2: invalid root 'a/': ");
    CHECK_PREFIX("[project p]\nroot = ./a\n",
                 "hazfile:2: invalid root './a': ");
    CHECK("[project p]\ntags = ok b@d -x\n",
          "hazfile:2: invalid tag name 'b@d' " NAME_RULE "\n"
          "hazfile:2: invalid tag name '-x' " NAME_RULE "\n");
}

static void test_err_actions(void)
{
    CHECK("[task p:x]\nrun =\n[task p:y]\nrun =  \t \n",
          "hazfile:2: run is empty\nhazfile:4: run is empty\n");
    CHECK("[task p:x]\nargv =\n", "hazfile:2: argv is empty\n");
    CHECK("[task p:x]\nargv = cc \"a b\n",
          "hazfile:2: argv has an unterminated double quote: "
          "'cc \"a b'\n");
    CHECK("[task p:x]\nargv = cc a\\\n",
          "hazfile:2: argv ends with a lone backslash: 'cc a\\'\n");
    CHECK("[task p:x]\nargv = \"\" x\n",
          "hazfile:2: argv[0] is empty: '\"\" x'\n");
    CHECK("[task p:x]\nrun = a\nargv = b\n[task p:y]\nargv = b\nrun = a\n",
          "hazfile:3: 'argv' conflicts with 'run' at line 2: a task has "
          "exactly one action\n"
          "hazfile:6: 'run' conflicts with 'argv' at line 5: a task has "
          "exactly one action\n");
    CHECK("[task p:x]\ninputs = a\n\n[task p:y]\n",
          "hazfile:1: [task p:x] has no 'run' or 'argv'\n"
          "hazfile:4: [task p:y] has no 'run' or 'argv'\n");
}

static void test_err_task_values(void)
{
    static const char *const bad_timeout[] = { "0", "0.0", "-1", "abc", "",
                                               "1e2", "60s" };
    size_t i;

    CHECK_PREFIX("[task p:x]\nrun = a\ninputs = ok a//b\n",
                 "hazfile:3: invalid input pattern 'a//b': ");
    CHECK_PREFIX("[task p:x]\nrun = a\noutputs = ../x\n",
                 "hazfile:3: invalid output pattern '../x': ");
    CHECK("[task p:x]\nrun = a\ndeps = core nope: :x a:b:c ~x:y ~:\n",
          "hazfile:3: invalid task reference 'core' in deps (expected "
          "PROJECT:TASK or ~:TASK)\n"
          "hazfile:3: invalid task reference 'nope:' in deps (expected "
          "PROJECT:TASK or ~:TASK)\n"
          "hazfile:3: invalid task reference ':x' in deps (expected "
          "PROJECT:TASK or ~:TASK)\n"
          "hazfile:3: invalid task reference 'a:b:c' in deps (expected "
          "PROJECT:TASK or ~:TASK)\n"
          "hazfile:3: invalid task reference '~x:y' in deps (expected "
          "PROJECT:TASK or ~:TASK)\n"
          "hazfile:3: invalid task reference '~:' in deps (expected "
          "PROJECT:TASK or ~:TASK)\n");
    CHECK("[task p:x]\nrun = a\nweak_deps = ^:all\n",
          "hazfile:3: invalid task reference '^:all' in weak_deps (expected "
          "PROJECT:TASK or ~:TASK)\n");
    CHECK("[task p:x]\nrun = a\ntags = b@d\n",
          "hazfile:3: invalid tag name 'b@d' " NAME_RULE "\n");
    CHECK("[task p:x]\nrun = a\nmutex = ok shared: ~: b@d x:y\n",
          "hazfile:3: invalid mutex 'shared:' (expected "
          "[shared:|exclusive:][~:]NAME; " NAME_RULE_TEXT ")\n"
          "hazfile:3: invalid mutex '~:' (expected "
          "[shared:|exclusive:][~:]NAME; " NAME_RULE_TEXT ")\n"
          "hazfile:3: invalid mutex 'b@d' (expected "
          "[shared:|exclusive:][~:]NAME; " NAME_RULE_TEXT ")\n"
          "hazfile:3: invalid mutex 'x:y' (expected "
          "[shared:|exclusive:][~:]NAME; " NAME_RULE_TEXT ")\n");
    CHECK("[task p:x]\nrun = a\nmutex = db shared:db\n",
          "hazfile:3: mutex 'shared:db' names a lock declared before in this "
          "task\n");
    CHECK("[task p:x]\nrun = a\nenv_from_host = HOME 9\n",
          "hazfile:3: invalid environment variable name '9' " ENV_RULE "\n");
    CHECK("[task p:x]\nrun = a\nenv.1X = a\nenv. = b\nenv.A.B = c\n",
          "hazfile:3: invalid environment variable name '1X' " ENV_RULE "\n"
          "hazfile:4: invalid environment variable name '' " ENV_RULE "\n"
          "hazfile:5: invalid environment variable name 'A.B' " ENV_RULE
          "\n");
    for (i = 0; i < COUNT(bad_timeout); i++)
        CHECK_FMT("hazfile:3: timeout must be a number of seconds > 0 such "
                  "as 60 or 2.5, got '%s'\n", bad_timeout[i],
                  "[task p:x]\nrun = a\ntimeout = %s\n");
    CHECK("[task p:x]\nrun = a\ntimeout = 1000001\n",
          "hazfile:3: timeout must be at most 1000000 seconds, got "
          "'1000001'\n");
    CHECK("[task p:x]\nrun = a\ntimeout = 1.0000000001\n",
          "hazfile:3: timeout has more than 9 decimal places: "
          "'1.0000000001'\n");
}

/* Quoted text: control bytes and broken UTF-8 escaped, long text cut. */
static void test_err_quoting(void)
{
    char text[512], want[512];

    CHECK("[workspace]\noutput = a\x01" "b\xff" "c\xc3\xa9\td\x7f\n",
          "hazfile:2: output must be 'live' or 'buffered', got "
          "'a\\x01b\\xffc\xc3\xa9\\x09d\\x7f'\n");
    /* C1 controls, surrogates, overlong forms and cut sequences. */
    CHECK("[workspace]\noutput = \xc2\x85 \xed\xa0\x80 \xc0\xaf \xe2\x82\n",
          "hazfile:2: output must be 'live' or 'buffered', got "
          "'\\xc2\\x85 \\xed\\xa0\\x80 \\xc0\\xaf \\xe2\\x82'\n");
    memset(text, 0, sizeof text);
    strcpy(text, "[workspace]\noutput = ");
    memset(text + strlen(text), 'v', 200);
    strcat(text, "\n");
    snprintf(want, sizeof want,
             "hazfile:2: output must be 'live' or 'buffered', got '%.80s...'"
             "\n", text + 21);
    CHECK(text, want);
    /* A multi-byte character is never cut in two. */
    memset(text, 0, sizeof text);
    strcpy(text, "[workspace]\noutput = ");
    memset(text + strlen(text), 'v', 79);
    strcat(text, "\xc3\xa9z\n");
    snprintf(want, sizeof want,
             "hazfile:2: output must be 'live' or 'buffered', got '%.79s...'"
             "\n", text + 21);
    CHECK(text, want);
}

/* Many errors in one file come together, in line order, with the missing
 * action reported at its header line. */
static void test_err_many(void)
{
    static const char text[] =
        "x = 1\n"                        /* 1 */
        "[workspace]\n"                  /* 2 */
        "concurrency = 0\n"              /* 3 */
        "output = loud\n"                /* 4 */
        "[task core:build]\n"            /* 5 */
        "rnu = cc\n"                     /* 6 */
        "deps = core\n"                  /* 7 */
        "timeout = -3\n"                 /* 8 */
        "[tag heavy]\n"                  /* 9 */
        "cap = 0\n"                      /* 10 */
        "[task core:build]\n"            /* 11 */
        "run = again\n"                  /* 12 */
        "[project core]\n"               /* 13 */
        "root = /abs\n"                  /* 14 */
        "no equals here\n";              /* 15 */

    CHECK(text,
          "hazfile:1: key 'x' before any section header\n"
          "hazfile:3: concurrency must be 'auto' or an integer >= 1, "
          "got '0'\n"
          "hazfile:4: output must be 'live' or 'buffered', got 'loud'\n"
          "hazfile:5: [task core:build] has no 'run' or 'argv'\n"
          "hazfile:6: unknown key 'rnu' in [task core:build]\n"
          "hazfile:7: invalid task reference 'core' in deps (expected "
          "PROJECT:TASK or ~:TASK)\n"
          "hazfile:8: timeout must be a number of seconds > 0 such as 60 or "
          "2.5, got '-3'\n"
          "hazfile:10: cap must be an integer >= 1, got '0'\n"
          "hazfile:11: duplicate section [task core:build] (first at line "
          "5)\n"
          "hazfile:14: invalid root '/abs': it must be relative to the "
          "workspace root\n"
          "hazfile:15: expected 'key = value', got 'no equals here'\n");
}

/* After 1000 errors the parser stops with a note. */
static void test_err_too_many(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = ctx_new(&tm);
    haz_diags *d = NULL;
    haz_hazfile *hf = NULL;
    char *text = malloc(3 * 1500 + 1);
    const haz_diag *last;
    size_t i;

    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    for (i = 0; i < 1500; i++)
        memcpy(text + 3 * i, "x\r\n", 3);
    text[3 * 1500] = '\0';
    CU_ASSERT_EQUAL_FATAL(haz_diags_new(ctx, &d), HAZ_OK);
    CU_ASSERT_EQUAL(haz_hazfile_parse(ctx, "hazfile", text, strlen(text),
                                      &hf, d), HAZ_EPARSE);
    CU_ASSERT_EQUAL_FATAL(haz_diags_count(d), 1001);
    CU_ASSERT_STRING_EQUAL(haz_diags_get(d, 999)->text,
                           "hazfile:1000: expected 'key = value', got 'x'");
    last = haz_diags_get(d, 1000);
    CU_ASSERT_STRING_EQUAL(last->text,
                           "hazfile:1000: too many errors; stopping here");
    CU_ASSERT_STRING_EQUAL(last->file, "hazfile");
    CU_ASSERT_EQUAL(last->line, 1000);
    haz_diags_free(d);
    free(text);
    ctx_done(ctx, &tm);
}

/* The entries carry kind, file and line. */
static void test_err_fields(void)
{
    static const struct {
        const char *text;
        haz_diag_kind kind;
        unsigned long line;
    } cases[] = {
        { "[workspace]\nbad\n", HAZ_DIAG_SYNTAX, 2 },
        { "[workspace]\nrnu = 1\n", HAZ_DIAG_UNKNOWN_KEY, 2 },
        { "[bogus]\n", HAZ_DIAG_UNKNOWN_KEY, 1 },
        { "[workspace]\noutput = live\noutput = live\n",
          HAZ_DIAG_DUPLICATE_KEY, 3 },
        { "[workspace]\noutput = x\n", HAZ_DIAG_BAD_VALUE, 2 },
        { "[tag t]\n[tag t]\n", HAZ_DIAG_DUPLICATE, 2 },
        { "[tag t!]\n", HAZ_DIAG_BAD_NAME, 1 },
        { "[project p]\nroot = /x\n", HAZ_DIAG_BAD_PATH, 2 },
        { "[task p:t]\nrun = x\ninputs = a//b\n", HAZ_DIAG_BAD_PATTERN, 3 },
        { "[task p:t]\nrun = x\ndeps = x\n", HAZ_DIAG_BAD_REF, 3 },
        { "[task p:t]\n", HAZ_DIAG_NO_ACTION, 1 },
        { "[task p:t]\nrun = x\nenv.1 = 1\n", HAZ_DIAG_BAD_ENV, 3 },
    };
    size_t i;

    for (i = 0; i < COUNT(cases); i++) {
        haz_test_mem tm;
        haz_ctx *ctx = ctx_new(&tm);
        haz_diags *d = NULL;
        haz_hazfile *hf = NULL;
        const haz_diag *e;

        CU_ASSERT_EQUAL_FATAL(haz_diags_new(ctx, &d), HAZ_OK);
        CU_ASSERT_EQUAL(haz_hazfile_parse(ctx, "f.haz", cases[i].text,
                                          strlen(cases[i].text), &hf, d),
                        HAZ_EPARSE);
        CU_ASSERT_PTR_NULL(hf);
        CU_ASSERT_EQUAL_FATAL(haz_diags_count(d), 1);
        e = haz_diags_get(d, 0);
        CU_ASSERT_EQUAL(e->kind, cases[i].kind);
        CU_ASSERT_STRING_EQUAL(e->file, "f.haz");
        CU_ASSERT_EQUAL(e->line, cases[i].line);
        CU_ASSERT(strncmp(e->text, "f.haz:", 6) == 0);
        haz_diags_free(d);
        ctx_done(ctx, &tm);
    }
}

/* Parse `text`, expect HAZ_EGRAPH and a diagnostic of `kind`; when `line`
 * is not 0, that diagnostic names hazfile:LINE. */
static void check_graph_error(int at, const char *text, haz_diag_kind kind,
                              unsigned long line)
{
    haz_test_mem tm;
    haz_ctx *ctx = ctx_new(&tm);
    haz_diags *d = NULL;
    haz_hazfile *hf = NULL;
    size_t i;
    int found = 0, rc;

    CU_ASSERT_EQUAL_FATAL(haz_diags_new(ctx, &d), HAZ_OK);
    rc = haz_hazfile_parse(ctx, "hazfile", text, strlen(text), &hf, d);
    CU_ASSERT_EQUAL(rc, HAZ_EGRAPH);
    CU_ASSERT_PTR_NULL(hf);
    for (i = 0; i < haz_diags_count(d); i++) {
        const haz_diag *e = haz_diags_get(d, i);

        if (e->kind != kind)
            continue;
        found = 1;
        if (line != 0) {
            char prefix[64];

            snprintf(prefix, sizeof prefix, "hazfile:%lu: ", line);
            CU_ASSERT_PTR_NOT_NULL(e->file);
            CU_ASSERT_EQUAL(e->line, line);
            CU_ASSERT(strncmp(e->text, prefix, strlen(prefix)) == 0);
        }
    }
    if (!found || rc != HAZ_EGRAPH) {
        char *got = haz_test_join_diags(d);

        fprintf(stderr, "\ntest_hazfile.c:%d: rc %d, want kind %d:\n%s", at,
                rc, (int)kind, got);
        free(got);
    }
    CU_ASSERT(found);
    haz_hazfile_free(hf);
    haz_diags_free(d);
    ctx_done(ctx, &tm);
}

#define CHECK_GRAPH(text, kind, line) \
    check_graph_error(__LINE__, (text), (kind), (line))

/* Graph validation errors name the line of the item at fault. */
static void test_err_graph(void)
{
    CHECK_GRAPH("[task a:x]\nrun = x\n\ndeps = a:nope\n",
                HAZ_DIAG_UNKNOWN_REF, 4);
    CHECK_GRAPH("[task a:x]\nrun = x\nweak_deps = ~:x\n",
                HAZ_DIAG_SELF_REF, 3);
    CHECK_GRAPH("[task a:x]\nrun = x\ndeps = ~:y\nweak_deps = ~:y\n"
                "[task a:y]\nrun = y\n", HAZ_DIAG_DEPS_OVERLAP, 0);
    CHECK_GRAPH("[task a:x]\nrun = x\ndeps = ~:y\n"
                "[task a:y]\nrun = y\nweak_deps = a:x\n", HAZ_DIAG_CYCLE, 0);
    CHECK_GRAPH("[task a:x]\nrun = x\noutputs = out.txt\n"
                "[task a:y]\nrun = y\noutputs = out.txt\n",
                HAZ_DIAG_OUTPUT_COLLISION, 0);
    /* With a parser error, graph validation does not run. */
    CHECK("[task a:x]\nrun = x\ndeps = a:nope\nbogus\n",
          "hazfile:4: expected 'key = value', got 'bogus'\n");
}

/* Bad arguments. */
static void test_err_arguments(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = ctx_new(&tm);
    haz_hazfile *hf = (haz_hazfile *)&tm;   /* must be reset to NULL */
    static const char graph_error[] = "[task a:b]\nrun=x\ndeps=a:c";

    CU_ASSERT_EQUAL(haz_hazfile_parse(NULL, "f", "", 0, &hf, NULL),
                    HAZ_EINVAL);
    CU_ASSERT_PTR_NULL(hf);
    CU_ASSERT_EQUAL(haz_hazfile_parse(ctx, NULL, "", 0, &hf, NULL),
                    HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_hazfile_parse(ctx, "f", NULL, 1, &hf, NULL),
                    HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_hazfile_parse(ctx, "f", "", 0, NULL, NULL),
                    HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_hazfile_load(ctx, NULL, &hf, NULL), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_hazfile_load(ctx, "f", NULL, NULL), HAZ_EINVAL);
    haz_hazfile_free(NULL);
    /* Without a diagnostics list, the verdict alone. */
    CU_ASSERT_EQUAL(haz_hazfile_parse(ctx, "f", "x", 1, &hf, NULL),
                    HAZ_EPARSE);
    CU_ASSERT_EQUAL(haz_hazfile_parse(ctx, "f", graph_error,
                                      strlen(graph_error), &hf, NULL),
                    HAZ_EGRAPH);
    ctx_done(ctx, &tm);
}

/* ------------------------------------------------------------------------
 * robustness
 * ---------------------------------------------------------------------- */

/* xorshift64*: deterministic across platforms. */
static uint64_t rng_state = UINT64_C(0x9e3779b97f4a7c15);

static uint32_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * UINT64_C(2685821657736338717)) >> 32);
}

/* Bytes the grammar cares about, plus a few that it must survive. */
static const char fuzz_alphabet[] =
    "[]=#:~\"\\ \t\r\n\n\n.*?{},/-_0123456789ab"
    "workspacetagprojectrundepsinputsenv.mutexshared";

static size_t make_random(char *buf, size_t cap)
{
    size_t i, n = rng() % cap;

    for (i = 0; i < n; i++) {
        uint32_t r = rng();

        if (r % 16 == 0)
            buf[i] = (char)(r >> 8);             /* any byte, NUL too */
        else
            buf[i] = fuzz_alphabet[(r >> 8) % (sizeof fuzz_alphabet - 1)];
    }
    return n;
}

/* The design example with a few bytes changed, inserted, deleted or
 * lines swapped. */
static size_t make_mutation(char *buf, size_t cap)
{
    size_t n = sizeof design_example - 1, k, edits = 1 + rng() % 6;

    memcpy(buf, design_example, n);
    for (k = 0; k < edits; k++) {
        size_t at = n ? rng() % n : 0;
        uint32_t r = rng();

        switch (r % 5) {
        case 0:         /* replace */
            if (n)
                buf[at] = (r >> 8) % 4 ? fuzz_alphabet[(r >> 8) %
                          (sizeof fuzz_alphabet - 1)] : (char)(r >> 16);
            break;
        case 1:         /* insert */
            if (n + 1 < cap) {
                memmove(buf + at + 1, buf + at, n - at);
                buf[at] = fuzz_alphabet[(r >> 8) % (sizeof fuzz_alphabet - 1)];
                n++;
            }
            break;
        case 2:         /* delete */
            if (n) {
                memmove(buf + at, buf + at + 1, n - at - 1);
                n--;
            }
            break;
        case 3: {       /* duplicate a chunk */
            size_t len = (r >> 8) % 64;

            if (at + len <= n && n + len < cap) {
                memmove(buf + at + len, buf + at, n - at);
                n += len;
            }
            break;
        }
        default:        /* cut the file short */
            n = at;
            break;
        }
    }
    return n;
}

static void test_random_inputs(void)
{
    enum { CAP = 4096, ROUNDS = 10000 };
    char *buf = malloc(CAP);
    size_t round, ok = 0, bad = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    for (round = 0; round < ROUNDS; round++) {
        haz_test_mem tm;
        haz_ctx *ctx = ctx_new(&tm);
        haz_diags *d = NULL;
        haz_hazfile *hf = NULL;
        size_t n = round % 2 ? make_random(buf, 512) : make_mutation(buf, CAP);
        int rc;

        CU_ASSERT_EQUAL_FATAL(haz_diags_new(ctx, &d), HAZ_OK);
        rc = haz_hazfile_parse(ctx, "hazfile", buf, n, &hf, d);
        if (rc == 0) {
            ok++;
            CU_ASSERT_PTR_NOT_NULL(hf);
            CU_ASSERT_EQUAL(haz_diags_count(d), 0);
        } else {
            bad++;
            CU_ASSERT(rc == HAZ_EPARSE || rc == HAZ_EGRAPH);
            CU_ASSERT_PTR_NULL(hf);
            CU_ASSERT(haz_diags_count(d) > 0);
            if (rc == HAZ_EPARSE)
                CU_ASSERT(strncmp(haz_diags_get(d, 0)->text, "hazfile:",
                                  8) == 0);
        }
        haz_hazfile_free(hf);
        haz_diags_free(d);
        haz_ctx_free(ctx);
        if (tm.live != 0) {
            fprintf(stderr, "\nround %lu leaks %ld blocks\n",
                    (unsigned long)round, tm.live);
            CU_FAIL("leak");
            break;
        }
    }
    /* Both outcomes must have been exercised. */
    CU_ASSERT(ok > 100);
    CU_ASSERT(bad > 100);
    free(buf);
}

/*
 * Fail allocation number 1, 2, ... of a parse of `text` (once, or from
 * then on when `persistent`) until a parse meets no failure.  Each result
 * must be `final_rc` or HAZ_ENOMEM, and nothing may leak.
 */
static void alloc_sweep(const char *text, int final_rc, int persistent)
{
    unsigned long n, failures;

    for (n = 1; n < 100000; n++) {
        haz_test_mem tm;
        haz_ctx *ctx = ctx_new(&tm);
        haz_diags *d = NULL;
        haz_hazfile *hf = NULL;
        int rc;

        CU_ASSERT_EQUAL_FATAL(haz_diags_new(ctx, &d), HAZ_OK);
        haz_test_mem_fail_at(&tm, n, persistent);
        rc = haz_hazfile_parse(ctx, "hazfile", text, strlen(text), &hf, d);
        failures = tm.failures;
        if (rc != final_rc && rc != HAZ_ENOMEM) {
            fprintf(stderr, "\nalloc_sweep: call %lu: rc %d\n", n, rc);
            CU_FAIL("unexpected result");
        }
        CU_ASSERT((rc == 0) == (hf != NULL));
        if (rc == HAZ_ENOMEM)
            CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), HAZ_ENOMEM);
        haz_hazfile_free(hf);
        haz_test_mem_fail_at(&tm, 0, 0);
        haz_diags_free(d);
        haz_ctx_free(ctx);
        if (tm.live != 0) {
            fprintf(stderr, "\nalloc_sweep: call %lu: %ld blocks leak\n", n,
                    tm.live);
            CU_FAIL("leak");
            return;
        }
        if (failures == 0) {
            CU_ASSERT_EQUAL(rc, final_rc);
            return;
        }
    }
    CU_FAIL("the sweep did not end");
}

static void test_alloc_failures(void)
{
    static const char invalid[] =
        "x = 1\n[workspace]\nconcurrency = 0\n[task a:b]\nrnu = 1\n"
        "env.A = 1\nenv.A = 2\n[tag t]\n[tag t]\n[task a:c]\n";

    alloc_sweep(design_example, HAZ_OK, 0);
    alloc_sweep(design_example, HAZ_OK, 1);
    alloc_sweep(invalid, HAZ_EPARSE, 0);
    alloc_sweep(invalid, HAZ_EPARSE, 1);
    alloc_sweep("[task a:x]\nrun = x\ndeps = a:nope\n", HAZ_EGRAPH, 0);
}

/* ------------------------------------------------------------------------
 * load
 * ---------------------------------------------------------------------- */

static void test_load_data_file(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = ctx_new(&tm);
    haz_hazfile *hf = NULL;
    haz_diags *d = NULL;
    haz_task_info t;
    char path[4096];

    CU_ASSERT_PTR_NOT_NULL_FATAL(
        haz_test_data_path(path, sizeof path, "hazfile/design.hazfile"));
    CU_ASSERT_EQUAL_FATAL(haz_diags_new(ctx, &d), HAZ_OK);
    CU_ASSERT_EQUAL(haz_hazfile_load(ctx, path, &hf, d), HAZ_OK);
    CU_ASSERT_EQUAL(haz_diags_count(d), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(hf);
    CU_ASSERT_STRING_EQUAL(hf->path, path);
    CU_ASSERT_EQUAL(haz_graph_task_count(hf->graph), 3);
    CU_ASSERT_EQUAL_FATAL(get_task(hf, "core:build", &t), 0);
    CU_ASSERT_STRING_EQUAL(t.script, "cc -c a.c -o a.o");
    haz_hazfile_free(hf);

    /* Diagnostics of a loaded file name it as given. */
    CU_ASSERT_PTR_NOT_NULL_FATAL(
        haz_test_data_path(path, sizeof path, "hazfile/errors.hazfile"));
    CU_ASSERT_EQUAL(haz_hazfile_load(ctx, path, &hf, d), HAZ_EPARSE);
    CU_ASSERT_FATAL(haz_diags_count(d) > 0);
    CU_ASSERT(strncmp(haz_diags_get(d, 0)->text, path, strlen(path)) == 0);
    CU_ASSERT_EQUAL(haz_diags_get(d, 0)->text[strlen(path)], ':');
    haz_diags_free(d);
    ctx_done(ctx, &tm);
}

static void test_load_missing(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = ctx_new(&tm);
    haz_hazfile *hf = NULL;
    char dir[4096], path[4400];

    CU_ASSERT_PTR_NOT_NULL_FATAL(haz_test_mkdtemp(dir, sizeof dir, "hf"));
    snprintf(path, sizeof path, "%s/no-such-hazfile", dir);
    CU_ASSERT_EQUAL(haz_hazfile_load(ctx, path, &hf, NULL), HAZ_EIO);
    CU_ASSERT_PTR_NULL(hf);
    CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), HAZ_EIO);
    CU_ASSERT_EQUAL(haz_ctx_errno(ctx), ENOENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(haz_ctx_errmsg(ctx), path));
    CU_ASSERT_PTR_NOT_NULL(strstr(haz_ctx_errmsg(ctx), strerror(ENOENT)));

    /* A long path is named in full, not cut like quoted file text. */
    snprintf(path, sizeof path, "%s/%0200d", dir, 0);
    CU_ASSERT_EQUAL(haz_hazfile_load(ctx, path, &hf, NULL), HAZ_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(haz_ctx_errmsg(ctx), path));

    /* A directory cannot be read as a file. */
    CU_ASSERT_EQUAL(haz_hazfile_load(ctx, dir, &hf, NULL), HAZ_EIO);
    CU_ASSERT_PTR_NOT_NULL(strstr(haz_ctx_errmsg(ctx), dir));
    CU_ASSERT_EQUAL(haz_test_rmtree(dir), 0);
    ctx_done(ctx, &tm);
}

/* A sparse file of `size` bytes (all NUL). */
static int make_sparse(const char *path, off_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    int rc;

    if (fd < 0)
        return -1;
    rc = ftruncate(fd, size);
    close(fd);
    return rc;
}

static void test_load_size_limit(void)
{
    haz_test_mem tm;
    haz_ctx *ctx = ctx_new(&tm);
    haz_hazfile *hf = NULL;
    haz_diags *d = NULL;
    char dir[4096], path[4200];
    const off_t limit = (off_t)64 * 1024 * 1024;

    CU_ASSERT_EQUAL_FATAL(haz_diags_new(ctx, &d), HAZ_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(haz_test_mkdtemp(dir, sizeof dir, "hf"));
    snprintf(path, sizeof path, "%s/big", dir);

    CU_ASSERT_EQUAL_FATAL(make_sparse(path, limit + 1), 0);
    CU_ASSERT_EQUAL(haz_hazfile_load(ctx, path, &hf, d), HAZ_ERANGE);
    CU_ASSERT_PTR_NULL(hf);
    CU_ASSERT_PTR_NOT_NULL(strstr(haz_ctx_errmsg(ctx), path));
    CU_ASSERT_PTR_NOT_NULL(strstr(haz_ctx_errmsg(ctx), "64 MiB"));

    /* 64 MiB exactly is read; it is one long line of NUL bytes. */
    CU_ASSERT_EQUAL_FATAL(make_sparse(path, limit), 0);
    CU_ASSERT_EQUAL(haz_hazfile_load(ctx, path, &hf, d), HAZ_EPARSE);
    CU_ASSERT_EQUAL_FATAL(haz_diags_count(d), 1);
    CU_ASSERT(strstr(haz_diags_get(d, 0)->text,
                     ":1: line is longer than 65536 bytes") != NULL);

    haz_diags_free(d);
    CU_ASSERT_EQUAL(haz_test_rmtree(dir), 0);
    ctx_done(ctx, &tm);
}

/* ------------------------------------------------------------------------
 * Registration.
 * ---------------------------------------------------------------------- */

static CU_TestInfo valid_tests[] = {
    { "design example", test_design_example },
    { "defaults", test_defaults },
    { "empty", test_empty },
    { "crlf", test_crlf },
    { "comments and blanks", test_comments_and_blanks },
    { "argv quoting", test_argv_quoting },
    { "seconds", test_seconds },
    { "workspace", test_workspace },
    { "projects and tags", test_projects_and_tags },
    { "lists", test_lists },
    { "long line and bytes", test_long_line_and_bytes },
    CU_TEST_INFO_NULL
};

static CU_TestInfo error_tests[] = {
    { "line level", test_err_line_level },
    { "sections", test_err_sections },
    { "keys", test_err_keys },
    { "workspace values", test_err_workspace_values },
    { "tag and project values", test_err_tag_project_values },
    { "actions", test_err_actions },
    { "task values", test_err_task_values },
    { "quoting", test_err_quoting },
    { "many", test_err_many },
    { "too many", test_err_too_many },
    { "fields", test_err_fields },
    { "graph", test_err_graph },
    { "arguments", test_err_arguments },
    CU_TEST_INFO_NULL
};

static CU_TestInfo robustness_tests[] = {
    { "random inputs", test_random_inputs },
    { "allocation failures", test_alloc_failures },
    CU_TEST_INFO_NULL
};

static CU_TestInfo load_tests[] = {
    { "data file", test_load_data_file },
    { "missing", test_load_missing },
    { "size limit", test_load_size_limit },
    CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
    HAZ_TEST_SUITE("valid", valid_tests),
    HAZ_TEST_SUITE("errors", error_tests),
    HAZ_TEST_SUITE("robustness", robustness_tests),
    HAZ_TEST_SUITE("load", load_tests),
    CU_SUITE_INFO_NULL
};

int main(int argc, char **argv)
{
    return haz_test_main(argc, argv, suites);
}
