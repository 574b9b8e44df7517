/*
 * lib/filestat.c: hashing file contents, and the persistent input-hash
 * record of lib/filestat.h.
 *
 * Divided into: file identities and the trust rule; hashing one file in
 * HAZ__HASH_CHUNK pieces; the record in memory (entries in an array, a
 * string map from path to index); the strict parser of the on-disk form;
 * open, lookup-or-hash, save and close.
 *
 * On-disk form (docs/cache-format.md): text lines,
 *     hazexec-filestat 0 <hash name>
 *     <epoch> <size> <mtime s> <mtime ns> <ctime s> <ctime ns> <ino> <dev>
 *         <content hash hex> <path>            one line per file, sorted
 *     end <entry count> <hex hash of every byte before this line>
 */
#include "internal.h"
#include "fdutil.h"
#include "filestat.h"
#include "fsutil.h"
#include "sys.h"
#include "strmap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RECORD_MAGIC "hazexec-filestat"
#define RECORD_REVISION 0
#define RECORD_MAX (512UL * 1024 * 1024)
#define NO_EPOCH INT64_MIN

/* ------------------------------------------------------------------------
 * Identities.
 * ---------------------------------------------------------------------- */

void haz__fileid_of(const struct stat *st, haz__fileid *id)
{
    memset(id, 0, sizeof(*id));
    id->size = (uint64_t)st->st_size;
    id->mtime_s = (int64_t)HAZ__ST_MTIM(st).tv_sec;
    id->mtime_ns = (long)HAZ__ST_MTIM(st).tv_nsec;
    id->ctime_s = (int64_t)HAZ__ST_CTIM(st).tv_sec;
    id->ctime_ns = (long)HAZ__ST_CTIM(st).tv_nsec;
    id->ino = (uint64_t)st->st_ino;
    id->dev = (uint64_t)st->st_dev;
}

int haz__fileid_equal(const haz__fileid *a, const haz__fileid *b)
{
    return a->size == b->size && a->mtime_s == b->mtime_s &&
           a->mtime_ns == b->mtime_ns && a->ctime_s == b->ctime_s &&
           a->ctime_ns == b->ctime_ns && a->ino == b->ino &&
           a->dev == b->dev;
}

int haz__filestat_trusted(const haz__fileid *rec, int64_t epoch,
                          const haz__fileid *cur)
{
    if (epoch == NO_EPOCH || !haz__fileid_equal(rec, cur))
        return 0;
    /* Racy: a write in the second the session started (or later) might
     * have left every stamp as it was when the file was hashed. */
    return rec->mtime_s < epoch && rec->ctime_s < epoch;
}

/* ------------------------------------------------------------------------
 * Hashing one file.
 * ---------------------------------------------------------------------- */

int haz__file_hash(haz_ctx *ctx, const haz_hash_methods *h,
                   const char *host_path, const char *what,
                   unsigned char *digest, haz__fileid *id, int *stable)
{
    haz_hash_state hs_local;
    void *hs = &hs_local;
    struct stat st, st2;
    haz__fileid before, after;
    unsigned char *buf;
    int fd, rc = HAZ_OK;

    if (what == NULL)
        what = host_path;
    fd = haz__open_read(host_path, 0);
    if (fd == -1) {
        if (errno == ENOENT || errno == ENOTDIR)
            return haz__error(ctx, HAZ_ENOENT, "'%s' does not exist", what);
        return haz__error_os(ctx, HAZ_EIO, errno, "cannot open '%s'", what);
    }
    if (haz__io_fstat(fd, &st) != 0) {
        rc = haz__error_os(ctx, HAZ_EIO, errno, "cannot stat '%s'", what);
        haz__io_close_quiet(fd);
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        haz__io_close_quiet(fd);
        return haz__error(ctx, HAZ_EEXIST, "'%s' is not a regular file",
                          what);
    }
    haz__fileid_of(&st, &before);
    buf = haz__malloc(ctx, HAZ__HASH_CHUNK);
    if (h->context_size > sizeof(hs_local))
        hs = haz__malloc(ctx, h->context_size);
    if (buf == NULL || hs == NULL) {
        haz__free(ctx, buf);
        if (hs != &hs_local)
            haz__free(ctx, hs);
        haz__io_close_quiet(fd);
        return HAZ_ENOMEM;
    }
    h->init(hs);
    for (;;) {
        long got = haz__read_full(fd, buf, HAZ__HASH_CHUNK);

        if (got < 0) {
            rc = haz__error_os(ctx, HAZ_EIO, errno, "cannot read '%s'", what);
            break;
        }
        h->update(hs, buf, (size_t)got);
        if (got < HAZ__HASH_CHUNK)
            break;
    }
    if (rc == HAZ_OK) {
        h->out(hs, digest);
        if (id != NULL)
            *id = before;
        if (stable != NULL) {
            *stable = 0;
            if (haz__io_fstat(fd, &st2) == 0) {
                haz__fileid_of(&st2, &after);
                *stable = haz__fileid_equal(&before, &after);
            }
        }
    }
    haz__free(ctx, buf);
    if (hs != &hs_local)
        haz__free(ctx, hs);
    haz__io_close_quiet(fd);
    return rc;
}

