/*
 * backends/cache_fs_store.c: store, the two-phase publish of a cache entry
 * (design 2.16, reference-io.md 3.7, CACHE-017/018).
 *
 * Every path is validated before anything is written.  The entry is then
 * built in a fresh temporary directory <shard>/.tmp-<key>-<random>: each
 * output's bytes are copied into outputs/ while hashed (the blob is named
 * by that hash), then the streams, then the manifest, the last file; every
 * file is fsynced, then outputs/ and the temporary directory themselves.
 * One rename(2) publishes the entry, and the shard directory is fsynced so
 * that the rename survives a power loss.  A crash at any point leaves
 * either no entry or a whole one, plus at worst a temporary directory that
 * `clean` removes.  When the rename finds the entry already there (the
 * same key stored concurrently) the first writer wins: the temporary is
 * removed and the store counts as a success.
 */
#include "internal.h"
#include "cache_fs.h"
#include "fdutil.h"
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

void (*haz__cache_fs_test_hook)(const char *step) = NULL;

static void step(const char *name)
{
    if (haz__cache_fs_test_hook != NULL)
        haz__cache_fs_test_hook(name);
}

static int cmp_outp(const void *a, const void *b)
{
    return strcmp((*(const haz_cache_output *const *)a)->path,
                  (*(const haz_cache_output *const *)b)->path);
}

/* Validate and sort the outputs into m->outputs (copies of the caller's
 * structs; paths still point at the caller's strings). */
static int plan_outputs(haz_ctx *ctx, const haz_cache_output *outputs,
                        size_t n, cfs_manifest *m)
{
    const haz_cache_output **order;
    const char *bad = NULL, *why;
    size_t i;

    if (n > 0 && outputs == NULL)
        return haz__error(ctx, HAZ_EINVAL, "cache store: NULL outputs");
    for (i = 0; i < n; i++) {
        if (outputs[i].host_path == NULL)
            return haz__error(ctx, HAZ_EINVAL, "cache store: output '%s' "
                              "has no host path", outputs[i].path
                              ? outputs[i].path : "(null)");
        if ((why = cfs_path_why(outputs[i].path)) != NULL)
            return haz__error(ctx, HAZ_EINVAL, "cache store: output path "
                              "'%s' %s", outputs[i].path
                              ? outputs[i].path : "(null)", why);
    }
    order = haz__reallocarray(ctx, NULL, n + 1, sizeof(*order));
    m->outputs = haz__calloc(ctx, n + 1, sizeof(*m->outputs));
    if (order == NULL || m->outputs == NULL) {
        haz__free(ctx, order);
        return HAZ_ENOMEM;
    }
    for (i = 0; i < n; i++)
        order[i] = &outputs[i];
    qsort(order, n, sizeof(*order), cmp_outp);
    bad = cfs_outputs_check(order, n);
    for (i = 0; i < n; i++) {
        m->outputs[i] = *order[i];
        m->outputs[i].mode &= 0777u;
    }
    m->n_outputs = n;
    haz__free(ctx, order);
    if (bad != NULL)
        return haz__error(ctx, HAZ_EINVAL, "cache store: output '%s' is "
                          "repeated or lies under another output", bad);
    return HAZ_OK;
}

