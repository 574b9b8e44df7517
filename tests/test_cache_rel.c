/*
 * tests/test_cache_rel.c: the "Cache integrity & security" tests of
 * reliability-tests.md that tests/test_cache_fs.c, tests/test_cachekey.c
 * and tests/test_cache_run.c leave open, at the level of the filesystem
 * store and end to end through haz_run with the posix spawner and real
 * commands.
 *
 * Suites:
 *   crash      C1: 200 kills at random points of a child storing 200
 *              entries; a SIGKILL injected (strace) at every write, fsync,
 *              rename and unlink of a store; the order fsync(temporary) ->
 *              rename -> fsync(shard) seen by strace;
 *   hostile    C3: blobs and streams made unreadable (chmod 000, as a user
 *              other than root); outputs already in place (restore leaves
 *              an identical one alone and never reads through a link, a
 *              fifo or a wrong mode); C4: forged counts, sizes, times,
 *              duplicate and nested paths, random garbage; C5: the outputs
 *              directory of an entry gone; C9: a link at the target to a
 *              canary file with the very bytes of the output;
 *   run        C6 and the end-to-end round trip: a workspace run, its
 *              outputs deleted, run again: files, modes and replayed
 *              streams (every byte value, no final newline, 5 MiB) equal
 *              the first run's; failed and killed tasks never stored; a
 *              run with the outputs in place leaves them untouched; C5 end
 *              to end (a deleted blob: the task runs again); C13: an input
 *              changed while its task runs: nothing stored under the old
 *              key; C14 through the input-hash record (same size and
 *              mtime but other bytes: another key; same bytes, another
 *              mtime: the same key);
 *   io-errors  C2: ENOSPC, EIO, EXDEV and EACCES injected (strace) at
 *              every write, fsync, rename and mkdir of a store, EFBIG from
 *              a file size limit, ENOSPC at every write of a restore, and a
 *              run whose store fails on every fsync;
 *   concurrent C11: 8 processes run one graph on one empty shared cache,
 *              released together, while a 9th verifies every entry in a
 *              loop; C12: restores in a loop while another process deletes
 *              blobs and entries and runs an aggressive clean.
 *
 * The fixture (tests/cachefix.h) gives every test a fresh box holding a
 * workspace and, beside it, a canary directory whose signature must be the
 * same at the end (INV-WORKSPACE); it compares the number of open
 * descriptors (INV-FD) and verifies the workspace's cache at the end of
 * every test: clean, or exactly the corruption the test made.  A test
 * that fills another cache verifies it itself.  No test sleeps: children
 * are released through pipes and fifos.  Tests that need strace(1), or a
 * second user id, skip themselves (with a note on stderr) when they cannot
 * have it.
 *
 * The program re-executes itself as the child that strace watches:
 *     test_cache_rel --store-child WS CACHE [NOTEFILE]
 *     test_cache_rel --restore-child WS CACHE NOTEFILE
 *     test_cache_rel --run-child WS CACHE NOTEFILE
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
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../backends/cache_fs.h"
#include "cachefix.h"
#include "cachekey.h"
#include "filestat.h"
#include "fsutil.h"
#include "graph_private.h"

static const char *self;          /* argv[0], for --store-child */

static const char *const host_env[] = { "PATH=/usr/bin:/bin", NULL };

/* ------------------------------------------------------------------------
 * Helpers: random numbers and the store.
 * ---------------------------------------------------------------------- */

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

/* splitmix64: the seed is printed by the tests that use it. */
static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void seed(const char *test)
{
    uint64_t s = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
    const char *env = getenv("HAZ_TEST_SEED");

    if (env != NULL)
        s = (uint64_t)strtoull(env, NULL, 10);
    rng_state = s;
    fprintf(stderr, "\n  [%s: HAZ_TEST_SEED=%llu]", test,
            (unsigned long long)s);
}

/* Write the outputs under `root` and store them under `key` (created
 * 1700000000); no CUnit assertion (children call it).  Returns the
 * store's result, or -1 when the files could not be written. */
static int store_in(haz_cache_store *cs, const char *root,
                    const unsigned char *key, const ofile *o, size_t n,
                    const char *out, const char *err)
{
    return store_at(cs, root, key, o, n, out, out ? strlen(out) : 0, err,
                    err ? strlen(err) : 0, 1700000000);
}

/* ------------------------------------------------------------------------
 * Suite "crash" (C1).
 * ---------------------------------------------------------------------- */

/* The content of entry k of the crash tests: 1 to 7 lines, unique to k. */
static size_t entry_text(int k, char *buf, size_t n)
{
    size_t len = 0;
    int i;

    for (i = 0; i <= k % 7 && len + 32 < n; i++)
        len += (size_t)snprintf(buf + len, n - len, "entry %d line %d\n", k,
                                i);
    return len;
}

/* Entry k is absent, or hits and restores exactly its bytes. */
static int entry_sound(haz_cache_store *cs, int k)
{
    char rel[64], text[256];
    unsigned char key[32];
    haz_cache_entry *e = NULL;
    size_t len = entry_text(k, text, sizeof(text));
    int ok;

    key_n(k, key);
    (void)snprintf(rel, sizeof(rel), "/c1/%d.txt", k);
    if (cs->methods->lookup(cs, key, 32, &e) != HAZ_OK)
        return 0;
    if (e == NULL)
        return haz_ctx_errcode(ctx) == 0;   /* a plain miss */
    {
        char p[PATH_MAX];

        pathof(p, sizeof(p), ws, rel);
        (void)unlink(p);
    }
    ok = cs->methods->restore(cs, e) == HAZ_OK && holds(ws, rel, text, len) &&
         e->stdout_size == len &&
         memcmp(e->stdout_data, text, len) == 0;
    cs->methods->entry_free(cs, e);
    return ok;
}

/* C1: a child stores entries 0..199 over and over; it is killed at a
 * random point of its work 200 times. */
