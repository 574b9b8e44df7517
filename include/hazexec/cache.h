/*
 * hazexec/cache.h: the cache-store seam and the filesystem cache store.
 *
 * The scheduler derives a task's cache key (design 2.15), asks the store to
 * look it up, restores a hit inline, and stores the results of a successful
 * fresh run (CACHE-018; never a failed or cancelled one, EXEC-015).  The
 * store keeps the on-disk layout out of the scheduler, so a remote store
 * can be added later.  A cache hit must be indistinguishable from a fresh
 * run (CACHE-023), and a cache entry can never write outside the workspace.
 *
 * Subclassing as in clock.h: the core allocates methods->state_size bytes
 * starting with a struct haz_cache_store and calls open.
 */
#ifndef HAZEXEC_CACHE_H
#define HAZEXEC_CACHE_H

#include "common.h"
#include "clock.h"
#include "hash.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HAZ_CACHE_STORE_METHODS_VERSION 1

typedef struct haz_cache_store haz_cache_store;
typedef struct haz_cache_store_methods haz_cache_store_methods;

/* One output file of an entry.  store() reads `path`, `host_path` and
 * `mode` and ignores `size` and `hash`: it computes both from the bytes it
 * copies.  Entries returned by lookup() have all but host_path filled. */
typedef struct haz_cache_output {
    const char *path;          /* workspace-absolute, "/dir/file" */
    const char *host_path;     /* store(): the file to read; else NULL */
    unsigned mode;             /* permission bits; only mode & 0777 is
                                  recorded and restored (never setuid,
                                  setgid or sticky) */
    uint64_t size;             /* bytes */
    unsigned char hash[HAZ_HASH_MAX_DIGEST]; /* content hash */
} haz_cache_output;

/* A hit: what the manifest records (design 2.16). */
typedef struct haz_cache_entry {
    size_t hash_len;
    unsigned char key[HAZ_HASH_MAX_DIGEST];
    int64_t created_at;        /* Unix seconds */
    uint64_t stdout_size;
    uint64_t stderr_size;
    unsigned char stdout_hash[HAZ_HASH_MAX_DIGEST];
    unsigned char stderr_hash[HAZ_HASH_MAX_DIGEST];
    const haz_cache_output *outputs;  /* sorted by path */
    size_t n_outputs;
    /* Filled by restore(): the recorded streams, owned by the entry. */
    const unsigned char *stdout_data;
    const unsigned char *stderr_data;
} haz_cache_entry;

/* Configuration given to open. */
typedef struct haz_cache_store_config {
    int version;                     /* 1 */
    const char *workspace_root;      /* absolute */
    const char *cache_dir;           /* absolute; NULL: ROOT/.haz/cache */
    const haz_hash_methods *hash;    /* the run's hash */
    haz_clock *clock;                /* for timestamps and ages */
    const void *backend;             /* backend-specific, may be NULL */
} haz_cache_store_config;

struct haz_cache_store {
    const haz_cache_store_methods *methods;  /* NULL until open succeeds */
    haz_ctx *ctx;                            /* set by haz_cache_store_open */
};

struct haz_cache_store_methods {
    int version;         /* HAZ_CACHE_STORE_METHODS_VERSION */
    const char *name;    /* "fs", ... */
    size_t state_size;   /* >= sizeof(haz_cache_store) */
    int (*open)(haz_cache_store *cs, const haz_cache_store_config *cfg);
    void (*close)(haz_cache_store *cs);
    /* lookup: *entry receives the entry, or NULL on a miss (CACHE-016: a
     * miss, including a corrupt or foreign entry, is not an error).
     * key_len must be the hash's digest length.  On a hit and on a plain
     * miss the context's error is cleared.  A corrupt or dangling entry
     * (bad manifest, a stream or blob missing or of the wrong size) is
     * removed and reported as a miss, with the context's error code set
     * to HAZ_ECORRUPT and its message saying what was wrong, so that the
     * caller can warn (reliability test C5); an entry of another format
     * revision or hash is a miss left in place (code HAZ_ENOTSUP).
     * Returns 0 or HAZ_EINVAL, HAZ_EIO, HAZ_ENOMEM. */
    int (*lookup)(haz_cache_store *cs, const unsigned char *key,
                  size_t key_len, haz_cache_entry **entry);
    /* restore: put the entry's outputs in place under the workspace root,
     * verifying every blob's hash while copying, and load the streams into
     * entry->stdout_data / stderr_data (stdout_size and stderr_size bytes,
     * owned by the entry).  Streams and blobs are all verified before any
     * target is touched; so is every target's parent (an existing parent
     * component that is a symbolic link must resolve inside the
     * workspace, outside its .haz directory and the cache).  A symbolic
     * link at a target is replaced, never followed.  Returns 0, or
     * HAZ_ECORRUPT (the entry failed verification and was removed: treat
     * as a miss; no target was touched), or HAZ_EIO (a refused or failed
     * target: a restore failure, CACHE-019; targets before it in path
     * order may have been published), HAZ_EINVAL, HAZ_ENOMEM. */
    int (*restore)(haz_cache_store *cs, haz_cache_entry *entry);
    /* store: publish an entry for `key` atomically (design 2.16).  The
     * outputs may come in any order; every path must be canonical
     * workspace-absolute, valid UTF-8 without control or invisible
     * formatting characters, outside /.haz, unique, and no path may be a
     * parent directory of another.  Every path is checked before anything
     * is written.  A concurrent store of the same key that finds the
     * entry present counts as success (the first writer wins).
     * created_at must be >= 0.  Returns 0 or HAZ_EIO, HAZ_EINVAL (a bad
     * argument or output path), HAZ_ENOMEM. */
    int (*store)(haz_cache_store *cs, const unsigned char *key,
                 size_t key_len, const haz_cache_output *outputs,
                 size_t n_outputs, const void *out, size_t out_len,
                 const void *err, size_t err_len, int64_t created_at);
    /* entry_free: free an entry returned by lookup.  NULL is ignored. */
    void (*entry_free)(haz_cache_store *cs, haz_cache_entry *entry);
};

