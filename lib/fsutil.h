/*
 * lib/fsutil.h: file-system helpers of the cache (the input-hash record,
 * the filesystem cache store and its maintenance): robust reads and
 * writes, durable file creation, directory fsync, recursive removal that
 * never follows a symbolic link, random name suffixes, and portable access
 * to the nanosecond time stamps of struct stat.
 *
 * Every descriptor is opened close-on-exec; every read and write retries
 * EINTR and short transfers.  Functions returning int return 0 or -1 with
 * errno set unless said otherwise.
 */
#ifndef HAZ_FSUTIL_H
#define HAZ_FSUTIL_H

#include "internal.h"

#include <sys/types.h>
#include <sys/stat.h>

/* Nanosecond time stamps: POSIX.1-2008 st_mtim/st_ctim, Darwin's
 * st_mtimespec/st_ctimespec. */
#if defined(__APPLE__)
#define HAZ__ST_MTIM(st) ((st)->st_mtimespec)
#define HAZ__ST_CTIM(st) ((st)->st_ctimespec)
#else
#define HAZ__ST_MTIM(st) ((st)->st_mtim)
#define HAZ__ST_CTIM(st) ((st)->st_ctim)
#endif

/* haz__read_full: read up to n bytes, stopping early only at end of file.
 * Returns the byte count, or -1 with errno. */
long haz__read_full(int fd, void *buf, size_t n);

/* haz__open_read: open `path` read-only, non-blocking (a fifo can never
 * block), close-on-exec, and with `nofollow` refusing a symbolic link as
 * the last component (ELOOP).  Returns the descriptor or -1. */
int haz__open_read(const char *path, int nofollow);

/* haz__openat_dir: open the directory `name` inside the directory `dfd`
 * (AT_FDCWD for the current one) without following a symbolic link.
 * Returns the descriptor or -1. */
int haz__openat_dir(int dfd, const char *name);

/*
 * haz__read_file: read the whole regular file `path` (never through a
 * symbolic link) into a NUL-terminated block allocated on ctx; at most
 * `max` bytes.  Returns 0 or one of: HAZ_ENOENT (no such file), HAZ_ECORRUPT
 * (a symbolic link, not a regular file, larger than max, or it changed
 * size while read), HAZ_EIO (errno in the context), HAZ_ENOMEM.  The
 * context's message names the path.
 */
int haz__read_file(haz_ctx *ctx, const char *path, size_t max, char **data,
                   size_t *len);

/* haz__write_file_sync: create `path` (O_EXCL, never through a symbolic
 * link) with mode `mode`, write `len` bytes, fsync and close it.  On
 * failure the file is removed. */
int haz__write_file_sync(const char *path, const void *data, size_t len,
                         unsigned mode);

/* haz__fsync_dir: fsync the directory `path` (so renames and creations in
 * it are durable).  EINVAL and EROFS from fsync (file systems that cannot
 * sync a directory) count as success. */
int haz__fsync_dir(const char *path);

/* haz__mkdir_p: create `path` and its missing parents with `mode`
 * (umask applies).  An existing directory is success; an existing
 * non-directory is ENOTDIR. */
int haz__mkdir_p(const char *path, unsigned mode);

/*
 * haz__rmtree: remove `path` and, when it is a directory, everything in
 * it.  A symbolic link is removed, never followed, at every level; the
 * removal never descends into another file system (EXDEV) or deeper than
 * 64 levels (ELOOP).  A missing path is success.  A removal that fails
 * (EIO, EMFILE, ...) is tried once more on what is left, so that one
 * transient error does not leave a half-removed tree behind.
 */
int haz__rmtree(const char *path);

/* haz__remove_file: unlink `path` (not a directory), trying once more
 * when the first attempt fails; a missing path is success. */
int haz__remove_file(const char *path);

/* haz__du: the total st_size of the regular files under `path` (or of
 * `path` itself), without following links. */
int haz__du(const char *path, uint64_t *bytes);

/* haz__random_hex: write 2*n (n <= 32) random lower-case hex characters
 * and a NUL to out, from /dev/urandom, else mixed from the process id,
 * `salt` and the stack address. */
void haz__random_hex(char *out, size_t n, uint64_t salt);

#endif /* HAZ_FSUTIL_H */
