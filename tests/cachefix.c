/*
 * tests/cachefix.c: the fixture shared by the tests of the filesystem cache
 * store; the contract is in tests/cachefix.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "cachefix.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"

haz_ctx *ctx;
haz_clock *clk;
char box[1024], ws[1100], canary[1100], cachedir[1200];
unsigned char canary_sig[32];

static int fds_at_start;

/* ------------------------------------------------------------------------
 * Files.
 * ---------------------------------------------------------------------- */

void pathof(char *buf, size_t n, const char *base, const char *rel)
{
    int k = snprintf(buf, n, "%s%s%s", base,
                     rel[0] == '/' || rel[0] == '\0' ? "" : "/", rel);

    CU_ASSERT_FATAL(k > 0 && (size_t)k < n);
}

void mkparents(const char *file)
{
    char d[PATH_MAX];
    char *slash;

    (void)snprintf(d, sizeof(d), "%s", file);
    slash = strrchr(d, '/');
    if (slash != NULL && slash != d) {
        *slash = '\0';
        CU_ASSERT_EQUAL_FATAL(haz__mkdir_p(d, 0777), 0);
    }
}

void put(const char *base, const char *rel, const void *data, size_t len,
         unsigned mode)
{
    char p[PATH_MAX];

    pathof(p, sizeof(p), base, rel);
    mkparents(p);
    (void)unlink(p);
    CU_ASSERT_EQUAL_FATAL(haz_test_write_file(p, data, len), 0);
    CU_ASSERT_EQUAL_FATAL(chmod(p, (mode_t)mode), 0);
}

unsigned char *slurp(const char *base, const char *rel, size_t *len)
{
    char p[PATH_MAX];
    struct stat st;
    unsigned char *buf;
    long n;
    int fd;

    pathof(p, sizeof(p), base, rel);
    *len = 0;
    fd = open(p, O_RDONLY | O_NONBLOCK);
    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return NULL;
    }
    buf = malloc((size_t)st.st_size + 1);
    CU_ASSERT_FATAL(buf != NULL);
    n = haz_test_read_fd(fd, buf, (size_t)st.st_size + 1);
    close(fd);
    CU_ASSERT_FATAL(n >= 0);
    *len = (size_t)n;
    return buf;
}

long get(const char *base, const char *rel, char *buf, size_t cap)
{
    char p[PATH_MAX];
    long n;
    int fd;

    if (snprintf(p, sizeof(p), "%s%s%s", base, rel[0] == '/' ? "" : "/",
                 rel) >= (int)sizeof(p))
        return -1;
    fd = open(p, O_RDONLY);
    if (fd < 0)
        return -1;
    n = haz_test_read_fd(fd, buf, cap);
    close(fd);
    return n;
}

int holds(const char *base, const char *rel, const void *data, size_t len)
{
    size_t n;
    unsigned char *b = slurp(base, rel, &n);
    int ok = b != NULL && n == len && memcmp(b, data, len) == 0;

    free(b);
    return ok;
}

int lstat_of(const char *base, const char *rel, struct stat *st)
{
    char p[PATH_MAX];

    if (snprintf(p, sizeof(p), "%s%s%s", base,
                 rel[0] == '/' || rel[0] == '\0' ? "" : "/", rel) >=
        (int)sizeof(p)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return lstat(p, st);
}

int exists(const char *base, const char *rel)
{
    struct stat st;

    return lstat_of(base, rel, &st) == 0;
}

unsigned mode_of(const char *base, const char *rel)
{
    struct stat st;

    if (lstat_of(base, rel, &st) != 0)
        return 0xffff;
    return (unsigned)st.st_mode & 07777u;
}

void rm_in(const char *base, const char *rel)
{
    char p[PATH_MAX];

    pathof(p, sizeof(p), base, rel);
    (void)haz_test_rmtree(p);
}

/* The signature of a tree: names, kinds, modes, contents, link targets,
 * in name order. */
static void sig_tree(haz_sha256_ctx *h, const char *dir, int depth)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char names[64][256];
    int n = 0, i, j;

    if (d == NULL || depth > 8) {
        if (d != NULL)
            closedir(d);
        return;
    }
    while ((de = readdir(d)) != NULL && n < 64)
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            (void)snprintf(names[n++], 256, "%s", de->d_name);
    closedir(d);
    for (i = 1; i < n; i++)         /* insertion sort */
        for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char t[256];

            memcpy(t, names[j], 256);
            memcpy(names[j], names[j - 1], 256);
            memcpy(names[j - 1], t, 256);
        }
    for (i = 0; i < n; i++) {
        char p[PATH_MAX], buf[4096];
        struct stat st;

        pathof(p, sizeof(p), dir, names[i]);
        haz_sha256_update(h, names[i], strlen(names[i]) + 1);
        if (lstat(p, &st) != 0)
            continue;
        haz_sha256_update(h, &st.st_mode, sizeof(st.st_mode));
        if (S_ISDIR(st.st_mode)) {
            sig_tree(h, p, depth + 1);
        } else if (S_ISLNK(st.st_mode)) {
            ssize_t k = readlink(p, buf, sizeof(buf));

            if (k > 0)
                haz_sha256_update(h, buf, (size_t)k);
        } else if (S_ISREG(st.st_mode)) {
            size_t len;
            unsigned char *b = slurp(dir, names[i], &len);

            if (b != NULL)
                haz_sha256_update(h, b, len);
            free(b);
        }
    }
}