static void test_random_kills(void)
{
    haz_cache_store *cs;
    int iter, k, bad = 0;

    begin();
    seed("random kills");
    for (iter = 0; iter < 200; iter++) {
        int pipefd[2], status;
        unsigned want = (unsigned)(rng() % 3), got = 0;
        uint64_t spin = rng() % 4000;
        pid_t pid;
        char c;

        CU_ASSERT_FATAL(pipe(pipefd) == 0);
        pid = fork();
        CU_ASSERT_FATAL(pid >= 0);
        if (pid == 0) {
            haz_cache_store *s;
            int j;

            close(pipefd[0]);
            s = open_store_in(ctx, ws, NULL);
            if (s == NULL)
                _exit(2);
            for (j = 0;; j++) {
                int kk = (iter * 7 + j) % 200;
                char rel[64], text[256];
                unsigned char key[32];
                ofile o;

                key_n(kk, key);
                o.len = entry_text(kk, text, sizeof(text));
                o.data = text;
                o.mode = 0640;
                (void)snprintf(rel, sizeof(rel), "/c1/%d.txt", kk);
                o.path = rel;
                if (store_in(s, ws, key, &o, 1, text, "") != HAZ_OK)
                    _exit(3);
                if (write(pipefd[1], "x", 1) != 1)
                    _exit(4);
            }
        }
        close(pipefd[1]);
        while (got < want && read(pipefd[0], &c, 1) == 1)
            got++;
        /* A random moment inside the next store: spin, do not sleep. */
        {
            volatile uint64_t x = 0;

            while (x < spin * 50)
                x++;
        }
        (void)kill(pid, SIGKILL);
        close(pipefd[0]);
        CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
        CU_ASSERT(WIFSIGNALED(status) ||
                  (WIFEXITED(status) && WEXITSTATUS(status) == 0));
        /* INV-CACHE after every kill. */
        {
            haz_cache_stats st;

            CU_ASSERT_EQUAL(haz_cache_fs_info(ctx, cachedir, &st), HAZ_OK);
            if (st.broken != 0)
                bad++;
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(verify().broken, 0);
    /* Every entry is absent or whole with the right bytes; leftovers are
     * ignored by lookup and removed by clean. */
    cs = open_store();
    for (k = 0; k < 200; k++)
        if (!entry_sound(cs, k)) {
            CU_FAIL("entry not sound after a kill");
            fprintf(stderr, "\n  entry %d not sound: %s", k,
                    haz_ctx_errmsg(ctx));
            break;
        }
    haz_cache_store_close(cs);
    clean_leftovers();
    CU_ASSERT_EQUAL(verify().broken, 0);
    end();
}

/* The child run under strace: store A (two outputs), B (nothing but an
 * empty stream), then A again with other bytes (the first writer wins and
 * the temporary is removed).  Exit 0 when every store returned 0. */
static const ofile c1_a[] = {
    { "/o/a", "aaaa", 4, 0644 }, { "/o/b", "bbbbbb", 6, 0755 }
};
static const ofile c1_a2[] = {
    { "/o/a", "AAAA", 4, 0644 }, { "/o/b", "BBBBBB", 6, 0755 }
};

/* Write "N MESSAGE" (the failing step and the context's message) to
 * `msgfile` (when not NULL). */
static void note_failure(const char *msgfile, int step, const char *msg)
{
    FILE *fp;

    if (msgfile == NULL || (fp = fopen(msgfile, "w")) == NULL)
        return;
    fprintf(fp, "%d %s\n", step, msg);
    (void)fclose(fp);
}

/* The child's store and clock in a fresh context; 0 or -1. */
static int child_open(const char *root, const char *cache, haz_ctx **c,
                      haz_clock **k, haz_cache_store **cs)
{
    haz_cache_store_config cfg;

    if (haz_ctx_new(c, NULL) != HAZ_OK)
        return -1;
    if (haz_clock_open(*c, &haz_clock_mock, NULL, k) != HAZ_OK)
        return -1;
    memset(&cfg, 0, sizeof(cfg));
    cfg.version = 1;
    cfg.workspace_root = root;
    cfg.cache_dir = cache;
    cfg.hash = &haz_hash_sha256;
    cfg.clock = *k;
    return haz_cache_store_open(*c, &haz_cache_store_fs, &cfg, cs) == HAZ_OK
           ? 0 : -1;
}

/* The stores stop at the first failure: exit 1 with "N MESSAGE" in
 * `msgfile` for the N-th store (1 to 3), 3 when the test's own output
 * files could not be written, 2 on a setup error. */
static int store_child(const char *root, const char *cache,
                       const char *msgfile)
{
    haz_ctx *c = NULL;
    haz_clock *k = NULL;
    haz_cache_store *cs = NULL;
    unsigned char ka[32], kb[32];
    int rc, step = 1;

    if (child_open(root, cache, &c, &k, &cs) != 0)
        return 2;
    key_n(1, ka);
    key_n(2, kb);
    rc = store_in(cs, root, ka, c1_a, 2, "out A", "err A");
    if (rc == HAZ_OK) {
        step = 2;
        rc = store_in(cs, root, kb, NULL, 0, "", "");
    }
    if (rc == HAZ_OK) {
        step = 3;
        rc = store_in(cs, root, ka, c1_a2, 2, "out A2", "");
    }
    if (rc != HAZ_OK && rc != -1)
        note_failure(msgfile, step, haz_ctx_errmsg(c));
    haz_cache_store_close(cs);
    haz_clock_close(k);
    haz_ctx_free(c);
    return rc == HAZ_OK ? 0 : rc == -1 ? 3 : 1;
}

/* Look up entry A (key 1) and restore it: exit 0 when restored, 1 (with
 * "1 MESSAGE" in `msgfile`) when the restore failed, 4 on a miss, 2 on a
 * setup error. */
static int restore_child(const char *root, const char *cache,
                         const char *msgfile)
{
    haz_ctx *c = NULL;
    haz_clock *k = NULL;
    haz_cache_store *cs = NULL;
    haz_cache_entry *e = NULL;
    unsigned char ka[32];
    int rc;

    if (child_open(root, cache, &c, &k, &cs) != 0)
        return 2;
    key_n(1, ka);
    rc = cs->methods->lookup(cs, ka, 32, &e);
    if (rc == HAZ_OK && e == NULL)
        rc = 4;
    else if (rc == HAZ_OK)
        rc = cs->methods->restore(cs, e) == HAZ_OK ? 0 : 1;
    else
        rc = 2;
    if (rc == 1)
        note_failure(msgfile, 1, haz_ctx_errmsg(c));
    cs->methods->entry_free(cs, e);
    haz_cache_store_close(cs);
    haz_clock_close(k);
    haz_ctx_free(c);
    return rc;
}

/* Run `self --store-child ws cachedir` (or the mode given in `mode`, with
 * the message file `msgfile`) under strace with `args` (NULL terminated,
 * inserted after "strace").  Returns the wait status, or -1 when strace
 * could not be started. */
static int run_strace_mode(const char *const *args, const char *mode,
                           const char *msgfile)
{
    const char *argv[32];
    size_t n = 0;
    int status;
    pid_t pid;

    argv[n++] = "strace";
    while (*args != NULL && n < 24)
        argv[n++] = *args++;
    argv[n++] = self;
    argv[n++] = mode;
    argv[n++] = ws;
    argv[n++] = cachedir;
    if (msgfile != NULL)
        argv[n++] = msgfile;
    argv[n] = NULL;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        const char *asan = getenv("ASAN_OPTIONS");
        char opts[1024];
        int fd = open("/dev/null", O_RDWR);

        if (fd >= 0) {
            (void)dup2(fd, 0);
            (void)dup2(fd, 1);
            (void)dup2(fd, 2);
        }
        /* LeakSanitizer cannot work under ptrace: in a sanitizer build the
         * traced child keeps every other check and skips the leak one. */
        (void)snprintf(opts, sizeof(opts), "%s%sdetect_leaks=0",
                       asan != NULL ? asan : "",
                       asan != NULL && asan[0] != '\0' ? ":" : "");
        (void)setenv("ASAN_OPTIONS", opts, 1);
        execvp("strace", (char *const *)argv);
        _exit(127);
    }
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return status;
}

static int run_strace(const char *const *args)
{
    return run_strace_mode(args, "--store-child", NULL);
}

/* 1 when strace works here (installed, and ptrace allowed).  The trial
 * run's entries are cleared. */
static int have_strace(void)
{
    static const char *const args[] = { "-o", "/dev/null", NULL };
    haz_cache_stats cst;
    int st, ok;

    if (strchr(self, '/') == NULL)
        return 0;
    st = run_strace(args);
    ok = st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    CU_ASSERT_EQUAL(haz_cache_fs_clear(ctx, cachedir, &cst), HAZ_OK);
    rm_in(ws, "/o");
    return ok;
}

/* After a crash: the cache verifies, A and B are absent or exact. */
static void check_after_crash(const char *what, int n)
{
    haz_cache_store *cs;
    haz_cache_entry *e = NULL;
    unsigned char ka[32], kb[32];
    int ok = 1;

    ok = verify().broken == 0;
    key_n(1, ka);
    key_n(2, kb);
    cs = open_store();
    rm_in(ws, "/o");
    CU_ASSERT_EQUAL(cs->methods->lookup(cs, ka, 32, &e), HAZ_OK);
    if (e != NULL) {
        ok = ok && cs->methods->restore(cs, e) == HAZ_OK &&
             holds(ws, "/o/a", "aaaa", 4) && holds(ws, "/o/b", "bbbbbb", 6) &&
             e->stdout_size == 5 && memcmp(e->stdout_data, "out A", 5) == 0;
        cs->methods->entry_free(cs, e);
        e = NULL;
    } else {
        ok = ok && haz_ctx_errcode(ctx) == 0 && !exists(ws, "/o/a");
    }
    CU_ASSERT_EQUAL(cs->methods->lookup(cs, kb, 32, &e), HAZ_OK);
    if (e != NULL) {
        ok = ok && cs->methods->restore(cs, e) == HAZ_OK &&
             e->n_outputs == 0 && e->stdout_size == 0;
        cs->methods->entry_free(cs, e);
    } else {
        ok = ok && haz_ctx_errcode(ctx) == 0;
    }
    haz_cache_store_close(cs);
    if (!ok) {
        CU_FAIL("cache not sound after an injected SIGKILL");
        fprintf(stderr, "\n  killed at %s #%d: %s", what, n,
                haz_ctx_errmsg(ctx));
    }
    clean_leftovers();
}

/* C1: a SIGKILL injected at the N-th write, fsync, rename and unlink of
 * the child, for every N until the child gets through. */
static void test_injected_kills(void)
{
    static const char *const sets[][2] = {
        { "write", "?write" },
        { "fsync", "?fsync" },
        { "rename", "?rename,?renameat,?renameat2" },
        { "unlink", "?unlink,?unlinkat,?rmdir" },
    };
    haz_cache_stats cst;
    size_t s;

    begin();
    if (!have_strace()) {
        fprintf(stderr, "\n  [skipped: strace is missing or cannot trace]");
        end();
        return;
    }
    for (s = 0; s < HAZ_ARRAY_LEN(sets); s++) {
        int n, killed = 0, done = 0;

        for (n = 1; n <= 400 && !done; n++) {
            char trace[128], inject[160];
            const char *args[8];
            int st;

            (void)snprintf(trace, sizeof(trace), "trace=%s", sets[s][1]);
            (void)snprintf(inject, sizeof(inject),
                           "inject=%s:signal=SIGKILL:when=%d", sets[s][1], n);
            args[0] = "-o";
            args[1] = "/dev/null";
            args[2] = "-e";
            args[3] = trace;
            args[4] = "-e";
            args[5] = inject;
            args[6] = NULL;
            st = run_strace(args);
            CU_ASSERT_FATAL(st != -1);
            if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) {
                killed++;
                check_after_crash(sets[s][0], n);
                CU_ASSERT_EQUAL(haz_cache_fs_clear(ctx, cachedir, &cst),
                                HAZ_OK);
            } else {
                CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
                done = 1;
            }
        }
        CU_ASSERT(done);
        CU_ASSERT(killed > 0);
        /* After the sweep the complete run left a sound cache. */
        check_after_crash(sets[s][0], 0);
        CU_ASSERT_EQUAL(haz_cache_fs_clear(ctx, cachedir, &cst), HAZ_OK);
    }
    end();
}

/* The first two quoted strings of a strace line. */
static int quoted2(const char *line, char *a, char *b, size_t n)
{
    const char *p = line;
    char *out[2];
    int k;

    out[0] = a;
    out[1] = b;
    for (k = 0; k < 2; k++) {
        const char *q = strchr(p, '"'), *e;

        if (q == NULL)
            return -1;
        e = strchr(q + 1, '"');
        if (e == NULL || (size_t)(e - q - 1) >= n)
            return -1;
        memcpy(out[k], q + 1, (size_t)(e - q - 1));
        out[k][e - q - 1] = '\0';
        p = e + 1;
    }
    return 0;
}

/* C1: strace sees fsync(files), fsync(temporary) -> rename -> fsync(shard)
 * for the publication of entry A. */
static void test_fsync_order(void)
{
    char log[PATH_MAX], line[4096], d[PATH_MAX], tmp[PATH_MAX] = "";
    char hex[65], shard[PATH_MAX];
    const char *args[8];
    unsigned char ka[32];
    long at_tmp_sync = -1, at_rename = -1, at_shard_sync = -1;
    long at_manifest_sync = -1, at_blob_sync = -1, i = 0;
    FILE *fp;
    int st;

    begin();
    if (!have_strace()) {
        fprintf(stderr, "\n  [skipped: strace is missing or cannot trace]");
        end();
        return;
    }
    key_n(1, ka);
    haz_hash_hex(ka, 32, hex);
    entry_dir(ka, d, sizeof(d));
    (void)snprintf(shard, sizeof(shard), "%s/%.2s", cachedir, hex);
    pathof(log, sizeof(log), box, "strace.log");
    args[0] = "-y";
    args[1] = "-o";
    args[2] = log;
    args[3] = "-e";
    args[4] = "trace=?fsync,?rename,?renameat,?renameat2";
    args[5] = NULL;
    st = run_strace(args);
    CU_ASSERT_FATAL(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    fp = fopen(log, "r");
    CU_ASSERT_FATAL(fp != NULL);
    while (fgets(line, sizeof(line), fp) != NULL) {
        char a[PATH_MAX], b[PATH_MAX];

        i++;
        if (strncmp(line, "rename", 6) == 0 && strstr(line, ") = 0") &&
            quoted2(line, a, b, sizeof(a)) == 0 && strcmp(b, d) == 0 &&
            at_rename < 0) {
            at_rename = i;
            (void)snprintf(tmp, sizeof(tmp), "%s", a);
        }
        if (strncmp(line, "fsync(", 6) == 0) {
            const char *lt = strchr(line, '<'), *gt = strrchr(line, '>');
            char path[PATH_MAX];

            if (lt == NULL || gt == NULL || gt <= lt ||
                (size_t)(gt - lt - 1) >= sizeof(path))
                continue;
            memcpy(path, lt + 1, (size_t)(gt - lt - 1));
            path[gt - lt - 1] = '\0';
            if (at_rename < 0 && strstr(path, "/.tmp-") != NULL) {
                const char *base = strrchr(path, '/') + 1;

                if (strncmp(base, ".tmp-", 5) == 0)
                    at_tmp_sync = i;
                else if (strcmp(base, "manifest") == 0)
                    at_manifest_sync = i;
                else if (strstr(path, "/outputs/") != NULL)
                    at_blob_sync = i;
            }
            if (at_rename >= 0 && at_shard_sync < 0 &&
                strcmp(path, shard) == 0)
                at_shard_sync = i;
        }
    }
    fclose(fp);
    CU_ASSERT(at_rename > 0);
    CU_ASSERT(strstr(tmp, "/.tmp-") != NULL);
    CU_ASSERT(at_blob_sync > 0 && at_blob_sync < at_manifest_sync);
    CU_ASSERT(at_manifest_sync > 0 && at_manifest_sync < at_tmp_sync);
    CU_ASSERT(at_tmp_sync > 0 && at_tmp_sync < at_rename);
    CU_ASSERT(at_shard_sync > at_rename);
    end();
}

/* ------------------------------------------------------------------------
 * Suite "hostile".
 * ---------------------------------------------------------------------- */

static const ofile c3_ok[] = { { "/out/ok", "ok bytes\n", 9, 0644 } };

/* lchown a tree (no link followed). */
static int chown_tree(const char *path, uid_t u, gid_t g)
{
    struct stat st;
    DIR *d;
    struct dirent *de;
    int rc = 0;

    if (lstat(path, &st) != 0 || lchown(path, u, g) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode))
        return 0;
    d = opendir(path);
    if (d == NULL)
        return -1;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        char p[PATH_MAX];

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        (void)snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
        rc = chown_tree(p, u, g);
    }
    closedir(d);
    return rc;
}

/* The body of the chmod-000 test; returns the number of failed checks
 * (it may run in a child under another user id). */
