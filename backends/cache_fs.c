/*
 * backends/cache_fs.c: the filesystem cache store, haz_cache_store_fs
 * (design 2.16, reference-io.md 3.4-3.8, docs/cache-format.md).
 *
 * This file holds the methods table, open and close, lookup and
 * entry_free; store, restore, the manifest and the I/O helpers live in the
 * other backends/cache_fs_*.c files (see cache_fs.h).
 *
 * Lookup (CACHE-014..016) parses the manifest and checks, without reading
 * any content, that the stream files and every output blob exist as
 * regular files of the recorded sizes.  A missing entry is a plain miss.
 * A corrupt or dangling one (bad manifest, wrong key, a file missing or of
 * the wrong size) is a miss too, but it is removed so that the fresh run
 * can store a good entry in its place, and the context's error says what
 * was wrong.  An entry written by another revision of the format or under
 * another hash is a miss that is left alone.
 */
#include "internal.h"
#include "cache_fs.h"
#include "filestat.h"
#include "fsutil.h"
#include "sys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------------
 * Open and close.
 * ---------------------------------------------------------------------- */

static char *dup_trimmed(haz_ctx *ctx, const char *path)
{
    size_t n = strlen(path);

    while (n > 1 && path[n - 1] == '/')
        n--;
    return haz__strndup(ctx, path, n);
}

static void fs_close(haz_cache_store *cs)
{
    cfs_store *s = (cfs_store *)cs;

    /* Best effort: a record not saved only means that the outputs it
     * knew are read once more by the next restore. */
    if (s->rec != NULL)
        (void)haz__filestat_save(s->rec);
    haz__filestat_close(s->rec);
    s->rec = NULL;
    s->rec_tried = 0;
    haz__free(cs->ctx, s->ws);
    haz__free(cs->ctx, s->ws_real);
    haz__free(cs->ctx, s->root);
    haz__free(cs->ctx, s->root_real);
    s->ws = s->ws_real = s->root = s->root_real = NULL;
}

static int fs_open(haz_cache_store *cs, const haz_cache_store_config *cfg)
{
    cfs_store *s = (cfs_store *)cs;
    haz_ctx *ctx = cs->ctx;
    char *real;

    s->hash = cfg->hash;
    s->clock = cfg->clock;
    s->ws = dup_trimmed(ctx, cfg->workspace_root);
    if (s->ws == NULL)
        return HAZ_ENOMEM;
    real = realpath(s->ws, NULL);
    if (real == NULL) {
        int e = errno;

        fs_close(cs);
        return haz__error_os(ctx, e == ENOMEM ? HAZ_ENOMEM : HAZ_EINVAL, e,
                             "cache: workspace root '%s'",
                             cfg->workspace_root);
    }
    s->ws_real = haz__strdup(ctx, real);
    free(real);                 /* allocated by realpath(3) */
    if (cfg->cache_dir != NULL) {
        s->root = dup_trimmed(ctx, cfg->cache_dir);
    } else {
        haz_buf b;

        haz__buf_init(&b, ctx);
        if (haz__buf_printf(&b, "%s/.haz/cache",
                            strcmp(s->ws, "/") == 0 ? "" : s->ws) == HAZ_OK)
            s->root = b.data;
        else
            haz__buf_free(&b);
    }
    if (s->ws_real == NULL || s->root == NULL) {
        fs_close(cs);
        return HAZ_ENOMEM;
    }
    cs->methods = &haz_cache_store_fs;
    return HAZ_OK;
}

/* ------------------------------------------------------------------------
 * Lookup.
 * ---------------------------------------------------------------------- */

void cfs_drop_entry(cfs_store *s, const unsigned char *key, size_t key_len)
{
    haz_ctx *ctx = s->base.ctx;
    char hex[2 * HAZ_HASH_MAX_DIGEST + 1];
    haz_buf dir, shard;

    haz_hash_hex(key, key_len, hex);
    haz__buf_init(&dir, ctx);
    haz__buf_init(&shard, ctx);
    if (cfs_entry_path(&dir, s->root, key, key_len, NULL) == HAZ_OK &&
        haz__buf_printf(&shard, "%s/%.2s", s->root, hex) == HAZ_OK)
        (void)cfs_remove_dir(ctx, shard.data, dir.data, hex, ++s->counter);
    haz__buf_free(&dir);
    haz__buf_free(&shard);
}

/* 0 when `path` is a regular file of `size` bytes (not a link), 1 when it
 * is not, HAZ_EIO when it cannot be told. */