/* ------------------------------------------------------------------------
 * The record in memory.
 * ---------------------------------------------------------------------- */

typedef struct fs_entry {
    char *path;
    haz__fileid id;
    int64_t epoch;              /* start second of the session that hashed */
    unsigned char hash[HAZ_HASH_MAX_DIGEST];
    int dead;                   /* dropped: not saved, not trusted */
} fs_entry;

struct haz__filestat {
    haz_ctx *ctx;
    const haz_hash_methods *h;
    char *dir;                  /* the cache directory */
    const char *name;           /* the record's file name in dir */
    char *tmp;                  /* the session's temporary file, or NULL */
    int64_t epoch;              /* session start, or NO_EPOCH */
    fs_entry *v;
    size_t n, cap;
    haz_strmap map;             /* path -> index into v */
    unsigned long reads;
    int dirty;                  /* changed since loaded (else save has
                                   nothing to write) */
};

static fs_entry *entry_find(haz__filestat *fs, const char *path)
{
    size_t i;

    if (!haz__strmap_get(&fs->map, path, &i))
        return NULL;
    return &fs->v[i];
}

/* Add a new entry for `path` (not present yet); NULL on ENOMEM. */
static fs_entry *entry_add(haz__filestat *fs, const char *path, size_t len)
{
    fs_entry *e;

    if (fs->n == fs->cap) {
        size_t cap = fs->cap ? 2 * fs->cap : 64;
        fs_entry *v = haz__reallocarray(fs->ctx, fs->v, cap, sizeof(*v));

        if (v == NULL)
            return NULL;
        fs->v = v;
        fs->cap = cap;
    }
    e = &fs->v[fs->n];
    memset(e, 0, sizeof(*e));
    e->path = haz__strndup(fs->ctx, path, len);
    if (e->path == NULL)
        return NULL;
    if (haz__strmap_put(&fs->map, e->path, fs->n) != HAZ_OK) {
        haz__free(fs->ctx, e->path);
        return NULL;
    }
    fs->n++;
    return e;
}

static void entries_clear(haz__filestat *fs)
{
    size_t i;

    for (i = 0; i < fs->n; i++)
        haz__free(fs->ctx, fs->v[i].path);
    fs->n = 0;
    haz__strmap_free(&fs->map);
    haz__strmap_init(&fs->map, fs->ctx);
}

/* A path the record may hold: "/" then printable bytes, no newline. */
static int path_recordable(const char *p, size_t len)
{
    size_t i;

    if (len < 2 || p[0] != '/')
        return 0;
    for (i = 0; i < len; i++)
        if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
            return 0;
    return 1;
}

/* ------------------------------------------------------------------------
 * Parsing.  Any deviation rejects the whole record.
 * ---------------------------------------------------------------------- */

typedef struct cursor {
    const char *p, *end;
} cursor;

