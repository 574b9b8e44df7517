/*
 * tests/test_cache_fs.c: the filesystem cache store (backends/cache_fs*.c,
 * docs/cache-format.md) and its maintenance functions; reliability tests
 * C1, C3, C4, C5, C6, C9, C11 and C12 at the level of the store.
 *
 * The fixture (tests/cachefix.h) gives every test a fresh box holding a
 * workspace and, beside it, a canary directory whose signature (names,
 * kinds, contents) must be the same at the end (INV-WORKSPACE): no cache
 * entry may ever write outside the workspace.  The number of open
 * descriptors is compared too (INV-FD), and the workspace's cache is
 * verified at the end of every test: clean, or exactly the corruption the
 * test left on purpose (INV-CACHE).
 *
 * Suites:
 *   store      round trip with exact bytes and modes, hit after the outputs
 *              were deleted, shared blobs, misses, argument checks, the
 *              first writer wins (in one process and with two processes),
 *              a removed entry during restore, another file system;
 *   crash      a child killed with SIGKILL at every step of a store leaves
 *              no entry or a whole one; clean removes the leftovers;
 *   hostile    malformed manifests (every field, paths escaping the
 *              workspace, control characters, huge numbers, truncations,
 *              bit flips), corrupt and replaced blobs and streams, and
 *              symbolic links at and above the targets;
 *   maint      info, verify, clean (broken, max-age with the mock clock,
 *              max-size oldest first, dry run) and clear;
 *   memory     allocation failures in lookup, restore and store.
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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../backends/cache_fs.h"
#include "cachefix.h"
#include "fsutil.h"

/* dst = a b c (c may be NULL); the result must fit. */
static char *cat3(char *dst, size_t n, const char *a, const char *b,
                  const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = c ? strlen(c) : 0;

    CU_ASSERT_FATAL(la + lb + lc < n);
    memcpy(dst, a, la);
    memcpy(dst + la, b, lb);
    memcpy(dst + la + lb, c ? c : "", lc + 1);
    return dst;
}

/* A store for ws in context c with its cache in `cache` (NULL: the
 * default); fatal when it cannot be opened. */
static haz_cache_store *open_store_dir(haz_ctx *c, const char *cache)
{
    haz_cache_store *cs = open_store_in(c, ws, cache);

    CU_ASSERT_FATAL(cs != NULL);
    return cs;
}

/* Write the outputs into the workspace and store them under `key`. */
static int store_files(haz_cache_store *cs, const unsigned char *key,
                       const ofile *o, size_t n, const char *out,
                       size_t out_len, const char *err, int64_t created)
{
    return store_at(cs, ws, key, o, n, out, out_len, err,
                    err ? strlen(err) : 0, created);
}

static const ofile one_ok[] = { { "/ok", "ok", 2, 0644 } };

/* Look up; returns the entry (or NULL) and checks the result code. */
static haz_cache_entry *lookup(haz_cache_store *cs, const unsigned char *key)
{
    haz_cache_entry *e = NULL;

    CU_ASSERT_EQUAL(cs->methods->lookup(cs, key, 32, &e), HAZ_OK);
    return e;
}

/* ------------------------------------------------------------------------
 * Suite "store".
 * ---------------------------------------------------------------------- */

static void test_round_trip(void)
{
    char bin[256], out[300], buf[512];
    ofile o[3];
    haz_cache_store *cs;
    haz_cache_entry *e;
    unsigned char key[32];
    int i;
    long n;

    begin();
    for (i = 0; i < 256; i++)
        bin[i] = (char)i;
    memcpy(out, bin, 256);
    memcpy(out + 256, "last line without newline", 25);
    o[0].path = "/out/a.txt";
    o[0].data = "alpha\n";
    o[0].len = 6;
    o[0].mode = 0640;
    o[1].path = "/out/bin/tool";
    o[1].data = bin;
    o[1].len = 256;
    o[1].mode = 0755;
    o[2].path = "/copy.txt";          /* same bytes as a.txt: one blob */
    o[2].data = "alpha\n";
    o[2].len = 6;
    o[2].mode = 0600;
    cs = open_store();
    key_n(1, key);
    CU_ASSERT_EQUAL_FATAL(store_files(cs, key, o, 3, out, 281, "warn\n",
                                      1234), HAZ_OK);
    /* Delete the outputs: a hit (from a new store object) restores them. */
    haz_cache_store_close(cs);
    cs = open_store_dir(ctx, cachedir);
    (void)unlink(strcat(strcpy(buf, ws), "/out/a.txt"));
    (void)haz_test_rmtree(strcat(strcpy(buf, ws), "/out/bin"));
    (void)unlink(strcat(strcpy(buf, ws), "/copy.txt"));
    e = lookup(cs, key);
    CU_ASSERT_FATAL(e != NULL);
    CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), 0);
    CU_ASSERT_EQUAL(e->hash_len, 32);
    CU_ASSERT(memcmp(e->key, key, 32) == 0);
    CU_ASSERT_EQUAL(e->created_at, 1234);
    CU_ASSERT_EQUAL(e->stdout_size, 281);
    CU_ASSERT_EQUAL(e->stderr_size, 5);
    CU_ASSERT_EQUAL_FATAL(e->n_outputs, 3);
    CU_ASSERT_STRING_EQUAL(e->outputs[0].path, "/copy.txt");
    CU_ASSERT_STRING_EQUAL(e->outputs[1].path, "/out/a.txt");
    CU_ASSERT_STRING_EQUAL(e->outputs[2].path, "/out/bin/tool");
    CU_ASSERT_EQUAL(e->outputs[2].size, 256);
    CU_ASSERT_EQUAL(e->outputs[2].mode, 0755);
    CU_ASSERT(e->stdout_data == NULL);
    CU_ASSERT_EQUAL_FATAL(cs->methods->restore(cs, e), HAZ_OK);
    CU_ASSERT_FATAL(e->stdout_data != NULL && e->stderr_data != NULL);
    CU_ASSERT(memcmp(e->stdout_data, out, 281) == 0);
    CU_ASSERT(memcmp(e->stderr_data, "warn\n", 5) == 0);
    n = get(ws, "/out/bin/tool", buf, sizeof(buf));
    CU_ASSERT(n == 256 && memcmp(buf, bin, 256) == 0);
    CU_ASSERT(get(ws, "/out/a.txt", buf, sizeof(buf)) == 6 &&
              memcmp(buf, "alpha\n", 6) == 0);
    CU_ASSERT(get(ws, "/copy.txt", buf, sizeof(buf)) == 6);
    CU_ASSERT_EQUAL(mode_of(ws, "/out/a.txt"), 0640);
    CU_ASSERT_EQUAL(mode_of(ws, "/out/bin/tool"), 0755);
    CU_ASSERT_EQUAL(mode_of(ws, "/copy.txt"), 0600);
    /* A second restore over modified outputs puts the recorded bytes back,
     * and no staging directory stays behind. */
    put(ws, "/out/a.txt", "changed", 7, 0666);
    CU_ASSERT_EQUAL(cs->methods->restore(cs, e), HAZ_OK);
    CU_ASSERT(get(ws, "/out/a.txt", buf, sizeof(buf)) == 6);
    CU_ASSERT_EQUAL(mode_of(ws, "/out/a.txt"), 0640);
    CU_ASSERT_EQUAL(info().temporaries, 0);
    CU_ASSERT_EQUAL(info().entries, 1);
    cs->methods->entry_free(cs, e);
    haz_cache_store_close(cs);
    end();
}

