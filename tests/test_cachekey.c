/*
 * tests/test_cachekey.c: the cache key (lib/cachekey.c, docs/cache-key.md)
 * and the input-hash record (lib/filestat.c).
 *
 * Suites:
 *   vectors    the published test vectors of docs/cache-key.md, byte for
 *              byte where the document shows the encoding;
 *   key        every component changes the key, orderings do not, the
 *              canonicalisation pairs of reliability test C14, bad
 *              arguments, allocation failures;
 *   task       haz__task_cache_key on real files: what changes the key and
 *              what does not (names, outputs, tags, mutexes, timeouts),
 *              missing literal inputs, empty globs, symbolic links, the
 *              predecessor count, haz__input_set_changed;
 *   filestat   the trust rule, hits across sessions, changes of size,
 *              mtime, ctime and inode, the racy case, corrupt and
 *              malformed records.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "internal.h"
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cachekey.h"
#include "filestat.h"
#include "fsutil.h"
#include "graph_private.h"

static haz_ctx *ctx;

static int suite_init(void)
{
    return haz_ctx_new(&ctx, NULL) == HAZ_OK ? 0 : 1;
}

static int suite_clean(void)
{
    haz_ctx_free(ctx);
    ctx = NULL;
    return 0;
}

static void sha(const char *s, unsigned char *d)
{
    haz_sha256(s, strlen(s), d);
}

static void hex_of(const unsigned char *d, char *hex)
{
    haz_hash_hex(d, 32, hex);
}

/* ------------------------------------------------------------------------
 * The vectors (docs/cache-key.md).
 * ---------------------------------------------------------------------- */

/* Components of one case; helpers fill them. */
typedef struct kcase {
    haz__key_action act;
    haz__key_env env;
    haz__key_input in[4];
    size_t n_in;
    haz__pred_hashes pr[4];
    size_t n_pr;
} kcase;

static int build(const kcase *k, haz_buf *enc, unsigned char *key)
{
    return haz__cachekey_build(ctx, &haz_hash_sha256, &k->act, &k->env,
                               k->in, k->n_in, k->pr, k->n_pr, enc, key);
}

static void check_vector(const kcase *k, size_t enc_len, const char *want)
{
    unsigned char key[32];
    char hex[65];
    haz_buf enc;

    haz__buf_init(&enc, ctx);
    CU_ASSERT_EQUAL_FATAL(build(k, &enc, key), HAZ_OK);
    CU_ASSERT_EQUAL(enc.len, enc_len);
    hex_of(key, hex);
    CU_ASSERT_STRING_EQUAL(hex, want);
    haz__buf_free(&enc);
}

static const char *const v1_argv[] = { "cc", "-c", "a b.c" };