static int unreadable_body(void)
{
    haz_cache_store *cs;
    haz_cache_entry *e = NULL;
    unsigned char key[32];
    char blob[PATH_MAX], d[2048], s[PATH_MAX];
    int fails = 0, i;

    cs = open_store_in(ctx, ws, NULL);
    if (cs == NULL)
        return 1;
    key_n(30, key);
    entry_dir(key, d, sizeof(d));
    blob_path(key, c3_ok[0].data, c3_ok[0].len, blob, sizeof(blob));
    (void)snprintf(s, sizeof(s), "%s/stdout", d);
    for (i = 0; i < 2; i++) {
        char t[PATH_MAX];

        if (store_in(cs, ws, key, c3_ok, 1, "streamed\n", "") != HAZ_OK) {
            fails++;
            break;
        }
        pathof(t, sizeof(t), ws, c3_ok[0].path);
        (void)unlink(t);
        if (chmod(i == 0 ? blob : s, 0) != 0)
            fails++;
        /* Lookup sees the right sizes: a hit; restore cannot read: a
         * miss, the entry removed, nothing written. */
        if (cs->methods->lookup(cs, key, 32, &e) != HAZ_OK || e == NULL) {
            fails++;
            break;
        }
        if (cs->methods->restore(cs, e) != HAZ_ECORRUPT)
            fails++;
        if (strstr(haz_ctx_errmsg(ctx), "removed") == NULL)
            fails++;
        cs->methods->entry_free(cs, e);
        e = NULL;
        if (entry_exists(key) || exists(ws, c3_ok[0].path))
            fails++;
    }
    haz_cache_store_close(cs);
    return fails;
}

/* C3: a blob or a stream made unreadable (chmod 000) is a miss with a
 * message, and the entry goes.  Root ignores modes, so as root the test
 * runs in a child under the "nobody" ids, in a box under /tmp (a build
 * tree made by mktemp -d is not open to other users). */
static void test_unreadable(void)
{
    char saved[3][1200], alt[64];
    int status;
    pid_t pid;

    begin();
    if (geteuid() != 0) {
        CU_ASSERT_EQUAL(unreadable_body(), 0);
        end();
        return;
    }
    memcpy(saved[0], box, sizeof(box));
    memcpy(saved[1], ws, sizeof(ws));
    memcpy(saved[2], cachedir, sizeof(cachedir));
    (void)snprintf(alt, sizeof(alt), "/tmp/hazexec-rel-XXXXXX");
    CU_ASSERT_FATAL(mkdtemp(alt) != NULL);
    CU_ASSERT_EQUAL(chmod(alt, 0755), 0);
    (void)snprintf(box, sizeof(box), "%s", alt);
    (void)snprintf(ws, sizeof(ws), "%s/ws", box);
    (void)snprintf(cachedir, sizeof(cachedir), "%s/.haz/cache", ws);
    CU_ASSERT_EQUAL(mkdir(ws, 0777), 0);
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        if (chown_tree(box, 65534, 65534) != 0 || setgid(65534) != 0 ||
            setuid(65534) != 0 || access(ws, W_OK | X_OK) != 0)
            _exit(77);
        _exit(unreadable_body() == 0 ? 0 : 1);
    }
    CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
    CU_ASSERT(WIFEXITED(status));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
        fprintf(stderr, "\n  [skipped: cannot run as another user]");
    else
        CU_ASSERT_EQUAL(WEXITSTATUS(status), 0);
    /* Both broken entries were removed: the other user's cache is clean
     * (and empty). */
    CU_ASSERT_EQUAL(verify_clean_at(cachedir, "the other user's cache"), 0);
    CU_ASSERT_EQUAL(haz_test_rmtree(alt), 0);
    memcpy(box, saved[0], sizeof(box));
    memcpy(ws, saved[1], sizeof(ws));
    memcpy(cachedir, saved[2], sizeof(cachedir));
    end();
}

/* Outputs already in place: left alone when identical (without reading
 * the blob), restored when they differ in any way; a link, a fifo or a
 * directory at the target is never taken for the output. */
static void test_present_targets(void)
{
    haz_cache_store *cs;
    haz_cache_entry *e = NULL;
    unsigned char key[32];
    char blob[PATH_MAX], t[PATH_MAX];
    struct stat before, after;
    int fd;

    begin();
    cs = open_store();
    key_n(31, key);
    CU_ASSERT_EQUAL_FATAL(store_in(cs, ws, key, c3_ok, 1, "o\n", ""),
                          HAZ_OK);
    blob_path(key, c3_ok[0].data, c3_ok[0].len, blob, sizeof(blob));
    pathof(t, sizeof(t), ws, c3_ok[0].path);

    /* Identical: not touched (same inode, same modification time). */
    CU_ASSERT_EQUAL(lstat(t, &before), 0);
    CU_ASSERT_EQUAL(cs->methods->lookup(cs, key, 32, &e), HAZ_OK);
    CU_ASSERT_FATAL(e != NULL);
    CU_ASSERT_EQUAL(cs->methods->restore(cs, e), HAZ_OK);
    CU_ASSERT_EQUAL(lstat(t, &after), 0);
    CU_ASSERT_EQUAL(before.st_ino, after.st_ino);
    CU_ASSERT(HAZ__ST_MTIM(&before).tv_sec == HAZ__ST_MTIM(&after).tv_sec &&
              HAZ__ST_MTIM(&before).tv_nsec == HAZ__ST_MTIM(&after).tv_nsec);
    CU_ASSERT(e->stdout_data != NULL && memcmp(e->stdout_data, "o\n", 2) ==
              0);

    /* The same size and mode, other bytes: restored. */
    put(ws, c3_ok[0].path, "OK BYTES\n", 9, 0644);
    CU_ASSERT_EQUAL(cs->methods->restore(cs, e), HAZ_OK);
    CU_ASSERT(holds(ws, c3_ok[0].path, c3_ok[0].data, c3_ok[0].len));
    /* The same bytes, another mode: restored with the recorded mode. */
    CU_ASSERT_EQUAL(chmod(t, 0600), 0);
    CU_ASSERT_EQUAL(cs->methods->restore(cs, e), HAZ_OK);
    CU_ASSERT(lstat(t, &after) == 0 && (after.st_mode & 07777) == 0644);

    /* A link at the target to a canary file holding the very bytes and
     * mode of the output (C9): replaced by a real file, the canary is
     * never written (end() checks). */
    put(canary, "same", c3_ok[0].data, c3_ok[0].len, 0644);
    sig_of(canary, canary_sig);
    CU_ASSERT_EQUAL(unlink(t), 0);
    {
        char c[PATH_MAX];

        pathof(c, sizeof(c), canary, "same");
        CU_ASSERT_EQUAL(symlink(c, t), 0);
    }
    CU_ASSERT_EQUAL(cs->methods->restore(cs, e), HAZ_OK);
    CU_ASSERT(lstat(t, &after) == 0 && S_ISREG(after.st_mode));
    CU_ASSERT(holds(ws, c3_ok[0].path, c3_ok[0].data, c3_ok[0].len));

    /* A fifo at the target: no blocking, replaced. */
    CU_ASSERT_EQUAL(unlink(t), 0);
    CU_ASSERT_EQUAL(mkfifo(t, 0644), 0);
    CU_ASSERT_EQUAL(cs->methods->restore(cs, e), HAZ_OK);
    CU_ASSERT(lstat(t, &after) == 0 && S_ISREG(after.st_mode));

    /* A directory at the target: refused, nothing touched. */
    CU_ASSERT_EQUAL(unlink(t), 0);
    CU_ASSERT_EQUAL(mkdir(t, 0777), 0);
    CU_ASSERT_EQUAL(cs->methods->restore(cs, e), HAZ_EIO);
    CU_ASSERT(lstat(t, &after) == 0 && S_ISDIR(after.st_mode));
    CU_ASSERT_EQUAL(rmdir(t), 0);
    cs->methods->entry_free(cs, e);
    e = NULL;

    /* A corrupt blob (C3) with the target in place but different: the
     * restore refuses before touching it, and the entry goes. */
    put(ws, c3_ok[0].path, "old\n", 4, 0600);
    CU_ASSERT_EQUAL(chmod(blob, 0644), 0);
    fd = open(blob, O_WRONLY);
    CU_ASSERT(fd >= 0 && write(fd, "OK", 2) == 2);
    if (fd >= 0)
        close(fd);
    CU_ASSERT_EQUAL(cs->methods->lookup(cs, key, 32, &e), HAZ_OK);
    CU_ASSERT_FATAL(e != NULL);
    CU_ASSERT_EQUAL(cs->methods->restore(cs, e), HAZ_ECORRUPT);
    cs->methods->entry_free(cs, e);
    e = NULL;
    CU_ASSERT(holds(ws, c3_ok[0].path, "old\n", 4));
    CU_ASSERT(!entry_exists(key));

    /* A corrupt blob with the right output already in place: the hit
     * needs nothing from the blob and leaves the target alone; `verify`
     * is what finds the blob bad. */
    CU_ASSERT_EQUAL_FATAL(store_in(cs, ws, key, c3_ok, 1, "o\n", ""),
                          HAZ_OK);
    CU_ASSERT_EQUAL(chmod(blob, 0644), 0);
    fd = open(blob, O_WRONLY);
    CU_ASSERT(fd >= 0 && write(fd, "OK", 2) == 2);
    if (fd >= 0)
        close(fd);
    CU_ASSERT_EQUAL(cs->methods->lookup(cs, key, 32, &e), HAZ_OK);
    CU_ASSERT_FATAL(e != NULL);
    CU_ASSERT_EQUAL(cs->methods->restore(cs, e), HAZ_OK);
    cs->methods->entry_free(cs, e);
    CU_ASSERT(holds(ws, c3_ok[0].path, c3_ok[0].data, c3_ok[0].len));
    CU_ASSERT_EQUAL(verify().broken, 1);
    haz_cache_store_close(cs);
    end_broken(1);              /* that blob, and nothing else */
}

/* Rewrite the manifest of `key` as `body` (everything before the check
 * line) with a correct check line, so that only the parser's other rules
 * can reject it. */
static void forge(const unsigned char *key, const char *body, size_t len)
{
    char d[2048], m[PATH_MAX], hex[65];
    unsigned char h[32];
    haz_buf b;

    entry_dir(key, d, sizeof(d));
    (void)snprintf(m, sizeof(m), "%s/manifest", d);
    haz_sha256(body, len, h);
    haz_hash_hex(h, 32, hex);
    haz__buf_init(&b, ctx);
    CU_ASSERT_FATAL(haz__buf_append(&b, body, len) == HAZ_OK &&
                    haz__buf_printf(&b, "check %s\n", hex) == HAZ_OK);
    (void)unlink(m);
    CU_ASSERT_EQUAL_FATAL(haz_test_write_file(m, b.data, b.len), 0);
    haz__buf_free(&b);
}

/* The manifest of `key` without its check line, malloc'ed. */
static char *manifest_body(const unsigned char *key, size_t *len)
{
    char d[PATH_MAX];
    size_t n;
    unsigned char *text;
    char *check;

    entry_dir(key, d, sizeof(d));
    text = slurp(d, "manifest", &n);
    CU_ASSERT_FATAL(text != NULL);
    text[n] = '\0';
    check = strstr((char *)text, "check ");
    CU_ASSERT_FATAL(check != NULL);
    *check = '\0';
    *len = (size_t)(check - (char *)text);
    return (char *)text;
}

/* Replace the first occurrence of `from` in body by `to`. */
static char *subst(const char *body, const char *from, const char *to)
{
    const char *p = strstr(body, from);
    size_t a, lf = strlen(from), lt = strlen(to), lb = strlen(body);
    char *out;

    CU_ASSERT_FATAL(p != NULL);
    a = (size_t)(p - body);
    out = malloc(lb - lf + lt + 1);
    CU_ASSERT_FATAL(out != NULL);
    memcpy(out, body, a);
    memcpy(out + a, to, lt);
    memcpy(out + a + lt, p + lf, lb - a - lf + 1);
    return out;
}

/* Copy the tree `from` to `to` (regular files and directories only; no
 * fsync: a quick way to put a pristine entry back). */