static void test_empty_and_miss(void)
{
    haz_cache_store *cs;
    haz_cache_entry *e;
    unsigned char key[32], other[32];

    begin();
    cs = open_store();
    key_n(2, key);
    key_n(3, other);
    /* A miss on an empty cache, and on a cache without that key. */
    CU_ASSERT(lookup(cs, key) == NULL);
    CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), 0);
    CU_ASSERT_EQUAL(store_files(cs, key, NULL, 0, NULL, 0, NULL, 0), HAZ_OK);
    CU_ASSERT(lookup(cs, other) == NULL);
    e = lookup(cs, key);
    CU_ASSERT_FATAL(e != NULL);
    CU_ASSERT_EQUAL(e->n_outputs, 0);
    CU_ASSERT_EQUAL(e->stdout_size, 0);
    CU_ASSERT_EQUAL(cs->methods->restore(cs, e), HAZ_OK);
    CU_ASSERT(e->stdout_data != NULL);
    cs->methods->entry_free(cs, e);
    cs->methods->entry_free(cs, NULL);
    /* A key of the wrong length. */
    CU_ASSERT_EQUAL(cs->methods->lookup(cs, key, 31, &e), HAZ_EINVAL);
    haz_cache_store_close(cs);
    end();
}

static void test_store_rejects(void)
{
    static const char *const bad[] = {
        "rel", "/", "//a", "/a/", "/a//b", "/./a", "/a/.", "/a/../b", "/..",
        "/.haz/cache/x", "/.haz", "/a\tb", "/a\177", "/a\302\205",
        "/a\342\200\256b", "/a\342\200\213", "/a\357\273\277", "/a\377",
        "/a\300\257"
    };
    haz_cache_output v[2];
    haz_cache_store *cs;
    unsigned char key[32];
    char host[PATH_MAX];
    size_t i;

    begin();
    cs = open_store();
    key_n(4, key);
    put(ws, "/f", "f", 1, 0644);
    pathof(host, sizeof(host), ws, "/f");
    memset(v, 0, sizeof(v));
    v[0].host_path = v[1].host_path = host;
    v[0].mode = v[1].mode = 0644;
    for (i = 0; i < HAZ_ARRAY_LEN(bad); i++) {
        v[0].path = bad[i];
        CU_ASSERT_EQUAL(cs->methods->store(cs, key, 32, v, 1, "", 0, "", 0,
                                           1), HAZ_EINVAL);
    }
    /* Repeated and nested outputs. */
    v[0].path = "/a";
    v[1].path = "/a";
    CU_ASSERT_EQUAL(cs->methods->store(cs, key, 32, v, 2, "", 0, "", 0, 1),
                    HAZ_EINVAL);
    v[1].path = "/a/b";
    CU_ASSERT_EQUAL(cs->methods->store(cs, key, 32, v, 2, "", 0, "", 0, 1),
                    HAZ_EINVAL);
    /* Bad arguments. */
    v[1].path = "/b";
    CU_ASSERT_EQUAL(cs->methods->store(cs, key, 31, v, 2, "", 0, "", 0, 1),
                    HAZ_EINVAL);
    CU_ASSERT_EQUAL(cs->methods->store(cs, key, 32, v, 2, NULL, 3, "", 0, 1),
                    HAZ_EINVAL);
    CU_ASSERT_EQUAL(cs->methods->store(cs, key, 32, v, 2, "", 0, "", 0, -1),
                    HAZ_EINVAL);
    v[1].host_path = NULL;
    CU_ASSERT_EQUAL(cs->methods->store(cs, key, 32, v, 2, "", 0, "", 0, 1),
                    HAZ_EINVAL);
    /* Nothing was written for any of them. */
    CU_ASSERT(!exists(ws, "/.haz"));
    /* A host file that is missing: an I/O error, no entry, no temporary. */
    v[1].host_path = "/nonexistent/file";
    CU_ASSERT_EQUAL(cs->methods->store(cs, key, 32, v, 2, "", 0, "", 0, 1),
                    HAZ_EIO);
    CU_ASSERT(!entry_exists(key));
    CU_ASSERT_EQUAL(info().temporaries, 0);
    haz_cache_store_close(cs);
    end();
}

static void test_open_rejects(void)
{
    haz_cache_store_config cfg;
    haz_cache_store *cs = NULL;

    begin();
    memset(&cfg, 0, sizeof(cfg));
    cfg.version = 1;
    cfg.workspace_root = "relative";
    cfg.hash = &haz_hash_sha256;
    CU_ASSERT_EQUAL(haz_cache_store_open(ctx, &haz_cache_store_fs, &cfg,
                                         &cs), HAZ_EINVAL);
    CU_ASSERT(cs == NULL);
    cfg.workspace_root = "/nonexistent/workspace/root";
    CU_ASSERT_EQUAL(haz_cache_store_open(ctx, &haz_cache_store_fs, &cfg,
                                         &cs), HAZ_EINVAL);
    cfg.workspace_root = ws;
    cfg.hash = NULL;
    CU_ASSERT_EQUAL(haz_cache_store_open(ctx, &haz_cache_store_fs, &cfg,
                                         &cs), HAZ_EINVAL);
    cfg.hash = &haz_hash_sha256;
    cfg.cache_dir = "rel/cache";
    CU_ASSERT_EQUAL(haz_cache_store_open(ctx, &haz_cache_store_fs, &cfg,
                                         &cs), HAZ_EINVAL);
    haz_cache_store_close(NULL);
    end();
}

static void test_first_writer_wins(void)
{
    static const ofile second[] = { { "/ok", "OK", 2, 0644 } };
    haz_cache_store *cs;
    haz_cache_entry *e;
    unsigned char key[32];
    char buf[8];

    begin();
    cs = open_store();
    key_n(5, key);
    CU_ASSERT_EQUAL(store_files(cs, key, one_ok, 1, "1", 1, "", 1), HAZ_OK);
    /* The same key again (a non-deterministic task): success, and the
     * entry stays the first one. */
    CU_ASSERT_EQUAL(store_files(cs, key, second, 1, "2", 1, "", 2), HAZ_OK);
    CU_ASSERT_EQUAL(info().entries, 1);
    CU_ASSERT_EQUAL(info().temporaries, 0);
    e = lookup(cs, key);
    CU_ASSERT_FATAL(e != NULL);
    CU_ASSERT_EQUAL(e->created_at, 1);
    CU_ASSERT_EQUAL(cs->methods->restore(cs, e), HAZ_OK);
    CU_ASSERT(get(ws, "/ok", buf, sizeof(buf)) == 2 &&
              memcmp(buf, "ok", 2) == 0);
    cs->methods->entry_free(cs, e);
    haz_cache_store_close(cs);
    end();
}

