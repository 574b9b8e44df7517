/*
 * lib/filestat.h: content hashing of files, and the persistent input-hash
 * record that lets a run skip reading files that did not change since an
 * earlier run (docs/cache-format.md, "The input-hash record").
 *
 * The record maps a workspace path to the identity of the file whose bytes
 * were hashed (size, mtime and ctime to the nanosecond, inode, device) and
 * the content hash.  A later lookup trusts the hash only when the file's
 * identity is unchanged and the entry is not "racy": its mtime and ctime
 * must lie in an earlier second than the start of the session that hashed
 * it, measured on the file system's own clock (git's racy-git rule), since
 * a write in the same second could leave every stamp unchanged.
 *
 * The record is loaded once per run, updated in memory, and saved
 * atomically (temporary file, fsync, rename).  A record that fails the
 * strict parse is ignored as a whole, never trusted in part.
 *
 * The filesystem cache store keeps a second record of the same kind, of
 * the outputs it found in place (haz__filestat_open_outputs,
 * haz__filestat_known, haz__filestat_note, haz__filestat_forget).
 */
#ifndef HAZ_FILESTAT_H
#define HAZ_FILESTAT_H

#include "internal.h"

/* The identity of a file's content as stat(2) reports it. */
typedef struct haz__fileid {
    uint64_t size;
    int64_t mtime_s;
    long mtime_ns;
    int64_t ctime_s;
    long ctime_ns;
    uint64_t ino;
    uint64_t dev;
} haz__fileid;

/* The file name of the record inside the cache directory, and the prefix
 * of its temporaries ("filestat.tmp-..."). */
#define HAZ__FILESTAT_NAME "filestat"
#define HAZ__FILESTAT_TMP_PREFIX "filestat.tmp-"

/* The record of outputs found in place by restores of the filesystem
 * cache store (same format and rules; its temporaries share the prefix). */
#define HAZ__FILESTAT_OUTPUTS_NAME "filestat-outputs"

/* Files are read in chunks of this size. */
#define HAZ__HASH_CHUNK 65536

/* haz__fileid_of: fill *id from a struct stat (declared opaque here so
 * that this header needs no <sys/stat.h>). */
struct stat;
void haz__fileid_of(const struct stat *st, haz__fileid *id);

/* haz__fileid_equal: 1 when every field is equal. */
int haz__fileid_equal(const haz__fileid *a, const haz__fileid *b);

/*
 * haz__file_hash: hash the content of the regular file at `host_path`
 * (following symbolic links) with `h`, reading HAZ__HASH_CHUNK bytes at a
 * time, and write the digest to `digest`.  *id (if not NULL) receives the
 * file's identity taken before reading; when the identity after reading
 * differs, *stable (if not NULL) is set to 0 (the file changed while being
 * read), else 1.  The name `what` is used in messages.
 * Returns 0 or one of: HAZ_ENOENT (no such file), HAZ_EEXIST (not a regular
 * file), HAZ_EIO (errno in the context), HAZ_ENOMEM.
 */
int haz__file_hash(haz_ctx *ctx, const haz_hash_methods *h,
                   const char *host_path, const char *what,
                   unsigned char *digest, haz__fileid *id, int *stable);

/* The record. */
typedef struct haz__filestat haz__filestat;

/*
 * haz__filestat_open: open the record of the cache directory `cache_dir`
 * (absolute) for hash `h`, loading cache_dir/filestat when it exists and
 * parses.  A missing, corrupt or foreign record (other hash, other
 * revision) starts empty; that is not an error.  Opening creates the
 * session's temporary file in cache_dir (creating the directory if
 * needed): its modification time is the session's start on the file
 * system's clock.  When that fails (read-only cache), the record still
 * serves the entries it loaded but records nothing new and cannot be
 * saved.
 * Returns 0 or one of: HAZ_EINVAL (NULL argument, relative path),
 * HAZ_ENOMEM.
 */
int haz__filestat_open(haz_ctx *ctx, const char *cache_dir,
                       const haz_hash_methods *h, haz__filestat **out);

/*
 * haz__filestat_open_outputs: as haz__filestat_open, for the record
 * cache_dir/filestat-outputs (HAZ__FILESTAT_OUTPUTS_NAME) that the
 * filesystem cache store keeps of the outputs it found already in place.
 * It is a record of its own so that its saves and the run's saves of the
 * input record never overwrite each other.  The session's temporary file
 * only dates the session: it is removed at once (a store may stay open
 * long), and haz__filestat_save makes a new one.
 * Returns 0 or one of: HAZ_EINVAL (NULL argument, relative path),
 * HAZ_ENOMEM.
 */
int haz__filestat_open_outputs(haz_ctx *ctx, const char *cache_dir,
                               const haz_hash_methods *h,
                               haz__filestat **out);