static void test_v1_argv(void)
{
    static const unsigned char want_enc[] = {
        0x00, 0x01, 0x01, 0, 0, 0, 0, 0, 0, 0, 3,
        0, 0, 0, 0, 0, 0, 0, 2, 'c', 'c',
        0, 0, 0, 0, 0, 0, 0, 2, '-', 'c',
        0, 0, 0, 0, 0, 0, 0, 5, 'a', ' ', 'b', '.', 'c',
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0
    };
    kcase k;
    haz_buf enc;
    unsigned char key[32];

    memset(&k, 0, sizeof(k));
    k.act.kind = HAZ_ACTION_ARGV;
    k.act.argv = v1_argv;
    k.act.argc = 3;
    check_vector(&k, 68, "4d3ab6c5d2859af454cdaac297b5401f"
                         "3dd96dd9f5244f0fa8afe4291d390bc3");
    haz__buf_init(&enc, ctx);
    CU_ASSERT_EQUAL_FATAL(build(&k, &enc, key), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(enc.len, sizeof(want_enc));
    CU_ASSERT(memcmp(enc.data, want_enc, sizeof(want_enc)) == 0);
    haz__buf_free(&enc);
}

static void test_v2_shell(void)
{
    kcase k;

    memset(&k, 0, sizeof(k));
    k.act.kind = HAZ_ACTION_SHELL;
    k.act.script = "echo hello > out.txt";
    check_vector(&k, 56, "1936262e808ca2f088438dde7d3f4d2e"
                         "c90aebdf108f355f385046bd09fb6dc9");
}

static const char *const v3_argv[] = { "env" };
static const char *const v3_allow[] = { "PATH", "HOME", "LANG" };
static const char *const v3_host[] = {
    "PATH=/usr/bin:/bin", "HOME=/home/u", "PATH=/ignored", NULL
};
static const haz_env_pair v3_ovr[] = {
    { "HOME", "/tmp/h" }, { "CFLAGS", "-O2" }
};

static void v3_fill(kcase *k)
{
    memset(k, 0, sizeof(*k));
    k->act.kind = HAZ_ACTION_ARGV;
    k->act.argv = v3_argv;
    k->act.argc = 1;
    k->env.allow = v3_allow;
    k->env.n_allow = 3;
    k->env.host = v3_host;
    k->env.overrides = v3_ovr;
    k->env.n_overrides = 2;
}

static void test_v3_env(void)
{
    kcase k;

    v3_fill(&k);
    check_vector(&k, 146, "f3463fbde0a7e465b8500a5ab4194920"
                          "191fe8f8d74120d0fb494f48dc7e0b28");
}

static void v4_fill(kcase *k)
{
    memset(k, 0, sizeof(*k));
    k->act.kind = HAZ_ACTION_SHELL;
    k->act.script = "cat a.c b.c";
    k->in[0].path = "/core/b.c";
    sha("int b;\n", k->in[0].hash);
    k->in[1].path = "/core/a.c";
    sha("int a;\n", k->in[1].hash);
    k->n_in = 2;
}

static void test_v4_inputs(void)
{
    kcase k;

    v4_fill(&k);
    check_vector(&k, 145, "769406b2c394747d97f699ca7335f18c"
                          "ce50124f3fb94e9d88615123bd8e75ab");
}

static void v5_fill(kcase *k)
{
    memset(k, 0, sizeof(*k));
    k->act.kind = HAZ_ACTION_SHELL;
    k->act.script = "make";
    k->pr[0].id = "core:gen";
    sha("gen out\n", k->pr[0].stdout_hash);
    sha("", k->pr[0].stderr_hash);
    k->pr[1].id = "app:lint";
    sha("", k->pr[1].stdout_hash);
    sha("warn\n", k->pr[1].stderr_hash);
    k->n_pr = 2;
}

static void test_v5_preds(void)
{
    kcase k;

    v5_fill(&k);
    check_vector(&k, 200, "df604be1192d89a7d905ca1f5fa99cd6"
                          "b36bccb64c39a6f4166729ae1824208c");
}

static const char *const v6_argv[] = { "cc", "-o", "app", "main.c" };
static const char *const v6_allow[] = { "TERM", "PATH" };
static const char *const v6_host[] = { "PATH=/bin", "HOME=/root", NULL };
static const haz_env_pair v6_ovr[] = { { "CC", "clang" } };

static void v6_fill(kcase *k)
{
    memset(k, 0, sizeof(*k));
    k->act.kind = HAZ_ACTION_ARGV;
    k->act.argv = v6_argv;
    k->act.argc = 4;
    k->env.allow = v6_allow;
    k->env.n_allow = 2;
    k->env.host = v6_host;
    k->env.overrides = v6_ovr;
    k->env.n_overrides = 1;
    k->in[0].path = "/app/main.c";
    sha("int main(void){return 0;}\n", k->in[0].hash);
    k->in[1].path = "/app/lib 1.h";
    sha("", k->in[1].hash);
    k->n_in = 2;
    k->pr[0].id = "core:build";
    sha("built\n", k->pr[0].stdout_hash);
    sha("", k->pr[0].stderr_hash);
    k->n_pr = 1;
}

static void test_v6_all(void)
{
    kcase k;

    v6_fill(&k);
    check_vector(&k, 327, "2442874d985320c8dd33be1c04c48e27"
                          "b31833a31e8383c53b061779e2c90091");
}

static const char *const a_allow[] = { "A" };
static const char *const a_empty_host[] = { "A=", NULL };

static void test_v7_v8_empty_and_unset(void)
{
    kcase k;

    memset(&k, 0, sizeof(k));
    k.act.kind = HAZ_ACTION_SHELL;
    k.act.script = "";
    k.env.allow = a_allow;
    k.env.n_allow = 1;
    k.env.host = a_empty_host;
    check_vector(&k, 54, "78b95630dbef303b12d14a7a733d7ebb"
                         "f6c499ff479cd8d85c00fe3529611dbb");
    k.env.host = NULL;
    check_vector(&k, 46, "9cc7109d7385fa3649d2498340fdec5d"
                         "2cc59d566772a8b8d3c032a2e3b3e37a");
}

/* ------------------------------------------------------------------------
 * The key: sensitivity, order independence, C14, errors.
 * ---------------------------------------------------------------------- */

static void key_of(const kcase *k, unsigned char *key)
{
    CU_ASSERT_EQUAL(build(k, NULL, key), HAZ_OK);
}

static int same(const kcase *a, const kcase *b)
{
    unsigned char x[32], y[32];

    key_of(a, x);
    key_of(b, y);
    return memcmp(x, y, 32) == 0;
}

static void test_each_component_changes_key(void)
{
    static const char *const argv2[] = { "cc", "-o", "app", "main.c " };
    static const char *const argv3[] = { "cc", "-o", "app main.c" };
    static const char *const allow3[] = { "TERM", "PATH", "LANG" };
    static const char *const host2[] = { "PATH=/usr/bin", NULL };
    static const char *const host3[] = { "PATH=/bin", "TERM=xterm", NULL };
    static const haz_env_pair ovr2[] = { { "CC", "gcc" } };
    static const haz_env_pair ovr3[] = { { "CC", "clang" }, { "X", "" } };
    static const haz_env_pair ovr4[] = { { "TERM", "dumb" } };
    kcase base, k;

    v6_fill(&base);
#define DIFFERS(stmt)                                                       \
    do {                                                                    \
        k = base;                                                           \
        stmt;                                                               \
        CU_ASSERT(!same(&base, &k));                                        \
    } while (0)
    DIFFERS(k.act.argv = argv2);
    DIFFERS((k.act.argv = argv3, k.act.argc = 3));
    DIFFERS(k.act.argc = 3);
    DIFFERS((k.act.kind = HAZ_ACTION_SHELL, k.act.script = "cc"));
    DIFFERS((k.env.allow = allow3, k.env.n_allow = 3));
    DIFFERS(k.env.n_allow = 1);
    DIFFERS(k.env.host = host2);
    DIFFERS(k.env.host = host3);
    DIFFERS(k.env.host = NULL);
    DIFFERS(k.env.overrides = ovr2);
    DIFFERS((k.env.overrides = ovr3, k.env.n_overrides = 2));
    DIFFERS(k.env.overrides = ovr4);
    DIFFERS(k.env.n_overrides = 0);
    DIFFERS(k.in[0].path = "/app/main.cc");
    DIFFERS(k.in[0].hash[31] ^= 1);
    DIFFERS(k.n_in = 1);
    DIFFERS((k.in[2].path = "/app/x", sha("", k.in[2].hash), k.n_in = 3));
    DIFFERS(k.pr[0].id = "core:build2");
    DIFFERS(k.pr[0].stdout_hash[0] ^= 1);
    DIFFERS(k.pr[0].stderr_hash[0] ^= 1);
    DIFFERS(k.n_pr = 0);
    DIFFERS((k.pr[1].id = "a:b", k.n_pr = 2));
    /* The stdout and stderr hashes are not interchangeable. */
    DIFFERS((memcpy(k.pr[0].stdout_hash, base.pr[0].stderr_hash, 32),
             memcpy(k.pr[0].stderr_hash, base.pr[0].stdout_hash, 32)));
#undef DIFFERS
}

static void test_hash_id_in_prefix(void)
{
    haz_hash_methods other = haz_hash_sha256;
    unsigned char x[32], y[32];
    kcase k;

    v6_fill(&k);
    other.id = HAZ_HASH_ID_BLAKE3;
    CU_ASSERT_EQUAL(build(&k, NULL, x), HAZ_OK);
    CU_ASSERT_EQUAL(haz__cachekey_build(ctx, &other, &k.act, &k.env, k.in,
                                        k.n_in, k.pr, k.n_pr, NULL, y),
                    HAZ_OK);
    CU_ASSERT(memcmp(x, y, 32) != 0);
}

static void test_order_independent(void)
{
    static const char *const allow_r[] = { "PATH", "TERM" };
    static const char *const allow_dup[] = { "PATH", "TERM", "PATH", "CC" };
    static const char *const host_r[] = { "HOME=/root", "PATH=/bin", NULL };
    static const haz_env_pair ovr_a[] = { { "A", "1" }, { "B", "2" } };
    static const haz_env_pair ovr_b[] = { { "B", "2" }, { "A", "1" } };
    kcase base, k;

    v6_fill(&base);
    k = base;
    k.env.allow = allow_r;
    k.env.host = host_r;
    k.in[0] = base.in[1];
    k.in[1] = base.in[0];
    CU_ASSERT(same(&base, &k));
    /* A name allowed twice, or allowed and overridden, counts once. */
    k = base;
    k.env.allow = allow_dup;
    k.env.n_allow = 4;
    CU_ASSERT(same(&base, &k));
    v5_fill(&base);
    k = base;
    k.pr[0] = base.pr[1];
    k.pr[1] = base.pr[0];
    CU_ASSERT(same(&base, &k));
    base.env.overrides = ovr_a;
    base.env.n_overrides = 2;
    k = base;
    k.env.overrides = ovr_b;
    CU_ASSERT(same(&base, &k));
}

/* C14: pairs that must differ, and the override rule of CACHE-008. */
static void test_c14_pairs(void)
{
    static const char *const allow_ab[] = { "A", "B" };
    static const char *const h_x[] = { "A=x", NULL };
    static const char *const h_xs[] = { "A=x ", NULL };
    static const char *const h_empty[] = { "A=", NULL };
    static const char *const h_inj[] = { "A=1\nB=2", NULL };
    static const char *const h_two[] = { "A=1", "B=2", NULL };
    static const char *const h_other[] = { "A=other", NULL };
    static const haz_env_pair ovr_x[] = { { "A", "x" } };
    kcase a, b;

    memset(&a, 0, sizeof(a));
    a.act.kind = HAZ_ACTION_SHELL;
    a.act.script = "echo a";
    a.env.allow = allow_ab;
    a.env.n_allow = 1;
    b = a;
    a.env.host = h_x;
    b.env.host = h_xs;
    CU_ASSERT(!same(&a, &b));
    a.env.host = NULL;
    b.env.host = h_empty;
    CU_ASSERT(!same(&a, &b));
    a.env.n_allow = b.env.n_allow = 2;
    a.env.host = h_inj;
    b.env.host = h_two;
    CU_ASSERT(!same(&a, &b));
    /* The same value from the host or from an override: the child sees
     * the same environment, so the key is the same; and an override makes
     * the host's value irrelevant. */
    a.env.n_allow = b.env.n_allow = 1;
    a.env.host = h_x;
    b.env.host = h_other;
    b.env.overrides = ovr_x;
    b.env.n_overrides = 1;
    CU_ASSERT(same(&a, &b));
    b.env.host = NULL;
    CU_ASSERT(same(&a, &b));
    /* Scripts differing by one space. */
    memset(&a, 0, sizeof(a));
    a.act.kind = HAZ_ACTION_SHELL;
    a.act.script = "echo a";
    b = a;
    b.act.script = "echo  a";
    CU_ASSERT(!same(&a, &b));
    /* One input "a b" against inputs "a" and "b". */
    a.in[0].path = "/a b";
    a.n_in = 1;
    b = a;
    b.in[0].path = "/a";
    b.in[1].path = "/b";
    b.n_in = 2;
    CU_ASSERT(!same(&a, &b));
}

/* reference-io.md 9.4, "env precedence" and "absent host variable"
 * (CACHE-008): with FOO taken from the host and overridden to x, only the
 * override counts, whatever the host says; BAR taken from the host but
 * not set there is still in the key (as unset), so setting it later, even
 * to the empty string, changes the key. */
static void test_env_precedence_and_absent(void)
{
    static const char *const allow_foo[] = { "FOO" };
    static const char *const allow_bar[] = { "BAR" };
    static const char *const h_y[] = { "FOO=y", NULL };
    static const char *const h_z[] = { "FOO=z", NULL };
    static const char *const h_x[] = { "FOO=x", NULL };
    static const char *const h_bar1[] = { "BAR=1", NULL };
    static const char *const h_bar0[] = { "BAR=", NULL };
    static const haz_env_pair ovr_x[] = { { "FOO", "x" } };
    static const haz_env_pair ovr_w[] = { { "FOO", "w" } };
    kcase a, b;

    memset(&a, 0, sizeof(a));
    a.act.kind = HAZ_ACTION_SHELL;
    a.act.script = "echo $FOO";
    a.env.allow = allow_foo;
    a.env.n_allow = 1;
    a.env.overrides = ovr_x;
    a.env.n_overrides = 1;
    a.env.host = h_y;
    b = a;
    b.env.host = h_z;
    CU_ASSERT(same(&a, &b));            /* the host's FOO does not count */
    b.env.host = NULL;
    CU_ASSERT(same(&a, &b));
    b.env.overrides = NULL;             /* FOO=x from the host alone */
    b.env.n_overrides = 0;
    b.env.host = h_x;
    CU_ASSERT(same(&a, &b));
    b.env.overrides = ovr_w;            /* the override itself counts */
    b.env.n_overrides = 1;
    b.env.host = h_y;
    CU_ASSERT(!same(&a, &b));

    memset(&a, 0, sizeof(a));
    a.act.kind = HAZ_ACTION_SHELL;
    a.act.script = "echo $BAR";
    a.env.allow = allow_bar;
    a.env.n_allow = 1;
    a.env.host = NULL;                  /* BAR unset */
    b = a;
    b.env.n_allow = 0;                  /* BAR not taken at all */
    CU_ASSERT(!same(&a, &b));
    b = a;
    b.env.host = h_bar1;
    CU_ASSERT(!same(&a, &b));
    b.env.host = h_bar0;
    CU_ASSERT(!same(&a, &b));
}

static void test_bad_arguments(void)
{
    static const char *const bad_argv[] = { "x", NULL };
    static const haz_env_pair dup[] = { { "A", "1" }, { "A", "2" } };
    unsigned char key[32];
    kcase k;

    memset(&k, 0, sizeof(k));
    CU_ASSERT_EQUAL(build(&k, NULL, key), HAZ_EINVAL);  /* no action */
    k.act.kind = HAZ_ACTION_ARGV;
    CU_ASSERT_EQUAL(build(&k, NULL, key), HAZ_EINVAL);  /* argc 0 */
    k.act.argv = bad_argv;
    k.act.argc = 2;
    CU_ASSERT_EQUAL(build(&k, NULL, key), HAZ_EINVAL);  /* NULL word */
    k.act.kind = HAZ_ACTION_SHELL;
    CU_ASSERT_EQUAL(build(&k, NULL, key), HAZ_EINVAL);  /* NULL script */
    k.act.script = "x";
    k.env.overrides = dup;
    k.env.n_overrides = 2;
    CU_ASSERT_EQUAL(build(&k, NULL, key), HAZ_EINVAL);
    k.env.n_overrides = 0;
    k.in[0].path = "/a";
    k.in[1].path = "/a";
    k.n_in = 2;
    CU_ASSERT_EQUAL(build(&k, NULL, key), HAZ_EINVAL);
    k.n_in = 0;
    k.pr[0].id = "a:b";
    k.pr[1].id = "a:b";
    k.n_pr = 2;
    CU_ASSERT_EQUAL(build(&k, NULL, key), HAZ_EINVAL);
    CU_ASSERT(strstr(haz_ctx_errmsg(ctx), "a:b") != NULL);
    k.n_pr = 0;
    CU_ASSERT_EQUAL(haz__cachekey_build(ctx, NULL, &k.act, NULL, NULL, 0,
                                        NULL, 0, NULL, key), HAZ_EINVAL);
    CU_ASSERT_EQUAL(build(&k, NULL, key), HAZ_OK);
}

static void test_alloc_failures(void)
{
    haz_test_mem tm;
    haz_ctx *c;
    kcase k;
    unsigned char want[32], key[32];
    unsigned long n;
    int rc;

    v6_fill(&k);
    key_of(&k, want);
    haz_test_mem_init(&tm);
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&c, &tm.mem), HAZ_OK);
    for (n = 1; n < 40; n++) {
        haz_buf enc;

        haz__buf_init(&enc, c);
        haz_test_mem_fail_at(&tm, n, 0);
        rc = haz__cachekey_build(c, &haz_hash_sha256, &k.act, &k.env, k.in,
                                 k.n_in, k.pr, k.n_pr, &enc, key);
        CU_ASSERT(rc == HAZ_OK || rc == HAZ_ENOMEM);
        if (rc == HAZ_OK) {
            CU_ASSERT(memcmp(key, want, 32) == 0);
            CU_ASSERT_EQUAL(enc.len, 327);
        }
        haz__buf_free(&enc);
    }
    haz_test_mem_fail_at(&tm, 0, 0);
    haz_ctx_free(c);
    CU_ASSERT_EQUAL(tm.live, 0);
}