/* Two processes store the same key at the same moment (C11). */
static void test_concurrent_processes(void)
{
    haz_cache_store *cs;
    haz_cache_entry *e;
    unsigned char key[32];
    int gate[2], k, status;
    pid_t pid[4];

    begin();
    key_n(6, key);
    put(ws, "/ok", "ok", 2, 0644);
    CU_ASSERT_EQUAL_FATAL(pipe(gate), 0);
    for (k = 0; k < 4; k++) {
        pid[k] = fork();
        CU_ASSERT_FATAL(pid[k] >= 0);
        if (pid[k] == 0) {
            haz_cache_output v;
            char host[PATH_MAX], c;
            int rc;

            close(gate[1]);
            if (read(gate[0], &c, 1) < 0)       /* released at EOF */
                _exit(2);
            close(gate[0]);
            cs = open_store();
            memset(&v, 0, sizeof(v));
            pathof(host, sizeof(host), ws, "/ok");
            v.path = "/ok";
            v.host_path = host;
            v.mode = 0644;
            rc = cs->methods->store(cs, key, 32, &v, 1, "x", 1, "", 0, 9);
            _exit(rc == HAZ_OK ? 0 : 1);
        }
    }
    close(gate[0]);
    close(gate[1]);
    for (k = 0; k < 4; k++) {
        CU_ASSERT_EQUAL(waitpid(pid[k], &status, 0), pid[k]);
        CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    CU_ASSERT_EQUAL(info().entries, 1);
    CU_ASSERT_EQUAL(info().temporaries, 0);
    {
        haz_cache_stats st;

        CU_ASSERT_EQUAL(haz_cache_fs_verify(ctx, cachedir, &haz_hash_sha256,
                                            &st), HAZ_OK);
    }
    cs = open_store();
    e = lookup(cs, key);
    CU_ASSERT(e != NULL);
    if (e != NULL)
        CU_ASSERT_EQUAL(cs->methods->restore(cs, e), HAZ_OK);
    cs->methods->entry_free(cs, e);
    haz_cache_store_close(cs);
    end();
}

/* C12: the entry disappears between lookup and restore: a miss. */
static void test_removed_during_restore(void)
{
    haz_cache_store *cs;
    haz_cache_entry *e;
    unsigned char key[32];
    char d[PATH_MAX];

    begin();
    cs = open_store();
    key_n(7, key);
    CU_ASSERT_EQUAL(store_files(cs, key, one_ok, 1, "o", 1, "", 1), HAZ_OK);
    CU_ASSERT_EQUAL(unlink(strcat(strcpy(d, ws), "/ok")), 0);
    e = lookup(cs, key);
    CU_ASSERT_FATAL(e != NULL);
    entry_dir(key, d, sizeof(d));
    CU_ASSERT_EQUAL(haz__rmtree(d), 0);
    CU_ASSERT_EQUAL(cs->methods->restore(cs, e), HAZ_ECORRUPT);
    CU_ASSERT(!exists(ws, "/ok"));
    cs->methods->entry_free(cs, e);
    haz_cache_store_close(cs);
    end();
}

/* A cache directory on another file system: restore copies across. */
static void test_other_filesystem(void)
{
    char other[PATH_MAX], buf[8];
    struct stat a, b;
    haz_cache_store *cs;
    haz_cache_entry *e;
    unsigned char key[32];

    begin();
    (void)snprintf(other, sizeof(other), "/dev/shm/hazexec-test-%ld",
                   (long)getpid());
    if (stat("/dev/shm", &a) != 0 || stat(ws, &b) != 0 ||
        a.st_dev == b.st_dev || mkdir(other, 0700) != 0) {
        end();
        return;                 /* no second file system here */
    }
    cs = open_store_dir(ctx, other);
    key_n(8, key);
    CU_ASSERT_EQUAL(store_files(cs, key, one_ok, 1, "o", 1, "", 1), HAZ_OK);
    put(ws, "/ok", "xx", 2, 0600);
    e = lookup(cs, key);
    CU_ASSERT_FATAL(e != NULL);
    CU_ASSERT_EQUAL(cs->methods->restore(cs, e), HAZ_OK);
    CU_ASSERT(get(ws, "/ok", buf, sizeof(buf)) == 2 &&
              memcmp(buf, "ok", 2) == 0);
    CU_ASSERT_EQUAL(mode_of(ws, "/ok"), 0644);
    cs->methods->entry_free(cs, e);
    haz_cache_store_close(cs);
    CU_ASSERT_EQUAL(verify_clean_at(other, "the cache on /dev/shm"), 1);
    (void)haz__rmtree(other);
    end();
}

/* ------------------------------------------------------------------------
 * Suite "crash": C1 with an in-process kill point.
 * ---------------------------------------------------------------------- */

static const char *kill_step;

static void kill_hook(const char *step)
{
    if (strcmp(step, kill_step) == 0)
        (void)raise(SIGKILL);
}

static void test_crash_every_step(void)
{
    static const char *const steps[] = {
        "tmp", "blob", "stdout", "stderr", "manifest", "synced", "renamed",
        "done"
    };
    static const ofile two[] = {
        { "/o/a", "aaaa", 4, 0644 }, { "/o/b", "bbbbbb", 6, 0755 }
    };
    size_t s;

    begin();
    for (s = 0; s < HAZ_ARRAY_LEN(steps); s++) {
        haz_cache_store *cs;
        haz_cache_entry *e;
        haz_cache_stats st;
        haz_cache_clean_options opt;
        unsigned char key[32];
        int status;
        pid_t pid;

        key_n(100 + (int)s, key);
        put(ws, "/o/a", "aaaa", 4, 0644);
        put(ws, "/o/b", "bbbbbb", 6, 0755);
        pid = fork();
        CU_ASSERT_FATAL(pid >= 0);
        if (pid == 0) {
            kill_step = steps[s];
            haz__cache_fs_test_hook = kill_hook;
            cs = open_store();
            (void)store_files(cs, key, two, 2, "out", 3, "err", 7);
            _exit(0);
        }
        CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
        CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        /* Never a partial entry: a miss, or a whole entry that restores. */
        cs = open_store();
        e = lookup(cs, key);
        CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), 0);
        if (s < 6) {
            CU_ASSERT(e == NULL);
            CU_ASSERT_EQUAL(info().temporaries, 1);
        } else {
            CU_ASSERT_FATAL(e != NULL);
            CU_ASSERT_EQUAL(e->n_outputs, 2);
            CU_ASSERT_EQUAL(cs->methods->restore(cs, e), HAZ_OK);
            CU_ASSERT(memcmp(e->stdout_data, "out", 3) == 0);
            CU_ASSERT_EQUAL(info().temporaries, 0);
        }
        cs->methods->entry_free(cs, e);
        haz_cache_store_close(cs);
        CU_ASSERT_EQUAL(haz_cache_fs_verify(ctx, cachedir, &haz_hash_sha256,
                                            &st), HAZ_OK);
        CU_ASSERT_EQUAL(st.broken, 0);
        /* clean leaves a young temporary alone, removes an old one. */
        memset(&opt, 0, sizeof(opt));
        opt.broken = 1;
        CU_ASSERT_EQUAL(haz_clock_mock_set_wall(clk, (int64_t)time(NULL)),
                        HAZ_OK);
        CU_ASSERT_EQUAL(haz_cache_fs_clean(ctx, cachedir, &opt, clk, &st),
                        HAZ_OK);
        CU_ASSERT_EQUAL(st.removed, 0);
        CU_ASSERT_EQUAL(haz_clock_mock_set_wall(clk, (int64_t)time(NULL) +
                                                HAZ_CACHE_TMP_GRACE_S + 5),
                        HAZ_OK);
        CU_ASSERT_EQUAL(haz_cache_fs_clean(ctx, cachedir, &opt, clk, &st),
                        HAZ_OK);
        CU_ASSERT_EQUAL(st.removed, s < 6 ? 1 : 0);
        CU_ASSERT_EQUAL(info().temporaries, 0);
        CU_ASSERT_EQUAL(info().broken, 0);
        /* A store after the crash succeeds and hits. */
        cs = open_store();
        CU_ASSERT_EQUAL(store_files(cs, key, two, 2, "out", 3, "err", 7),
                        HAZ_OK);
        e = lookup(cs, key);
        CU_ASSERT(e != NULL);
        cs->methods->entry_free(cs, e);
        haz_cache_store_close(cs);
    }
    end();
}