static void copy_tree(const char *from, const char *to)
{
    struct stat st;
    DIR *d;
    struct dirent *de;

    CU_ASSERT_FATAL(lstat(from, &st) == 0);
    if (S_ISREG(st.st_mode)) {
        size_t len;
        unsigned char *b = slurp(from, "", &len);

        CU_ASSERT_FATAL(b != NULL);
        CU_ASSERT_FATAL(haz_test_write_file(to, b, len) == 0);
        CU_ASSERT(chmod(to, st.st_mode & 07777) == 0);
        free(b);
        return;
    }
    CU_ASSERT_FATAL(S_ISDIR(st.st_mode) && mkdir(to, 0777) == 0);
    d = opendir(from);
    CU_ASSERT_FATAL(d != NULL);
    while ((de = readdir(d)) != NULL) {
        char a[PATH_MAX], b[PATH_MAX];

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        pathof(a, sizeof(a), from, de->d_name);
        pathof(b, sizeof(b), to, de->d_name);
        copy_tree(a, b);
    }
    closedir(d);
}

/* A miss with HAZ_ECORRUPT; the entry is gone and nothing restored. */
static void expect_corrupt(haz_cache_store *cs, const unsigned char *key,
                           const char *what)
{
    haz_cache_entry *e = NULL;

    CU_ASSERT_EQUAL(cs->methods->lookup(cs, key, 32, &e), HAZ_OK);
    if (e != NULL || haz_ctx_errcode(ctx) != HAZ_ECORRUPT ||
        entry_exists(key)) {
        CU_FAIL("forged manifest not refused");
        fprintf(stderr, "\n  accepted: %s", what);
    }
    if (e != NULL)
        cs->methods->entry_free(cs, e);
    CU_ASSERT(!exists(ws, "/x/one") && !exists(ws, "/x/two"));
}

/* C4: forged counts, sizes and times; duplicate and nested paths; random
 * garbage, each with a correct check line. */
static void test_forged_manifests(void)
{
    static const ofile two[] = {
        { "/x/one", "1", 1, 0644 }, { "/x/two", "22", 2, 0644 }
    };
    static const char *const swaps[][2] = {
        { "outputs 2\n", "outputs 0\n" },
        { "outputs 2\n", "outputs 1\n" },
        { "outputs 2\n", "outputs 3\n" },
        { "outputs 2\n", "outputs -1\n" },
        { "outputs 2\n", "outputs 9223372036854775807\n" },
        { "outputs 2\n", "outputs 18446744073709551615\n" },
        { "stdout 3 ", "stdout 0 " },
        { "stdout 3 ", "stdout -1 " },
        { "stdout 3 ", "stdout 9223372036854775808 " },
        { "stdout 3 ", "stdout 18446744073709551616 " },
        { "created 1700000000\n", "created -1\n" },
        { "created 1700000000\n", "created 9223372036854775808\n" },
        { "created 1700000000\n", "created \n" },
        { " 1 0644 /x/one\n", " 0 0644 /x/one\n" },
        { " 1 0644 /x/one\n", " 1 0644 /x/two\n" },   /* duplicate path */
        { " 1 0644 /x/one\n", " 1 0644 /x/two/in\n" },
        { " 2 0644 /x/two\n", " 2 0644 /x/one/in\n" }, /* nested */
        { " 1 0644 /x/one\n", " 1 0644 /x/../one\n" },
        { "hash sha256\n", "hash sha256\nhash sha256\n" },
    };
    haz_cache_store *cs;
    unsigned char key[32];
    char d[2048], pristine[PATH_MAX];
    size_t i, len;
    char *good;
    int trial;

    begin();
    seed("forged manifests");
    cs = open_store();
    key_n(40, key);
    CU_ASSERT_EQUAL_FATAL(store_in(cs, ws, key, two, 2, "abc", ""), HAZ_OK);
    good = manifest_body(key, &len);
    rm_in(ws, "/x");
    entry_dir(key, d, sizeof(d));
    pathof(pristine, sizeof(pristine), box, "pristine");
    copy_tree(d, pristine);
    for (i = 0; i < HAZ_ARRAY_LEN(swaps); i++) {
        char *bad = subst(good, swaps[i][0], swaps[i][1]);

        (void)haz__rmtree(d);
        copy_tree(pristine, d);
        forge(key, bad, strlen(bad));
        expect_corrupt(cs, key, swaps[i][1]);
        free(bad);
    }
    /* Random garbage inserted at a random place, or appended (each with
     * a correct check line). */
    for (trial = 0; trial < 200; trial++) {
        size_t at = (size_t)(rng() % (len + 1)), n = 1 + rng() % 16, k;
        char *bad = malloc(len + n + 1);

        CU_ASSERT_FATAL(bad != NULL);
        memcpy(bad, good, at);
        for (k = 0; k < n; k++)
            bad[at + k] = (char)(rng() & 0xff);
        memcpy(bad + at + n, good + at, len - at);
        (void)haz__rmtree(d);
        copy_tree(pristine, d);
        forge(key, bad, len + n);
        /* A random insertion can by chance leave a valid manifest (say a
         * digit into `created`): then it must be a whole, sound hit. */
        {
            haz_cache_entry *e = NULL;

            CU_ASSERT_EQUAL(cs->methods->lookup(cs, key, 32, &e), HAZ_OK);
            if (e != NULL) {
                size_t j;

                CU_ASSERT_EQUAL(cs->methods->restore(cs, e), HAZ_OK);
                for (j = 0; j < e->n_outputs; j++) {
                    const haz_cache_output *o = &e->outputs[j];

                    CU_ASSERT(holds(ws, o->path, o->size == 1 ? "1" : "22",
                                    (size_t)o->size));
                    rm_in(ws, o->path);
                }
                cs->methods->entry_free(cs, e);
                rm_in(ws, "/x");
            } else if (haz_ctx_errcode(ctx) == HAZ_ENOTSUP) {
                /* The insertion made the revision or the hash name one
                 * this build does not know: a foreign entry, a miss left
                 * alone (design 2.16), never read further. */
                CU_ASSERT(entry_exists(key));
                CU_ASSERT(strncmp(bad, "hazexec-cache 0\nhash sha256\n",
                                  28) != 0);
            } else {
                CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), HAZ_ECORRUPT);
                CU_ASSERT(!entry_exists(key));
            }
        }
        free(bad);
    }
    /* The last trial may have left a foreign entry: put the pristine one
     * back, which must verify. */
    (void)haz__rmtree(d);
    copy_tree(pristine, d);
    free(good);
    CU_ASSERT_EQUAL(verify().broken, 0);
    haz_cache_store_close(cs);
    end();
}

/* C5: the entry's outputs directory gone, its manifest kept: a miss with
 * a message, and the entry is removed (not a hit restoring nothing). */
static void test_outputs_dir_gone(void)
{
    haz_cache_store *cs;
    haz_cache_entry *e = NULL;
    unsigned char key[32];
    char d[PATH_MAX];

    begin();
    cs = open_store();
    key_n(41, key);
    CU_ASSERT_EQUAL_FATAL(store_in(cs, ws, key, c3_ok, 1, "", ""), HAZ_OK);
    entry_dir(key, d, sizeof(d));
    strcat(d, "/outputs");
    CU_ASSERT_EQUAL(haz_test_rmtree(d), 0);
    CU_ASSERT_EQUAL(cs->methods->lookup(cs, key, 32, &e), HAZ_OK);
    CU_ASSERT(e == NULL);
    CU_ASSERT_EQUAL(haz_ctx_errcode(ctx), HAZ_ECORRUPT);
    CU_ASSERT(strstr(haz_ctx_errmsg(ctx), "missing") != NULL);
    CU_ASSERT(!entry_exists(key));
    haz_cache_store_close(cs);
    end();
}

/* ------------------------------------------------------------------------
 * Running a workspace: haz_run with the posix spawner and the fs store.
 * ---------------------------------------------------------------------- */

#define MAX_TASKS 16

typedef struct cap_stream {
    haz_sha256_ctx h;
    uint64_t n;
    unsigned calls;
} cap_stream;

typedef struct capture {
    cap_stream s[MAX_TASKS][2];
} capture;

static void cap_output(void *ud, const haz_task_id *task, haz_stream st,
                       const void *data, size_t len)
{
    capture *c = ud;
    cap_stream *s;

    if (task->index >= MAX_TASKS)
        return;
    s = &c->s[task->index][st == HAZ_STREAM_STDERR];
    haz_sha256_update(&s->h, data, len);
    s->n += len;
    s->calls++;
}

static const haz_observer_methods cap_methods = {
    HAZ_OBSERVER_METHODS_VERSION, NULL, cap_output, NULL, NULL, NULL, NULL,
    NULL
};

/* One run and what it showed. */
typedef struct wrun {
    haz_ctx *ctx;
    haz_hazfile *hf;
    haz_run_result *res;
    capture cap;
    unsigned char digest[MAX_TASKS][2][32];
} wrun;

/* Run `text` (a hazfile) in `root` with the cache in `cache` (NULL: the
 * default).  No CUnit assertion: children use it.  Returns 0, or the
 * failing call's code. */
static int wrun_go(wrun *w, const char *root, const char *cache,
                   const char *text)
{
    haz_diags *d = NULL;
    haz_clock *k = NULL;
    haz_spawner *sp = NULL;
    haz_spawner_config sc;
    haz_cache_store *cs = NULL;
    haz_run_options opt;
    haz_run_config cfg;
    haz_observer obs;
    size_t i, j;
    int rc;

    memset(w, 0, sizeof(*w));
    for (i = 0; i < MAX_TASKS; i++)
        for (j = 0; j < 2; j++)
            haz_sha256_init(&w->cap.s[i][j].h);
    rc = haz_ctx_new(&w->ctx, NULL);
    if (rc == HAZ_OK)
        rc = haz_diags_new(w->ctx, &d);
    if (rc == HAZ_OK)
        rc = haz_hazfile_parse(w->ctx, "hazfile", text, strlen(text), &w->hf,
                               d);
    haz_diags_free(d);
    if (rc == HAZ_OK)
        rc = haz_clock_open(w->ctx, &haz_clock_posix, NULL, &k);
    if (rc == HAZ_OK) {
        memset(&sc, 0, sizeof(sc));
        sc.version = 1;
        sc.clock = k;
        rc = haz_spawner_open(w->ctx, &haz_spawner_posix, &sc, &sp);
    }
    if (rc == HAZ_OK) {
        cs = open_store_in(w->ctx, root, cache);
        if (cs == NULL)
            rc = HAZ_EIO;
    }
    if (rc == HAZ_OK) {
        haz_run_options_init(&opt);
        opt.concurrency = 2;
        opt.workspace_root = root;
        opt.host_env = host_env;
        opt.cache_dir = cache;
        obs.methods = &cap_methods;
        obs.ud = &w->cap;
        memset(&cfg, 0, sizeof(cfg));
        cfg.graph = w->hf->graph;
        cfg.spawner = sp;
        cfg.clock = k;
        cfg.cache = cs;
        cfg.observer = &obs;
        cfg.options = &opt;
        rc = haz_run(w->ctx, &cfg, &w->res);
    }
    for (i = 0; i < MAX_TASKS; i++)
        for (j = 0; j < 2; j++)
            haz_sha256_out(&w->cap.s[i][j].h, w->digest[i][j]);
    haz_cache_store_close(cs);
    haz_spawner_close(sp);
    haz_clock_close(k);
    return rc;
}

static void wrun_free(wrun *w)
{
    haz_run_result_free(w->res);
    haz_hazfile_free(w->hf);
    haz_ctx_free(w->ctx);
    memset(w, 0, sizeof(*w));
}