/* Copy output `o` into dir/outputs/<hash>, filling its size and hash. */
static int put_blob(cfs_store *s, haz_buf *p, size_t base,
                    haz_cache_output *o, size_t i)
{
    haz_ctx *ctx = s->base.ctx;
    struct stat st;
    haz_buf blob;
    int in, out, rc = HAZ_OK;

    in = haz__open_read(o->host_path, 0);
    if (in == -1)
        return haz__error_os(ctx, HAZ_EIO, errno, "cache store: cannot open "
                             "output '%s'", o->host_path);
    if (haz__io_fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
        haz__io_close_quiet(in);
        return haz__error(ctx, HAZ_EIO, "cache store: output '%s' is not a "
                          "regular file", o->host_path);
    }
    p->len = base;
    if (haz__buf_printf(p, "/%s/.part-%lu", CFS_OUTPUTS,
                        (unsigned long)i) != HAZ_OK) {
        haz__io_close_quiet(in);
        return HAZ_ENOMEM;
    }
    out = haz__io_open(p->data, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW,
                       0444);
    if (out == -1 ||
        cfs_copy(ctx, s->hash, in, out, UINT64_MAX, &o->size, o->hash) != 0 ||
        haz__io_fsync(out) != 0)
        rc = haz__error_os(ctx, errno == ENOMEM ? HAZ_ENOMEM : HAZ_EIO, errno,
                           "cache store: cannot copy output '%s'",
                           o->host_path);
    haz__io_close_quiet(in);
    if (out != -1 && haz__io_close(out) != 0 && errno != EINTR && rc == HAZ_OK)
        rc = haz__error_os(ctx, HAZ_EIO, errno, "cache store: cannot "
                           "write '%s'", p->data);
    if (rc != HAZ_OK)
        return rc;
    haz__buf_init(&blob, ctx);
    if (haz__buf_append(&blob, p->data, base) != HAZ_OK ||
        haz__buf_puts(&blob, "/") != HAZ_OK ||
        cfs_blob_name(&blob, o->hash, s->hash->digest_len) != HAZ_OK)
        rc = HAZ_ENOMEM;
    else if (haz__io_rename(p->data, blob.data) != 0)
        rc = haz__error_os(ctx, HAZ_EIO, errno, "cache store: cannot rename "
                           "'%s'", p->data);
    haz__buf_free(&blob);
    return rc;
}

static int put_stream(cfs_store *s, haz_buf *p, size_t base, const char *name,
                      const void *data, size_t len, uint64_t *size,
                      unsigned char *hash)
{
    haz_hash_state hs;

    if (s->hash->context_size > sizeof(hs))
        return haz__error(s->base.ctx, HAZ_ENOTSUP, "hash state too large");
    s->hash->init(&hs);
    s->hash->update(&hs, data, len);
    s->hash->out(&hs, hash);
    *size = (uint64_t)len;
    p->len = base;
    if (haz__buf_printf(p, "/%s", name) != HAZ_OK)
        return HAZ_ENOMEM;
    if (haz__write_file_sync(p->data, len ? data : "", len, 0444) != 0)
        return haz__error_os(s->base.ctx, HAZ_EIO, errno, "cache store: "
                             "cannot write '%s'", p->data);
    return HAZ_OK;
}