/* ------------------------------------------------------------------------
 * Suite "hostile".
 * ---------------------------------------------------------------------- */

/* The standard entry: output "/ok" = "ok", stdout "out", stderr "". */
static void fresh_entry(haz_cache_store *cs, const unsigned char *key)
{
    char d[PATH_MAX];

    entry_dir(key, d, sizeof(d));
    (void)haz__rmtree(d);
    CU_ASSERT_EQUAL_FATAL(store_files(cs, key, one_ok, 1, "out", 3, "", 5),
                          HAZ_OK);
    (void)unlink(strcat(strcpy(d, ws), "/ok"));
}

/* Replace the manifest of key by `body` plus a correct check line. */
static void put_manifest(const unsigned char *key, const char *body,
                         size_t len)
{
    char d[PATH_MAX], m[PATH_MAX], hex[65];
    unsigned char h[32];
    haz_buf b;

    haz_sha256(body, len, h);
    haz_hash_hex(h, 32, hex);
    haz__buf_init(&b, ctx);
    CU_ASSERT_FATAL(haz__buf_append(&b, body, len) == 0 &&
                    haz__buf_printf(&b, "check %s\n", hex) == 0);
    entry_dir(key, d, sizeof(d));
    cat3(m, sizeof(m), d, "/manifest", NULL);
    (void)unlink(m);
    CU_ASSERT_EQUAL_FATAL(haz_test_write_file(m, b.data, b.len), 0);
    haz__buf_free(&b);
}

/* The body of the standard entry's manifest with the given output line
 * (and the given key hex, or the real one). */
static void std_body(haz_buf *b, const unsigned char *key, const char *outl,
                     const char *keyhex, const char *hashname,
                     const char *rev)
{
    char k[65], so[65], se[65], ok[65];
    unsigned char h[32];

    haz_hash_hex(key, 32, k);
    haz_sha256("out", 3, h);
    haz_hash_hex(h, 32, so);
    haz_sha256("", 0, h);
    haz_hash_hex(h, 32, se);
    haz_sha256("ok", 2, h);
    haz_hash_hex(h, 32, ok);
    b->len = 0;
    CU_ASSERT(haz__buf_printf(b, "hazexec-cache %s\nhash %s\nkey %s\n"
                              "created 5\nstdout 3 %s\nstderr 0 %s\n"
                              "outputs 1\n", rev ? rev : "0",
                              hashname ? hashname : "sha256",
                              keyhex ? keyhex : k, so, se) == 0);
    if (outl == NULL)
        CU_ASSERT(haz__buf_printf(b, "%s 2 0644 /ok\n", ok) == 0)
    else
        CU_ASSERT(haz__buf_puts(b, outl) == 0);
}

static void expect_corrupt(haz_cache_store *cs, const unsigned char *key,
                           const char *what)
{
    haz_cache_entry *e = lookup(cs, key);

    CU_ASSERT(e == NULL);
    CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), HAZ_ECORRUPT);
    CU_ASSERT(!entry_exists(key));
    if (e != NULL || entry_exists(key))
        fprintf(stderr, "\naccepted: %s\n", what);
    if (e != NULL) {
        (void)cs->methods->restore(cs, e);
        cs->methods->entry_free(cs, e);
    }
    CU_ASSERT(!exists(ws, "/ok"));
}

static void test_hostile_manifests(void)
{
    static const char *const bad_paths[] = {
        "../x", "/../x", "/a/../../x", "/a/./b", "//a", "/a/", "a/b", "/",
        "/.haz/cache/x", "/a\001b", "/a\177b", "/a\342\200\256b",
        "/a\377b", "/a\rb", "/a\302\233b", "/ok\342\201\246",
        "/ ok/../../x"
    };
    char hx[65], line[512], good[65];
    unsigned char h[32], key[32];
    haz_cache_store *cs;
    haz_cache_entry *e;
    haz_buf b;
    size_t i;

    begin();
    cs = open_store();
    key_n(9, key);
    haz__buf_init(&b, ctx);
    haz_sha256("ok", 2, h);
    haz_hash_hex(h, 32, good);
    /* The template itself is a hit. */
    fresh_entry(cs, key);
    std_body(&b, key, NULL, NULL, NULL, NULL);
    put_manifest(key, b.data, b.len);
    e = lookup(cs, key);
    CU_ASSERT_FATAL(e != NULL);
    cs->methods->entry_free(cs, e);
    /* Paths. */
    for (i = 0; i < HAZ_ARRAY_LEN(bad_paths); i++) {
        fresh_entry(cs, key);
        (void)snprintf(line, sizeof(line), "%s 2 0644 %s\n", good,
                       bad_paths[i]);
        std_body(&b, key, line, NULL, NULL, NULL);
        put_manifest(key, b.data, b.len);
        expect_corrupt(cs, key, bad_paths[i]);
    }
    /* Every other field. */
    {
        static const char *const bad_lines[] = {
            "%.63s 2 0644 /ok\n",             /* short hash */
            "%sA 2 0644 /ok\n",               /* long hash */
            "%s 02 0644 /ok\n",               /* leading zero */
            "%s -2 0644 /ok\n",               /* sign */
            "%s 18446744073709551616 0644 /ok\n", /* overflow */
            "%s 2 644 /ok\n",                 /* three digits */
            "%s 2 1644 /ok\n",                /* setuid etc. */
            "%s 2 0648 /ok\n",                /* not octal */
            "%s 2 06440 /ok\n",               /* five digits */
            "%s  2 0644 /ok\n",               /* double space */
            "%s 2 0644 /ok\r\n",              /* CRLF */
            "%s 2 0644\n",                    /* no path */
            "%s 2 0644 /ok\n%s 2 0644 /ok\n", /* count mismatch */
            "%s 2 0644 /ok\nextra 1\n",       /* unknown field */
        };

        for (i = 0; i < HAZ_ARRAY_LEN(bad_lines); i++) {
            fresh_entry(cs, key);
            (void)snprintf(line, sizeof(line), bad_lines[i], good, good);
            std_body(&b, key, line, NULL, NULL, NULL);
            put_manifest(key, b.data, b.len);
            expect_corrupt(cs, key, bad_lines[i]);
        }
    }
    /* Upper-case hex, a wrong key, a duplicated field, a missing one. */
    for (i = 0; i < 64; i++)
        hx[i] = (char)(good[i] >= 'a' ? good[i] - 'a' + 'A' : good[i]);
    hx[64] = '\0';
    fresh_entry(cs, key);
    (void)snprintf(line, sizeof(line), "%s 2 0644 /ok\n", hx);
    std_body(&b, key, line, NULL, NULL, NULL);
    put_manifest(key, b.data, b.len);
    expect_corrupt(cs, key, "upper-case hex");
    fresh_entry(cs, key);
    std_body(&b, key, NULL, good, NULL, NULL);
    put_manifest(key, b.data, b.len);
    expect_corrupt(cs, key, "wrong key");
    fresh_entry(cs, key);
    std_body(&b, key, NULL, NULL, NULL, NULL);
    {
        char *p = strstr(b.data, "created 5\n");
        haz_buf c;

        haz__buf_init(&c, ctx);
        CU_ASSERT_FATAL(p != NULL);
        CU_ASSERT(haz__buf_append(&c, b.data, (size_t)(p - b.data)) == 0 &&
                  haz__buf_puts(&c, "created 5\ncreated 5\n") == 0 &&
                  haz__buf_puts(&c, p + 10) == 0);
        put_manifest(key, c.data, c.len);
        expect_corrupt(cs, key, "duplicate field");
        fresh_entry(cs, key);
        c.len = 0;
        CU_ASSERT(haz__buf_append(&c, b.data, (size_t)(p - b.data)) == 0 &&
                  haz__buf_puts(&c, p + 10) == 0);
        put_manifest(key, c.data, c.len);
        expect_corrupt(cs, key, "missing field");
        /* A forged huge count: rejected without a huge allocation. */
        fresh_entry(cs, key);
        c.len = 0;
        p = strstr(b.data, "outputs 1\n");
        CU_ASSERT(haz__buf_append(&c, b.data, (size_t)(p - b.data)) == 0 &&
                  haz__buf_puts(&c, "outputs 9223372036854775808\n") == 0 &&
                  haz__buf_puts(&c, p + 10) == 0);
        put_manifest(key, c.data, c.len);
        expect_corrupt(cs, key, "huge count");
        haz__buf_free(&c);
    }
    /* A huge recorded size parses, then fails the size check. */
    fresh_entry(cs, key);
    (void)snprintf(line, sizeof(line), "%s 9223372036854775808 0644 /ok\n",
                   good);
    std_body(&b, key, line, NULL, NULL, NULL);
    put_manifest(key, b.data, b.len);
    expect_corrupt(cs, key, "huge size");
    /* Garbage after the check line; a wrong check. */
    fresh_entry(cs, key);
    std_body(&b, key, NULL, NULL, NULL, NULL);
    put_manifest(key, b.data, b.len);
    {
        char d[PATH_MAX], m[PATH_MAX];
        int fd;

        entry_dir(key, d, sizeof(d));
        cat3(m, sizeof(m), d, "/manifest", NULL);
        fd = open(m, O_WRONLY | O_APPEND);
        CU_ASSERT(fd >= 0 && write(fd, "x\n", 2) == 2);
        close(fd);
        expect_corrupt(cs, key, "trailing garbage");
        fresh_entry(cs, key);
        std_body(&b, key, NULL, NULL, NULL, NULL);
        (void)unlink(m);
        {
            haz_buf c;
            char hex[65];
            unsigned char hh[32];

            haz__buf_init(&c, ctx);
            haz_sha256("x", 1, hh);
            haz_hash_hex(hh, 32, hex);
            CU_ASSERT(haz__buf_append(&c, b.data, b.len) == 0 &&
                      haz__buf_printf(&c, "check %s\n", hex) == 0);
            CU_ASSERT(haz_test_write_file(m, c.data, c.len) == 0);
            haz__buf_free(&c);
        }
        expect_corrupt(cs, key, "check mismatch");
        /* The manifest as a symbolic link to a good copy elsewhere. */
        fresh_entry(cs, key);
        cat3(line, sizeof(line), box, "/m2", NULL);
        CU_ASSERT(rename(m, line) == 0);
        CU_ASSERT(symlink(line, m) == 0);
        expect_corrupt(cs, key, "manifest link");
        (void)unlink(line);
    }
    /* Foreign: another revision or an unknown hash is a miss left alone. */
    fresh_entry(cs, key);
    std_body(&b, key, NULL, NULL, NULL, "1");
    put_manifest(key, b.data, b.len);
    CU_ASSERT(lookup(cs, key) == NULL);
    CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), HAZ_ENOTSUP);
    CU_ASSERT(entry_exists(key));
    std_body(&b, key, NULL, NULL, "blake3", NULL);
    put_manifest(key, b.data, b.len);
    CU_ASSERT(lookup(cs, key) == NULL);
    CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), HAZ_ENOTSUP);
    CU_ASSERT(entry_exists(key));
    /* Both count as broken for maintenance; the verify at the end finds
     * exactly that one entry (the unknown hash) and nothing else. */
    CU_ASSERT_EQUAL(info().broken, 1);
    haz__buf_free(&b);
    haz_cache_store_close(cs);
    end_broken(1);
}