/* A decimal number without sign, leading zero or overflow, then `sep`. */
static int parse_u64(cursor *c, uint64_t max, char sep, uint64_t *out)
{
    uint64_t v = 0;
    const char *s = c->p;

    if (s >= c->end || *s < '0' || *s > '9')
        return -1;
    if (*s == '0' && s + 1 < c->end && s[1] >= '0' && s[1] <= '9')
        return -1;
    while (s < c->end && *s >= '0' && *s <= '9') {
        unsigned d = (unsigned)(*s - '0');

        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
        s++;
    }
    if (s >= c->end || *s != sep)
        return -1;
    c->p = s + 1;
    *out = v;
    return 0;
}

static int parse_i64(cursor *c, char sep, int64_t *out)
{
    uint64_t v;

    if (c->p < c->end && *c->p == '-') {
        c->p++;
        if (parse_u64(c, (uint64_t)INT64_MAX + 1, sep, &v) != 0 || v == 0)
            return -1;
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
        return 0;
    }
    if (parse_u64(c, INT64_MAX, sep, &v) != 0)
        return -1;
    *out = (int64_t)v;
    return 0;
}

static int parse_hex(cursor *c, size_t n, char sep, unsigned char *out)
{
    char hex[2 * HAZ_HASH_MAX_DIGEST + 1];

    if ((size_t)(c->end - c->p) < 2 * n + 1 || c->p[2 * n] != sep)
        return -1;
    memcpy(hex, c->p, 2 * n);
    hex[2 * n] = '\0';
    if (haz_hash_unhex(hex, out, n) != HAZ_OK)
        return -1;
    c->p += 2 * n + 1;
    return 0;
}

static int parse_word(cursor *c, const char *w, char sep)
{
    size_t n = strlen(w);

    if ((size_t)(c->end - c->p) < n + 1 || memcmp(c->p, w, n) != 0 ||
        c->p[n] != sep)
        return -1;
    c->p += n + 1;
    return 0;
}

/* Parse the whole record; on any error the entries are cleared.
 * Returns 0, HAZ_ECORRUPT (rejected) or HAZ_ENOMEM. */
static int record_parse(haz__filestat *fs, const char *data, size_t len)
{
    const haz_hash_methods *h = fs->h;
    cursor c;
    const char *trailer, *prev = NULL;
    size_t prev_len = 0;
    haz_hash_state hs;
    unsigned char want[HAZ_HASH_MAX_DIGEST], got[HAZ_HASH_MAX_DIGEST];
    uint64_t count;
    char rev[16];

    /* The trailer is the last line: find its start, check the digest. */
    if (len < 2 || data[len - 1] != '\n')
        return HAZ_ECORRUPT;
    trailer = data + len - 1;
    while (trailer > data && trailer[-1] != '\n')
        trailer--;
    c.p = trailer;
    c.end = data + len;
    if (parse_word(&c, "end", ' ') != 0 ||
        parse_u64(&c, UINT64_MAX, ' ', &count) != 0 ||
        parse_hex(&c, h->digest_len, '\n', want) != 0 || c.p != c.end)
        return HAZ_ECORRUPT;
    if (h->context_size > sizeof(hs))
        return HAZ_ECORRUPT;
    h->init(&hs);
    h->update(&hs, data, (size_t)(trailer - data));
    h->out(&hs, got);
    if (memcmp(want, got, h->digest_len) != 0)
        return HAZ_ECORRUPT;

    c.p = data;
    c.end = trailer;
    (void)snprintf(rev, sizeof(rev), "%d", RECORD_REVISION);
    if (parse_word(&c, RECORD_MAGIC, ' ') != 0 ||
        parse_word(&c, rev, ' ') != 0 || parse_word(&c, h->name, '\n') != 0)
        return HAZ_ECORRUPT;
    while (c.p < c.end) {
        fs_entry tmp, *e;
        uint64_t ns1, ns2;
        const char *path, *nl;

        memset(&tmp, 0, sizeof(tmp));
        if (parse_i64(&c, ' ', &tmp.epoch) != 0 || tmp.epoch == NO_EPOCH ||
            parse_u64(&c, UINT64_MAX, ' ', &tmp.id.size) != 0 ||
            parse_i64(&c, ' ', &tmp.id.mtime_s) != 0 ||
            parse_u64(&c, 999999999, ' ', &ns1) != 0 ||
            parse_i64(&c, ' ', &tmp.id.ctime_s) != 0 ||
            parse_u64(&c, 999999999, ' ', &ns2) != 0 ||
            parse_u64(&c, UINT64_MAX, ' ', &tmp.id.ino) != 0 ||
            parse_u64(&c, UINT64_MAX, ' ', &tmp.id.dev) != 0 ||
            parse_hex(&c, h->digest_len, ' ', tmp.hash) != 0)
            goto reject;
        tmp.id.mtime_ns = (long)ns1;
        tmp.id.ctime_ns = (long)ns2;
        path = c.p;
        nl = memchr(path, '\n', (size_t)(c.end - path));
        if (nl == NULL || !path_recordable(path, (size_t)(nl - path)))
            goto reject;
        /* Strictly ascending: sorted and unique. */
        if (prev != NULL) {
            size_t l = (size_t)(nl - path), m = l < prev_len ? l : prev_len;
            int cmp = memcmp(prev, path, m);

            if (cmp > 0 || (cmp == 0 && prev_len >= l))
                goto reject;
        }
        prev = path;
        prev_len = (size_t)(nl - path);
        e = entry_add(fs, path, prev_len);
        if (e == NULL) {
            entries_clear(fs);
            return HAZ_ENOMEM;
        }
        tmp.path = e->path;
        *e = tmp;
        c.p = nl + 1;
    }
    if (count != fs->n)
        goto reject;
    return 0;
reject:
    entries_clear(fs);
    return HAZ_ECORRUPT;
}