/* ------------------------------------------------------------------------
 * Tasks on real files.
 * ---------------------------------------------------------------------- */

static char ws[1024];

static void wfile(const char *rel, const char *content)
{
    char p[PATH_MAX];

    (void)snprintf(p, sizeof(p), "%s/%s", ws, rel);
    CU_ASSERT_EQUAL_FATAL(haz_test_write_file(p, content, strlen(content)),
                          0);
}

static void wdir(const char *rel)
{
    char p[PATH_MAX];

    (void)snprintf(p, sizeof(p), "%s/%s", ws, rel);
    CU_ASSERT_EQUAL_FATAL(mkdir(p, 0777), 0);
}

static int task_init(void)
{
    char tmp[PATH_MAX], real[PATH_MAX];

    if (suite_init() != 0 || haz_test_mkdtemp(tmp, sizeof(tmp), "key") ==
        NULL || realpath(tmp, real) == NULL || strlen(real) >= sizeof(ws))
        return 1;
    memcpy(ws, real, strlen(real) + 1);
    return 0;
}

static int task_clean(void)
{
    (void)haz_test_rmtree(ws);
    return suite_clean();
}

/* How a test task differs from the plain one. */
typedef struct tspec {
    const char *project, *name, *root;
    const char *script;             /* NULL: argv "cc -c a.c" */
    const char *inputs[4];
    const char *outputs[2];
    const char *tag, *mutex;
    const char *env_host, *env_name, *env_value;
    uint64_t timeout_ns;
    int with_dep;                   /* a hard predecessor "z:dep" */
} tspec;

