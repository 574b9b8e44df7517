/*
 * backends/spawn_posix_lookup.c: what the posix spawner checks in the
 * parent before it creates anything for a child (declared in
 * backends/spawn_posix.h): the working directory (absolute, existing, a
 * directory) and the program.  An argv[0] containing '/' names a file,
 * relative to the child's working directory; any other argv[0] is searched
 * in the plan's PATH (never the parent's) as execvp would, taking the first
 * regular file with execute permission.  The result is always an absolute
 * path, so that "not found" and "not executable" become a HAZ_ESPAWN naming
 * the task and the program instead of a silent exit 127.
 *
 * In order: messages; the working directory; the program.
 */
#include "internal.h"
#include "spawn_posix.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A failure whose message says the cause itself: record os_errno without
 * appending strerror. */
static int vfail(haz_ctx *ctx, int code, int os_errno, const char *fmt,
                 va_list ap)
{
    char msg[sizeof ctx->errmsg];

    (void)vsnprintf(msg, sizeof msg, fmt, ap);
    haz__error(ctx, code, "%s", msg);
    ctx->os_errno = os_errno;
    return code;
}

static int fail(haz_ctx *ctx, int code, int os_errno, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

static int fail(haz_ctx *ctx, int code, int os_errno, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    code = vfail(ctx, code, os_errno, fmt, ap);
    va_end(ap);
    return code;
}

int haz__posix_fail(haz_ctx *ctx, int code, int os_errno, const char *fmt,
                    ...)
{
    va_list ap;

    va_start(ap, fmt);
    code = vfail(ctx, code, os_errno, fmt, ap);
    va_end(ap);
    return code;
}

/* ------------------------------------------------------------------------
 * The working directory.
 * ---------------------------------------------------------------------- */

int haz__posix_check_cwd(haz_ctx *ctx, const char *task, const char *cwd)
{
    struct stat st;

    if (cwd[0] != '/')
        return haz__error(ctx, HAZ_EINVAL,
                          "%s: working directory '%s' is not absolute",
                          task, cwd);
    if (stat(cwd, &st) != 0) {
        if (errno == ENOENT)
            return fail(ctx, HAZ_ESPAWN, ENOENT,
                        "%s: working directory '%s' does not exist",
                        task, cwd);
        return haz__error_os(ctx, HAZ_ESPAWN, errno,
                             "%s: working directory '%s'", task, cwd);
    }
    if (!S_ISDIR(st.st_mode))
        return fail(ctx, HAZ_ESPAWN, ENOTDIR,
                    "%s: working directory '%s' is not a directory",
                    task, cwd);
    return HAZ_OK;
}

/* ------------------------------------------------------------------------
 * The program.
 * ---------------------------------------------------------------------- */

enum check { CK_OK, CK_MISSING, CK_DIR, CK_NOTREG, CK_NOEXEC, CK_ERR };

/* Can `path` be executed?  *err gets stat's errno for CK_ERR. */
static enum check check_prog(const char *path, int *err)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        *err = errno;
        return errno == ENOENT ? CK_MISSING : CK_ERR;
    }
    if (S_ISDIR(st.st_mode))
        return CK_DIR;
    if (!S_ISREG(st.st_mode))
        return CK_NOTREG;
    return access(path, X_OK) == 0 ? CK_OK : CK_NOEXEC;
}

/* out = dir/name, where a relative or empty dir is taken from cwd. */
static int join(haz_buf *out, const char *cwd, const char *dir, size_t dlen,
                const char *name)
{
    size_t clen = strlen(cwd);

    out->len = 0;
    while (clen > 1 && cwd[clen - 1] == '/')
        clen--;
    if (dlen == 0 || dir[0] != '/') {
        if (haz__buf_append(out, cwd, clen) != HAZ_OK ||
            (clen > 1 && haz__buf_puts(out, "/") != HAZ_OK))
            return HAZ_ENOMEM;
    }
    if (haz__buf_append(out, dir, dlen) != HAZ_OK)
        return HAZ_ENOMEM;
    if (out->len > 0 && out->data[out->len - 1] != '/' &&
        haz__buf_puts(out, "/") != HAZ_OK)
        return HAZ_ENOMEM;
    return haz__buf_puts(out, name);
}