/* ------------------------------------------------------------------------
 * Open, hash, save, close.
 * ---------------------------------------------------------------------- */

static int join(haz_ctx *ctx, const char *dir, const char *name, char **out)
{
    haz_buf b;

    haz__buf_init(&b, ctx);
    if (haz__buf_printf(&b, "%s/%s", dir, name) != HAZ_OK) {
        haz__buf_free(&b);
        return HAZ_ENOMEM;
    }
    *out = b.data;
    return HAZ_OK;
}

/* Create a new session temporary; its mtime is the file system's "now".
 * With set_epoch, that becomes the session's epoch. */
static int new_temp(haz__filestat *fs, int set_epoch)
{
    char rnd[17], name[64];
    struct stat st;
    int fd;

    haz__random_hex(rnd, 8, (uint64_t)(uintptr_t)fs ^ fs->n);
    (void)snprintf(name, sizeof(name), "%s%s", HAZ__FILESTAT_TMP_PREFIX, rnd);
    if (join(fs->ctx, fs->dir, name, &fs->tmp) != HAZ_OK)
        return HAZ_ENOMEM;
    fd = haz__io_open(fs->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW,
                      0644);
    if (fd == -1 || haz__io_fstat(fd, &st) != 0) {
        haz__io_close_quiet(fd);
        if (fd != -1)
            (void)haz__io_unlink(fs->tmp);
        haz__free(fs->ctx, fs->tmp);
        fs->tmp = NULL;
        return HAZ_EIO;
    }
    haz__io_close_quiet(fd);
    if (set_epoch)
        fs->epoch = (int64_t)HAZ__ST_MTIM(&st).tv_sec;
    return HAZ_OK;
}

static void drop_temp(haz__filestat *fs);

/* writable: 0 read-only, 1 keep the session's temporary until the save,
 * 2 remove it at once (the save makes a new one). */