/* C4 at the parser: every truncation and many bit flips are rejected. */
static void test_manifest_sweep(void)
{
    haz_buf b;
    cfs_manifest m;
    unsigned char key[32];
    char hex[65];
    unsigned char h[32];
    char *copy;
    size_t i, len;
    int rc;

    begin();
    key_n(10, key);
    haz__buf_init(&b, ctx);
    std_body(&b, key, NULL, NULL, NULL, NULL);
    haz_sha256(b.data, b.len, h);
    haz_hash_hex(h, 32, hex);
    CU_ASSERT_FATAL(haz__buf_printf(&b, "check %s\n", hex) == 0);
    len = b.len;
    copy = haz__malloc(ctx, len + 1);
    CU_ASSERT_FATAL(copy != NULL);
    memcpy(copy, b.data, len + 1);
    CU_ASSERT_EQUAL(cfs_manifest_parse(ctx, copy, len, &m), HAZ_OK);
    CU_ASSERT_EQUAL(m.n_outputs, 1);
    cfs_manifest_free(ctx, &m);
    for (i = 0; i < len; i++) {
        copy = haz__malloc(ctx, len + 1);
        CU_ASSERT_FATAL(copy != NULL);
        memcpy(copy, b.data, i);
        copy[i] = '\0';
        rc = cfs_manifest_parse(ctx, copy, i, &m);
        CU_ASSERT(rc == HAZ_ECORRUPT || rc == HAZ_ENOTSUP);
        cfs_manifest_free(ctx, &m);
    }
    for (i = 0; i < 8 * len; i++) {
        copy = haz__malloc(ctx, len + 1);
        CU_ASSERT_FATAL(copy != NULL);
        memcpy(copy, b.data, len + 1);
        copy[i / 8] ^= (char)(1 << (i % 8));
        rc = cfs_manifest_parse(ctx, copy, len, &m);
        CU_ASSERT(rc == HAZ_ECORRUPT || rc == HAZ_ENOTSUP);
        cfs_manifest_free(ctx, &m);
    }
    haz__buf_free(&b);
    end();
}

