/*
 * backends/cache_fs_restore.c: restore, the two-phase materialisation of
 * a cache hit in the workspace (design 2.16, reference-io.md 3.8,
 * CACHE-019/020, reliability tests C3, C5, C9, C12).
 *
 * Order of work, so that nothing bad ever reaches the workspace:
 *   1. load stdout and stderr, checking size and hash (an empty stream is
 *      not read: lookup saw its file empty, and the manifest's hash must
 *      be the hash of nothing);
 *   2. check every target: each existing parent component must be a
 *      directory, or a symbolic link whose real path stays inside the
 *      workspace (and outside its .haz directory and the cache); the
 *      target itself must not be a directory.  A target that is already
 *      a regular file (not a link) with the recorded size, mode and
 *      content hash is "present": it holds exactly what restore would
 *      put there, so it is left alone, modification time included (its
 *      hash comes from the store's record of outputs, without reading
 *      it, when the record trusts its lstat identity);
 *   3. stage every output that is not present: copy its blob (opened
 *      without following links, refused unless a regular file of the
 *      recorded size) into the file <cache>/.restore-<key>-<random>-<i>
 *      (i: the output's index), hashing while copying, then set the
 *      recorded mode;
 *      a mismatch in 1 or 3 removes the entry and returns HAZ_ECORRUPT
 *      (a miss) before any target is touched;
 *   4. publish: create the missing parents, check the real parent path
 *      once more, and rename each staged file onto its target (a link
 *      at the target is replaced, never followed).  When the cache lives
 *      on another file system the staged file is first copied next to the
 *      target, and checked again.
 * Staged files that were not published are removed on the way out.
 *
 * Restore is the read path of the cache: it fsyncs nothing.  A fresh run
 * does not sync what it writes either, and a restored file torn by a power
 * loss is not "present" on the next run (its content hash differs), so it
 * is restored again.  The store (cache_fs_store.c) is what must be
 * durable.
 *
 * Real paths: a parent chain made of plain directories resolves to the
 * workspace's real path (taken once when the store was opened) followed
 * by the same names, so realpath(3), which reads every component from the
 * file system root, is called only when a component is a symbolic link.
 */
#include "internal.h"
#include "cache_fs.h"
#include "fdutil.h"
#include "filestat.h"
#include "fsutil.h"
#include "sys.h"

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
    const char *cache_real;     /* realpath of the cache directory, or NULL */
    unsigned char *state;       /* per output: one of the OUT_ values */
    haz_buf stage;              /* the staging prefix, <cache>/.restore-K-R- */
    haz_buf a, b;               /* scratch paths */
} rctx;

/* What restore did with each output. */
enum {
    OUT_TODO,                   /* to be staged and published */
    OUT_PRESENT,                /* the target is already right */
    OUT_STAGED,                 /* its staged file exists */
    OUT_DONE                    /* published */
};

/* ------------------------------------------------------------------------
 * Phase 1: the streams.
 * ---------------------------------------------------------------------- */

/* A file of the entry that exists (lookup saw it) but that we may not read
 * (someone changed its mode: C3) makes the entry unusable, like a corrupt
 * one: a miss, and the entry is removed. */