static int record_open(haz_ctx *ctx, const char *cache_dir,
                       const char *name, const haz_hash_methods *h,
                       int writable, haz__filestat **out)
{
    haz__filestat *fs;
    char *path = NULL, *data = NULL;
    size_t len;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (ctx == NULL)
        return HAZ_EINVAL;
    if (out == NULL || cache_dir == NULL || h == NULL || cache_dir[0] != '/'
        || h->digest_len == 0 || h->digest_len > HAZ_HASH_MAX_DIGEST)
        return haz__error(ctx, HAZ_EINVAL, "haz__filestat_open: bad argument");
    fs = haz__calloc(ctx, 1, sizeof(*fs));
    if (fs == NULL)
        return HAZ_ENOMEM;
    fs->ctx = ctx;
    fs->h = h;
    fs->name = name;
    fs->epoch = NO_EPOCH;
    haz__strmap_init(&fs->map, ctx);
    fs->dir = haz__strdup(ctx, cache_dir);
    if (fs->dir == NULL || join(ctx, cache_dir, name, &path)) {
        haz__filestat_close(fs);
        return HAZ_ENOMEM;
    }
    rc = haz__read_file(ctx, path, RECORD_MAX, &data, &len);
    haz__free(ctx, path);
    if (rc == HAZ_ENOMEM || (rc == HAZ_OK &&
                             record_parse(fs, data, len) == HAZ_ENOMEM)) {
        haz__free(ctx, data);
        haz__filestat_close(fs);
        return HAZ_ENOMEM;
    }
    haz__free(ctx, data);
    if (writable && haz__mkdir_p(cache_dir, 0777) == 0 &&
        new_temp(fs, 1) == HAZ_ENOMEM) {
        haz__filestat_close(fs);
        return HAZ_ENOMEM;
    }
    if (writable == 2)
        drop_temp(fs);
    haz__error_clear(ctx);
    *out = fs;
    return HAZ_OK;
}

int haz__filestat_open(haz_ctx *ctx, const char *cache_dir,
                       const haz_hash_methods *h, haz__filestat **out)
{
    return record_open(ctx, cache_dir, HAZ__FILESTAT_NAME, h, 1, out);
}

int haz__filestat_open_outputs(haz_ctx *ctx, const char *cache_dir,
                               const haz_hash_methods *h,
                               haz__filestat **out)
{
    return record_open(ctx, cache_dir, HAZ__FILESTAT_OUTPUTS_NAME, h, 2, out);
}

int haz__filestat_open_readonly(haz_ctx *ctx, const char *cache_dir,
                                const haz_hash_methods *h,
                                haz__filestat **out)
{
    return record_open(ctx, cache_dir, HAZ__FILESTAT_NAME, h, 0, out);
}

int haz__filestat_hash(haz__filestat *fs, haz_ctx *ctx,
                       const haz_hash_methods *h, const char *path,
                       const char *host_path, unsigned char *digest,
                       haz__fileid *id)
{
    return haz__filestat_hash_stat(fs, ctx, h, path, host_path, NULL, digest,
                                   id);
}

int haz__filestat_hash_stat(haz__filestat *fs, haz_ctx *ctx,
                            const haz_hash_methods *h, const char *path,
                            const char *host_path, const struct stat *now,
                            unsigned char *digest, haz__fileid *id)
{
    struct stat st;
    haz__fileid cur;
    fs_entry *e = NULL;
    int rc, stable;

    if (fs != NULL && (fs->h != h || path == NULL))
        fs = NULL;              /* another hash: the record cannot serve */
    if (fs != NULL) {
        e = entry_find(fs, path);
        if (e != NULL && !e->dead) {
            if (now == NULL && haz__io_stat(host_path, &st) == 0)
                now = &st;
            if (now != NULL && S_ISREG(now->st_mode)) {
                haz__fileid_of(now, &cur);
                if (haz__filestat_trusted(&e->id, e->epoch, &cur)) {
                    memcpy(digest, e->hash, h->digest_len);
                    if (id != NULL)
                        *id = cur;
                    return HAZ_OK;
                }
            }
        }
        fs->reads++;
    }
    rc = haz__file_hash(ctx, h, host_path, path, digest, &cur, &stable);
    if (rc != HAZ_OK) {
        if (e != NULL && !e->dead) {
            e->dead = 1;
            fs->dirty = 1;
        }
        return rc;
    }
    if (id != NULL)
        *id = cur;
    if (fs == NULL || fs->epoch == NO_EPOCH)
        return HAZ_OK;
    if (!stable || !path_recordable(path, strlen(path))) {
        if (e != NULL && !e->dead) {
            e->dead = 1;
            fs->dirty = 1;
        }
        return HAZ_OK;
    }
    if (e == NULL && (e = entry_add(fs, path, strlen(path))) == NULL)
        return HAZ_ENOMEM;
    e->id = cur;
    e->epoch = fs->epoch;
    memcpy(e->hash, digest, h->digest_len);
    e->dead = 0;
    fs->dirty = 1;
    return HAZ_OK;
}