static const haz_task_outcome *outcome(const wrun *w, const char *id)
{
    size_t i = 0;

    CU_ASSERT_EQUAL_FATAL(haz_graph_find_task(w->hf->graph, id, NULL, &i),
                          HAZ_OK);
    CU_ASSERT_FATAL(i < MAX_TASKS);
    return haz_run_result_get(w->res, i);
}

static size_t index_of(const wrun *w, const char *id)
{
    size_t i = 0;

    CU_ASSERT_EQUAL_FATAL(haz_graph_find_task(w->hf->graph, id, NULL, &i),
                          HAZ_OK);
    return i;
}

/* ------------------------------------------------------------------------
 * Suite "run".
 * ---------------------------------------------------------------------- */

static const char round_trip_graph[] =
    "[workspace]\n"
    "concurrency = 2\n"
    "[task p:gen]\n"
    "run = mkdir -p out && cp bin.dat out/tool && chmod 755 out/tool && "
    "cat bin.dat && cat bin.dat >&2 && printf 'last line, no newline'\n"
    "inputs = bin.dat\n"
    "outputs = out/tool\n"
    "[task p:big]\n"
    "run = cat big.dat && printf 'err\\n' >&2 && mkdir -p out && "
    "dd if=big.dat of=out/big.part bs=1000 count=3 2>/dev/null && "
    "chmod 600 out/big.part\n"
    "inputs = big.dat\n"
    "outputs = out/big.part\n"
    "[task p:use]\n"
    "run = wc -c < out/tool && mkdir -p out2 && cp out/tool out2/copy\n"
    "deps = ~:gen\n"
    "inputs = out/tool\n"
    "outputs = out2/copy\n"
    "[task p:quiet]\n"
    "argv = cp bin.dat quiet.out\n"
    "inputs = bin.dat\n"
    "outputs = quiet.out\n"
    "[task p:fail]\n"
    "run = printf 'oops\\n' >&2; exit 3\n"
    "[task p:sig]\n"
    "run = printf 'dying\\n'; kill -TERM $$\n";

static const char *const rt_outputs[] = {
    "/out/tool", "/out/big.part", "/out2/copy", "/quiet.out"
};

/* The files of the round trip: bytes and modes. */
typedef struct snap {
    unsigned char h[4][32];
    size_t len[4];
    unsigned mode[4];
    ino_t ino[4];
} snap;

static void take_snap(snap *s)
{
    size_t i;

    for (i = 0; i < 4; i++) {
        struct stat st;
        unsigned char *b = slurp(ws, rt_outputs[i], &s->len[i]);

        CU_ASSERT_FATAL(b != NULL);
        haz_sha256(b, s->len[i], s->h[i]);
        free(b);
        CU_ASSERT_FATAL(lstat_of(ws, rt_outputs[i], &st) == 0);
        s->mode[i] = (unsigned)(st.st_mode & 07777);
        s->ino[i] = st.st_ino;
    }
}

/* C6 and the end-to-end round trip. */
static void test_round_trip(void)
{
    static const char *const hit[] = { "p:gen", "p:big", "p:use", "p:quiet" };
    unsigned char bin[1200];
    unsigned char *big;
    wrun w1, w2, w3;
    snap s1, s2, s3;
    size_t i, k;
    haz_probe pr[MAX_TASKS];

    begin();
    /* Every byte value, NUL runs, invalid UTF-8, a lone CR; 5 MiB of
     * pseudo-random bytes. */
    for (i = 0; i < 1024; i++)
        bin[i] = (unsigned char)i;
    memset(bin + 1024, 0, 64);
    memcpy(bin + 1088, "\xff\xc0\xaf\xed\xa0\x80\r\x1b[31m", 12);
    put(ws, "bin.dat", bin, 1100, 0644);
    big = malloc(5u << 20);
    CU_ASSERT_FATAL(big != NULL);
    rng_state = 42;
    for (i = 0; i < (5u << 20); i += 8) {
        uint64_t r = rng();

        memcpy(big + i, &r, 8);
    }
    put(ws, "big.dat", big, 5u << 20, 0644);
    free(big);
    put(ws, "hazfile", round_trip_graph, strlen(round_trip_graph), 0644);

    /* Run 1: everything fresh. */
    CU_ASSERT_EQUAL_FATAL(wrun_go(&w1, ws, NULL, round_trip_graph), HAZ_OK);
    for (k = 0; k < 4; k++) {
        CU_ASSERT_EQUAL(outcome(&w1, hit[k])->source, HAZ_SOURCE_FRESH);
        CU_ASSERT_EQUAL(outcome(&w1, hit[k])->state, HAZ_STATE_SUCCEEDED);
    }
    CU_ASSERT_EQUAL(outcome(&w1, "p:fail")->status.kind, HAZ_EXIT_CODE);
    CU_ASSERT_EQUAL(outcome(&w1, "p:fail")->status.code, 3);
    CU_ASSERT_EQUAL(outcome(&w1, "p:sig")->status.kind, HAZ_EXIT_SIGNAL);
    CU_ASSERT_EQUAL(outcome(&w1, "p:sig")->status.signo, SIGTERM);
    i = index_of(&w1, "p:gen");
    CU_ASSERT_EQUAL(w1.cap.s[i][0].n, 1100 + 21);
    CU_ASSERT_EQUAL(w1.cap.s[i][1].n, 1100);
    CU_ASSERT_EQUAL(w1.cap.s[index_of(&w1, "p:big")][0].n, 5u << 20);
    take_snap(&s1);
    CU_ASSERT_EQUAL(s1.mode[0], 0755);
    CU_ASSERT_EQUAL(s1.mode[1], 0600);
    CU_ASSERT_EQUAL(s1.len[1], 3000);
    /* Failed and killed tasks were not stored (C6). */
    {
        haz_run_config cfg;
        haz_run_options opt;
        haz_cache_store *cs = open_store();

        haz_run_options_init(&opt);
        opt.workspace_root = ws;
        opt.host_env = host_env;
        memset(&cfg, 0, sizeof(cfg));
        cfg.graph = w1.hf->graph;
        cfg.cache = cs;
        cfg.options = &opt;
        CU_ASSERT_EQUAL(haz_run_probe(ctx, &cfg, pr), HAZ_OK);
        CU_ASSERT_EQUAL(pr[index_of(&w1, "p:fail")], HAZ_PROBE_MISS);
        CU_ASSERT_EQUAL(pr[index_of(&w1, "p:sig")], HAZ_PROBE_MISS);
        CU_ASSERT_EQUAL(pr[index_of(&w1, "p:gen")], HAZ_PROBE_HIT);
        CU_ASSERT_EQUAL(pr[index_of(&w1, "p:use")], HAZ_PROBE_HIT);
        haz_cache_store_close(cs);
    }

    /* Run 2, the outputs deleted: every successful task is a hit whose
     * files and streams are the first run's, byte for byte. */
    rm_in(ws, "/out");
    rm_in(ws, "/out2");
    rm_in(ws, "/quiet.out");
    CU_ASSERT(!exists(ws, "/out") && !exists(ws, "/quiet.out"));
    CU_ASSERT_EQUAL_FATAL(wrun_go(&w2, ws, NULL, round_trip_graph), HAZ_OK);
    for (k = 0; k < 4; k++) {
        const haz_task_outcome *a = outcome(&w1, hit[k]);
        const haz_task_outcome *b = outcome(&w2, hit[k]);
        size_t t = index_of(&w1, hit[k]), st;

        CU_ASSERT_EQUAL(b->source, HAZ_SOURCE_CACHE_HIT);
        CU_ASSERT_EQUAL(b->state, HAZ_STATE_SUCCEEDED);
        CU_ASSERT(memcmp(a->key, b->key, 32) == 0);
        CU_ASSERT(memcmp(a->stdout_hash, b->stdout_hash, 32) == 0);
        CU_ASSERT(memcmp(a->stderr_hash, b->stderr_hash, 32) == 0);
        for (st = 0; st < 2; st++) {
            CU_ASSERT_EQUAL(w1.cap.s[t][st].n, w2.cap.s[t][st].n);
            CU_ASSERT(memcmp(w1.digest[t][st], w2.digest[t][st], 32) == 0);
            /* A hit replays each non-empty stream in one call. */
            CU_ASSERT_EQUAL(w2.cap.s[t][st].calls,
                            w2.cap.s[t][st].n > 0 ? 1u : 0u);
        }
    }
    take_snap(&s2);
    for (k = 0; k < 4; k++) {
        CU_ASSERT_EQUAL(s1.len[k], s2.len[k]);
        CU_ASSERT(memcmp(s1.h[k], s2.h[k], 32) == 0);
        CU_ASSERT_EQUAL(s1.mode[k], s2.mode[k]);
    }
    /* The failures ran again, the same way. */
    CU_ASSERT_EQUAL(outcome(&w2, "p:fail")->source, HAZ_SOURCE_FRESH);
    CU_ASSERT_EQUAL(outcome(&w2, "p:fail")->status.code, 3);
    CU_ASSERT_EQUAL(outcome(&w2, "p:sig")->status.kind, HAZ_EXIT_SIGNAL);
    i = index_of(&w1, "p:fail");
    CU_ASSERT(memcmp(w1.digest[i][1], w2.digest[i][1], 32) == 0);

    /* Run 3, nothing changed: hits again, and the outputs in place are
     * left alone (same inodes). */
    CU_ASSERT_EQUAL_FATAL(wrun_go(&w3, ws, NULL, round_trip_graph), HAZ_OK);
    for (k = 0; k < 4; k++) {
        size_t t = index_of(&w1, hit[k]);

        CU_ASSERT_EQUAL(outcome(&w3, hit[k])->source, HAZ_SOURCE_CACHE_HIT);
        CU_ASSERT(memcmp(w1.digest[t][0], w3.digest[t][0], 32) == 0);
        CU_ASSERT(memcmp(w1.digest[t][1], w3.digest[t][1], 32) == 0);
    }
    take_snap(&s3);
    for (k = 0; k < 4; k++) {
        CU_ASSERT(memcmp(s1.h[k], s3.h[k], 32) == 0);
        CU_ASSERT_EQUAL(s2.ino[k], s3.ino[k]);
    }
    CU_ASSERT_EQUAL(verify().broken, 0);
    wrun_free(&w1);
    wrun_free(&w2);
    wrun_free(&w3);
    end();
}

/* C5 end to end: a blob deleted from the cache makes its task run again
 * (a miss, not a hit restoring nothing), and the cache is whole after. */
static void test_dangling_rerun(void)
{
    static const char graph[] =
        "[task p:a]\n"
        "run = printf 'made a\\n' > a.out && printf 'a ran\\n'\n"
        "outputs = a.out\n"
        "[task p:b]\n"
        "run = printf 'made b\\n' > b.out\n"
        "outputs = b.out\n";
    wrun w1, w2;
    unsigned char key[32];
    char blob[PATH_MAX];

    begin();
    CU_ASSERT_EQUAL_FATAL(wrun_go(&w1, ws, NULL, graph), HAZ_OK);
    memcpy(key, outcome(&w1, "p:a")->key, 32);
    blob_path(key, "made a\n", 7, blob, sizeof(blob));
    CU_ASSERT_EQUAL(unlink(blob), 0);
    CU_ASSERT(exists(ws, "/a.out") && exists(ws, "/b.out"));
    rm_in(ws, "/a.out");
    rm_in(ws, "/b.out");
    CU_ASSERT_EQUAL_FATAL(wrun_go(&w2, ws, NULL, graph), HAZ_OK);
    CU_ASSERT_EQUAL(outcome(&w2, "p:a")->source, HAZ_SOURCE_FRESH);
    CU_ASSERT_EQUAL(outcome(&w2, "p:a")->state, HAZ_STATE_SUCCEEDED);
    CU_ASSERT_EQUAL(outcome(&w2, "p:b")->source, HAZ_SOURCE_CACHE_HIT);
    CU_ASSERT(holds(ws, "/a.out", "made a\n", 7));
    CU_ASSERT(holds(ws, "/b.out", "made b\n", 7));
    CU_ASSERT(entry_exists(key));
    CU_ASSERT_EQUAL(verify().broken, 0);
    wrun_free(&w1);
    wrun_free(&w2);
    end();
}