static void test_corrupt_blobs(void)
{
    haz_cache_store *cs;
    haz_cache_entry *e;
    unsigned char key[32], h[32];
    char d[PATH_MAX], blob[PATH_MAX], hex[65], buf[8];
    int fd;

    begin();
    cs = open_store();
    key_n(11, key);
    entry_dir(key, d, sizeof(d));
    haz_sha256("ok", 2, h);
    haz_hash_hex(h, 32, hex);
    cat3(blob, sizeof(blob), d, "/outputs/", hex);

    /* Flip a byte: lookup hits (sizes match), restore refuses, removes
     * the entry, and the existing target is untouched. */
    fresh_entry(cs, key);
    put(ws, "/ok", "old", 3, 0600);
    CU_ASSERT_EQUAL(chmod(blob, 0644), 0);
    fd = open(blob, O_WRONLY);
    CU_ASSERT(fd >= 0 && write(fd, "oK", 2) == 2);
    close(fd);
    e = lookup(cs, key);
    CU_ASSERT_FATAL(e != NULL);
    CU_ASSERT_EQUAL(cs->methods->restore(cs, e), HAZ_ECORRUPT);
    CU_ASSERT(e->stdout_data == NULL);
    cs->methods->entry_free(cs, e);
    CU_ASSERT(!entry_exists(key));
    CU_ASSERT(get(ws, "/ok", buf, sizeof(buf)) == 3 &&
              memcmp(buf, "old", 3) == 0);
    CU_ASSERT_EQUAL(mode_of(ws, "/ok"), 0600);
    CU_ASSERT_EQUAL(info().temporaries, 0);
    (void)unlink(strcat(strcpy(d, ws), "/ok"));
    entry_dir(key, d, sizeof(d));

    /* Truncated blob, deleted blob, deleted stream: dangling, a miss. */
    fresh_entry(cs, key);
    CU_ASSERT_EQUAL(truncate(blob, 1), 0);
    expect_corrupt(cs, key, "truncated blob");
    fresh_entry(cs, key);
    CU_ASSERT_EQUAL(unlink(blob), 0);
    expect_corrupt(cs, key, "deleted blob");
    fresh_entry(cs, key);
    {
        char s[PATH_MAX];

        cat3(s, sizeof(s), d, "/stdout", NULL);
        CU_ASSERT_EQUAL(unlink(s), 0);
        expect_corrupt(cs, key, "deleted stdout");
        /* A flipped stream byte: restore refuses. */
        fresh_entry(cs, key);
        CU_ASSERT_EQUAL(chmod(s, 0644), 0);
        fd = open(s, O_WRONLY);
        CU_ASSERT(fd >= 0 && write(fd, "OUT", 3) == 3);
        close(fd);
        e = lookup(cs, key);
        CU_ASSERT_FATAL(e != NULL);
        CU_ASSERT_EQUAL(cs->methods->restore(cs, e), HAZ_ECORRUPT);
        cs->methods->entry_free(cs, e);
        CU_ASSERT(!entry_exists(key));
        CU_ASSERT(!exists(ws, "/ok"));
    }
    /* The blob replaced by a link to the canary (same size), a fifo, a
     * directory: a miss at lookup, or at restore when it happens after. */
    fresh_entry(cs, key);
    put(canary, "two", "ok", 2, 0644);
    sig_of(canary, canary_sig);
    CU_ASSERT_EQUAL(unlink(blob), 0);
    (void)snprintf(d, sizeof(d), "%s/two", canary);
    CU_ASSERT_EQUAL(symlink(d, blob), 0);
    expect_corrupt(cs, key, "blob link");
    fresh_entry(cs, key);
    CU_ASSERT_EQUAL(unlink(blob), 0);
    CU_ASSERT_EQUAL(mkfifo(blob, 0644), 0);
    expect_corrupt(cs, key, "blob fifo");
    fresh_entry(cs, key);
    CU_ASSERT_EQUAL(unlink(blob), 0);
    CU_ASSERT_EQUAL(mkdir(blob, 0755), 0);
    expect_corrupt(cs, key, "blob dir");
    fresh_entry(cs, key);
    e = lookup(cs, key);
    CU_ASSERT_FATAL(e != NULL);
    CU_ASSERT_EQUAL(unlink(blob), 0);
    CU_ASSERT_EQUAL(symlink(d, blob), 0);
    CU_ASSERT_EQUAL(cs->methods->restore(cs, e), HAZ_ECORRUPT);
    cs->methods->entry_free(cs, e);
    CU_ASSERT(!exists(ws, "/ok"));
    fresh_entry(cs, key);
    e = lookup(cs, key);
    CU_ASSERT_FATAL(e != NULL);
    CU_ASSERT_EQUAL(unlink(blob), 0);
    CU_ASSERT_EQUAL(mkfifo(blob, 0644), 0);
    CU_ASSERT_EQUAL(cs->methods->restore(cs, e), HAZ_ECORRUPT);
    cs->methods->entry_free(cs, e);
    CU_ASSERT(!exists(ws, "/ok"));
    haz_cache_store_close(cs);
    end();
}

static void test_symlinked_targets(void)
{
    static const ofile deep[] = { { "/out/sub/f", "F", 1, 0644 } };
    haz_cache_store *cs;
    haz_cache_entry *e;
    unsigned char key[32];
    char p[PATH_MAX], buf[8];
    struct stat st;

    begin();
    cs = open_store();
    key_n(12, key);
    CU_ASSERT_EQUAL_FATAL(store_files(cs, key, deep, 1, "", 0, "", 1),
                          HAZ_OK);
    CU_ASSERT_EQUAL(haz_test_rmtree(strcat(strcpy(p, ws), "/out")), 0);
    e = lookup(cs, key);
    CU_ASSERT_FATAL(e != NULL);

    /* A parent that leads outside the workspace: refused, nothing
     * written in the canary (checked by end()). */
    (void)snprintf(p, sizeof(p), "%s/out", ws);
    CU_ASSERT_EQUAL(symlink("../canary", p), 0);
    CU_ASSERT_EQUAL(cs->methods->restore(cs, e), HAZ_EIO);
    CU_ASSERT(strstr(haz_ctx_errmsg(ctx), "outside") != NULL);
    CU_ASSERT(e->stdout_data == NULL);
    CU_ASSERT_EQUAL(unlink(p), 0);
    /* A deeper one, through an absolute link. */
    CU_ASSERT_EQUAL(mkdir(p, 0777), 0);
    (void)snprintf(p, sizeof(p), "%s/out/sub", ws);
    CU_ASSERT_EQUAL(symlink(canary, p), 0);
    CU_ASSERT_EQUAL(cs->methods->restore(cs, e), HAZ_EIO);
    CU_ASSERT_EQUAL(unlink(p), 0);
    /* A link into the cache itself, or into .haz: refused too. */
    CU_ASSERT_EQUAL(symlink("../.haz", p), 0);
    CU_ASSERT_EQUAL(cs->methods->restore(cs, e), HAZ_EIO);
    CU_ASSERT_EQUAL(unlink(p), 0);
    CU_ASSERT_EQUAL(symlink(cachedir, p), 0);
    CU_ASSERT_EQUAL(cs->methods->restore(cs, e), HAZ_EIO);
    CU_ASSERT_EQUAL(unlink(p), 0);
    /* A parent that is a file: refused. */
    put(ws, "/out/sub", "file", 4, 0644);
    CU_ASSERT_EQUAL(cs->methods->restore(cs, e), HAZ_EIO);
    CU_ASSERT_EQUAL(unlink(p), 0);
    /* A link that stays inside the workspace is followed. */
    CU_ASSERT_EQUAL(mkdir(strcat(strcpy(p, ws), "/real"), 0777), 0);
    (void)snprintf(p, sizeof(p), "%s/out/sub", ws);
    CU_ASSERT_EQUAL(symlink("../real", p), 0);
    CU_ASSERT_EQUAL(cs->methods->restore(cs, e), HAZ_OK);
    CU_ASSERT(get(ws, "/real/f", buf, sizeof(buf)) == 1);
    CU_ASSERT_EQUAL(unlink(p), 0);
    /* The target itself a link to the canary: replaced, not followed. */
    CU_ASSERT_EQUAL(mkdir(p, 0777), 0);
    (void)snprintf(p, sizeof(p), "%s/out/sub/f", ws);
    {
        char t[PATH_MAX];

        (void)snprintf(t, sizeof(t), "%s/f", canary);
        CU_ASSERT_EQUAL(symlink(t, p), 0);
    }
    CU_ASSERT_EQUAL(cs->methods->restore(cs, e), HAZ_OK);
    CU_ASSERT(lstat(p, &st) == 0 && S_ISREG(st.st_mode));
    CU_ASSERT(get(ws, "/out/sub/f", buf, sizeof(buf)) == 1 &&
              buf[0] == 'F');
    /* A directory in the way: refused before anything is published. */
    CU_ASSERT_EQUAL(unlink(p), 0);
    CU_ASSERT_EQUAL(mkdir(p, 0777), 0);
    CU_ASSERT_EQUAL(cs->methods->restore(cs, e), HAZ_EIO);
    CU_ASSERT(lstat(p, &st) == 0 && S_ISDIR(st.st_mode));
    CU_ASSERT_EQUAL(info().temporaries, 0);
    cs->methods->entry_free(cs, e);
    haz_cache_store_close(cs);
    end();
}

