/*
 * fuzz/fuzz_manifest.c: libFuzzer target for the strict parser of cache
 * manifests, cfs_manifest_parse (backends/cache_fs_manifest.c, format in
 * docs/cache-format.md).  The input is a manifest file's bytes.
 *
 * Each input is parsed twice: as it is, and with its check line
 * recomputed (the last line replaced by "check <sha256 of the bytes
 * before it>" when it starts with "check ", else such a line appended).
 * Without the second form almost every mutation would stop at the check
 * hash, and the lines in between would go unexplored.
 *
 * Checked each time:
 *   - the result is 0, HAZ_ECORRUPT or HAZ_ENOTSUP, and an error leaves a
 *     message in the context;
 *   - a parsed manifest names a known hash, its outputs are sorted,
 *     unique, valid workspace paths with modes at most 0777;
 *   - the parser accepts exactly what the writer produces: formatting a
 *     parsed manifest with cfs_manifest_format gives back the input, byte
 *     for byte;
 *   - nothing leaks.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "internal.h"
#include "../backends/cache_fs.h"
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

static void parse_one(const char *data, size_t size)
{
    haz_fuzz_mem fm;
    haz_ctx *ctx = haz_fuzz_ctx(&fm);
    cfs_manifest m;
    char *text;
    size_t i;
    int rc;

    text = haz__malloc(ctx, size + 1);
    HAZ_FUZZ_CHECK(text != NULL);
    if (size > 0)
        memcpy(text, data, size);
    text[size] = '\0';
    rc = cfs_manifest_parse(ctx, text, size, &m);   /* m owns text now */
    HAZ_FUZZ_CHECK(rc == HAZ_OK || rc == HAZ_ECORRUPT || rc == HAZ_ENOTSUP);
    if (rc != HAZ_OK) {
        HAZ_FUZZ_CHECK(haz_ctx_errcode(ctx) == rc);
        HAZ_FUZZ_CHECK(haz_ctx_errmsg(ctx)[0] != '\0');
    } else {
        haz_buf b;

        HAZ_FUZZ_CHECK(m.hash != NULL && m.hash->digest_len > 0);
        HAZ_FUZZ_CHECK(m.created_at >= 0);
        HAZ_FUZZ_CHECK((m.n_outputs == 0) == (m.outputs == NULL));
        for (i = 0; i < m.n_outputs; i++) {
            HAZ_FUZZ_CHECK(cfs_path_why(m.outputs[i].path) == NULL);
            HAZ_FUZZ_CHECK(m.outputs[i].mode <= 0777u);
            HAZ_FUZZ_CHECK(i == 0 || strcmp(m.outputs[i - 1].path,
                                            m.outputs[i].path) < 0);
        }
        haz__buf_init(&b, ctx);
        HAZ_FUZZ_CHECK(cfs_manifest_format(&b, &m) == HAZ_OK);
        HAZ_FUZZ_CHECK(b.len == size && memcmp(b.data, data, size) == 0);
        haz__buf_free(&b);
    }
    cfs_manifest_free(ctx, &m);
    haz_fuzz_ctx_done(ctx, &fm);
}

/* The input with its check line recomputed, into a malloc'ed buffer of
 * *len bytes, or NULL when that gives the input itself.  The bytes before
 * the check line get a final newline if they lack one. */
static char *with_check(const char *data, size_t size, size_t *len)
{
    static const char prefix[] = "check ";
    unsigned char digest[HAZ_SHA256_DIGEST_LEN];
    size_t body = size, last, n;
    char *out;

    /* The last line starts after the last '\n' that is not the final
     * byte. */
    if (size > 0) {
        last = size - 1;
        while (last > 0 && data[last - 1] != '\n')
            last--;
        if (size - last >= sizeof(prefix) - 1 &&
            memcmp(data + last, prefix, sizeof(prefix) - 1) == 0)
            body = last;
    }
    n = body + 1 + sizeof(prefix) - 1 + 2 * sizeof(digest) + 1;
    out = malloc(n);
    HAZ_FUZZ_CHECK(out != NULL);
    if (body > 0)
        memcpy(out, data, body);
    *len = body;
    if (body > 0 && data[body - 1] != '\n')
        out[(*len)++] = '\n';
    haz_sha256(out, *len, digest);
    memcpy(out + *len, prefix, sizeof(prefix) - 1);
    *len += sizeof(prefix) - 1;
    haz_hash_hex(digest, sizeof(digest), out + *len);  /* writes a NUL */
    *len += 2 * sizeof(digest);
    out[(*len)++] = '\n';
    HAZ_FUZZ_CHECK(*len <= n);
    if (*len == size && memcmp(out, data, size) == 0) {
        free(out);
        return NULL;
    }
    return out;
}

int haz_fuzz_manifest(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    size_t len = 0;
    char *fixed;

    parse_one(text, size);
    fixed = with_check(text, size, &len);
    if (fixed != NULL) {
        parse_one(fixed, len);
        free(fixed);
    }
    return 0;
}

#ifndef HAZ_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return haz_fuzz_manifest(data, size);
}
#endif