void sig_of(const char *dir, unsigned char *out)
{
    haz_sha256_ctx h;

    haz_sha256_init(&h);
    sig_tree(&h, dir, 0);
    haz_sha256_out(&h, out);
}

static int count_fds(void)
{
    int fd, n = 0;

    for (fd = 0; fd < 256; fd++)
        if (fcntl(fd, F_GETFD) != -1)
            n++;
    return n;
}

/* ------------------------------------------------------------------------
 * Suites and tests.
 * ---------------------------------------------------------------------- */

int suite_init(void)
{
    if (haz_ctx_new(&ctx, NULL) != HAZ_OK)
        return 1;
    return haz_clock_open(ctx, &haz_clock_mock, NULL, &clk) == HAZ_OK ? 0
                                                                      : 1;
}

int suite_clean(void)
{
    haz_clock_close(clk);
    haz_ctx_free(ctx);
    clk = NULL;
    ctx = NULL;
    return 0;
}

void begin(void)
{
    char tmp[PATH_MAX], real[PATH_MAX];

    CU_ASSERT_FATAL(haz_test_mkdtemp(tmp, sizeof(tmp), "cache") != NULL);
    CU_ASSERT_FATAL(realpath(tmp, real) != NULL && strlen(real) < 1000);
    (void)snprintf(box, sizeof(box), "%s", real);
    (void)snprintf(ws, sizeof(ws), "%s/ws", box);
    (void)snprintf(canary, sizeof(canary), "%s/canary", box);
    (void)snprintf(cachedir, sizeof(cachedir), "%s/.haz/cache", ws);
    CU_ASSERT_EQUAL_FATAL(mkdir(ws, 0777), 0);
    CU_ASSERT_EQUAL_FATAL(mkdir(canary, 0777), 0);
    put(canary, "f", "canary\n", 7, 0644);
    put(canary, "sub/g", "canary g\n", 9, 0644);
    sig_of(canary, canary_sig);
    fds_at_start = count_fds();
}

/* The checks of end() and end_broken(): INV-WORKSPACE, INV-FD, and the
 * verify of the workspace cache (INV-CACHE) with `broken` broken
 * entries. */
static void finish(uint64_t broken)
{
    unsigned char now[32];
    haz_cache_stats st;
    int rc;

    sig_of(canary, now);
    CU_ASSERT(memcmp(now, canary_sig, 32) == 0);
    CU_ASSERT_EQUAL(count_fds(), fds_at_start);
    (void)chmod(ws, 0777);
    rc = haz_cache_fs_verify(ctx, cachedir, &haz_hash_sha256, &st);
    CU_ASSERT_EQUAL(rc, broken == 0 ? HAZ_OK : HAZ_ECORRUPT);
    CU_ASSERT_EQUAL(st.broken, broken);
    CU_ASSERT_EQUAL(st.temporaries, 0);
    if (st.broken != broken || st.temporaries != 0 ||
        rc != (broken == 0 ? HAZ_OK : HAZ_ECORRUPT))
        fprintf(stderr, "\n  [verify of the workspace cache: %d, %llu "
                "entries, %llu broken (want %llu), %llu temporaries]", rc,
                (unsigned long long)st.entries,
                (unsigned long long)st.broken, (unsigned long long)broken,
                (unsigned long long)st.temporaries);
    (void)haz_test_rmtree(box);
}

void end(void)
{
    finish(0);
}

void end_broken(uint64_t broken)
{
    finish(broken);
}

/* ------------------------------------------------------------------------
 * The store.
 * ---------------------------------------------------------------------- */

haz_cache_store *open_store_in(haz_ctx *c, const char *root,
                               const char *cache)
{
    haz_cache_store_config cfg;
    haz_cache_store *cs = NULL;

    memset(&cfg, 0, sizeof(cfg));
    cfg.version = 1;
    cfg.workspace_root = root;
    cfg.cache_dir = cache;
    cfg.hash = &haz_hash_sha256;
    cfg.clock = clk;
    if (haz_cache_store_open(c, &haz_cache_store_fs, &cfg, &cs) != HAZ_OK)
        return NULL;
    return cs;
}

