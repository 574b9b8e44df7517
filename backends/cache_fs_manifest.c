/*
 * backends/cache_fs_manifest.c: the manifest of a filesystem cache entry
 * (docs/cache-format.md): its writer, its strict parser, and the check of
 * the workspace paths it may name.
 *
 * The manifest is a fixed sequence of lines, each with a fixed keyword,
 * ending with a "check" line holding the hash of every byte before it.
 * The parser accepts exactly what the writer produces: the lines in their
 * order, single spaces, decimal numbers without sign or leading zero,
 * lower-case hex of the right length, modes as four octal digits at most
 * 0777, outputs sorted by path and unique, valid paths, and nothing after
 * the check line.  Anything else, including a check mismatch, is corrupt.
 * A revision or hash name this build does not know is "foreign" instead:
 * also a miss, but the entry is left for the build that wrote it.
 */
#include "internal.h"
#include "cache_fs.h"
#include "pattern.h"

#include <stdlib.h>
#include <string.h>

#define MAGIC "hazexec-cache"

/* ------------------------------------------------------------------------
 * Paths.
 * ---------------------------------------------------------------------- */

/* Characters that hide or reorder text (Unicode Cc and the usual Cf, Zl and
 * Zp suspects): a path holding one could show as another. */
static int invisible(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0xad ||
           (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
           (cp >= 0x2060 && cp <= 0x206f) || cp == 0xfeff ||
           (cp >= 0xfff9 && cp <= 0xfffb);
}

const char *cfs_path_why(const char *path)
{
    size_t len, i, seg;

    if (path == NULL || path[0] != '/')
        return "not workspace-absolute";
    len = strlen(path);
    if (len < 2)
        return "names the workspace root";
    if (len > CFS_PATH_MAX)
        return "too long";
    if (strncmp(path, "/.haz/", 6) == 0 || strcmp(path, "/.haz") == 0)
        return "inside /.haz";
    for (seg = 1, i = 1; i <= len; i++) {
        if (i < len && path[i] != '/') {
            uint32_t cp;
            size_t n = haz__utf8_decode(path + i, len - i, &cp);

            if (cp >= 0xdc80 && cp <= 0xdcff && n == 1 &&
                (unsigned char)path[i] >= 0x80)
                return "not valid UTF-8";
            if (invisible(cp))
                return "holds a control or invisible character";
            i += n - 1;
            continue;
        }
        if (i == seg)
            return "has an empty segment";
        if ((i - seg == 1 && path[seg] == '.') ||
            (i - seg == 2 && path[seg] == '.' && path[seg + 1] == '.'))
            return "has a '.' or '..' segment";
        seg = i + 1;
    }
    return NULL;
}

static int cmp_key_output(const void *key, const void *elem)
{
    return strcmp(*(const char *const *)key,
                  (*(const haz_cache_output *const *)elem)->path);
}

const char *cfs_outputs_check(const haz_cache_output *const *v, size_t n)
{
    char buf[CFS_PATH_MAX + 1];
    size_t i, j;

    for (i = 1; i < n; i++)
        if (strcmp(v[i - 1]->path, v[i]->path) >= 0)
            return v[i]->path;
    /* No path may be a parent directory of another: look every proper
     * prefix that ends before a '/' up in the sorted list. */
    for (i = 0; i < n; i++) {
        size_t len = strlen(v[i]->path);

        if (len > CFS_PATH_MAX)
            return v[i]->path;
        memcpy(buf, v[i]->path, len + 1);
        for (j = len; j > 1; j--) {
            const char *key = buf;

            if (buf[j - 1] != '/')
                continue;
            buf[j - 1] = '\0';
            if (bsearch(&key, v, n, sizeof(*v), cmp_key_output) != NULL)
                return v[i]->path;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------------
 * Writing.
 * ---------------------------------------------------------------------- */

int cfs_manifest_format(haz_buf *b, const cfs_manifest *m)
{
    const haz_hash_methods *h = m->hash;
    size_t dl = h->digest_len, i;
    char hex[2 * HAZ_HASH_MAX_DIGEST + 1];
    unsigned char digest[HAZ_HASH_MAX_DIGEST];
    haz_hash_state hs;
    size_t start = b->len;
    int rc;

    rc = haz__buf_printf(b, "%s %d\nhash %s\n", MAGIC, CFS_REVISION, h->name);
    haz_hash_hex(m->key, dl, hex);
    if (rc == HAZ_OK)
        rc = haz__buf_printf(b, "key %s\ncreated %lld\n", hex,
                             (long long)m->created_at);
    haz_hash_hex(m->stdout_hash, dl, hex);
    if (rc == HAZ_OK)
        rc = haz__buf_printf(b, "stdout %llu %s\n",
                             (unsigned long long)m->stdout_size, hex);
    haz_hash_hex(m->stderr_hash, dl, hex);
    if (rc == HAZ_OK)
        rc = haz__buf_printf(b, "stderr %llu %s\noutputs %lu\n",
                             (unsigned long long)m->stderr_size, hex,
                             (unsigned long)m->n_outputs);
    for (i = 0; i < m->n_outputs && rc == HAZ_OK; i++) {
        const haz_cache_output *o = &m->outputs[i];

        haz_hash_hex(o->hash, dl, hex);
        rc = haz__buf_printf(b, "%s %llu %04o %s\n", hex,
                             (unsigned long long)o->size, o->mode & 0777u,
                             o->path);
    }
    if (rc != HAZ_OK)
        return rc;
    if (h->context_size > sizeof(hs))
        return haz__error(b->ctx, HAZ_ENOTSUP, "hash state too large");
    h->init(&hs);
    h->update(&hs, b->data + start, b->len - start);
    h->out(&hs, digest);
    haz_hash_hex(digest, dl, hex);
    return haz__buf_printf(b, "check %s\n", hex);
}

/* ------------------------------------------------------------------------
 * Parsing.
 * ---------------------------------------------------------------------- */

typedef struct cur {
    char *p, *end;
} cur;

static int word(cur *c, const char *w, char sep)
{
    size_t n = strlen(w);

    if ((size_t)(c->end - c->p) < n + 1 || memcmp(c->p, w, n) != 0 ||
        c->p[n] != sep)
        return -1;
    c->p += n + 1;
    return 0;
}

static int number(cur *c, uint64_t max, char sep, uint64_t *out)
{
    uint64_t v = 0;
    char *s = c->p;

    if (s >= c->end || *s < '0' || *s > '9' ||
        (*s == '0' && s + 1 < c->end && s[1] >= '0' && s[1] <= '9'))
        return -1;
    for (; s < c->end && *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');

        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (s >= c->end || *s != sep)
        return -1;
    c->p = s + 1;
    *out = v;
    return 0;
}

static int hexfield(cur *c, size_t n, char sep, unsigned char *out)
{
    char save;
    int rc;

    if ((size_t)(c->end - c->p) < 2 * n + 1 || c->p[2 * n] != sep)
        return -1;
    save = c->p[2 * n];
    c->p[2 * n] = '\0';
    rc = haz_hash_unhex(c->p, out, n);
    c->p[2 * n] = save;
    if (rc != HAZ_OK)
        return -1;
    c->p += 2 * n + 1;
    return 0;
}

static int corrupt(haz_ctx *ctx, const char *why)
{
    return haz__error(ctx, HAZ_ECORRUPT, "corrupt manifest: %s", why);
}

/* Lines 1-2: revision and hash.  Sets m->hash. */
static int parse_head(haz_ctx *ctx, cur *c, cfs_manifest *m)
{
    uint64_t rev;
    char name[32], *nl;
    size_t n;

    if (word(c, MAGIC, ' ') != 0 || number(c, 255, '\n', &rev) != 0)
        return corrupt(ctx, "bad first line");
    if (rev != CFS_REVISION)
        return haz__error(ctx, HAZ_ENOTSUP, "manifest of schema revision "
                          "%u (this build reads %d)", (unsigned)rev,
                          CFS_REVISION);
    if (word(c, "hash", ' ') != 0)
        return corrupt(ctx, "no hash line");
    nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
    n = nl ? (size_t)(nl - c->p) : 0;
    if (nl == NULL || n == 0 || n >= sizeof(name))
        return corrupt(ctx, "bad hash line");
    memcpy(name, c->p, n);
    name[n] = '\0';
    if (strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789") != n)
        return corrupt(ctx, "bad hash name");
    m->hash = haz_hash_find(name);
    if (m->hash == NULL)
        return haz__error(ctx, HAZ_ENOTSUP, "manifest uses the unknown hash "
                          "'%s'", name);
    c->p = nl + 1;
    return HAZ_OK;
}

static int parse_outputs(haz_ctx *ctx, cur *c, cfs_manifest *m, uint64_t n)
{
    const haz_cache_output **order;
    size_t dl = m->hash->digest_len, i;
    const char *bad;

    /* The count is bounded by the bytes left (a line has at least
     * 2*dl + 8 of them), so a forged count cannot cause a huge allocation. */
    if (n > (uint64_t)(c->end - c->p) / (2 * dl + 8))
        return corrupt(ctx, "output count larger than the file");
    if (n == 0)
        return HAZ_OK;
    m->outputs = haz__calloc(ctx, (size_t)n, sizeof(*m->outputs));
    if (m->outputs == NULL)
        return HAZ_ENOMEM;
    for (i = 0; i < n; i++) {
        haz_cache_output *o = &m->outputs[i];
        uint64_t size, mode = 0;
        char *nl;
        int k;

        if (hexfield(c, dl, ' ', o->hash) != 0 ||
            number(c, UINT64_MAX, ' ', &size) != 0)
            return corrupt(ctx, "bad output line");
        if (c->end - c->p < 6 || c->p[0] != '0' || c->p[4] != ' ')
            return corrupt(ctx, "bad output mode");
        for (k = 1; k < 4; k++) {
            if (c->p[k] < '0' || c->p[k] > '7')
                return corrupt(ctx, "bad output mode");
            mode = mode * 8 + (uint64_t)(c->p[k] - '0');
        }
        c->p += 5;
        nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
        if (nl == NULL)
            return corrupt(ctx, "unterminated output line");
        *nl = '\0';
        if (strlen(c->p) != (size_t)(nl - c->p) || cfs_path_why(c->p))
            return corrupt(ctx, "bad output path");
        o->path = c->p;
        o->size = size;
        o->mode = (unsigned)mode;
        c->p = nl + 1;
        m->n_outputs++;
    }
    order = haz__reallocarray(ctx, NULL, (size_t)n, sizeof(*order));
    if (order == NULL)
        return HAZ_ENOMEM;
    for (i = 0; i < n; i++)
        order[i] = &m->outputs[i];
    bad = cfs_outputs_check(order, (size_t)n);
    haz__free(ctx, order);
    if (bad != NULL)
        return corrupt(ctx, "outputs unsorted, repeated or nested");
    return HAZ_OK;
}

int cfs_manifest_parse(haz_ctx *ctx, char *text, size_t len,
                       cfs_manifest *m)
{
    const haz_hash_methods *h;
    haz_hash_state hs;
    unsigned char want[HAZ_HASH_MAX_DIGEST], got[HAZ_HASH_MAX_DIGEST];
    uint64_t v, n;
    char *last;
    cur c;
    int rc;

    memset(m, 0, sizeof(*m));
    m->text = text;
    if (len == 0 || text[len - 1] != '\n' || memchr(text, '\0', len))
        return corrupt(ctx, "not a text file ending in a newline");
    c.p = text;
    c.end = text + len;
    rc = parse_head(ctx, &c, m);
    if (rc != HAZ_OK)
        return rc;
    h = m->hash;
    /* The check line covers every byte before it. */
    last = text + len - 1;
    while (last > text && last[-1] != '\n')
        last--;
    {
        cur t;

        t.p = last;
        t.end = text + len;
        if (word(&t, "check", ' ') != 0 ||
            hexfield(&t, h->digest_len, '\n', want) != 0 || t.p != t.end)
            return corrupt(ctx, "bad check line");
    }
    if (h->context_size > sizeof(hs))
        return corrupt(ctx, "hash state too large");
    h->init(&hs);
    h->update(&hs, text, (size_t)(last - text));
    h->out(&hs, got);
    if (memcmp(want, got, h->digest_len) != 0)
        return corrupt(ctx, "check hash mismatch");
    c.end = last;
    if (c.p > c.end || word(&c, "key", ' ') != 0 ||
        hexfield(&c, h->digest_len, '\n', m->key) != 0)
        return corrupt(ctx, "bad key line");
    if (word(&c, "created", ' ') != 0 ||
        number(&c, INT64_MAX, '\n', &v) != 0)
        return corrupt(ctx, "bad created line");
    m->created_at = (int64_t)v;
    if (word(&c, "stdout", ' ') != 0 ||
        number(&c, UINT64_MAX, ' ', &m->stdout_size) != 0 ||
        hexfield(&c, h->digest_len, '\n', m->stdout_hash) != 0)
        return corrupt(ctx, "bad stdout line");
    if (word(&c, "stderr", ' ') != 0 ||
        number(&c, UINT64_MAX, ' ', &m->stderr_size) != 0 ||
        hexfield(&c, h->digest_len, '\n', m->stderr_hash) != 0)
        return corrupt(ctx, "bad stderr line");
    if (word(&c, "outputs", ' ') != 0 ||
        number(&c, UINT64_MAX, '\n', &n) != 0)
        return corrupt(ctx, "bad outputs line");
    rc = parse_outputs(ctx, &c, m, n);
    if (rc != HAZ_OK)
        return rc;
    if (c.p != c.end)
        return corrupt(ctx, "garbage before the check line");
    return HAZ_OK;
}

void cfs_manifest_free(haz_ctx *ctx, cfs_manifest *m)
{
    haz__free(ctx, m->outputs);
    haz__free(ctx, m->text);
    m->outputs = NULL;
    m->text = NULL;
    m->n_outputs = 0;
}