/* The record's hash, by identity or by name (a manifest names its hash). */
static int same_hash(const haz__filestat *fs, const haz_hash_methods *h)
{
    return h != NULL && (fs->h == h || (h->digest_len == fs->h->digest_len &&
                                        h->name != NULL &&
                                        strcmp(h->name, fs->h->name) == 0));
}

int haz__filestat_known(haz__filestat *fs, const haz_hash_methods *h,
                        const char *path, const struct stat *now,
                        unsigned char *digest)
{
    fs_entry *e;
    haz__fileid cur;

    if (fs == NULL || !same_hash(fs, h) || path == NULL || now == NULL ||
        !S_ISREG(now->st_mode))
        return 0;
    e = entry_find(fs, path);
    if (e == NULL || e->dead)
        return 0;
    haz__fileid_of(now, &cur);
    if (!haz__filestat_trusted(&e->id, e->epoch, &cur))
        return 0;
    memcpy(digest, e->hash, h->digest_len);
    return 1;
}

int haz__filestat_note(haz__filestat *fs, const haz_hash_methods *h,
                       const char *path, const struct stat *before,
                       const unsigned char *digest)
{
    fs_entry *e;
    haz__fileid id;

    if (fs == NULL || !same_hash(fs, h) || path == NULL || before == NULL ||
        digest == NULL || fs->epoch == NO_EPOCH || !S_ISREG(before->st_mode))
        return HAZ_OK;
    e = entry_find(fs, path);
    if (!path_recordable(path, strlen(path))) {
        if (e != NULL && !e->dead) {
            e->dead = 1;
            fs->dirty = 1;
        }
        return HAZ_OK;
    }
    haz__fileid_of(before, &id);
    if (e != NULL && !e->dead && e->epoch == fs->epoch &&
        haz__fileid_equal(&e->id, &id) &&
        memcmp(e->hash, digest, h->digest_len) == 0)
        return HAZ_OK;          /* noted already in this session */
    if (e == NULL && (e = entry_add(fs, path, strlen(path))) == NULL)
        return HAZ_ENOMEM;
    e->id = id;
    e->epoch = fs->epoch;
    memcpy(e->hash, digest, h->digest_len);
    e->dead = 0;
    fs->dirty = 1;
    return HAZ_OK;
}

void haz__filestat_forget(haz__filestat *fs, const char *path)
{
    fs_entry *e;

    if (fs == NULL || path == NULL || fs->epoch == NO_EPOCH)
        return;
    e = entry_find(fs, path);
    if (e != NULL && !e->dead) {
        e->dead = 1;
        fs->dirty = 1;
    }
}

static int cmp_entry_ptr(const void *a, const void *b)
{
    return strcmp((*(fs_entry *const *)a)->path,
                  (*(fs_entry *const *)b)->path);
}

static int format_record(haz__filestat *fs, haz_buf *b)
{
    const haz_hash_methods *h = fs->h;
    fs_entry **order;
    size_t i, n = 0;
    char hex[2 * HAZ_HASH_MAX_DIGEST + 1];
    unsigned char digest[HAZ_HASH_MAX_DIGEST];
    haz_hash_state hs;
    int rc = HAZ_OK;

    order = haz__reallocarray(fs->ctx, NULL, fs->n + 1, sizeof(*order));
    if (order == NULL)
        return HAZ_ENOMEM;
    for (i = 0; i < fs->n; i++)
        if (!fs->v[i].dead)
            order[n++] = &fs->v[i];
    qsort(order, n, sizeof(*order), cmp_entry_ptr);
    rc = haz__buf_printf(b, "%s %d %s\n", RECORD_MAGIC, RECORD_REVISION,
                         h->name);
    for (i = 0; i < n && rc == HAZ_OK; i++) {
        const fs_entry *e = order[i];

        haz_hash_hex(e->hash, h->digest_len, hex);
        rc = haz__buf_printf(b, "%lld %llu %lld %ld %lld %ld %llu %llu %s %s\n",
                             (long long)e->epoch,
                             (unsigned long long)e->id.size,
                             (long long)e->id.mtime_s, e->id.mtime_ns,
                             (long long)e->id.ctime_s, e->id.ctime_ns,
                             (unsigned long long)e->id.ino,
                             (unsigned long long)e->id.dev, hex, e->path);
    }
    haz__free(fs->ctx, order);
    if (rc != HAZ_OK)
        return rc;
    if (h->context_size > sizeof(hs))
        return haz__error(fs->ctx, HAZ_ENOTSUP, "hash state too large");
    h->init(&hs);
    h->update(&hs, b->data, b->len);
    h->out(&hs, digest);
    haz_hash_hex(digest, h->digest_len, hex);
    return haz__buf_printf(b, "end %lu %s\n", (unsigned long)n, hex);
}