static int check_file(haz_ctx *ctx, const char *path, uint64_t size)
{
    struct stat st;

    if (haz__io_lstat(path, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 1;
        return haz__error_os(ctx, HAZ_EIO, errno, "cannot stat '%s'", path);
    }
    return S_ISREG(st.st_mode) && (uint64_t)st.st_size == size ? 0 : 1;
}

/* Check that the files of the entry exist with their recorded sizes.
 * Returns 0, 1 (dangling; the context says which file) or HAZ_EIO,
 * HAZ_ENOMEM. */
static int check_files(cfs_store *s, const unsigned char *key, size_t kl,
                       const cfs_manifest *m)
{
    haz_ctx *ctx = s->base.ctx;
    haz_buf p;
    size_t i, base;
    int rc;

    haz__buf_init(&p, ctx);
    rc = cfs_entry_path(&p, s->root, key, kl, NULL);
    if (rc != HAZ_OK)
        goto out;
    base = p.len;
    for (i = 0; i < m->n_outputs + 2 && rc == HAZ_OK; i++) {
        uint64_t size;

        p.len = base;
        if (haz__buf_puts(&p, "/") != HAZ_OK) {
            rc = HAZ_ENOMEM;
            break;
        }
        if (i == 0) {
            rc = haz__buf_puts(&p, CFS_STDOUT);
            size = m->stdout_size;
        } else if (i == 1) {
            rc = haz__buf_puts(&p, CFS_STDERR);
            size = m->stderr_size;
        } else {
            const haz_cache_output *o = &m->outputs[i - 2];

            rc = cfs_blob_name(&p, o->hash, m->hash->digest_len);
            size = o->size;
        }
        if (rc == HAZ_OK && (rc = check_file(ctx, p.data, size)) == 1)
            haz__error(ctx, HAZ_ECORRUPT, "'%s' is missing or not of its "
                       "recorded size", p.data);
    }
out:
    haz__buf_free(&p);
    return rc;
}

static int fs_lookup(haz_cache_store *cs, const unsigned char *key,
                     size_t key_len, haz_cache_entry **entry)
{
    cfs_store *s = (cfs_store *)cs;
    haz_ctx *ctx = cs->ctx;
    char hex[2 * HAZ_HASH_MAX_DIGEST + 1];
    cfs_manifest m;
    cfs_entry *e;
    haz_buf path;
    char *text;
    size_t len;
    int rc;

    if (entry == NULL || key == NULL)
        return haz__error(ctx, HAZ_EINVAL, "cache lookup: NULL argument");
    *entry = NULL;
    if (key_len != s->hash->digest_len)
        return haz__error(ctx, HAZ_EINVAL, "cache lookup: key of %lu bytes",
                          (unsigned long)key_len);
    haz_hash_hex(key, key_len, hex);
    haz__buf_init(&path, ctx);
    rc = cfs_entry_path(&path, s->root, key, key_len, CFS_MANIFEST);
    if (rc == HAZ_OK)
        rc = haz__read_file(ctx, path.data, CFS_MANIFEST_MAX, &text, &len);
    haz__buf_free(&path);
    if (rc == HAZ_ENOENT) {
        haz__error_clear(ctx);
        return HAZ_OK;
    }
    if (rc == HAZ_ECORRUPT)
        goto drop;
    if (rc != HAZ_OK)
        return rc;
    rc = cfs_manifest_parse(ctx, text, len, &m);
    if (rc == HAZ_OK && (strcmp(m.hash->name, s->hash->name) != 0 ||
                         m.hash->digest_len != key_len))
        rc = haz__error(ctx, HAZ_ENOTSUP, "cache entry %s was stored under "
                        "the hash '%s'", hex, m.hash->name);
    if (rc == HAZ_OK && memcmp(m.key, key, key_len) != 0)
        rc = haz__error(ctx, HAZ_ECORRUPT, "manifest names another key");
    if (rc == HAZ_OK) {
        rc = check_files(s, key, key_len, &m);
        if (rc == 1)
            rc = HAZ_ECORRUPT;
    }
    if (rc != HAZ_OK) {
        cfs_manifest_free(ctx, &m);
        if (rc == HAZ_ENOTSUP)
            return HAZ_OK;      /* foreign: a miss, left alone */
        if (rc == HAZ_ECORRUPT)
            goto drop;
        return rc;
    }
    e = haz__calloc(ctx, 1, sizeof(*e));
    if (e == NULL) {
        cfs_manifest_free(ctx, &m);
        return HAZ_ENOMEM;
    }
    e->m = m;
    e->pub.hash_len = key_len;
    memcpy(e->pub.key, key, key_len);
    e->pub.created_at = m.created_at;
    e->pub.stdout_size = m.stdout_size;
    e->pub.stderr_size = m.stderr_size;
    memcpy(e->pub.stdout_hash, m.stdout_hash, key_len);
    memcpy(e->pub.stderr_hash, m.stderr_hash, key_len);
    e->pub.outputs = m.outputs;
    e->pub.n_outputs = m.n_outputs;
    haz__error_clear(ctx);
    *entry = &e->pub;
    return HAZ_OK;
drop:
    /* A corrupt or dangling entry: a miss, removed so that the fresh run
     * can store a good one (CACHE-016, C4/C5); the reason stays in the
     * context. */
    {
        char why[512];

        (void)snprintf(why, sizeof(why), "%s", haz_ctx_errmsg(ctx));
        cfs_drop_entry(s, key, key_len);
        haz__error(ctx, HAZ_ECORRUPT, "cache entry %s removed: %s", hex,
                   why);
    }
    return HAZ_OK;
}

static void fs_entry_free(haz_cache_store *cs, haz_cache_entry *entry)
{
    cfs_entry *e = (cfs_entry *)entry;

    if (e == NULL)
        return;
    cfs_manifest_free(cs->ctx, &e->m);
    haz__free(cs->ctx, e->out_data);
    haz__free(cs->ctx, e->err_data);
    haz__free(cs->ctx, e);
}

const haz_cache_store_methods haz_cache_store_fs = {
    HAZ_CACHE_STORE_METHODS_VERSION,    /* version */
    "fs",                               /* name */
    sizeof(cfs_store),                  /* state_size */
    fs_open,                            /* open */
    fs_close,                           /* close */
    fs_lookup,                          /* lookup */
    cfs_restore,                        /* restore */
    cfs_store_entry,                    /* store */
    fs_entry_free                       /* entry_free */
};