/* C13: the input changes after the task started and before it reads it.
 * The task signals through one fifo and waits on another; a helper
 * process changes the input in between. */
static void test_input_changed_during_run(void)
{
    static const char graph[] =
        "[task p:copy]\n"
        "run = printf go > started.fifo && cat resume.fifo > /dev/null && "
        "cat in.txt > out.txt\n"
        "inputs = in.txt\n"
        "outputs = out.txt\n";
    char started[PATH_MAX], resume[PATH_MAX], in[PATH_MAX];
    haz_cache_store *cs;
    haz_cache_entry *e = NULL;
    unsigned char old_key[32];
    wrun w1, w2;
    int status;
    pid_t pid;

    begin();
    put(ws, "in.txt", "before\n", 7, 0644);
    pathof(started, sizeof(started), ws, "started.fifo");
    pathof(resume, sizeof(resume), ws, "resume.fifo");
    pathof(in, sizeof(in), ws, "in.txt");
    CU_ASSERT_EQUAL_FATAL(mkfifo(started, 0600), 0);
    CU_ASSERT_EQUAL_FATAL(mkfifo(resume, 0600), 0);
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        char buf[8];
        int fd;

        alarm(60);              /* a guard, should the task never come */
        fd = open(started, O_RDONLY);
        if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0)
            _exit(1);
        close(fd);
        if (haz_test_write_file(in, "after, longer\n", 14) != 0)
            _exit(2);
        fd = open(resume, O_WRONLY);
        if (fd < 0)
            _exit(3);
        close(fd);
        _exit(0);
    }
    CU_ASSERT_EQUAL_FATAL(wrun_go(&w1, ws, NULL, graph), HAZ_OK);
    CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CU_ASSERT_EQUAL(outcome(&w1, "p:copy")->state, HAZ_STATE_SUCCEEDED);
    CU_ASSERT(holds(ws, "/out.txt", "after, longer\n", 14));
    /* Nothing stored under the key of "before". */
    memcpy(old_key, outcome(&w1, "p:copy")->key, 32);
    cs = open_store();
    CU_ASSERT_EQUAL(cs->methods->lookup(cs, old_key, 32, &e), HAZ_OK);
    CU_ASSERT(e == NULL);
    CU_ASSERT(!entry_exists(old_key));
    haz_cache_store_close(cs);
    /* The next run derives the key of "after": a miss, then stored. */
    {
        pid = fork();
        CU_ASSERT_FATAL(pid >= 0);
        if (pid == 0) {
            char buf[8];
            int fd;

            alarm(60);
            fd = open(started, O_RDONLY);
            if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0)
                _exit(1);
            close(fd);
            fd = open(resume, O_WRONLY);
            if (fd < 0)
                _exit(3);
            close(fd);
            _exit(0);
        }
        CU_ASSERT_EQUAL_FATAL(wrun_go(&w2, ws, NULL, graph), HAZ_OK);
        CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
        CU_ASSERT_EQUAL(outcome(&w2, "p:copy")->source, HAZ_SOURCE_FRESH);
        CU_ASSERT(memcmp(outcome(&w2, "p:copy")->key, old_key, 32) != 0);
        CU_ASSERT(entry_exists(outcome(&w2, "p:copy")->key));
    }
    wrun_free(&w1);
    wrun_free(&w2);
    end();
}

/* C14 through the input-hash record: content that changes while size and
 * mtime stay changes the key; an mtime that changes while the content
 * stays does not. */
static void test_key_through_record(void)
{
    static const char graph[] =
        "[task p:t]\n"
        "argv = cat f.txt\n"
        "inputs = f.txt\n";
    haz__filestat *rec;
    const haz__gtask *t;
    haz_hazfile *hf;
    haz_diags *d;
    unsigned char k1[32], k2[32], k3[32], k4[32];
    char path[PATH_MAX];
    struct stat st;
    struct timespec ts[2];
    size_t n;

    begin();
    CU_ASSERT_EQUAL_FATAL(haz_diags_new(ctx, &d), HAZ_OK);
    CU_ASSERT_EQUAL_FATAL(haz_hazfile_parse(ctx, "hazfile", graph,
                                            strlen(graph), &hf, d), HAZ_OK);
    haz_diags_free(d);
    t = haz__graph_tasks(hf->graph, &n);
    CU_ASSERT_FATAL(t != NULL && n == 1);
    put(ws, "f.txt", "abcd", 4, 0644);
    pathof(path, sizeof(path), ws, "f.txt");
    CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
    /* Session 1 hashes the file; its epoch is set after the file's
     * stamps, so session 2 would trust the entry. */
    CU_ASSERT_EQUAL_FATAL(haz__filestat_open(ctx, cachedir, &haz_hash_sha256,
                                             &rec), HAZ_OK);
    haz__filestat_set_epoch(rec, (int64_t)HAZ__ST_CTIM(&st).tv_sec + 1);
    CU_ASSERT_EQUAL(haz__task_cache_key(ctx, &haz_hash_sha256, ws, &t[0],
                                        host_env, NULL, 0, rec, NULL, k1),
                    HAZ_OK);
    CU_ASSERT_EQUAL(haz__filestat_reads(rec), 1);
    CU_ASSERT_EQUAL(haz__filestat_save(rec), HAZ_OK);
    haz__filestat_close(rec);
    /* Same size and mtime, other bytes. */
    put(ws, "f.txt", "wxyz", 4, 0644);
    ts[0] = HAZ__ST_MTIM(&st);
    ts[1] = HAZ__ST_MTIM(&st);
    CU_ASSERT_EQUAL_FATAL(utimensat(AT_FDCWD, path, ts, 0), 0);
    CU_ASSERT_EQUAL_FATAL(haz__filestat_open(ctx, cachedir, &haz_hash_sha256,
                                             &rec), HAZ_OK);
    CU_ASSERT_EQUAL(haz__task_cache_key(ctx, &haz_hash_sha256, ws, &t[0],
                                        host_env, NULL, 0, rec, NULL, k2),
                    HAZ_OK);
    CU_ASSERT_EQUAL(haz__filestat_reads(rec), 1);
    CU_ASSERT(memcmp(k1, k2, 32) != 0);
    CU_ASSERT_EQUAL(haz__filestat_save(rec), HAZ_OK);
    haz__filestat_close(rec);
    /* Back to the first bytes, with another mtime: the first key. */
    put(ws, "f.txt", "abcd", 4, 0644);
    ts[0].tv_sec = ts[1].tv_sec = HAZ__ST_MTIM(&st).tv_sec - 3600;
    CU_ASSERT_EQUAL_FATAL(utimensat(AT_FDCWD, path, ts, 0), 0);
    CU_ASSERT_EQUAL_FATAL(haz__filestat_open(ctx, cachedir, &haz_hash_sha256,
                                             &rec), HAZ_OK);
    CU_ASSERT_EQUAL(haz__task_cache_key(ctx, &haz_hash_sha256, ws, &t[0],
                                        host_env, NULL, 0, rec, NULL, k3),
                    HAZ_OK);
    CU_ASSERT(memcmp(k1, k3, 32) == 0);
    haz__filestat_close(rec);
    /* And without the record at all: the same keys. */
    CU_ASSERT_EQUAL(haz__task_cache_key(ctx, &haz_hash_sha256, ws, &t[0],
                                        host_env, NULL, 0, NULL, NULL, k4),
                    HAZ_OK);
    CU_ASSERT(memcmp(k1, k4, 32) == 0);
    haz_hazfile_free(hf);
    end();
}

/* ------------------------------------------------------------------------
 * Suite "io-errors" (C2).
 * ---------------------------------------------------------------------- */

/* The run of the C2 end-to-end test: one task that writes an output. */
static const char c2_graph[] =
    "[task p:a]\n"
    "run = printf 'made a\\n' > a.out && printf 'a ran\\n'\n"
    "outputs = a.out\n";

/* `test_cache_rel --run-child ROOT CACHE MSGFILE`: run c2_graph in ROOT
 * (its default cache) and write the outcome of p:a to MSGFILE as
 * "KIND ERROR ERRNO MESSAGE".  Exit 0, or 2 on a setup error. */
static int run_child(const char *root, const char *msgfile)
{
    wrun w;
    const haz_task_outcome *o;
    FILE *fp;
    int rc = wrun_go(&w, root, NULL, c2_graph);

    if (rc != HAZ_OK || haz_run_result_count(w.res) != 1)
        return 2;
    o = haz_run_result_get(w.res, 0);
    fp = fopen(msgfile, "w");
    if (fp == NULL)
        return 2;
    fprintf(fp, "%d %d %d %s\n", (int)o->kind, (int)o->error, o->os_errno,
            o->message != NULL ? o->message : "");
    if (fclose(fp) != 0)
        return 2;
    wrun_free(&w);
    return 0;
}

/* The note a child left: its first number into *step; 1 when the rest
 * names strerror(err). */
static int read_note(const char *msgfile, int err, int *step)
{
    size_t len;
    unsigned char *b = slurp(msgfile, "", &len);
    int ok;

    *step = 0;
    if (b == NULL)
        return 0;
    b[len] = '\0';
    *step = atoi((char *)b);
    ok = strstr((char *)b, strerror(err)) != NULL;
    if (!ok)
        fprintf(stderr, "\n  [note: %s]", (char *)b);
    free(b);
    return ok;
}

/* 1 when the strace log says a call was injected. */
static int was_injected(const char *log)
{
    size_t len;
    unsigned char *b = slurp(log, "", &len);
    int yes;

    if (b == NULL)
        return 0;
    b[len] = '\0';
    yes = strstr((char *)b, "(INJECTED)") != NULL;
    free(b);
    return yes;
}

/* Run the child `mode` under strace, failing the n-th of `calls` with
 * `errname`; the wait status, *injected when the fault happened. */
static int inject_nth(const char *mode, const char *calls,
                      const char *errname, int n, const char *log,
                      const char *msgfile, int *injected)
{
    char trace[128], inject[192];
    const char *args[8];
    int st;

    (void)snprintf(trace, sizeof(trace), "trace=%s", calls);
    (void)snprintf(inject, sizeof(inject), "inject=%s:error=%s:when=%d",
                   calls, errname, n);
    args[0] = "-o";
    args[1] = log;
    args[2] = "-e";
    args[3] = trace;
    args[4] = "-e";
    args[5] = inject;
    args[6] = NULL;
    (void)unlink(msgfile);
    st = run_strace_mode(args, mode, msgfile);
    *injected = was_injected(log);
    return st;
}

/* C2 (a), (c), (d), (e): the N-th write fails with ENOSPC, fsync with EIO,
 * rename with EXDEV and then EACCES, mkdir with EACCES, for every N until
 * the child gets through.  Each store that meets the fault fails with a
 * message naming the errno (no retry, no trust after a failed fsync);
 * nothing is published for it, and its temporary is gone at once: the
 * cache verifies clean without any clean.  The stores before it stand. */
