/*
 * backends/cache_fs_restore.c: restore, the two-phase materialisation of
 * a cache hit in the workspace (design 2.16, reference-io.md 3.8,
 * CACHE-019/020, reliability tests C3, C5, C9, C12).
 *
 * Order of work, so that nothing bad ever reaches the workspace:
 *   1. load stdout and stderr, checking size and hash;
 *   2. stage every output: copy its blob (opened without following links,
 *      refused unless a regular file of the recorded size) into
 *      <cache>/.restore-<key>-<random>/, hashing while copying, then set
 *      the recorded mode and fsync;
 *      a mismatch in 1 or 2 removes the entry and returns HAZ_ECORRUPT
 *      (a miss) before any target is touched;
 *   3. check every target: each existing parent component must be a
 *      directory, or a symbolic link whose real path stays inside the
 *      workspace (and outside its .haz directory and the cache); the
 *      target itself must not be a directory;
 *   4. publish: create the missing parents, check the real parent path
 *      once more, and rename each staged file onto its target (a link
 *      at the target is replaced, never followed).  When the cache lives
 *      on another file system the staged file is first copied next to the
 *      target.
 * The staging directory is removed on the way out.
 */
#include "internal.h"
#include "cache_fs.h"
#include "fdutil.h"
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef O_NOFOLLOW
#define O_NOFOLLOW 0
#endif

typedef struct rctx {
    cfs_store *s;
    haz_ctx *ctx;
    cfs_entry *e;
    char *cache_real;           /* realpath of the cache directory */
    haz_buf stage;              /* the staging directory */
    haz_buf a, b;               /* scratch paths */
} rctx;

/* ------------------------------------------------------------------------
 * Phases 1 and 2: verify into memory and into the staging directory.
 * ---------------------------------------------------------------------- */

static int load_stream(rctx *r, const char *name, uint64_t size,
                       const unsigned char *hash, unsigned char **data)
{
    const haz_hash_methods *h = r->e->m.hash;
    unsigned char got[HAZ_HASH_MAX_DIGEST];
    haz_hash_state hs;
    char *text;
    size_t len;
    int rc;

    if (cfs_entry_path(&r->a, r->s->root, r->e->pub.key, r->e->pub.hash_len,
                       name) != HAZ_OK)
        return HAZ_ENOMEM;
    if (size > (uint64_t)SIZE_MAX - 1)
        return haz__error(r->ctx, HAZ_ECORRUPT, "'%s' too large", r->a.data);
    rc = haz__read_file(r->ctx, r->a.data, (size_t)size, &text, &len);
    if (rc == HAZ_ENOENT)
        rc = HAZ_ECORRUPT;      /* removed under us (C12): a miss */
    if (rc != HAZ_OK)
        return rc;
    if (h->context_size > sizeof(hs)) {
        haz__free(r->ctx, text);
        return haz__error(r->ctx, HAZ_ENOTSUP, "hash state too large");
    }
    h->init(&hs);
    h->update(&hs, text, len);
    h->out(&hs, got);
    if (len != size || memcmp(got, hash, h->digest_len) != 0) {
        haz__free(r->ctx, text);
        return haz__error(r->ctx, HAZ_ECORRUPT, "'%s' does not match its "
                          "recorded size and hash", r->a.data);
    }
    *data = (unsigned char *)text;
    return HAZ_OK;
}

