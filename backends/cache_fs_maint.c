/*
 * backends/cache_fs_maint.c: maintenance of a filesystem cache (cache.h:
 * haz_cache_fs_info, _verify, _clean, _clear; reference-io.md 3.10;
 * docs/cache-format.md, "Maintenance").
 *
 * Every call starts with one scan of the cache directory that lists the
 * entries (with their creation time, their size on disk, and whether they
 * are broken) and the temporaries (.tmp-, .del- and .restore- directories,
 * filestat.tmp- files).  The scan never follows a symbolic link and never
 * touches anything else it finds.  info checks sizes only, verify re-hashes
 * every stream and blob; clean removes, in this order of priority, broken
 * entries and old temporaries, entries older than a maximum age, and the
 * oldest entries until the cache fits a maximum size; clear removes the
 * cache directory as a whole.
 */
#include "internal.h"
#include "cache_fs.h"
#include "filestat.h"
#include "fsutil.h"
#include "sys.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct ment {
    char *path;                 /* the entry directory */
    char *shard;                /* its parent */
    char hex[2 * HAZ_HASH_MAX_DIGEST + 1];
    int64_t created;
    uint64_t bytes;
    int broken;
    int gone;                   /* removed (or would be, dry run) */
} ment;

typedef struct mtmp {
    char *path;
    int64_t mtime;
    uint64_t bytes;
} mtmp;

typedef struct scan {
    haz_ctx *ctx;
    const char *root;
    const haz_hash_methods *verify;     /* NULL: sizes only */
    ment *e;
    size_t n, cap;
    mtmp *t;
    size_t nt, capt;
} scan;

static void scan_free(scan *sc)
{
    size_t i;

    for (i = 0; i < sc->n; i++) {
        haz__free(sc->ctx, sc->e[i].path);
        haz__free(sc->ctx, sc->e[i].shard);
    }
    for (i = 0; i < sc->nt; i++)
        haz__free(sc->ctx, sc->t[i].path);
    haz__free(sc->ctx, sc->e);
    haz__free(sc->ctx, sc->t);
}

static char *join(haz_ctx *ctx, const char *a, const char *b)
{
    haz_buf buf;

    haz__buf_init(&buf, ctx);
    if (haz__buf_printf(&buf, "%s/%s", a, b) != HAZ_OK) {
        haz__buf_free(&buf);
        return NULL;
    }
    return buf.data;
}

static int is_hex(const char *s, size_t min, size_t max)
{
    size_t n = strspn(s, "0123456789abcdef");

    return s[n] == '\0' && n >= min && n <= max;
}

static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int add_tmp(scan *sc, const char *dir, const char *name,
                   const struct stat *st)
{
    mtmp *t;

    if (sc->nt == sc->capt) {
        size_t cap = sc->capt ? 2 * sc->capt : 16;

        t = haz__reallocarray(sc->ctx, sc->t, cap, sizeof(*t));
        if (t == NULL)
            return HAZ_ENOMEM;
        sc->t = t;
        sc->capt = cap;
    }
    t = &sc->t[sc->nt];
    memset(t, 0, sizeof(*t));
    t->path = join(sc->ctx, dir, name);
    if (t->path == NULL)
        return HAZ_ENOMEM;
    t->mtime = (int64_t)HAZ__ST_MTIM(st).tv_sec;
    if (haz__du(t->path, &t->bytes) != 0)
        t->bytes = 0;
    sc->nt++;
    return HAZ_OK;
}

/* Decide whether the entry is whole: its manifest parses, names the
 * entry's key, and every stream and blob is there with its size (and,
 * when verifying, its hash). */