static int unreadable(int e)
{
    return e == EACCES || e == EPERM;
}

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
    if (h->context_size > sizeof(hs))
        return haz__error(r->ctx, HAZ_ENOTSUP, "hash state too large");
    if (size == 0) {
        /* Lookup found the file empty: only the recorded hash is left to
         * check, against the hash of nothing. */
        text = haz__malloc(r->ctx, 1);
        if (text == NULL)
            return HAZ_ENOMEM;
        text[0] = '\0';
        len = 0;
    } else {
        rc = haz__read_file(r->ctx, r->a.data, (size_t)size, &text, &len);
        if (rc == HAZ_ENOENT)
            rc = HAZ_ECORRUPT;  /* removed under us (C12): a miss */
        else if (rc == HAZ_EIO && unreadable(haz_ctx_errno(r->ctx)))
            rc = haz__error(r->ctx, HAZ_ECORRUPT, "'%s' cannot be read",
                            r->a.data);
        if (rc != HAZ_OK)
            return rc;
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

/* ------------------------------------------------------------------------
 * Phase 2: the targets.
 * ---------------------------------------------------------------------- */

static int under(const char *path, const char *base)
{
    size_t n = strlen(base);

    if (n == 1 && base[0] == '/')
        return 1;
    return strncmp(path, base, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* The real path `real` of the directory `dir` must lie in the workspace,
 * outside its .haz and the cache.  Puts it in r->b. */
static int accept_real(rctx *r, const char *real, const char *dir,
                       const char *wpath)
{
    size_t wl = strlen(r->s->ws_real);
    int ok = under(real, r->s->ws_real) &&
             !(r->cache_real != NULL && under(real, r->cache_real)) &&
             !under(real + (wl == 1 ? 0 : wl), "/.haz");

    if (!ok)
        return haz__error(r->ctx, HAZ_EIO, "cannot restore '%s': '%s' leads "
                          "outside the workspace or into the cache", wpath,
                          dir);
    if (real != r->b.data) {
        r->b.len = 0;
        if (haz__buf_puts(&r->b, real) != HAZ_OK)
            return HAZ_ENOMEM;
    }
    return HAZ_OK;
}

/* The real path of `dir`, through realpath(3), checked by accept_real. */
static int check_real(rctx *r, const char *dir, const char *wpath)
{
    char *real = realpath(dir, NULL);
    int rc;

    if (real == NULL)
        return haz__error_os(r->ctx, HAZ_EIO, errno, "cannot restore '%s': "
                             "cannot resolve '%s'", wpath, dir);
    rc = accept_real(r, real, dir, wpath);
    free(real);                 /* allocated by realpath(3) */
    return rc;
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
 * there).  With `create` the real parent path is left in r->b: the
 * workspace's real path and the same names when no component is a link,
 * else what realpath(3) says. */
static int walk_parents(rctx *r, const char *wpath, int create)
{
    const char *slash = strrchr(wpath, '/');
    size_t i, end = (size_t)(slash - wpath);
    struct stat st;
    int rc, linked = 0;

    for (i = 1; i <= end; i++) {
        if (i < end && wpath[i] != '/')
            continue;
        if (ws_join(r, wpath, i) != HAZ_OK)
            return HAZ_ENOMEM;
        if (haz__io_lstat(r->a.data, &st) != 0) {
            if (errno != ENOENT)
                return haz__error_os(r->ctx, HAZ_EIO, errno, "cannot "
                                     "restore '%s': '%s'", wpath, r->a.data);
            if (!create)
                return HAZ_OK;
            if (haz__io_mkdir(r->a.data, 0777) != 0 && errno != EEXIST)
                return haz__error_os(r->ctx, HAZ_EIO, errno, "cannot "
                                     "restore '%s': cannot create '%s'",
                                     wpath, r->a.data);
            if (haz__io_lstat(r->a.data, &st) != 0)
                return haz__error_os(r->ctx, HAZ_EIO, errno, "cannot "
                                     "restore '%s': '%s'", wpath, r->a.data);
        }
        if (S_ISLNK(st.st_mode)) {
            linked = 1;
            rc = check_real(r, r->a.data, wpath);
            if (rc != HAZ_OK)
                return rc;
            if (haz__io_stat(r->a.data, &st) != 0)
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
    if (linked)
        return check_real(r, r->a.data, wpath);
    /* Plain directories all the way: no need to ask the file system. */
    r->b.len = 0;
    if ((strcmp(r->s->ws_real, "/") != 0 &&
         haz__buf_puts(&r->b, r->s->ws_real) != HAZ_OK) ||
        haz__buf_append(&r->b, wpath, end) != HAZ_OK ||
        (r->b.len == 0 && haz__buf_puts(&r->b, "/") != HAZ_OK))
        return HAZ_ENOMEM;
    return accept_real(r, r->b.data, r->a.data, wpath);
}

/* 1 when the target at r->a, a regular file whose lstat is *st, holds
 * exactly the bytes and mode of output o; 0 when not (or it cannot be
 * told); HAZ_ENOMEM.
 * The store's record of outputs (lib/filestat.h, opened by the first
 * call) answers without reading the file when it holds a trusted entry
 * for the file's current identity (size, mtime and ctime to the
 * nanosecond, inode, device, and so type and mode; never a racy one, so a
 * rewrite in the same second is still seen).  A file read and found right
 * is noted there, with its identity from before the read, unless that
 * identity changed while it was read. */
static int same_content(rctx *r, const haz_cache_output *o,
                        const struct stat *st)
{
    const haz_hash_methods *h = r->e->m.hash;
    unsigned char got[HAZ_HASH_MAX_DIGEST];
    struct stat fst, after;
    haz__fileid id1, id2;
    uint64_t size;
    int fd, rc = 0;

    if (!S_ISREG(st->st_mode) || (uint64_t)st->st_size != o->size ||
        (unsigned)(st->st_mode & 07777) != (o->mode & 0777u))
        return 0;
    if (!r->s->rec_tried) {
        /* Without a record (a read-only cache) every target is read. */
        r->s->rec_tried = 1;
        if (haz__filestat_open_outputs(r->ctx, r->s->root, r->s->hash,
                                       &r->s->rec) == HAZ_ENOMEM)
            return HAZ_ENOMEM;
    }
    if (haz__filestat_known(r->s->rec, h, o->path, st, got))
        return memcmp(got, o->hash, h->digest_len) == 0;
    fd = haz__open_read(r->a.data, 1);
    if (fd == -1)
        return 0;
    /* The very file lstat saw (not one swapped in since). */
    if (haz__io_fstat(fd, &fst) == 0 && S_ISREG(fst.st_mode) &&
        fst.st_dev == st->st_dev && fst.st_ino == st->st_ino &&
        (uint64_t)fst.st_size == o->size) {
        if (cfs_copy(r->ctx, h, fd, -1, o->size, &size, got) != 0)
            rc = errno == ENOMEM ? HAZ_ENOMEM : 0;
        else
            rc = size == o->size && memcmp(got, o->hash, h->digest_len) == 0;
        if (rc == 1 && r->s->rec != NULL &&
            haz__io_fstat(fd, &after) == 0) {
            haz__fileid_of(&fst, &id1);
            haz__fileid_of(&after, &id2);
            if (haz__fileid_equal(&id1, &id2) &&
                haz__filestat_note(r->s->rec, h, o->path, &fst, got) != 0)
                rc = HAZ_ENOMEM;
        }
    }
    haz__io_close_quiet(fd);
    return rc;
}

/* Check the target of output i (phase 2) and tell whether it is present
 * already.  Only a regular file (by lstat: never a link, a fifo or a
 * device) of the recorded size and mode is opened and hashed. */
static int check_target(rctx *r, size_t i)
{
    const haz_cache_output *o = &r->e->m.outputs[i];
    struct stat st;
    int rc;

    r->state[i] = OUT_TODO;
    rc = walk_parents(r, o->path, 0);
    if (rc == HAZ_OK && ws_join(r, o->path, strlen(o->path)) != HAZ_OK)
        rc = HAZ_ENOMEM;
    if (rc != HAZ_OK || haz__io_lstat(r->a.data, &st) != 0)
        return rc;
    if (S_ISDIR(st.st_mode))
        return haz__error(r->ctx, HAZ_EIO, "cannot restore '%s': a "
                          "directory is in the way", o->path);
    rc = same_content(r, o, &st);
    if (rc == HAZ_ENOMEM)
        return rc;
    if (rc == 1)
        r->state[i] = OUT_PRESENT;
    return HAZ_OK;
}

/* ------------------------------------------------------------------------
 * Phase 3: stage.
 * ---------------------------------------------------------------------- */

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
        if (unreadable(errno))
            return haz__error(r->ctx, HAZ_ECORRUPT, "blob '%s' cannot be "
                              "read", r->a.data);
        return haz__error_os(r->ctx, HAZ_EIO, errno, "cannot open '%s'",
                             r->a.data);
    }
    if (haz__io_fstat(in, &st) != 0 || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size != o->size) {
        haz__io_close_quiet(in);
        return haz__error(r->ctx, HAZ_ECORRUPT, "blob '%s' is not a regular "
                          "file of %llu bytes", r->a.data,
                          (unsigned long long)o->size);
    }
    r->b.len = 0;
    if (haz__buf_printf(&r->b, "%s%lu", r->stage.data,
                        (unsigned long)i) != HAZ_OK) {
        haz__io_close_quiet(in);
        return HAZ_ENOMEM;
    }
    out = haz__io_open(r->b.data, O_WRONLY | O_CREAT | O_EXCL |
                       O_NOFOLLOW, 0600);
    if (out != -1)
        r->state[i] = OUT_STAGED;
    if (out == -1 || cfs_copy(r->ctx, h, in, out, o->size, &size, got) != 0) {
        rc = haz__error_os(r->ctx, errno == ENOMEM ? HAZ_ENOMEM : HAZ_EIO,
                           errno, "cannot stage '%s'", r->a.data);
    } else if (size != o->size || memcmp(got, o->hash, h->digest_len) != 0) {
        rc = haz__error(r->ctx, HAZ_ECORRUPT, "blob '%s' does not match its "
                        "recorded size and hash", r->a.data);
    } else if (haz__io_fchmod(out, o->mode & 0777u) != 0) {
        rc = haz__error_os(r->ctx, HAZ_EIO, errno, "cannot stage '%s'",
                           r->a.data);
    }
    haz__io_close_quiet(in);
    if (out != -1 && haz__io_close(out) != 0 && errno != EINTR && rc == HAZ_OK)
        rc = haz__error_os(r->ctx, HAZ_EIO, errno, "cannot stage '%s'",
                           r->a.data);
    return rc;
}

/* ------------------------------------------------------------------------
 * Phase 4: publish.
 * ---------------------------------------------------------------------- */

/* Copy the staged file `src` next to `target` and rename it there (the
 * cache is on another file system).  The copy is hashed and compared with
 * the output's record once more. */
static int publish_copy(rctx *r, const char *src, const char *parent,
                        const char *target, const haz_cache_output *o)
{
    const haz_hash_methods *h = r->e->m.hash;
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
        out = haz__io_open(tmp.data, O_WRONLY | O_CREAT | O_EXCL |
                           O_NOFOLLOW, 0600);
    if (out != -1 && cfs_copy(r->ctx, h, in, out, o->size, &size, d) == 0) {
        if (size != o->size || memcmp(d, o->hash, h->digest_len) != 0)
            errno = EIO;        /* the staged file changed under us */
        else if (haz__io_fchmod(out, o->mode & 0777u) == 0 &&
                 haz__io_rename(tmp.data, target) == 0)
            rc = 0;
    }
    if (rc != 0) {
        rc = haz__error_os(r->ctx, HAZ_EIO, errno, "cannot restore '%s'",
                           target);
        if (out != -1)
            (void)haz__remove_file(tmp.data);
    }
    haz__io_close_quiet(in);
    haz__io_close_quiet(out);
    haz__buf_free(&tmp);
    return rc;
}

static int publish_one(rctx *r, size_t i, haz_buf *src, haz_buf *target)
{
    const haz_cache_output *o = &r->e->m.outputs[i];
    const char *base = strrchr(o->path, '/') + 1;
    int rc;

    rc = walk_parents(r, o->path, 1);
    if (rc != HAZ_OK)
        return rc;
    src->len = 0;
    target->len = 0;
    if (haz__buf_printf(src, "%s%lu", r->stage.data,
                        (unsigned long)i) != HAZ_OK ||
        haz__buf_printf(target, "%s/%s", strcmp(r->b.data, "/") ?
                        r->b.data : "", base) != HAZ_OK)
        return HAZ_ENOMEM;
    /* The file there is replaced: what the record says of it is stale.
     * The new one is not noted: written in this session, it is racy. */
    haz__filestat_forget(r->s->rec, o->path);
    if (haz__io_rename(src->data, target->data) == 0) {
        r->state[i] = OUT_DONE;
        return HAZ_OK;
    }
    if (errno == EXDEV)
        return publish_copy(r, src->data, r->b.data, target->data, o);
    return haz__error_os(r->ctx, HAZ_EIO, errno, "cannot restore '%s'",
                         o->path);
}

/* ------------------------------------------------------------------------
 * restore.
 * ---------------------------------------------------------------------- */

int cfs_restore(haz_cache_store *cs, haz_cache_entry *entry)
{
    rctx r;
    char hex[2 * HAZ_HASH_MAX_DIGEST + 1];
    unsigned char *out = NULL, *err = NULL, state_local[64];
    haz_buf src, target;
    size_t i, n, todo = 0;
    int rc = HAZ_OK;

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
    haz__buf_init(&src, r.ctx);
    haz__buf_init(&target, r.ctx);
    r.state = state_local;
    if (n > sizeof(state_local) &&
        (r.state = haz__calloc(r.ctx, n, 1)) == NULL) {
        rc = HAZ_ENOMEM;
        goto out;
    }
    memset(r.state, OUT_TODO, n < sizeof(state_local) ? sizeof(state_local)
           : n);
    /* The cache directory's real path, once per store: the entry exists,
     * so the directory does. */
    if (r.s->root_real == NULL && n > 0) {
        char *real = realpath(r.s->root, NULL);

        if (real != NULL) {
            r.s->root_real = haz__strdup(r.ctx, real);
            free(real);         /* allocated by realpath(3) */
            if (r.s->root_real == NULL) {
                rc = HAZ_ENOMEM;
                goto out;
            }
        }
    }
    r.cache_real = r.s->root_real;
    /* Phase 1. */
    rc = load_stream(&r, CFS_STDOUT, r.e->m.stdout_size, r.e->m.stdout_hash,
                     &out);
    if (rc == HAZ_OK)
        rc = load_stream(&r, CFS_STDERR, r.e->m.stderr_size,
                         r.e->m.stderr_hash, &err);
    /* Phase 2: nothing is published unless every target is acceptable. */
    for (i = 0; i < n && rc == HAZ_OK; i++) {
        rc = check_target(&r, i);
        if (rc == HAZ_OK && r.state[i] == OUT_TODO)
            todo++;
    }
    /* Phase 3. */
    if (rc == HAZ_OK && todo > 0) {
        /* <random>: 64 random bits drawn once per store, then a counter
         * (O_EXCL still refuses any name that exists). */
        if (r.s->rnd[0] == '\0')
            haz__random_hex(r.s->rnd, 8, (uint64_t)(uintptr_t)r.s);
        if (haz__buf_printf(&r.stage, "%s/%s%s-%s%lx-", r.s->root,
                            CFS_RESTORE_PREFIX, hex, r.s->rnd,
                            (unsigned long)++r.s->counter) != HAZ_OK)
            rc = HAZ_ENOMEM;
    }
    for (i = 0; i < n && rc == HAZ_OK; i++)
        if (r.state[i] == OUT_TODO)
            rc = stage_one(&r, i);
    if (rc == HAZ_ECORRUPT) {
        char why[512];

        (void)snprintf(why, sizeof(why), "%s", haz_ctx_errmsg(r.ctx));
        cfs_drop_entry(r.s, entry->key, entry->hash_len);
        rc = haz__error(r.ctx, HAZ_ECORRUPT, "cache entry %s removed: %s",
                        hex, why);
        goto out;
    }
    /* Phase 4. */
    for (i = 0; i < n && rc == HAZ_OK; i++)
        if (r.state[i] == OUT_STAGED)
            rc = publish_one(&r, i, &src, &target);
out:
    /* Staged files left over (a failure, or published by a copy). */
    for (i = 0; i < n && r.state != NULL; i++)
        if (r.state[i] == OUT_STAGED) {
            src.len = 0;
            if (haz__buf_printf(&src, "%s%lu", r.stage.data,
                                (unsigned long)i) == HAZ_OK)
                (void)haz__remove_file(src.data);
        }
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
    if (r.state != state_local)
        haz__free(r.ctx, r.state);
    haz__buf_free(&r.stage);
    haz__buf_free(&r.a);
    haz__buf_free(&r.b);
    haz__buf_free(&src);
    haz__buf_free(&target);
    return rc;
}
