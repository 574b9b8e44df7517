/*
 * lib/sys.c: the system-call seam of the library's file I/O (lib/sys.h).
 *
 * In order: the defaults (the libc calls, or thin wrappers where the libc
 * type does not fit the table: open and openat are variadic, mkdir and
 * fchmod take a mode_t); the table {name, current, default}; the setter and
 * getter; the typed calls through the table.
 */
#include "internal.h"
#include "fdutil.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifdef O_CLOEXEC
#define HAVE_O_CLOEXEC 1
#else
#define HAVE_O_CLOEXEC 0
#define O_CLOEXEC 0
#endif


static int default_open(const char *path, int flags, unsigned mode)
{
    return open(path, flags, (mode_t)mode);
}

static int default_openat(int dfd, const char *name, int flags,
                          unsigned mode)
{
    return openat(dfd, name, flags, (mode_t)mode);
}

static int default_fchmod(int fd, unsigned mode)
{
    return fchmod(fd, (mode_t)mode);
}

static int default_mkdir(const char *path, unsigned mode)
{
    return mkdir(path, (mode_t)mode);
}

/* The stat family may be macros or inline functions in some C libraries. */
static int default_stat(const char *path, struct stat *st)
{
    return stat(path, st);
}

static int default_lstat(const char *path, struct stat *st)
{
    return lstat(path, st);
}

static int default_fstat(int fd, struct stat *st)
{
    return fstat(fd, st);
}

static int default_fstatat(int dfd, const char *name, struct stat *st,
                           int flags)
{
    return fstatat(dfd, name, st, flags);
}

#define FN(f) ((haz__io_syscall_fn)(f))
#define ENTRY(name, f) {name, FN(f), FN(f)}

enum { IO_OPEN, IO_OPENAT, IO_READ, IO_WRITE, IO_CLOSE, IO_FSYNC, IO_FCHMOD,
       IO_RENAME, IO_MKDIR, IO_UNLINK, IO_UNLINKAT, IO_RMDIR, IO_STAT,
       IO_LSTAT, IO_FSTAT, IO_FSTATAT, IO_OPENDIR, IO_FDOPENDIR, IO_READDIR,
       IO_COUNT };

static struct {
    const char *name;
    haz__io_syscall_fn current;
    haz__io_syscall_fn dflt;
} syscalls[IO_COUNT] = {
    ENTRY("open", default_open),
    ENTRY("openat", default_openat),
    ENTRY("read", read),
    ENTRY("write", write),
    ENTRY("close", close),
    ENTRY("fsync", fsync),
    ENTRY("fchmod", default_fchmod),
    ENTRY("rename", rename),
    ENTRY("mkdir", default_mkdir),
    ENTRY("unlink", unlink),
    ENTRY("unlinkat", unlinkat),
    ENTRY("rmdir", rmdir),
    ENTRY("stat", default_stat),
    ENTRY("lstat", default_lstat),
    ENTRY("fstat", default_fstat),
    ENTRY("fstatat", default_fstatat),
    ENTRY("opendir", opendir),
    ENTRY("fdopendir", fdopendir),
    ENTRY("readdir", readdir)
};

static int find(const char *name)
{
    int i;

    for (i = 0; name != NULL && i < IO_COUNT; i++)
        if (strcmp(syscalls[i].name, name) == 0)
            return i;
    return -1;
}

int haz__io_syscall_set(const char *name, haz__io_syscall_fn fn)
{
    int i = find(name);

    if (i < 0)
        return -1;
    syscalls[i].current = fn != NULL ? fn : syscalls[i].dflt;
    return 0;
}

haz__io_syscall_fn haz__io_syscall_default(const char *name)
{
    int i = find(name);

    return i < 0 ? NULL : syscalls[i].dflt;
}

const char *haz__io_syscall_name(size_t i)
{
    return i < IO_COUNT ? syscalls[i].name : NULL;
}

/* ------------------------------------------------------------------------
 * Typed calls through the table.
 * ---------------------------------------------------------------------- */

