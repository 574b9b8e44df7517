/*
 * lib/sys.h: the system-call seam of the library's file I/O (style.md
 * item 9, after SQLite's aSyscall[] in os_unix.c): the filesystem cache
 * store, the input-hash record, the glob walk and the helpers of
 * lib/fsutil.h make every open, read, write, close, fsync, rename, mkdir,
 * unlink, rmdir, stat and directory read through the table in lib/sys.c.
 * A test replaces one entry (to fail its Nth call with ENOSPC, EIO, EMFILE
 * or EINTR) and restores it; in production every entry is the libc call.
 * The posix spawner has its own seam (backends/spawn_posix.h).
 *
 * The table is process-wide and not locked: set entries only while no run
 * is in progress.  Internal (haz__), never exported.
 */
#ifndef HAZ_SYS_H
#define HAZ_SYS_H

#include "internal.h"

#include <dirent.h>
#include <sys/types.h>
#include <sys/stat.h>

/* A seam entry, cast from its real type (the libc prototype of the entry's
 * name; "open" and "openat" take the mode as a third, always-present
 * argument of type unsigned: int (*)(const char *, int, unsigned) and
 * int (*)(int, const char *, int, unsigned)). */
typedef void (*haz__io_syscall_fn)(void);

/* The real type of each entry, for replacements and pass-through calls:
 * fd (close, fsync), path (unlink, rmdir), stat (stat, lstat); the others
 * are named after their entry. */
typedef int (*haz__io_open_fn)(const char *, int, unsigned);
typedef int (*haz__io_openat_fn)(int, const char *, int, unsigned);
typedef ssize_t (*haz__io_read_fn)(int, void *, size_t);
typedef ssize_t (*haz__io_write_fn)(int, const void *, size_t);
typedef int (*haz__io_fd_fn)(int);
typedef int (*haz__io_fchmod_fn)(int, unsigned);
typedef int (*haz__io_rename_fn)(const char *, const char *);
typedef int (*haz__io_mkdir_fn)(const char *, unsigned);
typedef int (*haz__io_path_fn)(const char *);
typedef int (*haz__io_unlinkat_fn)(int, const char *, int);
typedef int (*haz__io_stat_fn)(const char *, struct stat *);
typedef int (*haz__io_fstat_fn)(int, struct stat *);
typedef int (*haz__io_fstatat_fn)(int, const char *, struct stat *, int);
typedef DIR *(*haz__io_opendir_fn)(const char *);
typedef DIR *(*haz__io_fdopendir_fn)(int);
typedef struct dirent *(*haz__io_readdir_fn)(DIR *);

/* haz__io_syscall_set: route the entry `name` to fn, or back to its default
 * when fn is NULL.  Returns 0, or -1 when `name` is not an entry. */
int haz__io_syscall_set(const char *name, haz__io_syscall_fn fn);

/* haz__io_syscall_default: the default (libc) function of `name`, or NULL
 * when `name` is not an entry. */
haz__io_syscall_fn haz__io_syscall_default(const char *name);

/* haz__io_syscall_name: the name of entry i (0, 1, ...), or NULL past the
 * last one; for tests that walk the whole table. */
const char *haz__io_syscall_name(size_t i);

/*
 * The calls through the table.  Each behaves as the libc call of the same
 * name (return value and errno), with these additions:
 *   haz__io_open, haz__io_openat: the descriptor is close-on-exec (O_CLOEXEC
 *     where defined, and fcntl(FD_CLOEXEC) in any case) and EINTR is
 *     retried; on failure nothing is left open.
 *   haz__io_write_all: write all n bytes, retrying EINTR and short writes;
 *     0, or -1 with errno (EIO when write makes no progress).
 *   haz__io_close_quiet: close fd (nothing for a negative fd) ignoring any
 *     error and preserving errno.
 * haz__io_read is one read(2): callers loop on EINTR and short reads.
 */
int haz__io_open(const char *path, int flags, unsigned mode);
int haz__io_openat(int dfd, const char *name, int flags, unsigned mode);
ssize_t haz__io_read(int fd, void *buf, size_t n);
int haz__io_write_all(int fd, const void *data, size_t n);
int haz__io_close(int fd);
void haz__io_close_quiet(int fd);
int haz__io_fsync(int fd);
int haz__io_fchmod(int fd, unsigned mode);
int haz__io_rename(const char *from, const char *to);
int haz__io_mkdir(const char *path, unsigned mode);
int haz__io_unlink(const char *path);
int haz__io_unlinkat(int dfd, const char *name, int flags);
int haz__io_rmdir(const char *path);
int haz__io_stat(const char *path, struct stat *st);
int haz__io_lstat(const char *path, struct stat *st);
int haz__io_fstat(int fd, struct stat *st);
int haz__io_fstatat(int dfd, const char *name, struct stat *st, int flags);
DIR *haz__io_opendir(const char *path);
DIR *haz__io_fdopendir(int fd);
struct dirent *haz__io_readdir(DIR *d);

#endif /* HAZ_SYS_H */
