/*
 * backends/cache_fs_io.c: I/O helpers of the filesystem cache store: the
 * paths of the layout (docs/cache-format.md), the hashing copy used by
 * store, restore and verify, and the creation and removal of entry-sized
 * directories.
 *
 * Removal renames first: an entry or temporary directory disappears from
 * its name in one rename(2), then the renamed tree is deleted.  A reader
 * thus never finds an entry half deleted, and a crash in the middle leaves
 * a ".del-" directory that `clean` removes.
 */
#include "internal.h"
#include "cache_fs.h"
#include "fdutil.h"
#include "fsutil.h"
#include "sys.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cfs_entry_path(haz_buf *b, const char *root, const unsigned char *key,
                   size_t key_len, const char *name)
{
    char hex[2 * HAZ_HASH_MAX_DIGEST + 1];

    if (key_len > HAZ_HASH_MAX_DIGEST)
        return HAZ_EINVAL;
    haz_hash_hex(key, key_len, hex);
    b->len = 0;
    if (haz__buf_printf(b, "%s/%.2s/%s", root, hex, hex) != HAZ_OK ||
        (name != NULL && haz__buf_printf(b, "/%s", name) != HAZ_OK))
        return HAZ_ENOMEM;
    return HAZ_OK;
}

int cfs_blob_name(haz_buf *b, const unsigned char *hash, size_t len)
{
    char hex[2 * HAZ_HASH_MAX_DIGEST + 1];

    haz_hash_hex(hash, len, hex);
    return haz__buf_printf(b, "%s/%s", CFS_OUTPUTS, hex);
}

int cfs_copy(haz_ctx *ctx, const haz_hash_methods *h, int in, int out,
             uint64_t limit, uint64_t *size, unsigned char *digest)
{
    haz_hash_state local;
    void *hs = &local;
    unsigned char *buf;
    uint64_t total = 0;
    int rc = 0, e = 0;

    buf = haz__malloc(ctx, 65536);
    if (h->context_size > sizeof(local))
        hs = haz__malloc(ctx, h->context_size);
    if (buf == NULL || hs == NULL) {
        haz__free(ctx, buf);
        if (hs != &local)
            haz__free(ctx, hs);
        errno = ENOMEM;
        return -1;
    }
    h->init(hs);
    for (;;) {
        size_t want = 65536;
        long got;

        if (limit != UINT64_MAX && limit - total + 1 < want)
            want = (size_t)(limit - total + 1);
        if (want == 0)
            break;
        got = haz__read_full(in, buf, want);
        if (got < 0) {
            rc = -1;
            e = errno;
            break;
        }
        if (got == 0)
            break;
        h->update(hs, buf, (size_t)got);
        total += (uint64_t)got;
        if (out >= 0 && haz__io_write_all(out, buf, (size_t)got) != 0) {
            rc = -1;
            e = errno;
            break;
        }
        if ((limit != UINT64_MAX && total > limit) || (size_t)got < want)
            break;              /* over the limit, or end of file */
    }
    if (rc == 0) {
        h->out(hs, digest);
        *size = total;
    }
    haz__free(ctx, buf);
    if (hs != &local)
        haz__free(ctx, hs);
    errno = e;
    return rc;
}

int cfs_hash_file(haz_ctx *ctx, const haz_hash_methods *h, const char *path,
                  uint64_t size, const unsigned char *hash)
{
    unsigned char got[HAZ_HASH_MAX_DIGEST];
    struct stat st;
    uint64_t n;
    int fd = haz__open_read(path, 1);

    if (fd == -1) {
        if (errno == ENOENT || errno == ELOOP || errno == ENOTDIR)
            return haz__error(ctx, HAZ_ECORRUPT, "'%s' is missing or a "
                              "symbolic link", path);
        return haz__error_os(ctx, HAZ_EIO, errno, "cannot open '%s'", path);
    }
    if (haz__io_fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size != size) {
        haz__io_close_quiet(fd);
        return haz__error(ctx, HAZ_ECORRUPT, "'%s' is not a regular file of "
                          "%llu bytes", path, (unsigned long long)size);
    }
    if (cfs_copy(ctx, h, fd, -1, size, &n, got) != 0) {
        int e = errno;

        haz__io_close_quiet(fd);
        if (e == ENOMEM)
            return haz__error(ctx, HAZ_ENOMEM, "out of memory");
        return haz__error_os(ctx, HAZ_EIO, e, "cannot read '%s'", path);
    }
    haz__io_close_quiet(fd);
    if (n != size || memcmp(got, hash, h->digest_len) != 0)
        return haz__error(ctx, HAZ_ECORRUPT, "'%s' does not match its "
                          "recorded size and hash", path);
    return HAZ_OK;
}

int cfs_unique_dir(haz_buf *b, const char *parent, const char *prefix,
                   const char *tag, uint64_t salt)
{
    char rnd[17];
    int tries;

    for (tries = 0; tries < 16; tries++) {
        haz__random_hex(rnd, 8, salt + (uint64_t)tries);
        b->len = 0;
        if (haz__buf_printf(b, "%s/%s%s-%s", parent, prefix, tag, rnd) !=
            HAZ_OK) {
            errno = ENOMEM;
            return -1;
        }
        if (haz__io_mkdir(b->data, 0777) == 0)
            return 0;
        if (errno != EEXIST)
            return -1;
    }
    return -1;
}

int cfs_remove_dir(haz_ctx *ctx, const char *parent, const char *path,
                   const char *tag, uint64_t salt)
{
    char rnd[17];
    haz_buf del;
    int rc = -1, tries, e;

    haz__buf_init(&del, ctx);
    for (tries = 0; tries < 16; tries++) {
        haz__random_hex(rnd, 8, salt + (uint64_t)tries);
        del.len = 0;
        if (haz__buf_printf(&del, "%s/%s%s-%s", parent, CFS_DEL_PREFIX, tag,
                            rnd) != HAZ_OK) {
            haz__buf_free(&del);
            errno = ENOMEM;
            return -1;
        }
        if (haz__io_rename(path, del.data) == 0) {
            rc = haz__rmtree(del.data);
            break;
        }
        if (errno == ENOENT) {
            rc = 0;
            break;
        }
        if (errno != EEXIST && errno != ENOTEMPTY) {
            /* Cannot rename (a read-only parent?): remove in place. */
            rc = haz__rmtree(path);
            break;
        }
    }
    if (tries == 16)
        rc = haz__rmtree(path);
    e = errno;
    haz__buf_free(&del);
    errno = e;
    return rc;
}