static void test_store_io_errors(void)
{
    static const struct {
        const char *calls, *errname;
        int err;
    } faults[] = {
        { "?write", "ENOSPC", ENOSPC },                         /* (a) */
        { "?fsync,?fdatasync", "EIO", EIO },                    /* (c) */
        { "?rename,?renameat,?renameat2", "EXDEV", EXDEV },     /* (d) */
        { "?rename,?renameat,?renameat2", "EACCES", EACCES },   /* (d) */
        { "?mkdir,?mkdirat", "EACCES", EACCES },                /* (e) */
    };
    char log[PATH_MAX], msg[PATH_MAX];
    haz_cache_stats cst;
    unsigned char ka[32], kb[32];
    size_t f;

    begin();
    if (!have_strace()) {
        fprintf(stderr, "\n  [skipped: strace is missing or cannot trace]");
        end();
        return;
    }
    pathof(log, sizeof(log), box, "strace.log");
    pathof(msg, sizeof(msg), box, "note");
    key_n(1, ka);
    key_n(2, kb);
    for (f = 0; f < HAZ_ARRAY_LEN(faults); f++) {
        int n, failed = 0, done = 0;

        for (n = 1; n <= 400 && !done; n++) {
            int st, injected, code, step;

            rm_in(ws, "/o");
            st = inject_nth("--store-child", faults[f].calls,
                            faults[f].errname, n, log, msg, &injected);
            CU_ASSERT_FATAL(st != -1);
            CU_ASSERT_FATAL(WIFEXITED(st));
            code = WEXITSTATUS(st);
            if (!injected) {
                CU_ASSERT_EQUAL(code, 0);
                done = 1;
            } else if (code == 1) {
                failed++;
                CU_ASSERT(read_note(msg, faults[f].err, &step));
                /* The stores before the failing one were published, the
                 * failing one was not (A's second store keeps the first). */
                CU_ASSERT_EQUAL(entry_exists(ka), step > 1);
                CU_ASSERT_EQUAL(entry_exists(kb), step > 2);
                if (entry_exists(ka) != (step > 1) ||
                    entry_exists(kb) != (step > 2))
                    fprintf(stderr, "\n  [%s %s #%d: store %d failed, "
                            "A %s, B %s]", faults[f].calls,
                            faults[f].errname, n, step,
                            entry_exists(ka) ? "published" : "absent",
                            entry_exists(kb) ? "published" : "absent");
            } else {
                /* The fault hit the test's own files (3): no store ran. */
                CU_ASSERT_EQUAL(code, 3);
            }
            (void)verify_clean_at(cachedir, "the cache after a fault");
            if (injected && code != 1 && code != 3)
                fprintf(stderr, "\n  [%s %s #%d: exit %d]",
                        faults[f].calls, faults[f].errname, n, code);
            CU_ASSERT_EQUAL(haz_cache_fs_clear(ctx, cachedir, &cst),
                            HAZ_OK);
        }
        CU_ASSERT(done);
        CU_ASSERT(failed > 0);
    }
    rm_in(ws, "/o");
    end();
}

/* C2 (b): a file size limit (ulimit -f) with SIGXFSZ ignored: the copy
 * into the cache fails with EFBIG; no entry, no temporary. */
static void test_store_efbig(void)
{
    char msg[PATH_MAX], *big;
    unsigned char key[32];
    int status, step = 0;
    pid_t pid;

    begin();
    pathof(msg, sizeof(msg), box, "note");
    big = malloc(65536);
    CU_ASSERT_FATAL(big != NULL);
    memset(big, 'x', 65536);
    put(ws, "/big.out", big, 65536, 0644);
    free(big);
    key_n(60, key);
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        struct rlimit rl;
        haz_cache_store *cs;
        haz_cache_output v;
        char host[PATH_MAX];
        int rc;

        rl.rlim_cur = rl.rlim_max = 16384;
        if (signal(SIGXFSZ, SIG_IGN) == SIG_ERR ||
            setrlimit(RLIMIT_FSIZE, &rl) != 0)
            _exit(2);
        cs = open_store_in(ctx, ws, NULL);
        if (cs == NULL)
            _exit(2);
        memset(&v, 0, sizeof(v));
        (void)snprintf(host, sizeof(host), "%s/big.out", ws);
        v.path = "/big.out";
        v.host_path = host;
        v.mode = 0644;
        rc = cs->methods->store(cs, key, 32, &v, 1, "", 0, "", 0, 1);
        if (rc != HAZ_OK)
            note_failure(msg, 1, haz_ctx_errmsg(ctx));
        haz_cache_store_close(cs);
        _exit(rc == HAZ_EIO ? 0 : 1);
    }
    CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CU_ASSERT(read_note(msg, EFBIG, &step));
    CU_ASSERT(!entry_exists(key));
    CU_ASSERT_EQUAL(verify_clean_at(cachedir, "the cache after EFBIG"), 0);
    end();
}

/* C2 (f): ENOSPC at the N-th write of a restore, for every N: the restore
 * fails with a message naming the errno, and each output is the old file
 * (or still absent), never a half-written one; no staging is left. */
static void test_restore_enospc(void)
{
    char log[PATH_MAX], msg[PATH_MAX];
    haz_cache_store *cs;
    unsigned char ka[32];
    int n, failed = 0, done = 0;

    begin();
    if (!have_strace()) {
        fprintf(stderr, "\n  [skipped: strace is missing or cannot trace]");
        end();
        return;
    }
    pathof(log, sizeof(log), box, "strace.log");
    pathof(msg, sizeof(msg), box, "note");
    key_n(1, ka);
    cs = open_store();
    CU_ASSERT_EQUAL_FATAL(store_in(cs, ws, ka, c1_a, 2, "out A", "err A"),
                          HAZ_OK);
    haz_cache_store_close(cs);
    for (n = 1; n <= 400 && !done; n++) {
        int st, injected, code, step;

        rm_in(ws, "/o");
        put(ws, "/o/a", "old a\n", 6, 0644);
        st = inject_nth("--restore-child", "?write", "ENOSPC", n, log, msg,
                        &injected);
        CU_ASSERT_FATAL(st != -1);
        CU_ASSERT_FATAL(WIFEXITED(st));
        code = WEXITSTATUS(st);
        if (!injected) {
            CU_ASSERT_EQUAL(code, 0);
            CU_ASSERT(holds(ws, "/o/a", "aaaa", 4));
            CU_ASSERT(holds(ws, "/o/b", "bbbbbb", 6));
            done = 1;
        } else {
            CU_ASSERT_EQUAL(code, 1);
            failed++;
            CU_ASSERT(read_note(msg, ENOSPC, &step));
            CU_ASSERT(holds(ws, "/o/a", "old a\n", 6) ||
                      holds(ws, "/o/a", "aaaa", 4));
            CU_ASSERT(!exists(ws, "/o/b") || holds(ws, "/o/b", "bbbbbb", 6));
        }
        /* The entry itself is sound: the cache verifies clean. */
        CU_ASSERT_EQUAL(verify_clean_at(cachedir, "the cache after a "
                                        "failed restore"), 1);
    }
    CU_ASSERT(done);
    CU_ASSERT(failed > 0);
    rm_in(ws, "/o");
    end();
}

/* C2 end to end: every fsync of the run fails with EIO.  The task ran and
 * succeeded, but its result cannot be stored: the task is an error
 * (StoreFailed, design 2.16) naming the errno, and nothing is published.
 * The next run, without the fault, misses, runs the task again and
 * stores it. */