static int judge(scan *sc, ment *e)
{
    haz_ctx *ctx = sc->ctx;
    cfs_manifest m;
    const haz_hash_methods *h;
    unsigned char key[HAZ_HASH_MAX_DIGEST];
    char *text, *p;
    size_t len, i;
    int rc;

    p = join(ctx, e->path, CFS_MANIFEST);
    if (p == NULL)
        return HAZ_ENOMEM;
    rc = haz__read_file(ctx, p, CFS_MANIFEST_MAX, &text, &len);
    haz__free(ctx, p);
    if (rc == HAZ_ENOMEM)
        return rc;
    if (rc != HAZ_OK) {
        e->broken = 1;
        return HAZ_OK;
    }
    rc = cfs_manifest_parse(ctx, text, len, &m);
    if (rc == HAZ_ENOMEM) {
        cfs_manifest_free(ctx, &m);
        return rc;
    }
    h = m.hash;
    if (rc == HAZ_OK && sc->verify != NULL &&
        strcmp(sc->verify->name, h->name) == 0)
        h = sc->verify;
    if (rc != HAZ_OK || strlen(e->hex) != 2 * h->digest_len ||
        haz_hash_unhex(e->hex, key, h->digest_len) != HAZ_OK ||
        memcmp(key, m.key, h->digest_len) != 0) {
        e->broken = 1;
        cfs_manifest_free(ctx, &m);
        return HAZ_OK;
    }
    e->created = m.created_at;
    for (i = 0; i < m.n_outputs + 2 && !e->broken; i++) {
        haz_buf b;
        uint64_t size;
        const unsigned char *hash;
        struct stat st;

        haz__buf_init(&b, ctx);
        if (i < 2) {
            rc = haz__buf_printf(&b, "%s/%s", e->path,
                                 i == 0 ? CFS_STDOUT : CFS_STDERR);
            size = i == 0 ? m.stdout_size : m.stderr_size;
            hash = i == 0 ? m.stdout_hash : m.stderr_hash;
        } else {
            rc = haz__buf_printf(&b, "%s/", e->path);
            if (rc == HAZ_OK)
                rc = cfs_blob_name(&b, m.outputs[i - 2].hash, h->digest_len);
            size = m.outputs[i - 2].size;
            hash = m.outputs[i - 2].hash;
        }
        if (rc != HAZ_OK) {
            haz__buf_free(&b);
            cfs_manifest_free(ctx, &m);
            return HAZ_ENOMEM;
        }
        if (sc->verify != NULL) {
            rc = cfs_hash_file(ctx, h, b.data, size, hash);
            if (rc == HAZ_ENOMEM) {
                haz__buf_free(&b);
                cfs_manifest_free(ctx, &m);
                return rc;
            }
            e->broken = rc != HAZ_OK;
        } else {
            e->broken = haz__io_lstat(b.data, &st) != 0 ||
                        !S_ISREG(st.st_mode) ||
                        (uint64_t)st.st_size != size;
        }
        haz__buf_free(&b);
    }
    cfs_manifest_free(ctx, &m);
    return HAZ_OK;
}

static int scan_shard(scan *sc, const char *shard, const char *name)
{
    DIR *d = haz__io_opendir(shard);
    struct dirent *de;
    int rc = HAZ_OK;

    if (d == NULL)
        return HAZ_OK;          /* best effort (AUX-028) */
    while (rc == HAZ_OK && (de = haz__io_readdir(d)) != NULL) {
        struct stat st;
        ment *e;
        char *path;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        path = join(sc->ctx, shard, de->d_name);
        if (path == NULL) {
            rc = HAZ_ENOMEM;
            break;
        }
        if (haz__io_lstat(path, &st) != 0) {
            haz__free(sc->ctx, path);
            continue;
        }
        haz__free(sc->ctx, path);
        if (starts(de->d_name, CFS_TMP_PREFIX) ||
            starts(de->d_name, CFS_DEL_PREFIX)) {
            rc = add_tmp(sc, shard, de->d_name, &st);
            continue;
        }
        if (!is_hex(de->d_name, 2, 2 * HAZ_HASH_MAX_DIGEST) ||
            strlen(de->d_name) % 2 != 0 ||
            strncmp(de->d_name, name, 2) != 0 ||
            !(S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode)))
            continue;           /* not ours: left alone */
        if (sc->n == sc->cap) {
            size_t cap = sc->cap ? 2 * sc->cap : 64;

            e = haz__reallocarray(sc->ctx, sc->e, cap, sizeof(*e));
            if (e == NULL) {
                rc = HAZ_ENOMEM;
                break;
            }
            sc->e = e;
            sc->cap = cap;
        }
        e = &sc->e[sc->n];
        memset(e, 0, sizeof(*e));
        memcpy(e->hex, de->d_name, strlen(de->d_name) + 1);
        e->path = join(sc->ctx, shard, de->d_name);
        e->shard = haz__strdup(sc->ctx, shard);
        if (e->path == NULL || e->shard == NULL) {
            haz__free(sc->ctx, e->path);
            haz__free(sc->ctx, e->shard);
            rc = HAZ_ENOMEM;
            break;
        }
        sc->n++;
        if (S_ISLNK(st.st_mode)) {
            e->broken = 1;      /* an entry is never a link */
            continue;
        }
        if (haz__du(e->path, &e->bytes) != 0)
            e->bytes = 0;
        rc = judge(sc, e);
    }
    (void)closedir(d);
    return rc;
}