static int stage_one(rctx *r, size_t i)
{
    const haz_cache_output *o = &r->e->m.outputs[i];
    const haz_hash_methods *h = r->e->m.hash;
    unsigned char got[HAZ_HASH_MAX_DIGEST];
    struct stat st;
    uint64_t size;
    int in, out, rc = HAZ_OK;

    if (cfs_entry_path(&r->a, r->s->root, r->e->pub.key, r->e->pub.hash_len,
                       NULL) != HAZ_OK || haz__buf_puts(&r->a, "/") ||
        cfs_blob_name(&r->a, o->hash, h->digest_len) != HAZ_OK)
        return HAZ_ENOMEM;
    in = haz__open_read(r->a.data, 1);
    if (in == -1) {
        if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR)
            return haz__error(r->ctx, HAZ_ECORRUPT, "blob '%s' is missing "
                              "or a symbolic link", r->a.data);
        return haz__error_os(r->ctx, HAZ_EIO, errno, "cannot open '%s'",
                             r->a.data);
    }
    if (fstat(in, &st) != 0 || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size != o->size) {
        haz__close(in);
        return haz__error(r->ctx, HAZ_ECORRUPT, "blob '%s' is not a regular "
                          "file of %llu bytes", r->a.data,
                          (unsigned long long)o->size);
    }
    r->b.len = 0;
    if (haz__buf_printf(&r->b, "%s/%lu", r->stage.data,
                        (unsigned long)i) != HAZ_OK) {
        haz__close(in);
        return HAZ_ENOMEM;
    }
    out = haz__open_cloexec(r->b.data, O_WRONLY | O_CREAT | O_EXCL |
                            O_NOFOLLOW, 0600);
    if (out == -1 || cfs_copy(r->ctx, h, in, out, o->size, &size, got) != 0) {
        rc = haz__error_os(r->ctx, errno == ENOMEM ? HAZ_ENOMEM : HAZ_EIO,
                           errno, "cannot stage '%s'", r->a.data);
    } else if (size != o->size || memcmp(got, o->hash, h->digest_len) != 0) {
        rc = haz__error(r->ctx, HAZ_ECORRUPT, "blob '%s' does not match its "
                        "recorded size and hash", r->a.data);
    } else if (fchmod(out, (mode_t)(o->mode & 0777u)) != 0 ||
               fsync(out) != 0) {
        rc = haz__error_os(r->ctx, HAZ_EIO, errno, "cannot stage '%s'",
                           r->a.data);
    }
    haz__close(in);
    if (out != -1 && close(out) != 0 && errno != EINTR && rc == HAZ_OK)
        rc = haz__error_os(r->ctx, HAZ_EIO, errno, "cannot stage '%s'",
                           r->a.data);
    return rc;
}

/* ------------------------------------------------------------------------
 * Phases 3 and 4: the targets.
 * ---------------------------------------------------------------------- */