/*
 * haz__filestat_open_readonly: as haz__filestat_open, but the record is
 * only read: no temporary is made, no new hash is recorded, and it cannot
 * be saved (a dry run, haz_run_probe).
 */
int haz__filestat_open_readonly(haz_ctx *ctx, const char *cache_dir,
                                const haz_hash_methods *h,
                                haz__filestat **out);

/*
 * haz__filestat_hash: the content hash of the file at `host_path`, known
 * in the record under the workspace path `path`.  When the record holds a
 * trusted entry for the file's current identity the hash comes from it
 * without reading the file; otherwise the file is hashed (haz__file_hash)
 * and the entry replaced.  A missing file drops its entry.  `fs` may be
 * NULL: then the file is always hashed.  *id (if not NULL) receives the
 * identity the hash belongs to.
 * Returns what haz__file_hash returns.
 */
int haz__filestat_hash(haz__filestat *fs, haz_ctx *ctx,
                       const haz_hash_methods *h, const char *path,
                       const char *host_path, unsigned char *digest,
                       haz__fileid *id);

/* haz__filestat_hash_stat: the same, with `now` the status of host_path
 * that the caller has just taken with stat(2) (NULL: taken here), so that
 * a file whose record is trusted costs one stat in all. */
int haz__filestat_hash_stat(haz__filestat *fs, haz_ctx *ctx,
                            const haz_hash_methods *h, const char *path,
                            const char *host_path, const struct stat *now,
                            unsigned char *digest, haz__fileid *id);

/*
 * haz__filestat_known: 1 when the record holds a trusted entry (the trust
 * rule of haz__filestat_trusted) under the workspace path `path` for a
 * regular file whose status is *now (taken by the caller with stat(2) or
 * lstat(2) just before), and then copies its content hash to `digest`;
 * else 0, and `digest` is untouched.  The file is never read.  A NULL
 * `fs`, another hash `h` than the record's, or a NULL argument gives 0.
 * The filesystem cache store uses it to trust an output already in place
 * (a restore that finds it holding the recorded bytes) at the cost of the
 * one lstat it takes anyway.
 */
int haz__filestat_known(haz__filestat *fs, const haz_hash_methods *h,
                        const char *path, const struct stat *now,
                        unsigned char *digest);

/*
 * haz__filestat_note: record that the regular file known under the
 * workspace path `path`, whose status was *before when its bytes were
 * read, has the content hash `digest` under `h`.  The caller has read
 * and hashed the file itself, and checked that its identity was the same
 * after reading (a file that changed while being read must not be
 * noted).  The entry takes the session's epoch, so the trust rule applies
 * to it as to any other: a file written in the session's second or later
 * is racy and will be read again by a later session.  Nothing is recorded
 * by a read-only record, for another hash, for a path the record cannot
 * hold (that drops its entry), or when `fs` is NULL.  The caller keeps
 * every argument.
 * Returns 0 or HAZ_ENOMEM.
 */
int haz__filestat_note(haz__filestat *fs, const haz_hash_methods *h,
                       const char *path, const struct stat *before,
                       const unsigned char *digest);

/* haz__filestat_forget: drop the entry of workspace path `path`, if any
 * (the file there is being replaced).  NULL `fs` or `path`, or a
 * read-only record: nothing. */
void haz__filestat_forget(haz__filestat *fs, const char *path);

/*
 * haz__filestat_save: write the record to its file in cache_dir
 * (filestat, or filestat-outputs) atomically
 * (the session's temporary file, fsync, rename, fsync of the directory).
 * A record that did not change since it was loaded (or last saved) is not
 * written again: the session's temporary is removed and that is success.
 * Saving twice is allowed; the second save starts a new temporary.
 * Returns 0 or one of: HAZ_ESTATE (the session has no temporary file),
 * HAZ_EIO, HAZ_ENOMEM.  On failure the old record is left as it was.
 */
int haz__filestat_save(haz__filestat *fs);

/* haz__filestat_close: free the record and remove the session's
 * temporary file if it was not saved.  NULL is ignored. */
void haz__filestat_close(haz__filestat *fs);

/* For tests and diagnostics. */

/* haz__filestat_reads: how many files were read (hashed) through `fs`. */
unsigned long haz__filestat_reads(const haz__filestat *fs);

/* haz__filestat_count: the number of entries. */
size_t haz__filestat_count(const haz__filestat *fs);

/* haz__filestat_set_epoch: pretend the session started at `sec` on the
 * file system's clock (tests: files created just now are then racy or not
 * at will). */
void haz__filestat_set_epoch(haz__filestat *fs, int64_t sec);

/* haz__filestat_trusted: the trust rule on its own: 1 when an entry taken
 * at identity `rec` in a session that started in second `epoch` may be
 * used for a file whose identity is now `cur`. */
int haz__filestat_trusted(const haz__fileid *rec, int64_t epoch,
                          const haz__fileid *cur);

#endif /* HAZ_FILESTAT_H */
