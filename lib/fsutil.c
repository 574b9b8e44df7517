/*
 * lib/fsutil.c: the file-system helpers of lib/fsutil.h.
 *
 * Divided into: reading (haz__read_full, haz__open_read, haz__read_file);
 * durable writing (haz__write_file_sync, haz__fsync_dir, haz__mkdir_p);
 * walking a tree without following links (haz__rmtree, haz__du), built on
 * openat/fstatat/unlinkat so that a symbolic link planted inside the tree
 * is removed as a link and never leads the walk out of it; and random name
 * suffixes (haz__random_hex).
 */
#include "internal.h"
#include "fdutil.h"
#include "fsutil.h"
#include "sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#ifndef O_NOFOLLOW
#define O_NOFOLLOW 0
#endif
#ifndef O_DIRECTORY
#define O_DIRECTORY 0
#endif

#define TREE_MAX_DEPTH 64

/* ------------------------------------------------------------------------
 * Reading.
 * ---------------------------------------------------------------------- */

long haz__read_full(int fd, void *buf, size_t n)
{
    char *p = buf;
    size_t got = 0;

    while (got < n) {
        ssize_t r = haz__io_read(fd, p + got, n - got);

        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (long)got;
}

int haz__open_read(const char *path, int nofollow)
{
    return haz__io_open(path, O_RDONLY | O_NONBLOCK |
                        (nofollow ? O_NOFOLLOW : 0), 0);
}

int haz__openat_dir(int dfd, const char *name)
{
    return haz__io_openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
}

int haz__read_file(haz_ctx *ctx, const char *path, size_t max, char **data,
                   size_t *len)
{
    struct stat st;
    char *buf;
    long got;
    int fd;
    size_t size;

    *data = NULL;
    *len = 0;
    fd = haz__open_read(path, 1);
    if (fd == -1) {
        if (errno == ENOENT || errno == ENOTDIR)
            return haz__error(ctx, HAZ_ENOENT, "'%s' does not exist", path);
        if (errno == ELOOP)
            return haz__error(ctx, HAZ_ECORRUPT,
                              "'%s' is a symbolic link", path);
        return haz__error_os(ctx, HAZ_EIO, errno, "cannot open '%s'", path);
    }
    if (haz__io_fstat(fd, &st) != 0) {
        haz__io_close_quiet(fd);
        return haz__error_os(ctx, HAZ_EIO, errno, "cannot stat '%s'", path);
    }
    if (!S_ISREG(st.st_mode) || st.st_size < 0 ||
        (uint64_t)st.st_size > (uint64_t)max) {
        haz__io_close_quiet(fd);
        return haz__error(ctx, HAZ_ECORRUPT, "'%s' is not a regular file "
                          "of at most %lu bytes", path, (unsigned long)max);
    }
    size = (size_t)st.st_size;
    buf = haz__malloc(ctx, size + 1);
    if (buf == NULL) {
        haz__io_close_quiet(fd);
        return HAZ_ENOMEM;
    }
    got = haz__read_full(fd, buf, size + 1);
    if (got < 0) {
        int e = errno;

        haz__io_close_quiet(fd);
        haz__free(ctx, buf);
        return haz__error_os(ctx, HAZ_EIO, e, "cannot read '%s'", path);
    }
    haz__io_close_quiet(fd);
    if ((size_t)got != size) {
        haz__free(ctx, buf);
        return haz__error(ctx, HAZ_ECORRUPT, "'%s' changed size while read",
                          path);
    }
    buf[size] = '\0';
    *data = buf;
    *len = size;
    return HAZ_OK;
}

/* ------------------------------------------------------------------------
 * Durable writing.
 * ---------------------------------------------------------------------- */

int haz__write_file_sync(const char *path, const void *data, size_t len,
                         unsigned mode)
{
    int fd = haz__io_open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW,
                          mode);
    int e;

    if (fd == -1)
        return -1;
    if (haz__io_write_all(fd, data, len) != 0 || haz__io_fsync(fd) != 0)
        goto fail;
    if (haz__io_close(fd) != 0 && errno != EINTR) {
        fd = -1;
        goto fail;
    }
    return 0;
fail:
    e = errno;
    haz__io_close_quiet(fd);
    (void)haz__io_unlink(path);
    errno = e;
    return -1;
}

int haz__fsync_dir(const char *path)
{
    int fd = haz__io_open(path, O_RDONLY | O_DIRECTORY, 0);
    int rc;

    if (fd == -1)
        return -1;
    rc = haz__io_fsync(fd);
    if (rc != 0 && (errno == EINVAL || errno == EROFS))
        rc = 0;
    haz__io_close_quiet(fd);
    return rc;
}