int cfs_store_entry(haz_cache_store *cs, const unsigned char *key,
                    size_t key_len, const haz_cache_output *outputs,
                    size_t n_outputs, const void *out, size_t out_len,
                    const void *err, size_t err_len, int64_t created_at)
{
    cfs_store *s = (cfs_store *)cs;
    haz_ctx *ctx = cs->ctx;
    char hex[2 * HAZ_HASH_MAX_DIGEST + 1];
    haz_buf shard, tmp, fin, p;
    cfs_manifest m;
    size_t base, i;
    int rc = HAZ_OK, made_tmp = 0;

    memset(&m, 0, sizeof(m));
    if (key == NULL || key_len != s->hash->digest_len ||
        (out == NULL && out_len > 0) || (err == NULL && err_len > 0) ||
        created_at < 0)
        return haz__error(ctx, HAZ_EINVAL, "cache store: bad argument");
    rc = plan_outputs(ctx, outputs, n_outputs, &m);
    if (rc != HAZ_OK) {
        haz__free(ctx, m.outputs);
        return rc;
    }
    m.hash = s->hash;
    memcpy(m.key, key, key_len);
    m.created_at = created_at;
    haz_hash_hex(key, key_len, hex);
    haz__buf_init(&shard, ctx);
    haz__buf_init(&tmp, ctx);
    haz__buf_init(&fin, ctx);
    haz__buf_init(&p, ctx);

    /* Phase 1: build the entry in a temporary directory. */
    if (haz__buf_printf(&shard, "%s/%.2s", s->root, hex) != HAZ_OK ||
        cfs_entry_path(&fin, s->root, key, key_len, NULL) != HAZ_OK) {
        rc = HAZ_ENOMEM;
        goto out;
    }
    {
        struct stat st;

        /* A new shard directory must be durable before entries in it. */
        if (haz__io_stat(shard.data, &st) != 0 &&
            (haz__mkdir_p(shard.data, 0777) != 0 ||
             haz__fsync_dir(s->root) != 0)) {
            rc = haz__error_os(ctx, HAZ_EIO, errno, "cache store: cannot "
                               "create '%s'", shard.data);
            goto out;
        }
    }
    if (cfs_unique_dir(&tmp, shard.data, CFS_TMP_PREFIX, hex,
                       ++s->counter ^ haz_clock_now_ns(s->clock)) != 0) {
        rc = haz__error_os(ctx, errno == ENOMEM ? HAZ_ENOMEM : HAZ_EIO,
                           errno, "cache store: cannot create a temporary "
                           "directory in '%s'", shard.data);
        goto out;
    }
    made_tmp = 1;
    step("tmp");
    if (haz__buf_append(&p, tmp.data, tmp.len) != HAZ_OK) {
        rc = HAZ_ENOMEM;
        goto out;
    }
    base = p.len;
    if (haz__buf_printf(&p, "/%s", CFS_OUTPUTS) != HAZ_OK) {
        rc = HAZ_ENOMEM;
        goto out;
    }
    if (haz__io_mkdir(p.data, 0777) != 0) {
        rc = haz__error_os(ctx, HAZ_EIO, errno, "cache store: cannot create "
                           "'%s'", p.data);
        goto out;
    }
    for (i = 0; i < m.n_outputs && rc == HAZ_OK; i++) {
        rc = put_blob(s, &p, base, &m.outputs[i], i);
        step("blob");
    }
    if (rc == HAZ_OK)
        rc = put_stream(s, &p, base, CFS_STDOUT, out, out_len, &m.stdout_size,
                        m.stdout_hash);
    step("stdout");
    if (rc == HAZ_OK)
        rc = put_stream(s, &p, base, CFS_STDERR, err, err_len, &m.stderr_size,
                        m.stderr_hash);
    step("stderr");
    if (rc != HAZ_OK)
        goto out;
    p.len = base;
    if (haz__buf_printf(&p, "/%s", CFS_OUTPUTS) != HAZ_OK) {
        rc = HAZ_ENOMEM;
        goto out;
    }
    if (haz__fsync_dir(p.data) != 0) {
        rc = haz__error_os(ctx, HAZ_EIO, errno, "cache store: cannot sync "
                           "'%s'", p.data);
        goto out;
    }
    {
        haz_buf text;

        haz__buf_init(&text, ctx);
        p.len = base;
        rc = cfs_manifest_format(&text, &m);
        if (rc == HAZ_OK &&
            haz__buf_printf(&p, "/%s", CFS_MANIFEST) != HAZ_OK)
            rc = HAZ_ENOMEM;
        if (rc == HAZ_OK &&
            haz__write_file_sync(p.data, text.data, text.len, 0444) != 0)
            rc = haz__error_os(ctx, HAZ_EIO, errno, "cache store: cannot "
                               "write '%s'", p.data);
        haz__buf_free(&text);
        if (rc != HAZ_OK)
            goto out;
    }
    step("manifest");
    if (haz__fsync_dir(tmp.data) != 0) {
        rc = haz__error_os(ctx, HAZ_EIO, errno, "cache store: cannot sync "
                           "'%s'", tmp.data);
        goto out;
    }
    step("synced");

    /* Phase 2: publish with one rename. */
    if (haz__io_rename(tmp.data, fin.data) != 0) {
        if (errno == EEXIST || errno == ENOTEMPTY) {
            rc = HAZ_OK;        /* stored concurrently: the first wins */
        } else {
            rc = haz__error_os(ctx, HAZ_EIO, errno, "cache store: cannot "
                               "publish '%s'", fin.data);
        }
        goto out;
    }
    made_tmp = 0;
    step("renamed");
    if (haz__fsync_dir(shard.data) != 0) {
        /* The rename may not be durable, and a failed fsync is never
         * retried and trusted (reliability-tests C2): withdraw the entry,
         * so that a store that fails never leaves one behind. */
        int e = errno;

        (void)cfs_remove_dir(ctx, shard.data, fin.data, hex,
                             ++s->counter ^ haz_clock_now_ns(s->clock));
        rc = haz__error_os(ctx, HAZ_EIO, e, "cache store: cannot sync "
                           "'%s' (the entry was withdrawn)", shard.data);
    }
    step("done");
out:
    if (made_tmp)
        (void)haz__rmtree(tmp.data);
    haz__free(ctx, m.outputs);
    haz__buf_free(&shard);
    haz__buf_free(&tmp);
    haz__buf_free(&fin);
    haz__buf_free(&p);
    return rc;
}