static int under(const char *path, const char *base)
{
    size_t n = strlen(base);

    if (n == 1 && base[0] == '/')
        return 1;
    return strncmp(path, base, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* The real path of `dir` must lie in the workspace, outside its .haz and
 * the cache.  Puts it in r->b. */
static int check_real(rctx *r, const char *dir, const char *wpath)
{
    char *real = realpath(dir, NULL);
    size_t wl = strlen(r->s->ws_real);
    int ok;

    if (real == NULL)
        return haz__error_os(r->ctx, HAZ_EIO, errno, "cannot restore '%s': "
                             "cannot resolve '%s'", wpath, dir);
    ok = under(real, r->s->ws_real) &&
         !(r->cache_real != NULL && under(real, r->cache_real)) &&
         !under(real + (wl == 1 ? 0 : wl), "/.haz");
    r->b.len = 0;
    if (ok && haz__buf_puts(&r->b, real) != HAZ_OK) {
        free(real);             /* allocated by realpath(3) */
        return HAZ_ENOMEM;
    }
    free(real);
    if (!ok)
        return haz__error(r->ctx, HAZ_EIO, "cannot restore '%s': '%s' leads "
                          "outside the workspace or into the cache", wpath,
                          dir);
    return HAZ_OK;
}

/* r->a = the host path of the first n bytes of workspace path wpath. */
static int ws_join(rctx *r, const char *wpath, size_t n)
{
    r->a.len = 0;
    if (strcmp(r->s->ws, "/") != 0 && haz__buf_puts(&r->a, r->s->ws) != 0)
        return HAZ_ENOMEM;
    return haz__buf_append(&r->a, wpath, n);
}

/* Walk the parent components of workspace path `wpath`.  Existing ones
 * must be directories or links to directories inside the workspace;
 * missing ones are created when `create` is set (else the walk stops
 * there).  With `create` the real parent path is left in r->b. */
static int walk_parents(rctx *r, const char *wpath, int create)
{
    const char *slash = strrchr(wpath, '/');
    size_t i, end = (size_t)(slash - wpath);
    struct stat st;
    int rc;

    for (i = 1; i <= end; i++) {
        if (i < end && wpath[i] != '/')
            continue;
        if (ws_join(r, wpath, i) != HAZ_OK)
            return HAZ_ENOMEM;
        if (lstat(r->a.data, &st) != 0) {
            if (errno != ENOENT)
                return haz__error_os(r->ctx, HAZ_EIO, errno, "cannot "
                                     "restore '%s': '%s'", wpath, r->a.data);
            if (!create)
                return HAZ_OK;
            if (mkdir(r->a.data, 0777) != 0 && errno != EEXIST)
                return haz__error_os(r->ctx, HAZ_EIO, errno, "cannot "
                                     "restore '%s': cannot create '%s'",
                                     wpath, r->a.data);
            if (lstat(r->a.data, &st) != 0)
                return haz__error_os(r->ctx, HAZ_EIO, errno, "cannot "
                                     "restore '%s': '%s'", wpath, r->a.data);
        }
        if (S_ISLNK(st.st_mode)) {
            rc = check_real(r, r->a.data, wpath);
            if (rc != HAZ_OK)
                return rc;
            if (stat(r->a.data, &st) != 0)
                return haz__error_os(r->ctx, HAZ_EIO, errno, "cannot "
                                     "restore '%s': '%s'", wpath, r->a.data);
        }
        if (!S_ISDIR(st.st_mode))
            return haz__error(r->ctx, HAZ_EIO, "cannot restore '%s': '%s' is "
                              "not a directory", wpath, r->a.data);
    }
    if (!create)
        return HAZ_OK;
    if (ws_join(r, wpath, end) != HAZ_OK ||
        (r->a.len == 0 && haz__buf_puts(&r->a, "/") != HAZ_OK))
        return HAZ_ENOMEM;
    return check_real(r, r->a.data, wpath);
}

/* Copy the staged file `src` next to `target` and rename it there (the
 * cache is on another file system). */
static int publish_copy(rctx *r, const char *src, const char *parent,
                        const char *target, unsigned mode)
{
    char rnd[17];
    haz_buf tmp;
    uint64_t size;
    unsigned char d[HAZ_HASH_MAX_DIGEST];
    int in, out = -1, rc = -1;

    haz__random_hex(rnd, 8, ++r->s->counter);
    haz__buf_init(&tmp, r->ctx);
    if (haz__buf_printf(&tmp, "%s/.haz-restore-%s", parent, rnd) != HAZ_OK)
        return HAZ_ENOMEM;
    in = haz__open_read(src, 1);
    if (in != -1)
        out = haz__open_cloexec(tmp.data, O_WRONLY | O_CREAT | O_EXCL |
                                O_NOFOLLOW, 0600);
    if (out != -1 &&
        cfs_copy(r->ctx, r->e->m.hash, in, out, UINT64_MAX, &size, d) == 0 &&
        fchmod(out, (mode_t)(mode & 0777u)) == 0 && fsync(out) == 0 &&
        rename(tmp.data, target) == 0)
        rc = 0;
    if (rc != 0) {
        rc = haz__error_os(r->ctx, HAZ_EIO, errno, "cannot restore '%s'",
                           target);
        if (out != -1)
            (void)unlink(tmp.data);
    }
    haz__close(in);
    haz__close(out);
    haz__buf_free(&tmp);
    return rc;
}

static int publish_one(rctx *r, size_t i, haz_buf *last_parent)
{
    const haz_cache_output *o = &r->e->m.outputs[i];
    const char *base = strrchr(o->path, '/') + 1;
    haz_buf src, target;
    int rc;

    rc = walk_parents(r, o->path, 1);
    if (rc != HAZ_OK)
        return rc;
    haz__buf_init(&src, r->ctx);
    haz__buf_init(&target, r->ctx);
    if (haz__buf_printf(&src, "%s/%lu", r->stage.data,
                        (unsigned long)i) != HAZ_OK ||
        haz__buf_printf(&target, "%s/%s", strcmp(r->b.data, "/") ?
                        r->b.data : "", base) != HAZ_OK) {
        rc = HAZ_ENOMEM;
    } else if (rename(src.data, target.data) != 0) {
        if (errno == EXDEV)
            rc = publish_copy(r, src.data, r->b.data, target.data, o->mode);
        else
            rc = haz__error_os(r->ctx, HAZ_EIO, errno, "cannot restore '%s'",
                               o->path);
    }
    if (rc == HAZ_OK && (last_parent->len != r->b.len ||
                         memcmp(last_parent->data, r->b.data, r->b.len))) {
        (void)haz__fsync_dir(r->b.data);
        last_parent->len = 0;
        if (haz__buf_append(last_parent, r->b.data, r->b.len) != HAZ_OK)
            rc = HAZ_ENOMEM;
    }
    haz__buf_free(&src);
    haz__buf_free(&target);
    return rc;
}

/* ------------------------------------------------------------------------
 * restore.
 * ---------------------------------------------------------------------- */

int cfs_restore(haz_cache_store *cs, haz_cache_entry *entry)
{
    rctx r;
    char hex[2 * HAZ_HASH_MAX_DIGEST + 1];
    unsigned char *out = NULL, *err = NULL;
    haz_buf last;
    size_t i, n;
    int rc = HAZ_OK, staged = 0;

    if (entry == NULL)
        return haz__error(cs->ctx, HAZ_EINVAL, "cache restore: NULL entry");
    memset(&r, 0, sizeof(r));
    r.s = (cfs_store *)cs;
    r.ctx = cs->ctx;
    r.e = (cfs_entry *)entry;
    n = r.e->m.n_outputs;
    haz_hash_hex(entry->key, entry->hash_len, hex);
    haz__buf_init(&r.stage, r.ctx);
    haz__buf_init(&r.a, r.ctx);
    haz__buf_init(&r.b, r.ctx);
    haz__buf_init(&last, r.ctx);
    {
        char *real = realpath(r.s->root, NULL);

        if (real != NULL) {
            r.cache_real = haz__strdup(r.ctx, real);
            free(real);         /* allocated by realpath(3) */
            if (r.cache_real == NULL) {
                rc = HAZ_ENOMEM;
                goto out;
            }
        }
    }
    /* Phases 1 and 2. */
    rc = load_stream(&r, CFS_STDOUT, r.e->m.stdout_size, r.e->m.stdout_hash,
                     &out);
    if (rc == HAZ_OK)
        rc = load_stream(&r, CFS_STDERR, r.e->m.stderr_size,
                         r.e->m.stderr_hash, &err);
    if (rc == HAZ_OK && n > 0) {
        if (cfs_unique_dir(&r.stage, r.s->root, CFS_RESTORE_PREFIX, hex,
                           ++r.s->counter) != 0)
            rc = haz__error_os(r.ctx, errno == ENOMEM ? HAZ_ENOMEM
                               : HAZ_EIO, errno, "cannot create a staging "
                               "directory in '%s'", r.s->root);
        else
            staged = 1;
    }
    for (i = 0; i < n && rc == HAZ_OK; i++)
        rc = stage_one(&r, i);
    if (rc == HAZ_ECORRUPT) {
        char why[512];

        (void)snprintf(why, sizeof(why), "%s", haz_ctx_errmsg(r.ctx));
        cfs_drop_entry(r.s, entry->key, entry->hash_len);
        rc = haz__error(r.ctx, HAZ_ECORRUPT, "cache entry %s removed: %s",
                        hex, why);
        goto out;
    }
    /* Phase 3: nothing is published unless every target is acceptable. */
    for (i = 0; i < n && rc == HAZ_OK; i++) {
        struct stat st;
        const char *wp = r.e->m.outputs[i].path;

        rc = walk_parents(&r, wp, 0);
        if (rc == HAZ_OK && ws_join(&r, wp, strlen(wp)) != HAZ_OK)
            rc = HAZ_ENOMEM;
        if (rc == HAZ_OK && lstat(r.a.data, &st) == 0 && S_ISDIR(st.st_mode))
            rc = haz__error(r.ctx, HAZ_EIO, "cannot restore '%s': a "
                            "directory is in the way",
                            r.e->m.outputs[i].path);
    }
    /* Phase 4. */
    for (i = 0; i < n && rc == HAZ_OK; i++)
        rc = publish_one(&r, i, &last);
out:
    if (staged)
        (void)haz__rmtree(r.stage.data);
    if (rc == HAZ_OK) {
        haz__free(r.ctx, r.e->out_data);
        haz__free(r.ctx, r.e->err_data);
        r.e->out_data = out;
        r.e->err_data = err;
        entry->stdout_data = out;
        entry->stderr_data = err;
    } else {
        haz__free(r.ctx, out);
        haz__free(r.ctx, err);
    }
    haz__free(r.ctx, r.cache_real);
    haz__buf_free(&r.stage);
    haz__buf_free(&r.a);
    haz__buf_free(&r.b);
    haz__buf_free(&last);
    return rc;
}