/* ------------------------------------------------------------------------
 * Suite "maint".
 * ---------------------------------------------------------------------- */

static void test_info_verify(void)
{
    static const ofile big[] = { { "/big", "0123456789", 10, 0644 } };
    haz_cache_store *cs;
    haz_cache_stats st;
    unsigned char k1[32], k2[32], h[32];
    char d[PATH_MAX], blob[PATH_MAX], hex[65];
    int fd;

    begin();
    /* A missing cache directory is an empty cache. */
    CU_ASSERT_EQUAL(haz_cache_fs_info(ctx, cachedir, &st), HAZ_OK);
    CU_ASSERT_EQUAL(st.entries, 0);
    CU_ASSERT_EQUAL(haz_cache_fs_info(ctx, "rel", &st), HAZ_EINVAL);
    cs = open_store();
    key_n(20, k1);
    key_n(21, k2);
    CU_ASSERT_EQUAL(store_files(cs, k1, one_ok, 1, "o", 1, "", 1), HAZ_OK);
    CU_ASSERT_EQUAL(store_files(cs, k2, big, 1, "oo", 2, "e", 2), HAZ_OK);
    st = info();
    CU_ASSERT_EQUAL(st.entries, 2);
    CU_ASSERT_EQUAL(st.broken, 0);
    CU_ASSERT_EQUAL(st.temporaries, 0);
    CU_ASSERT(st.bytes > 2 + 1 + 10 + 3);
    CU_ASSERT_EQUAL(haz_cache_fs_verify(ctx, cachedir, &haz_hash_sha256,
                                        &st), HAZ_OK);
    /* A same-size corruption: info cannot see it, verify can. */
    entry_dir(k2, d, sizeof(d));
    haz_sha256("0123456789", 10, h);
    haz_hash_hex(h, 32, hex);
    cat3(blob, sizeof(blob), d, "/outputs/", hex);
    CU_ASSERT_EQUAL(chmod(blob, 0644), 0);
    fd = open(blob, O_WRONLY);
    CU_ASSERT(fd >= 0 && write(fd, "X", 1) == 1);
    close(fd);
    CU_ASSERT_EQUAL(info().broken, 0);
    CU_ASSERT_EQUAL(haz_cache_fs_verify(ctx, cachedir, &haz_hash_sha256,
                                        &st), HAZ_ECORRUPT);
    CU_ASSERT_EQUAL(st.broken, 1);
    CU_ASSERT_EQUAL(st.entries, 1);
    /* Unknown things in the cache are left alone and not counted. */
    put(cachedir, "README", "x", 1, 0644);
    put(cachedir, "ab/notes.txt", "x", 1, 0644);
    CU_ASSERT_EQUAL(info().entries, 2);
    CU_ASSERT_EQUAL(info().temporaries, 0);
    CU_ASSERT(exists(cachedir, "README"));
    haz_cache_store_close(cs);
    end_broken(1);              /* the blob of k2, and nothing else */
}

static void test_clean(void)
{
    static const ofile f1[] = { { "/a", "1", 1, 0644 } };
    static const ofile f2[] = { { "/b", "22222222", 8, 0644 } };
    static const ofile f3[] = { { "/c", "333", 3, 0644 } };
    haz_cache_store *cs;
    haz_cache_stats st, before;
    haz_cache_clean_options opt;
    unsigned char k1[32], k2[32], k3[32], k4[32];
    char d[PATH_MAX];

    begin();
    cs = open_store();
    key_n(30, k1);
    key_n(31, k2);
    key_n(32, k3);
    key_n(33, k4);
    CU_ASSERT_EQUAL(store_files(cs, k1, f1, 1, "", 0, "", 1000), HAZ_OK);
    CU_ASSERT_EQUAL(store_files(cs, k2, f2, 1, "", 0, "", 2000), HAZ_OK);
    CU_ASSERT_EQUAL(store_files(cs, k3, f3, 1, "", 0, "", 3000), HAZ_OK);
    CU_ASSERT_EQUAL(store_files(cs, k4, f1, 1, "", 0, "", 4000), HAZ_OK);
    /* Break k4 and leave a temporary. */
    entry_dir(k4, d, sizeof(d));
    CU_ASSERT_EQUAL(unlink(strcat(d, "/stderr")), 0);
    CU_ASSERT_EQUAL(mkdir(strcat(strcpy(d, cachedir), "/.restore-x-1"),
                          0777), 0);
    before = info();
    CU_ASSERT_EQUAL(before.entries, 3);
    CU_ASSERT_EQUAL(before.broken, 1);
    CU_ASSERT_EQUAL(before.temporaries, 1);
    memset(&opt, 0, sizeof(opt));

    /* Argument checks. */
    opt.broken = 1;
    CU_ASSERT_EQUAL(haz_cache_fs_clean(ctx, cachedir, &opt, NULL, &st),
                    HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_cache_fs_clean(ctx, cachedir, NULL, clk, &st),
                    HAZ_EINVAL);

    /* Dry run: counts, removes nothing. */
    opt.dry_run = 1;
    CU_ASSERT_EQUAL(haz_clock_mock_set_wall(clk, (int64_t)time(NULL) +
                                            HAZ_CACHE_TMP_GRACE_S + 5),
                    HAZ_OK);
    CU_ASSERT_EQUAL(haz_cache_fs_clean(ctx, cachedir, &opt, clk, &st),
                    HAZ_OK);
    CU_ASSERT_EQUAL(st.removed, 2);
    st = info();
    CU_ASSERT(st.entries == 3 && st.broken == 1 && st.temporaries == 1);
    /* Broken entries and old temporaries. */
    opt.dry_run = 0;
    CU_ASSERT_EQUAL(haz_cache_fs_clean(ctx, cachedir, &opt, clk, &st),
                    HAZ_OK);
    CU_ASSERT_EQUAL(st.removed, 2);
    st = info();
    CU_ASSERT(st.entries == 3 && st.broken == 0 && st.temporaries == 0);
    CU_ASSERT(!entry_exists(k4));

    /* By age: now 3500, max age 1000: strictly older than 2500 goes. */
    opt.broken = 0;
    opt.max_age_s = 1000;
    CU_ASSERT_EQUAL(haz_clock_mock_set_wall(clk, 3500), HAZ_OK);
    opt.dry_run = 1;
    CU_ASSERT_EQUAL(haz_cache_fs_clean(ctx, cachedir, &opt, clk, &st),
                    HAZ_OK);
    CU_ASSERT_EQUAL(st.removed, 2);
    CU_ASSERT_EQUAL(info().entries, 3);
    opt.dry_run = 0;
    CU_ASSERT_EQUAL(haz_clock_mock_set_wall(clk, 3000), HAZ_OK);
    CU_ASSERT_EQUAL(haz_cache_fs_clean(ctx, cachedir, &opt, clk, &st),
                    HAZ_OK);
    CU_ASSERT_EQUAL(st.removed, 1);        /* 1000 < 2000; 2000 stays */
    CU_ASSERT(!entry_exists(k1) && entry_exists(k2) && entry_exists(k3));

    /* By size, oldest first. */
    CU_ASSERT_EQUAL(store_files(cs, k1, f1, 1, "", 0, "", 5000), HAZ_OK);
    before = info();
    CU_ASSERT_EQUAL(before.entries, 3);
    memset(&opt, 0, sizeof(opt));
    opt.max_bytes = before.bytes - 1;
    CU_ASSERT_EQUAL(haz_cache_fs_clean(ctx, cachedir, &opt, NULL, &st),
                    HAZ_OK);
    CU_ASSERT_EQUAL(st.removed, 1);
    CU_ASSERT(!entry_exists(k2) && entry_exists(k3) && entry_exists(k1));
    CU_ASSERT(info().bytes <= opt.max_bytes);
    opt.max_bytes = 1;
    opt.dry_run = 1;
    CU_ASSERT_EQUAL(haz_cache_fs_clean(ctx, cachedir, &opt, NULL, &st),
                    HAZ_OK);
    CU_ASSERT_EQUAL(st.removed, 2);
    CU_ASSERT_EQUAL(info().entries, 2);
    haz_cache_store_close(cs);
    end();
}