static haz_graph *make_graph(const tspec *s, const haz__gtask **out)
{
    static const char *const argv[] = { "cc", "-c", "a.c" };
    haz_graph *g = NULL;
    haz_task *t = NULL, *d = NULL;
    const haz__gtask *gt;
    size_t n, i;

    CU_ASSERT_EQUAL_FATAL(haz_graph_new(ctx, &g), HAZ_OK);
    CU_ASSERT_EQUAL(haz_graph_add_project(g, s->project ? s->project : "core",
                                          s->root ? s->root : "core"),
                    HAZ_OK);
    CU_ASSERT_EQUAL(haz_graph_add_task(g, s->project ? s->project : "core",
                                       s->name ? s->name : "build", &t),
                    HAZ_OK);
    if (s->script) {
        CU_ASSERT_EQUAL(haz_task_set_shell(t, s->script), HAZ_OK);
    } else {
        CU_ASSERT_EQUAL(haz_task_set_argv(t, 3, argv), HAZ_OK);
    }
    for (i = 0; i < 4 && s->inputs[i]; i++)
        CU_ASSERT_EQUAL(haz_task_add_input(t, s->inputs[i]), HAZ_OK);
    for (i = 0; i < 2 && s->outputs[i]; i++)
        CU_ASSERT_EQUAL(haz_task_add_output(t, s->outputs[i]), HAZ_OK);
    if (s->tag)
        CU_ASSERT_EQUAL(haz_task_add_tag(t, s->tag), HAZ_OK);
    if (s->mutex)
        CU_ASSERT_EQUAL(haz_task_add_mutex(t, HAZ_MUTEX_WORKSPACE,
                                           HAZ_MUTEX_EXCLUSIVE, s->mutex),
                        HAZ_OK);
    if (s->env_host)
        CU_ASSERT_EQUAL(haz_task_add_env_from_host(t, s->env_host), HAZ_OK);
    if (s->env_name)
        CU_ASSERT_EQUAL(haz_task_set_env(t, s->env_name, s->env_value),
                        HAZ_OK);
    if (s->timeout_ns)
        CU_ASSERT_EQUAL(haz_task_set_timeout_ns(t, s->timeout_ns), HAZ_OK);
    if (s->with_dep) {
        CU_ASSERT_EQUAL(haz_graph_add_task(g, "z", "dep", &d), HAZ_OK);
        CU_ASSERT_EQUAL(haz_task_set_shell(d, "true"), HAZ_OK);
        CU_ASSERT_EQUAL(haz_task_add_dep(t, "z:dep"), HAZ_OK);
    }
    CU_ASSERT_EQUAL_FATAL(haz_graph_validate(g, NULL), HAZ_OK);
    gt = haz__graph_tasks(g, &n);
    CU_ASSERT_FATAL(gt != NULL && n >= 1);
    *out = &gt[0];
    return g;
}