#define CALL(id, type) ((type)syscalls[id].current)

/* Make fd close-on-exec where the system has no O_CLOEXEC; on failure
 * close it.  Where the flag exists POSIX.1-2008 requires open(2) to honour
 * it, so no fcntl(2) is spent on every file opened. */
static int cloexec_or_close(int fd)
{
    if (!HAVE_O_CLOEXEC && fd != -1 && haz__set_cloexec(fd) == -1) {
        haz__io_close_quiet(fd);
        return -1;
    }
    return fd;
}

int haz__io_open(const char *path, int flags, unsigned mode)
{
    int fd;

    do
        fd = CALL(IO_OPEN, haz__io_open_fn)(path, flags | O_CLOEXEC, mode);
    while (fd == -1 && errno == EINTR);
    return cloexec_or_close(fd);
}

int haz__io_openat(int dfd, const char *name, int flags, unsigned mode)
{
    int fd;

    do
        fd = CALL(IO_OPENAT, haz__io_openat_fn)(dfd, name, flags | O_CLOEXEC,
                                                mode);
    while (fd == -1 && errno == EINTR);
    return cloexec_or_close(fd);
}

ssize_t haz__io_read(int fd, void *buf, size_t n)
{
    return CALL(IO_READ, haz__io_read_fn)(fd, buf, n);
}

int haz__io_write_all(int fd, const void *data, size_t n)
{
    return haz__write_all_with(CALL(IO_WRITE, haz__io_write_fn), fd, data,
                               n);
}

int haz__io_close(int fd)
{
    return CALL(IO_CLOSE, haz__io_fd_fn)(fd);
}

void haz__io_close_quiet(int fd)
{
    int saved = errno;

    if (fd >= 0)
        (void)CALL(IO_CLOSE, haz__io_fd_fn)(fd);
    errno = saved;
}

int haz__io_fsync(int fd)
{
    return CALL(IO_FSYNC, haz__io_fd_fn)(fd);
}

int haz__io_fchmod(int fd, unsigned mode)
{
    return CALL(IO_FCHMOD, haz__io_fchmod_fn)(fd, mode);
}

int haz__io_rename(const char *from, const char *to)
{
    return CALL(IO_RENAME, haz__io_rename_fn)(from, to);
}

int haz__io_mkdir(const char *path, unsigned mode)
{
    return CALL(IO_MKDIR, haz__io_mkdir_fn)(path, mode);
}

int haz__io_unlink(const char *path)
{
    return CALL(IO_UNLINK, haz__io_path_fn)(path);
}

int haz__io_unlinkat(int dfd, const char *name, int flags)
{
    return CALL(IO_UNLINKAT, haz__io_unlinkat_fn)(dfd, name, flags);
}

int haz__io_rmdir(const char *path)
{
    return CALL(IO_RMDIR, haz__io_path_fn)(path);
}

int haz__io_stat(const char *path, struct stat *st)
{
    return CALL(IO_STAT, haz__io_stat_fn)(path, st);
}

int haz__io_lstat(const char *path, struct stat *st)
{
    return CALL(IO_LSTAT, haz__io_stat_fn)(path, st);
}

int haz__io_fstat(int fd, struct stat *st)
{
    return CALL(IO_FSTAT, haz__io_fstat_fn)(fd, st);
}

int haz__io_fstatat(int dfd, const char *name, struct stat *st, int flags)
{
    return CALL(IO_FSTATAT, haz__io_fstatat_fn)(dfd, name, st, flags);
}

DIR *haz__io_opendir(const char *path)
{
    return CALL(IO_OPENDIR, haz__io_opendir_fn)(path);
}

DIR *haz__io_fdopendir(int fd)
{
    return CALL(IO_FDOPENDIR, haz__io_fdopendir_fn)(fd);
}

struct dirent *haz__io_readdir(DIR *d)
{
    return CALL(IO_READDIR, haz__io_readdir_fn)(d);
}