/* Remove the record's temporary file.  When that fails (EIO), keep its
 * name so that haz__filestat_close tries once more: a temporary left
 * behind is only removed by `clean`, after a grace period. */
static void drop_temp(haz__filestat *fs)
{
    if (fs->tmp != NULL &&
        (haz__io_unlink(fs->tmp) == 0 || errno == ENOENT)) {
        haz__free(fs->ctx, fs->tmp);
        fs->tmp = NULL;
    }
}

int haz__filestat_save(haz__filestat *fs)
{
    haz_buf b;
    char *final = NULL;
    int fd, rc;

    if (fs == NULL)
        return HAZ_EINVAL;
    if (fs->epoch == NO_EPOCH)
        return haz__error(fs->ctx, HAZ_ESTATE,
                          "the input-hash record in '%s' is read-only",
                          fs->dir);
    if (!fs->dirty) {
        /* Nothing changed since it was loaded (or saved): the record on
         * disk says it all already. */
        drop_temp(fs);
        return HAZ_OK;
    }
    if (fs->tmp == NULL && (rc = new_temp(fs, 0)) != HAZ_OK)
        return rc == HAZ_ENOMEM ? rc
               : haz__error_os(fs->ctx, HAZ_EIO, errno, "cannot create a "
                               "temporary file in '%s'", fs->dir);
    haz__buf_init(&b, fs->ctx);
    rc = format_record(fs, &b);
    if (rc == HAZ_OK)
        rc = join(fs->ctx, fs->dir, fs->name, &final);
    if (rc != HAZ_OK) {
        haz__buf_free(&b);
        return rc;
    }
    fd = haz__io_open(fs->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW,
                      0644);
    if (fd == -1 || haz__io_write_all(fd, b.data, b.len) != 0 ||
        haz__io_fsync(fd) != 0 ||
        (rc = haz__io_close(fd), fd = -1, rc) != 0 ||  /* closed either way */
        haz__io_rename(fs->tmp, final) != 0) {
        rc = haz__error_os(fs->ctx, HAZ_EIO, errno, "cannot save the "
                           "input-hash record '%s'", final);
        haz__io_close_quiet(fd);
        drop_temp(fs);
    } else {
        (void)haz__fsync_dir(fs->dir);
        fs->dirty = 0;
        haz__free(fs->ctx, fs->tmp);
        fs->tmp = NULL;
    }
    haz__free(fs->ctx, final);
    haz__buf_free(&b);
    return rc;
}

void haz__filestat_close(haz__filestat *fs)
{
    if (fs == NULL)
        return;
    if (fs->tmp != NULL) {
        (void)haz__io_unlink(fs->tmp);
        haz__free(fs->ctx, fs->tmp);
    }
    entries_clear(fs);
    haz__strmap_free(&fs->map);
    haz__free(fs->ctx, fs->v);
    haz__free(fs->ctx, fs->dir);
    haz__free(fs->ctx, fs);
}

unsigned long haz__filestat_reads(const haz__filestat *fs)
{
    return fs ? fs->reads : 0;
}

size_t haz__filestat_count(const haz__filestat *fs)
{
    size_t i, n = 0;

    if (fs == NULL)
        return 0;
    for (i = 0; i < fs->n; i++)
        if (!fs->v[i].dead)
            n++;
    return n;
}

void haz__filestat_set_epoch(haz__filestat *fs, int64_t sec)
{
    if (fs != NULL && sec != NO_EPOCH)
        fs->epoch = sec;
}