static void test_run_store_eio(void)
{
    static const char *const args[] = {
        "-o", "/dev/null", "-e", "trace=?fsync,?fdatasync", "-e",
        "inject=?fsync,?fdatasync:error=EIO", NULL
    };
    char msg[PATH_MAX], text[512];
    size_t len;
    unsigned char *b;
    int st, kind = -1, error = -1, os_errno = -1;
    wrun w;

    begin();
    if (!have_strace()) {
        fprintf(stderr, "\n  [skipped: strace is missing or cannot trace]");
        end();
        return;
    }
    pathof(msg, sizeof(msg), box, "note");
    st = run_strace_mode(args, "--run-child", msg);
    CU_ASSERT_FATAL(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    b = slurp(msg, "", &len);
    CU_ASSERT_FATAL(b != NULL);
    b[len] = '\0';
    CU_ASSERT(sscanf((char *)b, "%d %d %d %511[^\n]", &kind, &error,
                     &os_errno, text) == 4);
    CU_ASSERT_EQUAL(kind, HAZ_OUTCOME_ERRORED);
    CU_ASSERT_EQUAL(error, HAZ_TERR_STORE);
    CU_ASSERT_EQUAL(os_errno, EIO);
    CU_ASSERT(strstr((char *)b, "p:a") != NULL);
    CU_ASSERT(strstr((char *)b, strerror(EIO)) != NULL);
    free(b);
    CU_ASSERT(holds(ws, "/a.out", "made a\n", 7));
    CU_ASSERT_EQUAL(verify_clean_at(cachedir, "the cache after EIO"), 0);
    /* The next run: a miss, the task runs again and is stored. */
    CU_ASSERT_EQUAL_FATAL(wrun_go(&w, ws, NULL, c2_graph), HAZ_OK);
    CU_ASSERT_EQUAL(outcome(&w, "p:a")->source, HAZ_SOURCE_FRESH);
    CU_ASSERT_EQUAL(outcome(&w, "p:a")->state, HAZ_STATE_SUCCEEDED);
    CU_ASSERT(entry_exists(outcome(&w, "p:a")->key));
    wrun_free(&w);
    end();
}

/* ------------------------------------------------------------------------
 * Suite "concurrent".
 * ---------------------------------------------------------------------- */

static const char c11_graph[] =
    "[workspace]\n"
    "concurrency = 2\n"
    "[task p:a]\n"
    "run = mkdir -p out && printf 'a\\n' > out/a && printf 'a out\\n'\n"
    "outputs = out/a\n"
    "[task p:b]\n"
    "run = mkdir -p out && cat out/a out/a > out/b\n"
    "deps = ~:a\n"
    "inputs = out/a\n"
    "outputs = out/b\n"
    "[task p:c]\n"
    "run = mkdir -p out && cat out/b out/a > out/c && printf 'c\\n' >&2\n"
    "deps = ~:b\n"
    "inputs = out/b out/a\n"
    "outputs = out/c\n"
    "[task p:d]\n"
    "argv = echo d says hello\n"
    "[task p:e]\n"
    "run = mkdir -p out && dd if=/dev/zero of=out/e bs=1024 count=64 "
    "2>/dev/null\n"
    "outputs = out/e\n"
    "[task p:f]\n"
    "run = mkdir -p out && printf 'f\\n' > out/f\n"
    "deps = ~:e ~:d\n"
    "outputs = out/f\n"
    "[task p:rand]\n"
    "run = mkdir -p out && od -An -N8 -tx1 /dev/urandom > out/rand && "
    "cat out/rand\n"
    "outputs = out/rand\n";

/* C11: 8 processes, one graph, one empty shared cache, released together;
 * a 9th verifies every entry in a loop meanwhile. */
static void test_concurrent_writers(void)
{
    enum { RUNNERS = 8 };
    char shared[PATH_MAX], keys[PATH_MAX];
    int gate[2], stop[2], status, k;
    pid_t pid[RUNNERS], reader;
    haz_cache_stats st;

    begin();
    pathof(shared, sizeof(shared), box, "shared-cache");
    CU_ASSERT_FATAL(pipe(gate) == 0 && pipe(stop) == 0);
    reader = fork();
    CU_ASSERT_FATAL(reader >= 0);
    if (reader == 0) {
        char c;
        int rounds = 0;

        close(gate[1]);
        close(stop[1]);
        if (fcntl(stop[0], F_SETFL, O_NONBLOCK) != 0)
            _exit(2);
        for (;;) {
            haz_cache_stats s;
            int rc = haz_cache_fs_verify(ctx, shared, &haz_hash_sha256, &s);

            if (rc != HAZ_OK || s.broken != 0)
                _exit(1);
            rounds++;
            if (read(stop[0], &c, 1) == 0)
                break;          /* EOF: the runners are done */
        }
        _exit(rounds > 0 ? 0 : 3);
    }
    for (k = 0; k < RUNNERS; k++) {
        pid[k] = fork();
        CU_ASSERT_FATAL(pid[k] >= 0);
        if (pid[k] == 0) {
            char root[PATH_MAX], c;
            wrun w;
            size_t i;
            FILE *fp;
            int rc;

            close(gate[1]);
            close(stop[0]);
            close(stop[1]);
            (void)snprintf(root, sizeof(root), "%s/run%d", box, k);
            if (mkdir(root, 0777) != 0)
                _exit(2);
            if (read(gate[0], &c, 1) < 0)   /* released at EOF */
                _exit(2);
            close(gate[0]);
            rc = wrun_go(&w, root, shared, c11_graph);
            if (rc != HAZ_OK || haz_exit_code(w.res, 0) != 0)
                _exit(1);
            /* The keys this run derived, for the parent. */
            (void)snprintf(root + strlen(root), sizeof(root) - strlen(root),
                           "/keys");
            fp = fopen(root, "w");
            if (fp == NULL)
                _exit(2);
            for (i = 0; i < haz_run_result_count(w.res); i++) {
                char hex[65];

                haz_hash_hex(haz_run_result_get(w.res, i)->key, 32, hex);
                fprintf(fp, "%s\n", hex);
            }
            if (fclose(fp) != 0)
                _exit(2);
            wrun_free(&w);
            _exit(0);
        }
    }
    close(gate[0]);
    close(gate[1]);             /* go */
    close(stop[0]);
    for (k = 0; k < RUNNERS; k++) {
        CU_ASSERT_EQUAL(waitpid(pid[k], &status, 0), pid[k]);
        CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    close(stop[1]);             /* the reader may stop */
    CU_ASSERT_EQUAL(waitpid(reader, &status, 0), reader);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* Exactly one complete entry per key: the distinct keys of all runs
     * are the entries, and they verify. */
    {
        char seen[RUNNERS * 8][65];
        int n_seen = 0, i;

        for (k = 0; k < RUNNERS; k++) {
            char line[128];
            FILE *fp;

            (void)snprintf(keys, sizeof(keys), "%s/run%d/keys", box, k);
            fp = fopen(keys, "r");
            CU_ASSERT_FATAL(fp != NULL);
            while (fgets(line, sizeof(line), fp) != NULL) {
                line[strcspn(line, "\n")] = '\0';
                for (i = 0; i < n_seen; i++)
                    if (strcmp(seen[i], line) == 0)
                        break;
                if (i == n_seen && n_seen < RUNNERS * 8)
                    memcpy(seen[n_seen++], line, 65);
            }
            fclose(fp);
        }
        CU_ASSERT_EQUAL(haz_cache_fs_verify(ctx, shared, &haz_hash_sha256,
                                            &st), HAZ_OK);
        CU_ASSERT_EQUAL(st.broken, 0);
        CU_ASSERT_EQUAL(st.entries, (uint64_t)n_seen);
        /* Six deterministic tasks share their keys; rand has one key (no
         * input) and a first writer. */
        CU_ASSERT_EQUAL(n_seen, 7);
    }
    /* A later run restores the first writer's rand, whole. */
    {
        char root[PATH_MAX];
        wrun w;

        (void)snprintf(root, sizeof(root), "%s/late", box);
        CU_ASSERT_EQUAL_FATAL(mkdir(root, 0777), 0);
        CU_ASSERT_EQUAL_FATAL(wrun_go(&w, root, shared, c11_graph), HAZ_OK);
        CU_ASSERT_EQUAL(outcome(&w, "p:rand")->source, HAZ_SOURCE_CACHE_HIT);
        CU_ASSERT_EQUAL(haz_exit_code(w.res, 0), 0);
        {
            size_t len;
            unsigned char *b = slurp(root, "out/rand", &len);
            unsigned char h[32];

            CU_ASSERT_FATAL(b != NULL);
            haz_sha256(b, len, h);
            CU_ASSERT(memcmp(h, outcome(&w, "p:rand")->stdout_hash, 32) ==
                      0);
            free(b);
        }
        wrun_free(&w);
    }
    CU_ASSERT_EQUAL(verify_clean_at(shared, "the shared cache"), 7);
    end();
}

/* C12: this process restores 50 entries in a loop while a child deletes
 * random blobs and entries and runs clean with max_bytes 1.  Every
 * restore gives the whole, verified output set, or a miss after which
 * the workspace holds none of the entry's outputs. */
static void test_reader_vs_eviction(void)
{
    enum { ENTRIES = 50, ROUNDS = 4 };
    haz_cache_store *cs;
    int stop[2], status, round, k, hits = 0, misses = 0;
    pid_t evictor;

    begin();
    seed("reader vs eviction");
    cs = open_store();
    CU_ASSERT_FATAL(pipe(stop) == 0);
    evictor = fork();
    CU_ASSERT_FATAL(evictor >= 0);
    if (evictor == 0) {
        uint64_t s = rng();
        char c;

        close(stop[1]);
        if (fcntl(stop[0], F_SETFL, O_NONBLOCK) != 0)
            _exit(2);
        rng_state = s;
        while (read(stop[0], &c, 1) != 0) {
            unsigned char key[32];
            char d[PATH_MAX];
            unsigned r = (unsigned)(rng() % 10);

            key_n(100 + (int)(rng() % ENTRIES), key);
            entry_dir(key, d, sizeof(d));
            if (r < 4) {
                (void)haz__rmtree(d);
            } else if (r < 8) {
                char b[PATH_MAX], t[64];
                size_t len;

                len = (size_t)snprintf(t, sizeof(t), "blob %u", r % 3);
                blob_path(key, t, len, b, sizeof(b));
                (void)unlink(b);
            } else {
                haz_cache_clean_options opt;
                haz_cache_stats st;

                memset(&opt, 0, sizeof(opt));
                opt.max_bytes = 1;
                (void)haz_cache_fs_clean(ctx, cachedir, &opt, clk, &st);
            }
        }
        haz_cache_store_close(cs);  /* the parent's, inherited */
        _exit(0);
    }
    close(stop[0]);
    for (round = 0; round < ROUNDS; round++) {
        for (k = 0; k < ENTRIES; k++) {
            static const char *const names[] = { "/e/0", "/e/1", "/e/2" };
            unsigned char key[32];
            haz_cache_entry *e = NULL;
            ofile o[3];
            char t[3][64];
            size_t j;
            int rc;

            key_n(100 + k, key);
            for (j = 0; j < 3; j++) {
                o[j].len = (size_t)snprintf(t[j], sizeof(t[j]), "blob %u",
                                            (unsigned)j);
                if (j == 2)     /* unique to the entry */
                    o[j].len = (size_t)snprintf(t[j], sizeof(t[j]),
                                                "entry %d", k);
                o[j].data = t[j];
                o[j].path = names[j];
                o[j].mode = 0644;
            }
            rm_in(ws, "/e");
            rc = cs->methods->lookup(cs, key, 32, &e);
            CU_ASSERT(rc == HAZ_OK);
            if (e != NULL) {
                rc = cs->methods->restore(cs, e);
                cs->methods->entry_free(cs, e);
                if (rc == HAZ_OK) {
                    hits++;
                    for (j = 0; j < 3; j++)
                        CU_ASSERT(holds(ws, o[j].path, o[j].data, o[j].len));
                    continue;
                }
                CU_ASSERT_EQUAL(rc, HAZ_ECORRUPT);
                for (j = 0; j < 3; j++)
                    CU_ASSERT(!exists(ws, o[j].path));
            }
            /* A miss: "run" the task again, storing the entry. */
            misses++;
            rc = store_in(cs, ws, key, o, 3, "x", "");
            CU_ASSERT_EQUAL(rc, HAZ_OK);
        }
    }
    close(stop[1]);
    CU_ASSERT_EQUAL(waitpid(evictor, &status, 0), evictor);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CU_ASSERT(hits + misses == ROUNDS * ENTRIES);
    /* Entries the evictor damaged after their last visit are dangling; a
     * lookup removes each, and then the cache verifies. */
    for (k = 0; k < ENTRIES; k++) {
        unsigned char key[32];
        haz_cache_entry *e = NULL;

        key_n(100 + k, key);
        CU_ASSERT_EQUAL(cs->methods->lookup(cs, key, 32, &e), HAZ_OK);
        cs->methods->entry_free(cs, e);
    }
    CU_ASSERT_EQUAL(verify().broken, 0);
    haz_cache_store_close(cs);
    clean_leftovers();
    end();
}

/* ------------------------------------------------------------------------
 * Registration.
 * ---------------------------------------------------------------------- */

static CU_TestInfo crash_tests[] = {
    {"C1 200 kills at random points", test_random_kills},
    {"C1 SIGKILL at every write, fsync, rename, unlink", test_injected_kills},
    {"C1 fsync(temporary), rename, fsync(shard)", test_fsync_order},
    CU_TEST_INFO_NULL
};

static CU_TestInfo hostile_tests[] = {
    {"C3 unreadable blob and stream", test_unreadable},
    {"C3 C9 outputs already in place", test_present_targets},
    {"C4 forged fields with a valid check", test_forged_manifests},
    {"C5 outputs directory gone", test_outputs_dir_gone},
    CU_TEST_INFO_NULL
};

static CU_TestInfo run_tests[] = {
    {"C6 round trip through haz_run", test_round_trip},
    {"C5 a deleted blob runs its task again", test_dangling_rerun},
    {"C13 input changed during the run", test_input_changed_during_run},
    {"C14 keys through the input-hash record", test_key_through_record},
    CU_TEST_INFO_NULL
};

static CU_TestInfo io_error_tests[] = {
    {"C2 (a) (c) (d) (e) a store meets ENOSPC, EIO, EXDEV, EACCES",
     test_store_io_errors},
    {"C2 (b) a file size limit: EFBIG", test_store_efbig},
    {"C2 (f) ENOSPC while restoring", test_restore_enospc},
    {"C2 a run whose store fails: an error, then a miss",
     test_run_store_eio},
    CU_TEST_INFO_NULL
};

static CU_TestInfo concurrent_tests[] = {
    {"C11 concurrent writers", test_concurrent_writers},
    {"C12 reader vs eviction", test_reader_vs_eviction},
    CU_TEST_INFO_NULL
};

int main(int argc, char **argv)
{
    CU_SuiteInfo suites[] = {
        { .pName = "crash", .pInitFunc = suite_init,
          .pCleanupFunc = suite_clean, .pTests = crash_tests },
        { .pName = "hostile", .pInitFunc = suite_init,
          .pCleanupFunc = suite_clean, .pTests = hostile_tests },
        { .pName = "run", .pInitFunc = suite_init,
          .pCleanupFunc = suite_clean, .pTests = run_tests },
        { .pName = "io-errors", .pInitFunc = suite_init,
          .pCleanupFunc = suite_clean, .pTests = io_error_tests },
        { .pName = "concurrent", .pInitFunc = suite_init,
          .pCleanupFunc = suite_clean, .pTests = concurrent_tests },
        CU_SUITE_INFO_NULL
    };

    if ((argc == 4 || argc == 5) && strcmp(argv[1], "--store-child") == 0)
        return store_child(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
    if (argc == 5 && strcmp(argv[1], "--restore-child") == 0)
        return restore_child(argv[2], argv[3], argv[4]);
    if (argc == 5 && strcmp(argv[1], "--run-child") == 0)
        return run_child(argv[2], argv[4]);
    self = argv[0];
    return haz_test_main(argc, argv, suites);
}