static int do_scan(scan *sc)
{
    DIR *d = haz__io_opendir(sc->root);
    struct dirent *de;
    int rc = HAZ_OK;

    if (d == NULL) {
        if (errno == ENOENT)
            return HAZ_OK;
        return haz__error_os(sc->ctx, HAZ_EIO, errno, "cannot read the "
                             "cache directory '%s'", sc->root);
    }
    while (rc == HAZ_OK && (de = haz__io_readdir(d)) != NULL) {
        struct stat st;
        char *path = join(sc->ctx, sc->root, de->d_name);

        if (path == NULL) {
            rc = HAZ_ENOMEM;
            break;
        }
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
            haz__io_lstat(path, &st) == 0) {
            if (starts(de->d_name, CFS_RESTORE_PREFIX) ||
                starts(de->d_name, CFS_DEL_PREFIX) ||
                starts(de->d_name, HAZ__FILESTAT_TMP_PREFIX))
                rc = add_tmp(sc, sc->root, de->d_name, &st);
            else if (S_ISDIR(st.st_mode) && strlen(de->d_name) == 2 &&
                     is_hex(de->d_name, 2, 2))
                rc = scan_shard(sc, path, de->d_name);
        }
        haz__free(sc->ctx, path);
    }
    (void)closedir(d);
    return rc;
}

static int start(haz_ctx *ctx, const char *cache_dir, haz_cache_stats *stats,
                 const haz_hash_methods *verify, scan *sc)
{
    size_t i;
    int rc;

    memset(sc, 0, sizeof(*sc));
    if (ctx == NULL)
        return HAZ_EINVAL;
    if (cache_dir == NULL || cache_dir[0] != '/' || stats == NULL)
        return haz__error(ctx, HAZ_EINVAL, "cache: an absolute cache "
                          "directory and a stats struct are required");
    memset(stats, 0, sizeof(*stats));
    sc->ctx = ctx;
    sc->root = cache_dir;
    sc->verify = verify;
    rc = do_scan(sc);
    if (rc != HAZ_OK) {
        scan_free(sc);
        return rc;
    }
    for (i = 0; i < sc->n; i++) {
        if (sc->e[i].broken) {
            stats->broken++;
        } else {
            stats->entries++;
            stats->bytes += sc->e[i].bytes;
        }
    }
    stats->temporaries = sc->nt;
    haz__error_clear(ctx);
    return HAZ_OK;
}

int haz_cache_fs_info(haz_ctx *ctx, const char *cache_dir,
                      haz_cache_stats *stats)
{
    scan sc;
    int rc = start(ctx, cache_dir, stats, NULL, &sc);

    if (rc == HAZ_OK)
        scan_free(&sc);
    return rc;
}

int haz_cache_fs_verify(haz_ctx *ctx, const char *cache_dir,
                        const haz_hash_methods *hash, haz_cache_stats *stats)
{
    scan sc;
    int rc;

    if (ctx != NULL && hash == NULL)
        return haz__error(ctx, HAZ_EINVAL, "cache verify: no hash");
    rc = start(ctx, cache_dir, stats, hash, &sc);
    if (rc != HAZ_OK)
        return rc;
    scan_free(&sc);
    if (stats->broken > 0)
        return haz__error(ctx, HAZ_ECORRUPT, "cache '%s': %llu broken "
                          "entries", cache_dir,
                          (unsigned long long)stats->broken);
    return HAZ_OK;
}

/* Oldest first; ties by key, so the order is total. */
static int cmp_age(const void *a, const void *b)
{
    const ment *x = *(const ment *const *)a, *y = *(const ment *const *)b;

    if (x->created != y->created)
        return x->created < y->created ? -1 : 1;
    return strcmp(x->hex, y->hex);
}