static void test_clear(void)
{
    haz_cache_store *cs;
    haz_cache_stats st;
    unsigned char key[32];
    char p[PATH_MAX], t[PATH_MAX];

    begin();
    cs = open_store();
    key_n(40, key);
    CU_ASSERT_EQUAL(store_files(cs, key, one_ok, 1, "", 0, "", 1), HAZ_OK);
    /* Links inside the cache lead outside: removed as links only. */
    (void)snprintf(p, sizeof(p), "%s/link", cachedir);
    CU_ASSERT_EQUAL(symlink(canary, p), 0);
    (void)snprintf(p, sizeof(p), "%s/ab", cachedir);
    CU_ASSERT_EQUAL(mkdir(p, 0777), 0);
    (void)snprintf(p, sizeof(p), "%s/ab/abcd", cachedir);
    CU_ASSERT_EQUAL(symlink(canary, p), 0);
    CU_ASSERT_EQUAL(info().broken, 1);      /* an entry is never a link */
    CU_ASSERT_EQUAL(haz_cache_fs_clear(ctx, cachedir, &st), HAZ_OK);
    CU_ASSERT_EQUAL(st.removed, 2);
    CU_ASSERT(!exists(cachedir, ""));
    CU_ASSERT(exists(ws, "/.haz"));
    /* Clearing nothing is fine. */
    CU_ASSERT_EQUAL(haz_cache_fs_clear(ctx, cachedir, &st), HAZ_OK);
    /* A cache directory that is itself a link: the link goes. */
    (void)snprintf(t, sizeof(t), "%s/sub", canary);
    CU_ASSERT_EQUAL(symlink(t, cachedir), 0);
    CU_ASSERT_EQUAL(haz_cache_fs_clear(ctx, cachedir, &st), HAZ_OK);
    CU_ASSERT(!exists(cachedir, ""));
    haz_cache_store_close(cs);
    end();
}

/* ------------------------------------------------------------------------
 * Suite "memory".
 * ---------------------------------------------------------------------- */

static void test_alloc_failures(void)
{
    static const ofile two[] = {
        { "/m/a", "aaaa", 4, 0644 }, { "/m/b/c", "c", 1, 0600 }
    };
    haz_test_mem tm;
    haz_ctx *c;
    haz_cache_store *cs;
    unsigned char key[32];
    unsigned long n;
    int rc, done = 0;

    begin();
    key_n(50, key);
    haz_test_mem_init(&tm);
    CU_ASSERT_EQUAL_FATAL(haz_ctx_new(&c, &tm.mem), HAZ_OK);
    cs = open_store_dir(c, NULL);
    /* store */
    for (n = 1; n < 400 && !done; n++) {
        char d[PATH_MAX];

        entry_dir(key, d, sizeof(d));
        (void)haz__rmtree(d);
        haz_test_mem_fail_at(&tm, n, 0);
        rc = store_files(cs, key, two, 2, "out", 3, "err", 1);
        CU_ASSERT(rc == HAZ_OK || rc == HAZ_ENOMEM);
        done = tm.failures == 0;
        CU_ASSERT_EQUAL(info().temporaries, 0);
        if (rc == HAZ_ENOMEM)
            CU_ASSERT(!entry_exists(key));
    }
    CU_ASSERT(done);
    /* lookup and restore */
    done = 0;
    for (n = 1; n < 400 && !done; n++) {
        haz_cache_entry *e = NULL;

        haz_test_mem_fail_at(&tm, n, 0);
        rc = cs->methods->lookup(cs, key, 32, &e);
        CU_ASSERT(rc == HAZ_OK || rc == HAZ_ENOMEM);
        if (rc == HAZ_OK) {
            CU_ASSERT_FATAL(e != NULL);
            rc = cs->methods->restore(cs, e);
            CU_ASSERT(rc == HAZ_OK || rc == HAZ_ENOMEM);
        }
        cs->methods->entry_free(cs, e);
        done = tm.failures == 0;
        CU_ASSERT(entry_exists(key));
    }
    CU_ASSERT(done);
    haz_test_mem_fail_at(&tm, 0, 0);
    haz_cache_store_close(cs);
    haz_ctx_free(c);
    CU_ASSERT_EQUAL(tm.live, 0);
    end();
}

/* ------------------------------------------------------------------------
 * Registration.
 * ---------------------------------------------------------------------- */

static CU_TestInfo store_tests[] = {
    {"round trip, exact bytes and modes (reference-io 9.4 restore)",
     test_round_trip},
    {"empty entry and misses", test_empty_and_miss},
    {"store rejects bad paths and arguments (reference-io 9.4 bad path)",
     test_store_rejects},
    {"open rejects a bad configuration", test_open_rejects},
    {"first writer wins (reference-io 9.4 re-store; design 2.16)",
     test_first_writer_wins},
    {"C11 concurrent processes", test_concurrent_processes},
    {"C12 entry removed during restore", test_removed_during_restore},
    {"cache on another file system", test_other_filesystem},
    CU_TEST_INFO_NULL
};

static CU_TestInfo crash_tests[] = {
    {"C1 killed at every step of a store", test_crash_every_step},
    CU_TEST_INFO_NULL
};

static CU_TestInfo hostile_tests[] = {
    {"C4 hostile manifests (reference-io 9.4 lookup misses)",
     test_hostile_manifests},
    {"C4 manifest truncations and bit flips", test_manifest_sweep},
    {"C3 C5 corrupt and replaced blobs and streams (reference-io 9.4)",
     test_corrupt_blobs},
    {"C9 symbolic links at and above targets", test_symlinked_targets},
    CU_TEST_INFO_NULL
};

static CU_TestInfo maint_tests[] = {
    {"info and verify (reference-io 9.2 cache_info)", test_info_verify},
    {"clean (reference-io 9.2 cache_clean)", test_clean},
    {"clear (reference-io 9.2 cache clear)", test_clear},
    CU_TEST_INFO_NULL
};

static CU_TestInfo memory_tests[] = {
    {"allocation failures", test_alloc_failures},
    CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
    { .pName = "store", .pInitFunc = suite_init,
      .pCleanupFunc = suite_clean, .pTests = store_tests },
    { .pName = "crash", .pInitFunc = suite_init,
      .pCleanupFunc = suite_clean, .pTests = crash_tests },
    { .pName = "hostile", .pInitFunc = suite_init,
      .pCleanupFunc = suite_clean, .pTests = hostile_tests },
    { .pName = "maint", .pInitFunc = suite_init,
      .pCleanupFunc = suite_clean, .pTests = maint_tests },
    { .pName = "memory", .pInitFunc = suite_init,
      .pCleanupFunc = suite_clean, .pTests = memory_tests },
    CU_SUITE_INFO_NULL
};

int main(int argc, char **argv)
{
    return haz_test_main(argc, argv, suites);
}