/*
 * haz_cache_store_open: allocate and open a store (pattern of clock.h).
 * Returns 0 or one of: HAZ_EINVAL, HAZ_ENOMEM, or what open returned.
 */
HAZ_API int haz_cache_store_open(haz_ctx *ctx,
                                 const haz_cache_store_methods *methods,
                                 const haz_cache_store_config *cfg,
                                 haz_cache_store **out);

/* haz_cache_store_close: close and free.  NULL is ignored. */
HAZ_API void haz_cache_store_close(haz_cache_store *cs);

/* The filesystem store: ROOT/.haz/cache/<2 hex>/<64 hex>/ (design 2.16). */
HAZ_API extern const haz_cache_store_methods haz_cache_store_fs;

/* ------------------------------------------------------------------------
 * Maintenance of a filesystem cache (hazrun cache info|clean|clear|verify).
 * ---------------------------------------------------------------------- */
typedef struct haz_cache_stats {
    uint64_t entries;          /* complete entries */
    uint64_t bytes;            /* bytes in complete entries */
    uint64_t broken;           /* entries that fail to parse or verify */
    uint64_t temporaries;      /* leftover temporary directories */
    uint64_t removed;          /* entries / temporaries removed (clean
                                  with dry_run: that would be removed) */
    uint64_t removed_bytes;
} haz_cache_stats;

/* clean: each removal is counted once, under the first of these modes that
 * applies (AUX-024). */
typedef struct haz_cache_clean_options {
    int broken;                /* remove broken entries, and temporaries
                                  older than HAZ_CACHE_TMP_GRACE_S */
    int64_t max_age_s;         /* > 0: remove entries whose created_at is
                                  strictly older than now - max_age_s */
    uint64_t max_bytes;        /* > 0: remove oldest created_at first
                                  until the complete entries fit */
    int dry_run;               /* count only, remove nothing */
} haz_cache_clean_options;

/* A temporary (a store or restore in progress, or left by a crash) is
 * removed by clean only when its modification time is at least this many
 * seconds before the clock's wall time, so that clean never pulls the
 * directory from under a live store in another process. */
#define HAZ_CACHE_TMP_GRACE_S 600

/*
 * haz_cache_fs_info, _verify, _clean, _clear: operate on the filesystem
 * cache under `cache_dir` (absolute) and fill *stats.  None of them
 * follows a symbolic link or touches a file it does not recognise.
 * An entry is broken when its manifest is missing, does not parse, is of
 * another format revision or an unknown hash, names another key, or a
 * stream or blob is missing or of the wrong size; verify also re-hashes every blob and
 * stream (each entry under the hash its manifest names; `hash` serves the
 * entries of its own name).  `bytes` counts the file sizes of entries.
 * clean needs `clock` (its wall time) when opt->broken or max_age_s is
 * set; clean is best effort: it removes what it can and returns the first
 * failure.  clear removes the whole cache directory (a missing directory
 * is success; a cache directory that is a symbolic link is removed as a
 * link) and touches nothing outside it.
 * Each returns 0 or one of: HAZ_EINVAL, HAZ_EIO (message names the path),
 * HAZ_ENOMEM; verify also HAZ_ECORRUPT when a broken entry was found.
 */
HAZ_API int haz_cache_fs_info(haz_ctx *ctx, const char *cache_dir,
                              haz_cache_stats *stats);
HAZ_API int haz_cache_fs_verify(haz_ctx *ctx, const char *cache_dir,
                                const haz_hash_methods *hash,
                                haz_cache_stats *stats);
HAZ_API int haz_cache_fs_clean(haz_ctx *ctx, const char *cache_dir,
                               const haz_cache_clean_options *opt,
                               haz_clock *clock, haz_cache_stats *stats);
HAZ_API int haz_cache_fs_clear(haz_ctx *ctx, const char *cache_dir,
                               haz_cache_stats *stats);

#ifdef __cplusplus
}
#endif
#endif /* HAZEXEC_CACHE_H */