static int evict(scan *sc, ment *e, const haz_cache_clean_options *opt,
                 haz_cache_stats *stats, uint64_t salt)
{
    e->gone = 1;
    if (!opt->dry_run &&
        cfs_remove_dir(sc->ctx, e->shard, e->path, e->hex, salt) != 0)
        return haz__error_os(sc->ctx, HAZ_EIO, errno, "cannot remove '%s'",
                             e->path);
    stats->removed++;
    stats->removed_bytes += e->bytes;
    return HAZ_OK;
}

int haz_cache_fs_clean(haz_ctx *ctx, const char *cache_dir,
                       const haz_cache_clean_options *opt, haz_clock *clock,
                       haz_cache_stats *stats)
{
    scan sc;
    ment **live = NULL;
    size_t i, n_live = 0;
    uint64_t total = 0;
    int64_t now = 0;
    int rc, first = HAZ_OK;

    if (ctx == NULL)
        return HAZ_EINVAL;
    if (opt == NULL || opt->max_age_s < 0 ||
        ((opt->broken || opt->max_age_s > 0) && clock == NULL))
        return haz__error(ctx, HAZ_EINVAL, "cache clean: bad options (a "
                          "clock is needed for ages)");
    rc = start(ctx, cache_dir, stats, NULL, &sc);
    if (rc != HAZ_OK)
        return rc;
    if (clock != NULL)
        now = haz_clock_wall_seconds(clock);
    /* Priority 1: broken entries and old temporaries (CACHE-022). */
    for (i = 0; opt->broken && i < sc.n; i++)
        if (sc.e[i].broken && (rc = evict(&sc, &sc.e[i], opt, stats,
                                          i)) != HAZ_OK && first == HAZ_OK)
            first = rc;
    for (i = 0; opt->broken && i < sc.nt; i++) {
        if (sc.t[i].mtime > now - HAZ_CACHE_TMP_GRACE_S)
            continue;
        if (!opt->dry_run && haz__rmtree(sc.t[i].path) != 0) {
            if (first == HAZ_OK)
                first = haz__error_os(ctx, HAZ_EIO, errno, "cannot remove "
                                      "'%s'", sc.t[i].path);
            continue;
        }
        stats->removed++;
        stats->removed_bytes += sc.t[i].bytes;
    }
    /* Priority 2: by age (strictly older than now - max_age). */
    for (i = 0; opt->max_age_s > 0 && i < sc.n; i++)
        if (!sc.e[i].broken && !sc.e[i].gone &&
            sc.e[i].created < now - opt->max_age_s &&
            (rc = evict(&sc, &sc.e[i], opt, stats, i)) != HAZ_OK &&
            first == HAZ_OK)
            first = rc;
    /* Priority 3: by size, oldest first. */
    if (opt->max_bytes > 0 && sc.n > 0) {
        live = haz__reallocarray(ctx, NULL, sc.n, sizeof(*live));
        if (live == NULL) {
            scan_free(&sc);
            return HAZ_ENOMEM;
        }
        for (i = 0; i < sc.n; i++)
            if (!sc.e[i].broken && !sc.e[i].gone) {
                live[n_live++] = &sc.e[i];
                total += sc.e[i].bytes;
            }
        qsort(live, n_live, sizeof(*live), cmp_age);
        for (i = 0; i < n_live && total > opt->max_bytes; i++) {
            total -= live[i]->bytes;
            if ((rc = evict(&sc, live[i], opt, stats, i)) != HAZ_OK &&
                first == HAZ_OK)
                first = rc;
        }
        haz__free(ctx, live);
    }
    scan_free(&sc);
    return first;
}

int haz_cache_fs_clear(haz_ctx *ctx, const char *cache_dir,
                       haz_cache_stats *stats)
{
    scan sc;
    uint64_t bytes = 0;
    int rc = start(ctx, cache_dir, stats, NULL, &sc);

    if (rc != HAZ_OK)
        return rc;
    scan_free(&sc);
    if (haz__du(cache_dir, &bytes) != 0)
        bytes = 0;
    if (haz__rmtree(cache_dir) != 0)
        return haz__error_os(ctx, HAZ_EIO, errno, "cannot clear the cache "
                             "directory '%s'", cache_dir);
    stats->removed = stats->entries + stats->broken + stats->temporaries;
    stats->removed_bytes = bytes;
    return HAZ_OK;
}
