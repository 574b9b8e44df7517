/*
 * lib/walk.c: pattern resolution against the filesystem.  A literal is one
 * stat(2); a glob is walked from the deepest directory its literal prefix
 * names, with an explicit stack (no recursion), descending through
 * symbolic links to directories up to a fixed depth so that a link loop
 * ends.  Each regular file found is matched with haz__pattern_match().
 */
#include "internal.h"
#include "pattern.h"
#include "sys.h"
#include "walk.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define WALK_MAX_DEPTH 64

void haz__pathlist_init(haz_pathlist *l, haz_ctx *ctx)
{
    memset(l, 0, sizeof(*l));
    l->ctx = ctx;
}

void haz__pathlist_free(haz_pathlist *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        haz__free(l->ctx, l->v[i]);
    haz__free(l->ctx, l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static int pathlist_add(haz_pathlist *l, const char *p, size_t len)
{
    char *d;

    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        char **v = haz__reallocarray(l->ctx, l->v, cap, sizeof(*v));

        if (v == NULL)
            return HAZ_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    d = haz__strndup(l->ctx, p, len);
    if (d == NULL)
        return HAZ_ENOMEM;
    l->v[l->n++] = d;
    return HAZ_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The host path of workspace path `wp` ("/a/b"): root + wp. */
static int host_path(haz_buf *b, const char *ws_root, const char *wp)
{
    size_t rl = strlen(ws_root);

    b->len = 0;
    while (rl > 1 && ws_root[rl - 1] == '/')
        rl--;
    if (haz__buf_append(b, ws_root, rl) != 0 || haz__buf_puts(b, wp) != 0)
        return HAZ_ENOMEM;
    return HAZ_OK;
}

/* Length of the leading segments of `pat` that hold no glob character:
 * the directory where a walk starts ("" for the workspace root). */
static size_t literal_prefix(const char *pat)
{
    size_t end = 0, i = 0;

    while (pat[i] == '/') {
        size_t j = i + 1;

        while (pat[j] != '\0' && pat[j] != '/') {
            if (strchr("*?[{\\", pat[j]) != NULL)
                return end;
            j++;
        }
        if (pat[j] == '\0')
            return end;     /* the last segment names a file */
        end = j;
        i = j;
    }
    return end;
}

/* Segments in a pattern, or SIZE_MAX when `**` lets it go any depth. */
static size_t pattern_depth(const char *pat)
{
    size_t n = 0;
    const char *p;

    if (strstr(pat, "**") != NULL)
        return SIZE_MAX;
    for (p = pat; *p != '\0'; p++)
        if (*p == '/')
            n++;
    return n;
}

typedef struct walk_dir {
    char *wp;               /* workspace path of the directory, "" for root */
    size_t depth;           /* segments below the workspace root */
} walk_dir;

static int walk_glob(haz_ctx *ctx, const char *ws_root, const char *pat,
                     haz_pathlist *out)
{
    size_t pre = literal_prefix(pat), maxd = pattern_depth(pat);
    walk_dir *stack = NULL;
    size_t n_stack = 0, cap_stack = 0, k;
    haz_buf hp, wp;
    int rc = HAZ_OK;
    const char *p;
    size_t depth0 = 0;

    for (p = pat; p < pat + pre; p++)
        if (*p == '/')
            depth0++;
    haz__buf_init(&hp, ctx);
    haz__buf_init(&wp, ctx);
    stack = haz__reallocarray(ctx, NULL, 8, sizeof(*stack));
    if (stack == NULL)
        return HAZ_ENOMEM;
    cap_stack = 8;
    stack[0].wp = haz__strndup(ctx, pat, pre);
    stack[0].depth = depth0;
    if (stack[0].wp == NULL) {
        haz__free(ctx, stack);
        return HAZ_ENOMEM;
    }
    n_stack = 1;
    while (n_stack > 0 && rc == HAZ_OK) {
        walk_dir d = stack[--n_stack];
        DIR *dir;
        struct dirent *de;

        if (host_path(&hp, ws_root, d.wp) != 0) {
            rc = HAZ_ENOMEM;
        } else if ((dir = haz__io_opendir(hp.len ? hp.data : "/")) == NULL) {
            /* A directory that vanished or never existed matches nothing;
             * one that cannot be read is an error. */
            if (errno != ENOENT && errno != ENOTDIR)
                rc = haz__error_os(ctx, HAZ_EIO, errno,
                                   "cannot read directory '%s'", hp.data);
        } else {
            while (rc == HAZ_OK &&
                   (errno = 0, de = haz__io_readdir(dir)) != NULL) {
                struct stat st;
                const char *name = de->d_name;

                if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                    continue;
                if (d.depth == 0 && strcmp(name, ".haz") == 0)
                    continue;
                wp.len = 0;
                if (haz__buf_puts(&wp, d.wp) != 0 ||
                    haz__buf_printf(&wp, "/%s", name) < 0 ||
                    host_path(&hp, ws_root, wp.data) != 0) {
                    rc = HAZ_ENOMEM;
                    break;
                }
                if (haz__io_stat(hp.data, &st) != 0) {
                    /* A dangling link or a file gone meanwhile is not a
                     * file; any other failure (EIO) is an error, never a
                     * file silently left out of the inputs. */
                    if (errno == ENOENT || errno == ENOTDIR ||
                        errno == ELOOP)
                        continue;
                    rc = haz__error_os(ctx, HAZ_EIO, errno,
                                       "cannot stat '%s'", hp.data);
                    break;
                }
                if (S_ISDIR(st.st_mode)) {
                    if (d.depth + 1 >= maxd || d.depth + 1 > WALK_MAX_DEPTH)
                        continue;
                    if (n_stack == cap_stack) {
                        walk_dir *ns = haz__reallocarray(ctx, stack,
                                                         2 * cap_stack,
                                                         sizeof(*ns));
                        if (ns == NULL) {
                            rc = HAZ_ENOMEM;
                            break;
                        }
                        stack = ns;
                        cap_stack *= 2;
                    }
                    stack[n_stack].wp = haz__strdup(ctx, wp.data);
                    stack[n_stack].depth = d.depth + 1;
                    if (stack[n_stack].wp == NULL) {
                        rc = HAZ_ENOMEM;
                        break;
                    }
                    n_stack++;
                } else if (S_ISREG(st.st_mode) &&
                           haz__pattern_match(pat, wp.data)) {
                    rc = pathlist_add(out, wp.data, wp.len);
                }
            }
            if (rc == HAZ_OK && errno != 0)
                rc = haz__error_os(ctx, HAZ_EIO, errno,
                                   "cannot read directory '%s'", hp.data);
            (void)closedir(dir);
        }
        haz__free(ctx, d.wp);
    }
    for (k = 0; k < n_stack; k++)
        haz__free(ctx, stack[k].wp);
    haz__free(ctx, stack);
    haz__buf_free(&hp);
    haz__buf_free(&wp);
    return rc;
}

int haz__resolve_patterns(haz_ctx *ctx, const char *ws_root,
                          const haz__gpattern *pats, size_t n,
                          int missing_literal_fails, haz_pathlist *out)
{
    haz_buf hp;
    size_t i, w;
    int rc = HAZ_OK;

    haz__buf_init(&hp, ctx);
    for (i = 0; i < n && rc == HAZ_OK; i++) {
        struct stat st;

        if (pats[i].is_glob) {
            rc = walk_glob(ctx, ws_root, pats[i].abs, out);
            continue;
        }
        if (host_path(&hp, ws_root, pats[i].abs) != 0) {
            rc = HAZ_ENOMEM;
        } else if (haz__io_stat(hp.data, &st) != 0) {
            if (errno == ENOENT || errno == ENOTDIR) {
                if (missing_literal_fails)
                    rc = haz__error(ctx, HAZ_ENOENT,
                                    "'%s' was not produced", pats[i].abs);
            } else {
                rc = haz__error_os(ctx, HAZ_EIO, errno, "cannot stat '%s'",
                                   pats[i].abs);
            }
        } else if (!S_ISREG(st.st_mode)) {
            rc = haz__error(ctx, HAZ_EEXIST, "'%s' is not a regular file",
                            pats[i].abs);
        } else {
            rc = pathlist_add(out, pats[i].abs, strlen(pats[i].abs));
        }
    }
    haz__buf_free(&hp);
    if (rc != HAZ_OK || out->n < 2)
        return rc;
    qsort(out->v, out->n, sizeof(*out->v), cmp_str);
    for (i = 1, w = 1; i < out->n; i++) {
        if (strcmp(out->v[i], out->v[w - 1]) == 0)
            haz__free(ctx, out->v[i]);
        else
            out->v[w++] = out->v[i];
    }
    out->n = w;
    return HAZ_OK;
}