static const char *const host_env[] = { "PATH=/bin", "HOME=/h", NULL };

static int task_key(const tspec *s, unsigned char *key)
{
    const haz__gtask *t;
    haz_graph *g = make_graph(s, &t);
    haz__pred_hashes p;
    int rc;

    memset(&p, 0, sizeof(p));
    p.id = "z:dep";
    rc = haz__task_cache_key(ctx, &haz_hash_sha256, ws, t, host_env, &p,
                             s->with_dep ? 1 : 0, NULL, NULL, key);
    haz_graph_free(g);
    return rc;
}

static void test_task_key_scope(void)
{
    tspec base, s;
    unsigned char k0[32], k1[32];

    wdir("core");
    wdir("core/src");
    wfile("core/a.c", "int a;\n");
    wfile("core/src/x.h", "x\n");
    wfile("core/src/y.h", "y\n");
    wdir("src");
    wfile("a.c", "int a;\n");
    wfile("src/x.h", "x\n");
    wfile("src/y.h", "y\n");
    memset(&base, 0, sizeof(base));
    base.inputs[0] = "a.c";
    base.inputs[1] = "src/*.h";
    base.outputs[0] = "a.o";
    CU_ASSERT_EQUAL_FATAL(task_key(&base, k0), HAZ_OK);
#define SAME(stmt)                                                          \
    do {                                                                    \
        s = base;                                                           \
        stmt;                                                               \
        CU_ASSERT_EQUAL(task_key(&s, k1), HAZ_OK);                          \
        CU_ASSERT(memcmp(k0, k1, 32) == 0);                                 \
    } while (0)
#define DIFF(stmt)                                                          \
    do {                                                                    \
        s = base;                                                           \
        stmt;                                                               \
        CU_ASSERT_EQUAL(task_key(&s, k1), HAZ_OK);                          \
        CU_ASSERT(memcmp(k0, k1, 32) != 0);                                 \
    } while (0)
    SAME(s.name = "compile");
    SAME(s.project = "other");
    SAME((s.outputs[0] = "b.o", s.outputs[1] = "c/*.o"));
    SAME(s.tag = "heavy");
    SAME(s.mutex = "db");
    SAME(s.timeout_ns = 5000000000ULL);
    SAME((s.inputs[0] = "src/*.h", s.inputs[1] = "a.c"));
    SAME((s.inputs[2] = "/core/a.c", s.inputs[3] = "a.c"));
    SAME(s.env_host = "PATH");       /* already in the default list */
    DIFF(s.env_host = "HOME");
    DIFF(s.env_host = "UNSET_VAR");
    DIFF((s.env_name = "CFLAGS", s.env_value = "-O2"));
    DIFF(s.script = "cc -c a.c");
    DIFF(s.inputs[1] = "src/x.h");
    DIFF(s.inputs[1] = NULL);
    DIFF(s.root = ".");              /* same contents, other paths */
    DIFF(s.with_dep = 1);
    /* Content changes the key; an mtime alone does not. */
    wfile("core/src/y.h", "Y\n");
    DIFF((void)0);
    wfile("core/src/y.h", "y\n");
    SAME((void)0);
#undef SAME
#undef DIFF
}

static void test_task_missing_literal(void)
{
    tspec s;
    unsigned char k[32];

    memset(&s, 0, sizeof(s));
    s.project = "m";
    s.root = "m";
    s.inputs[0] = "none.c";
    CU_ASSERT_EQUAL(task_key(&s, k), HAZ_ENOENT);
    CU_ASSERT(strstr(haz_ctx_errmsg(ctx), "m:build") != NULL);
    CU_ASSERT(strstr(haz_ctx_errmsg(ctx), "/m/none.c") != NULL);
    /* An empty glob is no error. */
    s.inputs[0] = "*.none";
    CU_ASSERT_EQUAL(task_key(&s, k), HAZ_OK);
    /* A directory named as a literal input is not a regular file. */
    wdir("m");
    wdir("m/d");
    s.inputs[0] = "d";
    CU_ASSERT_EQUAL(task_key(&s, k), HAZ_EEXIST);
    CU_ASSERT(strstr(haz_ctx_errmsg(ctx), "/m/d") != NULL);
}