/* A program named with a '/': only that file. */
static int resolve_path(haz_ctx *ctx, const haz_spawn_plan *p, haz_buf *out)
{
    const char *task = p->task_id, *name = p->argv[0];
    int err = 0, rc;

    if (name[0] == '/') {
        out->len = 0;
        rc = haz__buf_puts(out, name);
    } else {
        rc = join(out, p->cwd, "", 0, name);
    }
    if (rc != HAZ_OK)
        return HAZ_ENOMEM;
    switch (check_prog(out->data, &err)) {
    case CK_OK:
        return HAZ_OK;
    case CK_MISSING:
        if (name[0] == '/')
            return fail(ctx, HAZ_ESPAWN, ENOENT,
                        "%s: cannot run '%s': no such file", task, name);
        return fail(ctx, HAZ_ESPAWN, ENOENT,
                    "%s: cannot run '%s': no such file in '%s'", task, name,
                    p->cwd);
    case CK_DIR:
        return fail(ctx, HAZ_ESPAWN, EACCES,
                    "%s: cannot run '%s': is a directory", task, name);
    case CK_NOTREG:
        return fail(ctx, HAZ_ESPAWN, EACCES,
                    "%s: cannot run '%s': not a regular file", task, name);
    case CK_NOEXEC:
        return fail(ctx, HAZ_ESPAWN, EACCES,
                    "%s: cannot run '%s': not executable", task, name);
    default:
        return haz__error_os(ctx, HAZ_ESPAWN, err, "%s: cannot run '%s'",
                             task, name);
    }
}

/* Find argv[0] as execvp would, but in the plan's PATH: the first regular,
 * executable file.  An empty or relative PATH entry is taken relative to
 * the child's working directory.  Directories are skipped. */
int haz__posix_resolve(haz_ctx *ctx, const haz_spawn_plan *p, haz_buf *out)
{
    const char *task = p->task_id, *name = p->argv[0], *dir, *end;
    char *denied = NULL;
    enum check denied_kind = CK_OK;
    int rc, err;

    if (name[0] == '\0')
        return haz__error(ctx, HAZ_EINVAL,
                          "%s: cannot run '': the program name is empty",
                          task);
    if (strchr(name, '/') != NULL)
        return resolve_path(ctx, p, out);
    if (p->path == NULL)
        return fail(ctx, HAZ_ESPAWN, ENOENT,
                    "%s: cannot run '%s': not found (the task's environment "
                    "has no PATH)", task, name);
    for (dir = p->path;; dir = end + 1) {
        enum check ck;

        end = strchr(dir, ':');
        if (end == NULL)
            end = dir + strlen(dir);
        if (join(out, p->cwd, dir, (size_t)(end - dir), name) != HAZ_OK) {
            haz__free(ctx, denied);
            return HAZ_ENOMEM;
        }
        ck = check_prog(out->data, &err);
        if (ck == CK_OK) {
            haz__free(ctx, denied);
            return HAZ_OK;
        }
        if ((ck == CK_NOEXEC || ck == CK_NOTREG) && denied == NULL) {
            denied = haz__strdup(ctx, out->data);
            if (denied == NULL)
                return HAZ_ENOMEM;
            denied_kind = ck;
        }
        if (*end == '\0')
            break;
    }
    if (denied != NULL) {
        rc = fail(ctx, HAZ_ESPAWN, EACCES, "%s: cannot run '%s': '%s' is %s",
                  task, name, denied,
                  denied_kind == CK_NOEXEC ? "not executable"
                                           : "not a regular file");
        haz__free(ctx, denied);
        return rc;
    }
    return fail(ctx, HAZ_ESPAWN, ENOENT,
                "%s: cannot run '%s': not found in PATH '%s'", task, name,
                p->path);
}