haz_cache_store *open_store(void)
{
    haz_cache_store *cs = open_store_in(ctx, ws, NULL);

    CU_ASSERT_FATAL(cs != NULL);
    return cs;
}

void key_n(int i, unsigned char *key)
{
    char s[32];

    (void)snprintf(s, sizeof(s), "key %d", i);
    haz_sha256(s, strlen(s), key);
}

int store_at(haz_cache_store *cs, const char *root, const unsigned char *key,
             const ofile *o, size_t n, const char *out, size_t out_len,
             const char *err, size_t err_len, int64_t created)
{
    haz_cache_output v[8];
    char host[8][PATH_MAX];
    size_t i;

    if (n > 8)
        return -1;
    memset(v, 0, sizeof(v));
    for (i = 0; i < n; i++) {
        char *slash;

        if (snprintf(host[i], sizeof(host[i]), "%s%s", root, o[i].path) >=
            (int)sizeof(host[i]))
            return -1;
        slash = strrchr(host[i], '/');
        *slash = '\0';
        if (haz__mkdir_p(host[i], 0777) != 0)
            return -1;
        *slash = '/';
        (void)unlink(host[i]);
        if (haz_test_write_file(host[i], o[i].data, o[i].len) != 0 ||
            chmod(host[i], (mode_t)o[i].mode) != 0)
            return -1;
        v[i].path = o[i].path;
        v[i].host_path = host[i];
        v[i].mode = o[i].mode;
    }
    return cs->methods->store(cs, key, 32, v, n, out, out_len, err, err_len,
                              created);
}

void entry_dir(const unsigned char *key, char *buf, size_t n)
{
    char hex[65];

    haz_hash_hex(key, 32, hex);
    (void)snprintf(buf, n, "%s/%.2s/%s", cachedir, hex, hex);
}

int entry_exists(const unsigned char *key)
{
    char d[PATH_MAX];
    struct stat st;

    entry_dir(key, d, sizeof(d));
    return lstat(d, &st) == 0;
}

void blob_path(const unsigned char *key, const char *data, size_t len,
               char *buf, size_t n)
{
    char d[2048], hex[65];
    unsigned char h[32];

    entry_dir(key, d, sizeof(d));
    haz_sha256(data, len, h);
    haz_hash_hex(h, 32, hex);
    (void)snprintf(buf, n, "%s/outputs/%s", d, hex);
}

haz_cache_stats info(void)
{
    haz_cache_stats st;

    CU_ASSERT_EQUAL(haz_cache_fs_info(ctx, cachedir, &st), HAZ_OK);
    return st;
}

haz_cache_stats verify(void)
{
    haz_cache_stats st;
    int rc = haz_cache_fs_verify(ctx, cachedir, &haz_hash_sha256, &st);

    CU_ASSERT(rc == HAZ_OK || rc == HAZ_ECORRUPT);
    return st;
}

uint64_t verify_clean_at(const char *dir, const char *what)
{
    haz_cache_stats st;
    int rc = haz_cache_fs_verify(ctx, dir, &haz_hash_sha256, &st);

    CU_ASSERT_EQUAL(rc, HAZ_OK);
    CU_ASSERT_EQUAL(st.broken, 0);
    CU_ASSERT_EQUAL(st.temporaries, 0);
    if (rc != HAZ_OK || st.broken != 0 || st.temporaries != 0)
        fprintf(stderr, "\n  [verify of %s: %d, %llu broken, %llu "
                "temporaries]", what, rc, (unsigned long long)st.broken,
                (unsigned long long)st.temporaries);
    return st.entries;
}

void clean_leftovers(void)
{
    haz_cache_clean_options opt;
    haz_cache_stats st;

    memset(&opt, 0, sizeof(opt));
    opt.broken = 1;
    CU_ASSERT_EQUAL(haz_clock_mock_set_wall(clk, (int64_t)time(NULL) +
                                            HAZ_CACHE_TMP_GRACE_S + 5),
                    HAZ_OK);
    CU_ASSERT_EQUAL(haz_cache_fs_clean(ctx, cachedir, &opt, clk, &st),
                    HAZ_OK);
    CU_ASSERT_EQUAL(haz_cache_fs_info(ctx, cachedir, &st), HAZ_OK);
    CU_ASSERT_EQUAL(st.temporaries, 0);
    CU_ASSERT_EQUAL(st.broken, 0);
}