int haz__mkdir_p(const char *path, unsigned mode)
{
    char buf[4096];
    size_t len = strlen(path), i;
    struct stat st;

    if (len == 0 || len >= sizeof(buf)) {
        errno = len ? ENAMETOOLONG : ENOENT;
        return -1;
    }
    memcpy(buf, path, len + 1);
    for (i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        if (buf[i - 1] == '/')
            continue;           /* "//" or a trailing '/' */
        buf[i] = '\0';
        if (haz__io_mkdir(buf, mode) != 0) {
            if (errno != EEXIST)
                return -1;
            if (haz__io_stat(buf, &st) != 0)
                return -1;
            if (!S_ISDIR(st.st_mode)) {
                errno = ENOTDIR;
                return -1;
            }
        }
        if (i < len)
            buf[i] = '/';
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * Trees.
 * ---------------------------------------------------------------------- */

/* Remove everything inside the open directory `dfd` (consumed).  Passes
 * repeat while a pass removed something, since removing entries while
 * reading a directory may make some systems skip others. */
static int rm_inside(int dfd, dev_t dev, int depth)
{
    DIR *d = haz__io_fdopendir(dfd);
    int rc = 0, removed = 1;

    if (d == NULL) {
        haz__io_close_quiet(dfd);
        return -1;
    }
    while (rc == 0 && removed) {
        struct dirent *de;

        removed = 0;
        rewinddir(d);
        while (rc == 0 && (errno = 0, de = haz__io_readdir(d)) != NULL) {
            struct stat st;
            const char *name = de->d_name;

            if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                continue;
            if (haz__io_fstatat(dirfd(d), name, &st,
                                AT_SYMLINK_NOFOLLOW) != 0) {
                if (errno != ENOENT)
                    rc = -1;
                continue;
            }
            if (S_ISDIR(st.st_mode)) {
                int sub;

                if (st.st_dev != dev) {
                    errno = EXDEV;
                    rc = -1;
                    break;
                }
                if (depth >= TREE_MAX_DEPTH) {
                    errno = ELOOP;
                    rc = -1;
                    break;
                }
                sub = haz__openat_dir(dirfd(d), name);
                if (sub == -1 || rm_inside(sub, dev, depth + 1) != 0) {
                    if (errno != ENOENT)
                        rc = -1;
                    continue;
                }
                if (haz__io_unlinkat(dirfd(d), name, AT_REMOVEDIR) != 0 &&
                    errno != ENOENT)
                    rc = -1;
            } else if (haz__io_unlinkat(dirfd(d), name, 0) != 0 &&
                       errno != ENOENT) {
                rc = -1;
            }
            removed = 1;
        }
        if (rc == 0 && errno != 0)
            rc = -1;
    }
    if (rc != 0) {
        int e = errno;

        (void)closedir(d);
        errno = e;
        return -1;
    }
    return closedir(d);
}

static int rmtree_once(const char *path)
{
    struct stat st;
    int fd;

    if (haz__io_lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return (haz__io_unlink(path) == 0 || errno == ENOENT) ? 0 : -1;
    fd = haz__openat_dir(AT_FDCWD, path);
    if (fd == -1)
        return errno == ENOENT ? 0 : -1;
    if (rm_inside(fd, st.st_dev, 1) != 0)
        return -1;
    return (haz__io_rmdir(path) == 0 || errno == ENOENT) ? 0 : -1;
}

int haz__rmtree(const char *path)
{
    if (rmtree_once(path) == 0)
        return 0;
    if (errno == EXDEV || errno == ELOOP)
        return -1;
    return rmtree_once(path);   /* what is left, once more */
}

int haz__remove_file(const char *path)
{
    if (haz__io_unlink(path) == 0 || errno == ENOENT)
        return 0;
    return (haz__io_unlink(path) == 0 || errno == ENOENT) ? 0 : -1;
}

static int du_inside(int dfd, int depth, uint64_t *bytes)
{
    DIR *d = haz__io_fdopendir(dfd);
    struct dirent *de;
    int rc = 0;

    if (d == NULL) {
        haz__io_close_quiet(dfd);
        return -1;
    }
    while (rc == 0 && (errno = 0, de = haz__io_readdir(d)) != NULL) {
        struct stat st;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (haz__io_fstatat(dirfd(d), de->d_name, &st,
                            AT_SYMLINK_NOFOLLOW) != 0)
            continue;           /* gone meanwhile */
        if (S_ISREG(st.st_mode)) {
            *bytes += (uint64_t)st.st_size;
        } else if (S_ISDIR(st.st_mode) && depth < TREE_MAX_DEPTH) {
            int sub = haz__openat_dir(dirfd(d), de->d_name);

            if (sub != -1)
                rc = du_inside(sub, depth + 1, bytes);
        }
    }
    if (rc == 0 && errno != 0)
        rc = -1;
    (void)closedir(d);
    return rc;
}

int haz__du(const char *path, uint64_t *bytes)
{
    struct stat st;
    int fd;

    *bytes = 0;
    if (haz__io_lstat(path, &st) != 0)
        return -1;
    if (S_ISREG(st.st_mode)) {
        *bytes = (uint64_t)st.st_size;
        return 0;
    }
    if (!S_ISDIR(st.st_mode))
        return 0;
    fd = haz__openat_dir(AT_FDCWD, path);
    if (fd == -1)
        return -1;
    return du_inside(fd, 1, bytes);
}

/* ------------------------------------------------------------------------
 * Random suffixes.
 * ---------------------------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

void haz__random_hex(char *out, size_t n, uint64_t salt)
{
    unsigned char b[32];
    int fd, ok = 0;

    if (n > sizeof(b))
        n = sizeof(b);
    fd = haz__open_read("/dev/urandom", 0);
    if (fd != -1) {
        ok = haz__read_full(fd, b, n) == (long)n;
        haz__io_close_quiet(fd);
    }
    if (!ok) {
        uint64_t x = mix64((uint64_t)getpid() ^ mix64(salt) ^
                           (uint64_t)(uintptr_t)&fd);
        size_t i;

        for (i = 0; i < n; i++) {
            if (i % 8 == 0)
                x = mix64(x + i);
            b[i] = (unsigned char)(x >> (8 * (i % 8)));
        }
    }
    haz_hash_hex(b, n, out);
}