static void test_task_symlinks(void)
{
    char a[PATH_MAX], b[PATH_MAX];
    const haz__gtask *t;
    haz_graph *g;
    haz__input_set set;
    unsigned char k[32];
    tspec s;

    wdir("l");
    wfile("l/target", "T\n");
    (void)snprintf(a, sizeof(a), "%s/l/link1", ws);
    (void)snprintf(b, sizeof(b), "%s/l/link2", ws);
    CU_ASSERT_EQUAL_FATAL(symlink("target", a), 0);
    CU_ASSERT_EQUAL_FATAL(symlink("target", b), 0);
    memset(&s, 0, sizeof(s));
    s.project = "l";
    s.root = "l";
    s.inputs[0] = "link*";
    g = make_graph(&s, &t);
    haz__input_set_init(&set, ctx);
    CU_ASSERT_EQUAL(haz__task_cache_key(ctx, &haz_hash_sha256, ws, t, NULL,
                                        NULL, 0, NULL, &set, k), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(set.n, 2);
    CU_ASSERT_STRING_EQUAL(set.v[0].path, "/l/link1");
    CU_ASSERT_STRING_EQUAL(set.v[1].path, "/l/link2");
    CU_ASSERT(memcmp(set.v[0].hash, set.v[1].hash, 32) == 0);
    {
        unsigned char d[32];

        sha("T\n", d);
        CU_ASSERT(memcmp(set.v[0].hash, d, 32) == 0);
    }
    /* Nothing changed: no change reported; then one input changes. */
    CU_ASSERT_EQUAL(haz__input_set_changed(ws, &set, NULL), 0);
    wfile("l/target", "T2\n");
    {
        const char *which = NULL;

        CU_ASSERT_EQUAL(haz__input_set_changed(ws, &set, &which), 1);
        CU_ASSERT(which != NULL && strcmp(which, "/l/link1") == 0);
    }
    haz__input_set_free(&set);
    haz_graph_free(g);
}

static void test_task_pred_count(void)
{
    const haz__gtask *t;
    tspec s;
    haz_graph *g;
    unsigned char k[32];

    memset(&s, 0, sizeof(s));
    s.project = "p";
    s.root = ".";
    s.with_dep = 1;
    g = make_graph(&s, &t);
    CU_ASSERT_EQUAL(haz__task_cache_key(ctx, &haz_hash_sha256, ws, t, NULL,
                                        NULL, 0, NULL, NULL, k), HAZ_EINVAL);
    CU_ASSERT(strstr(haz_ctx_errmsg(ctx), "p:build") != NULL);
    CU_ASSERT_EQUAL(haz__task_cache_key(ctx, &haz_hash_sha256, "rel", t,
                                        NULL, NULL, 1, NULL, NULL, k),
                    HAZ_EINVAL);
    haz_graph_free(g);
}

/* ------------------------------------------------------------------------
 * The input-hash record.
 * ---------------------------------------------------------------------- */

static char cdir[1200];

static int fs_init(void)
{
    if (task_init() != 0)
        return 1;
    (void)snprintf(cdir, sizeof(cdir), "%s/.haz/cache", ws);
    return 0;
}

static void file_id(const char *host, haz__fileid *id)
{
    struct stat st;

    CU_ASSERT_EQUAL_FATAL(stat(host, &st), 0);
    haz__fileid_of(&st, id);
}

static void test_trust_rule(void)
{
    haz__fileid a, b;

    memset(&a, 0, sizeof(a));
    a.size = 10;
    a.mtime_s = 100;
    a.mtime_ns = 5;
    a.ctime_s = 100;
    a.ctime_ns = 6;
    a.ino = 7;
    a.dev = 8;
    b = a;
    CU_ASSERT(haz__filestat_trusted(&a, 101, &b));
    /* Racy: stamps in the session's start second (or later). */
    CU_ASSERT(!haz__filestat_trusted(&a, 100, &b));
    CU_ASSERT(!haz__filestat_trusted(&a, 99, &b));
    /* Racy by its ctime alone (a chmod, or an mtime set back). */
    a.mtime_s = b.mtime_s = 50;
    CU_ASSERT(!haz__filestat_trusted(&a, 100, &b));
    CU_ASSERT(haz__filestat_trusted(&a, 101, &b));
    a.mtime_s = b.mtime_s = 100;
    b.ctime_s = 99;
    a.ctime_s = 99;
    a.mtime_s = 101;
    b.mtime_s = 101;
    CU_ASSERT(!haz__filestat_trusted(&a, 101, &b));
    a.mtime_s = b.mtime_s = 100;
    CU_ASSERT(haz__filestat_trusted(&a, 101, &b));
    /* Any field differing. */
#define DIFFER(field)                                                       \
    do {                                                                    \
        b = a;                                                              \
        b.field++;                                                          \
        CU_ASSERT(!haz__filestat_trusted(&a, 200, &b));                     \
    } while (0)
    DIFFER(size);
    DIFFER(mtime_s);
    DIFFER(mtime_ns);
    DIFFER(ctime_s);
    DIFFER(ctime_ns);
    DIFFER(ino);
    DIFFER(dev);
#undef DIFFER
}

/* Hash ws/rel through a record that is opened, used and saved; returns
 * the number of files read.  epoch_delta != 0 sets the session epoch to
 * the file's ctime + delta (0: leave the real one). */
static unsigned long fs_run(const char *rel, int64_t epoch_delta,
                            unsigned char *digest, size_t *count)
{
    char host[PATH_MAX], wp[PATH_MAX];
    haz__filestat *fs = NULL;
    haz__fileid id;
    unsigned long reads;

    (void)snprintf(host, sizeof(host), "%s/%s", ws, rel);
    (void)snprintf(wp, sizeof(wp), "/%s", rel);
    CU_ASSERT_EQUAL_FATAL(haz__filestat_open(ctx, cdir, &haz_hash_sha256,
                                             &fs), HAZ_OK);
    if (count != NULL)
        *count = haz__filestat_count(fs);
    if (epoch_delta != 0) {
        file_id(host, &id);
        haz__filestat_set_epoch(fs, id.ctime_s + epoch_delta);
    }
    CU_ASSERT_EQUAL(haz__filestat_hash(fs, ctx, &haz_hash_sha256, wp, host,
                                       digest, NULL), HAZ_OK);
    reads = haz__filestat_reads(fs);
    CU_ASSERT_EQUAL(haz__filestat_save(fs), HAZ_OK);
    haz__filestat_close(fs);
    return reads;
}

static void test_fs_hit_and_changes(void)
{
    unsigned char d0[32], d1[32], want[32];
    char host[PATH_MAX], tmp[PATH_MAX];
    struct timespec ts[2];
    haz__fileid id;

    wdir("fs");
    wfile("fs/f", "hello\n");
    sha("hello\n", want);
    (void)snprintf(host, sizeof(host), "%s/fs/f", ws);
    CU_ASSERT_EQUAL(fs_run("fs/f", 10, d0, NULL), 1);
    CU_ASSERT(memcmp(d0, want, 32) == 0);
    /* Hit: not read again, same digest. */
    CU_ASSERT_EQUAL(fs_run("fs/f", 10, d1, NULL), 0);
    CU_ASSERT(memcmp(d1, want, 32) == 0);
    /* Size. */
    wfile("fs/f", "hello world\n");
    CU_ASSERT_EQUAL(fs_run("fs/f", 10, d1, NULL), 1);
    sha("hello world\n", want);
    CU_ASSERT(memcmp(d1, want, 32) == 0);
    CU_ASSERT_EQUAL(fs_run("fs/f", 10, d1, NULL), 0);
    /* mtime only. */
    file_id(host, &id);
    ts[0].tv_sec = ts[1].tv_sec = (time_t)(id.mtime_s - 1000);
    ts[0].tv_nsec = ts[1].tv_nsec = 0;
    CU_ASSERT_EQUAL_FATAL(utimensat(AT_FDCWD, host, ts, 0), 0);
    CU_ASSERT_EQUAL(fs_run("fs/f", 10, d1, NULL), 1);
    CU_ASSERT(memcmp(d1, want, 32) == 0);
    CU_ASSERT_EQUAL(fs_run("fs/f", 10, d1, NULL), 0);
    /* ctime only (chmod). */
    CU_ASSERT_EQUAL_FATAL(chmod(host, 0600), 0);
    CU_ASSERT_EQUAL(fs_run("fs/f", 10, d1, NULL), 1);
    CU_ASSERT_EQUAL(fs_run("fs/f", 10, d1, NULL), 0);
    /* A new inode with the same content and mtime. */
    file_id(host, &id);
    (void)snprintf(tmp, sizeof(tmp), "%s/fs/f.new", ws);
    CU_ASSERT_EQUAL_FATAL(haz_test_write_file(tmp, "hello world\n", 12), 0);
    ts[0].tv_sec = ts[1].tv_sec = (time_t)id.mtime_s;
    ts[0].tv_nsec = ts[1].tv_nsec = id.mtime_ns;
    CU_ASSERT_EQUAL_FATAL(utimensat(AT_FDCWD, tmp, ts, 0), 0);
    CU_ASSERT_EQUAL_FATAL(rename(tmp, host), 0);
    CU_ASSERT_EQUAL(fs_run("fs/f", 10, d1, NULL), 1);
    CU_ASSERT(memcmp(d1, want, 32) == 0);
    /* Racy: the session started in the second of the file's ctime. */
    CU_ASSERT_EQUAL(fs_run("fs/f", 10, d1, NULL), 0);
    wfile("fs/f", "hello world\n");
    CU_ASSERT_EQUAL(fs_run("fs/f", 0, d1, NULL), 1);
    file_id(host, &id);
    {
        /* Record it with the epoch equal to its ctime second... */
        haz__filestat *fs;

        CU_ASSERT_EQUAL_FATAL(haz__filestat_open(ctx, cdir, &haz_hash_sha256,
                                                 &fs), HAZ_OK);
        haz__filestat_set_epoch(fs, id.ctime_s);
        CU_ASSERT_EQUAL(haz__filestat_hash(fs, ctx, &haz_hash_sha256,
                                           "/fs/f", host, d1, NULL), HAZ_OK);
        CU_ASSERT_EQUAL(haz__filestat_reads(fs), 1);
        CU_ASSERT_EQUAL(haz__filestat_save(fs), HAZ_OK);
        haz__filestat_close(fs);
    }
    /* ... then it is never trusted, whatever the later session. */
    CU_ASSERT_EQUAL(fs_run("fs/f", 100, d1, NULL), 1);
    /* A missing file drops its entry. */
    {
        haz__filestat *fs;
        size_t before;

        CU_ASSERT_EQUAL_FATAL(haz__filestat_open(ctx, cdir, &haz_hash_sha256,
                                                 &fs), HAZ_OK);
        before = haz__filestat_count(fs);
        CU_ASSERT(before >= 1);
        CU_ASSERT_EQUAL(unlink(host), 0);
        CU_ASSERT_EQUAL(haz__filestat_hash(fs, ctx, &haz_hash_sha256,
                                           "/fs/f", host, d1, NULL),
                        HAZ_ENOENT);
        CU_ASSERT_EQUAL(haz__filestat_count(fs), before - 1);
        haz__filestat_close(fs);
    }
    /* Closing without saving leaves no temporary behind. */
    {
        int found = 0;
        DIR *d;
        struct dirent *de;

        d = opendir(cdir);
        CU_ASSERT_FATAL(d != NULL);
        while ((de = readdir(d)) != NULL)
            if (strncmp(de->d_name, HAZ__FILESTAT_TMP_PREFIX,
                        strlen(HAZ__FILESTAT_TMP_PREFIX)) == 0)
                found = 1;
        closedir(d);
        CU_ASSERT(!found);
    }
}

/* Write `body` as the record, with a correct (or broken) trailer. */
static void write_record(const char *body, int good_trailer, long count)
{
    char path[PATH_MAX], hex[65];
    unsigned char d[32];
    haz_buf b;

    haz__buf_init(&b, ctx);
    haz_sha256(body, strlen(body), d);
    if (!good_trailer)
        d[0] ^= 1;
    hex_of(d, hex);
    CU_ASSERT_EQUAL_FATAL(haz__buf_printf(&b, "%send %ld %s\n", body, count,
                                          hex), HAZ_OK);
    (void)snprintf(path, sizeof(path), "%s/%s", cdir, HAZ__FILESTAT_NAME);
    (void)unlink(path);
    CU_ASSERT_EQUAL_FATAL(haz_test_write_file(path, b.data, b.len), 0);
    haz__buf_free(&b);
}

static size_t record_count(void)
{
    haz__filestat *fs;
    size_t n;

    int rc = haz__filestat_open(ctx, cdir, &haz_hash_sha256, &fs);

    if (rc != HAZ_OK)
        fprintf(stderr, "open: %d %s\n", rc, haz_ctx_errmsg(ctx));
    CU_ASSERT_EQUAL_FATAL(rc, HAZ_OK);
    n = haz__filestat_count(fs);
    haz__filestat_close(fs);
    return n;
}

static void test_fs_corrupt_records(void)
{
    static const char *const bad_bodies[] = {
        /* unsorted */
        "hazexec-filestat 0 sha256\n"
        "1 1 0 0 0 0 1 1 %s /b\n"
        "1 1 0 0 0 0 1 1 %s /a\n",
        /* duplicate */
        "hazexec-filestat 0 sha256\n"
        "1 1 0 0 0 0 1 1 %s /a\n"
        "1 1 0 0 0 0 1 1 %s /a\n",
        /* leading zero */
        "hazexec-filestat 0 sha256\n"
        "01 1 0 0 0 0 1 1 %s /a\n"
        "1 1 0 0 0 0 1 1 %s /b\n",
        /* nanoseconds out of range */
        "hazexec-filestat 0 sha256\n"
        "1 1 0 1000000000 0 0 1 1 %s /a\n"
        "1 1 0 0 0 0 1 1 %s /b\n",
        /* relative path */
        "hazexec-filestat 0 sha256\n"
        "1 1 0 0 0 0 1 1 %s a\n"
        "1 1 0 0 0 0 1 1 %s /b\n",
        /* another hash */
        "hazexec-filestat 0 blake3\n"
        "1 1 0 0 0 0 1 1 %s /a\n"
        "1 1 0 0 0 0 1 1 %s /b\n",
        /* another revision */
        "hazexec-filestat 1 sha256\n"
        "1 1 0 0 0 0 1 1 %s /a\n"
        "1 1 0 0 0 0 1 1 %s /b\n",
        /* a field missing */
        "hazexec-filestat 0 sha256\n"
        "1 1 0 0 0 1 1 %s /a\n"
        "1 1 0 0 0 0 1 1 %s /b\n",
        /* double space */
        "hazexec-filestat 0 sha256\n"
        "1 1 0 0 0 0 1  1 %s /a\n"
        "1 1 0 0 0 0 1 1 %s /b\n",
        /* "-0" */
        "hazexec-filestat 0 sha256\n"
        "1 1 -0 0 0 0 1 1 %s /a\n"
        "1 1 0 0 0 0 1 1 %s /b\n",
        /* overflow */
        "hazexec-filestat 0 sha256\n"
        "1 18446744073709551616 0 0 0 0 1 1 %s /a\n"
        "1 1 0 0 0 0 1 1 %s /b\n",
    };
    char body[1024], hex[65], upper[65], path[PATH_MAX];
    unsigned char d[32];
    size_t i, len;
    char *data;

    sha("x", d);
    hex_of(d, hex);
    /* A good record loads... */
    (void)snprintf(body, sizeof(body), "hazexec-filestat 0 sha256\n"
                   "1 1 0 0 0 0 1 1 %s /a\n1 1 0 0 0 0 1 1 %s /b\n",
                   hex, hex);
    write_record(body, 1, 2);
    CU_ASSERT_EQUAL(record_count(), 2);
    /* ... but not with a wrong count, digest, or anything after it. */
    write_record(body, 1, 3);
    CU_ASSERT_EQUAL(record_count(), 0);
    write_record(body, 0, 2);
    CU_ASSERT_EQUAL(record_count(), 0);
    for (i = 0; i < HAZ_ARRAY_LEN(bad_bodies); i++) {
        (void)snprintf(body, sizeof(body), bad_bodies[i], hex, hex);
        write_record(body, 1, 2);
        CU_ASSERT_EQUAL(record_count(), 0);
        if (record_count() != 0)
            fprintf(stderr, "accepted bad record %lu\n", (unsigned long)i);
    }
    /* Upper-case hex. */
    memcpy(upper, hex, sizeof(upper));
    for (i = 0; upper[i]; i++)
        if (upper[i] >= 'a' && upper[i] <= 'f')
            upper[i] = (char)(upper[i] - 'a' + 'A');
    (void)snprintf(body, sizeof(body), "hazexec-filestat 0 sha256\n"
                   "1 1 0 0 0 0 1 1 %s /a\n", upper);
    write_record(body, 1, 1);
    CU_ASSERT_EQUAL(record_count(), 0);
    /* Every truncation and every single-bit flip of a saved record. */
    (void)snprintf(body, sizeof(body), "hazexec-filestat 0 sha256\n"
                   "1 1 0 0 0 0 1 1 %s /a\n", hex);
    write_record(body, 1, 1);
    CU_ASSERT_EQUAL(record_count(), 1);
    (void)snprintf(path, sizeof(path), "%s/%s", cdir, HAZ__FILESTAT_NAME);
    CU_ASSERT_EQUAL_FATAL(haz__read_file(ctx, path, 1 << 20, &data, &len),
                          HAZ_OK);
    for (i = 0; i < len; i++) {
        (void)unlink(path);
        CU_ASSERT_EQUAL_FATAL(haz_test_write_file(path, data, i), 0);
        CU_ASSERT_EQUAL(record_count(), 0);
    }
    for (i = 0; i < 8 * len; i += 7) {
        data[i / 8] ^= (char)(1 << (i % 8));
        (void)unlink(path);
        CU_ASSERT_EQUAL_FATAL(haz_test_write_file(path, data, len), 0);
        CU_ASSERT_EQUAL(record_count(), 0);
        data[i / 8] ^= (char)(1 << (i % 8));
    }
    (void)unlink(path);
    CU_ASSERT_EQUAL_FATAL(haz_test_write_file(path, data, len), 0);
    CU_ASSERT_EQUAL(record_count(), 1);
    haz__free(ctx, data);
    /* A symbolic link in its place is not followed. */
    (void)unlink(path);
    CU_ASSERT_EQUAL_FATAL(symlink("/etc/passwd", path), 0);
    CU_ASSERT_EQUAL(record_count(), 0);
    (void)unlink(path);
}

/* ------------------------------------------------------------------------
 * Registration.
 * ---------------------------------------------------------------------- */

static CU_TestInfo vector_tests[] = {
    {"V1 argv", test_v1_argv},
    {"V2 shell", test_v2_shell},
    {"V3 env", test_v3_env},
    {"V4 inputs", test_v4_inputs},
    {"V5 predecessors", test_v5_preds},
    {"V6 all together", test_v6_all},
    {"V7 V8 empty and unset", test_v7_v8_empty_and_unset},
    CU_TEST_INFO_NULL
};

static CU_TestInfo key_tests[] = {
    {"each component changes the key", test_each_component_changes_key},
    {"hash id in the prefix", test_hash_id_in_prefix},
    {"order independent", test_order_independent},
    {"C14 canonicalisation pairs", test_c14_pairs},
    {"reference-io 9.4 env precedence and absent host variable",
     test_env_precedence_and_absent},
    {"bad arguments", test_bad_arguments},
    {"allocation failures", test_alloc_failures},
    CU_TEST_INFO_NULL
};

static CU_TestInfo task_tests[] = {
    {"what is in the key and what is not", test_task_key_scope},
    {"missing literal input (reference-io 9.4)", test_task_missing_literal},
    {"symbolic links and changed inputs (reference-io 9.4 input symlinks)",
     test_task_symlinks},
    {"predecessor count", test_task_pred_count},
    CU_TEST_INFO_NULL
};

static CU_TestInfo fs_tests[] = {
    {"trust rule", test_trust_rule},
    {"hit and changes", test_fs_hit_and_changes},
    {"corrupt records", test_fs_corrupt_records},
    CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
    { .pName = "vectors", .pInitFunc = suite_init,
      .pCleanupFunc = suite_clean, .pTests = vector_tests },
    { .pName = "key", .pInitFunc = suite_init,
      .pCleanupFunc = suite_clean, .pTests = key_tests },
    { .pName = "task", .pInitFunc = task_init,
      .pCleanupFunc = task_clean, .pTests = task_tests },
    { .pName = "filestat", .pInitFunc = fs_init,
      .pCleanupFunc = task_clean, .pTests = fs_tests },
    CU_SUITE_INFO_NULL
};

int main(int argc, char **argv)
{
    return haz_test_main(argc, argv, suites);
}
