/*
 * backends/cache_fs.h: private declarations shared by the files of the
 * filesystem cache store:
 *   cache_fs.c           the methods table, open/close, lookup, entry_free
 *   cache_fs_store.c     store: the two-phase publish
 *   cache_fs_restore.c   restore: stage, verify, publish into the workspace
 *   cache_fs_manifest.c  the manifest's format and strict parser, and the
 *                        validation of workspace paths
 *   cache_fs_io.c        layout paths, hashing copies, entry removal
 *   cache_fs_maint.c     haz_cache_fs_info / verify / clean / clear
 * The on-disk format is documented in docs/cache-format.md.
 */
#ifndef HAZ_CACHE_FS_H
#define HAZ_CACHE_FS_H

#include "internal.h"

/* Names inside the cache directory. */
#define CFS_MANIFEST "manifest"
#define CFS_STDOUT "stdout"
#define CFS_STDERR "stderr"
#define CFS_OUTPUTS "outputs"
#define CFS_TMP_PREFIX ".tmp-"          /* <shard>/.tmp-<key>-<random> */
#define CFS_DEL_PREFIX ".del-"          /* <shard>/.del-<key>-<random> */
#define CFS_RESTORE_PREFIX ".restore-"  /* <cache>/.restore-<key>-<random> */

#define CFS_REVISION 0                  /* manifest schema revision */
#define CFS_MANIFEST_MAX (64UL * 1024 * 1024)
#define CFS_PATH_MAX 4096               /* bytes of a workspace path */

/* The store object. */
typedef struct cfs_store {
    haz_cache_store base;               /* must stay first */
    char *ws;                           /* workspace root, no trailing '/' */
    char *ws_real;                      /* its realpath */
    char *root;                         /* the cache directory */
    char *root_real;                    /* its realpath, found by the
                                           first restore (NULL before) */
    const haz_hash_methods *hash;
    haz_clock *clock;
    uint64_t counter;                   /* names of temporaries */
    char rnd[17];                       /* random hex for restore staging
                                           names, drawn once ("" before) */
    struct haz__filestat *rec;          /* the record of outputs found in
                                           place (lib/filestat.h), opened
                                           by the first restore that looks
                                           at a target, saved by close */
    int rec_tried;                      /* its open was tried */
} cfs_store;

/* A parsed manifest.  Paths point into `text`, which the manifest owns. */
typedef struct cfs_manifest {
    const haz_hash_methods *hash;       /* the backend named by the file */
    unsigned char key[HAZ_HASH_MAX_DIGEST];
    int64_t created_at;
    uint64_t stdout_size, stderr_size;
    unsigned char stdout_hash[HAZ_HASH_MAX_DIGEST];
    unsigned char stderr_hash[HAZ_HASH_MAX_DIGEST];
    haz_cache_output *outputs;          /* sorted by path, unique */
    size_t n_outputs;
    char *text;
} cfs_manifest;

/* ---- cache_fs_manifest.c ---- */

/* cfs_path_why: NULL when `path` may name a restored file (workspace-
 * absolute, canonical, no control or invisible formatting character, not
 * under /.haz), else the reason. */
const char *cfs_path_why(const char *path);

/* cfs_outputs_check: outputs[] (sorted by path) are unique and no path is
 * a parent directory of another.  Returns NULL or the offending path. */
const char *cfs_outputs_check(const haz_cache_output *const *v, size_t n);

/* cfs_manifest_format: append the manifest of `m` (m->hash set, outputs
 * sorted) to b.  Returns 0 or HAZ_ENOMEM. */
int cfs_manifest_format(haz_buf *b, const cfs_manifest *m);

/* cfs_manifest_parse: parse `text` (len bytes, NUL-terminated, allocated
 * on ctx; the manifest takes it, also on failure).  Returns 0, or
 * HAZ_ECORRUPT (malformed: a miss, the entry is broken), HAZ_ENOTSUP (a
 * schema revision or hash this build does not know: foreign, not broken),
 * HAZ_ENOMEM.  The context's message says why. */
int cfs_manifest_parse(haz_ctx *ctx, char *text, size_t len,
                       cfs_manifest *m);

void cfs_manifest_free(haz_ctx *ctx, cfs_manifest *m);

/* ---- cache_fs_io.c ---- */

/* cfs_entry_path: b = root/<2 hex>/<hex key>[/name] (name may be NULL). */
int cfs_entry_path(haz_buf *b, const char *root, const unsigned char *key,
                   size_t key_len, const char *name);

/* cfs_blob_name: "outputs/<hex hash>" into b (appended). */
int cfs_blob_name(haz_buf *b, const unsigned char *hash, size_t len);

/* cfs_copy: copy from fd `in` to fd `out` (out < 0: read only), hashing
 * with h; at most `limit` + 1 bytes are read, so a file larger than
 * expected is noticed without reading it all.  *size receives the bytes
 * read.  Returns 0 or -1 with errno. */
int cfs_copy(haz_ctx *ctx, const haz_hash_methods *h, int in, int out,
             uint64_t limit, uint64_t *size, unsigned char *digest);

/* cfs_hash_file: hash the regular file `path` (never through a link),
 * checking its size.  Returns 0 when it has `size` bytes hashing to
 * `hash`, HAZ_ECORRUPT when it does not (or is missing, a link, not a
 * regular file), HAZ_EIO, HAZ_ENOMEM. */
int cfs_hash_file(haz_ctx *ctx, const haz_hash_methods *h, const char *path,
                  uint64_t size, const unsigned char *hash);

/* cfs_remove_dir: make the directory `path` (an entry or a temporary
 * inside `parent`) disappear at once by renaming it to
 * parent/.del-<tag>-<random>, then remove that tree.  A missing path is
 * success.  Returns 0 or -1 with errno. */
int cfs_remove_dir(haz_ctx *ctx, const char *parent, const char *path,
                   const char *tag, uint64_t salt);

/* cfs_unique_dir: create a new directory "<parent>/<prefix><tag>-<random>"
 * (mode 0777 before umask) and put its path in b.  Returns 0 or -1. */
int cfs_unique_dir(haz_buf *b, const char *parent, const char *prefix,
                   const char *tag, uint64_t salt);

/* ---- cache_fs_store.c ---- */

/* Test hook: when set, called with the name of each step of a store
 * ("tmp", "blob", "stdout", "stderr", "manifest", "synced", "renamed",
 * "done"), so a test can kill the process between steps. */
extern void (*haz__cache_fs_test_hook)(const char *step);

int cfs_store_entry(haz_cache_store *cs, const unsigned char *key,
                    size_t key_len, const haz_cache_output *outputs,
                    size_t n_outputs, const void *out, size_t out_len,
                    const void *err, size_t err_len, int64_t created_at);

/* ---- cache_fs_restore.c ---- */

int cfs_restore(haz_cache_store *cs, haz_cache_entry *entry);

/* ---- cache_fs.c ---- */

/* The private side of an entry handed out by lookup. */
typedef struct cfs_entry {
    haz_cache_entry pub;                /* must stay first */
    cfs_manifest m;
    unsigned char *out_data, *err_data; /* filled by restore */
} cfs_entry;

/* cfs_drop_entry: remove the entry of `key` (corrupt or dangling). */
void cfs_drop_entry(cfs_store *s, const unsigned char *key, size_t key_len);

#endif /* HAZ_CACHE_FS_H */
