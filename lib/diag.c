/*
 * lib/diag.c: diagnostics lists (haz_diags), the ordered problems found in
 * user input by graph validation and the hazfile parser.
 *
 * Each entry is one allocation: the public haz_diag followed by copies of
 * its strings (file, project, task, message, full text).  The list holds
 * pointers to entries, so a pointer from haz_diags_get stays valid while
 * the list grows, until it is cleared or freed.  The full text takes the
 * first shape that applies:
 *     "FILE:LINE: message"      file and line given
 *     "FILE: message"           file given, line 0
 *     "PROJECT:TASK: message"   project and task given
 *     "PROJECT: message"        project alone
 *     "TASK: message"           task alone
 *     "message"                 no location
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

struct haz_diags {
    haz_ctx *ctx;
    haz_diag **items;
    size_t len;
    size_t cap;
};

int haz_diags_new(haz_ctx *ctx, haz_diags **out)
{
    haz_diags *d;

    if (out == NULL)
        return haz__error(ctx, HAZ_EINVAL, "haz_diags_new: out is NULL");
    *out = NULL;
    if (ctx == NULL)
        return HAZ_EINVAL;
    d = haz__calloc(ctx, 1, sizeof *d);
    if (d == NULL)
        return HAZ_ENOMEM;
    d->ctx = ctx;
    *out = d;
    return HAZ_OK;
}

void haz_diags_clear(haz_diags *d)
{
    size_t i;

    if (d == NULL)
        return;
    for (i = 0; i < d->len; i++)
        haz__free(d->ctx, d->items[i]);
    d->len = 0;
}

void haz_diags_free(haz_diags *d)
{
    if (d == NULL)
        return;
    haz_diags_clear(d);
    haz__free(d->ctx, d->items);
    haz__free(d->ctx, d);
}

size_t haz_diags_count(const haz_diags *d)
{
    return d ? d->len : 0;
}

const haz_diag *haz_diags_get(const haz_diags *d, size_t i)
{
    if (d == NULL || i >= d->len)
        return NULL;
    return d->items[i];
}

haz_ctx *haz__diags_ctx(const haz_diags *d)
{
    return d ? d->ctx : NULL;
}

int haz_diags_write(const haz_diags *d, int fd)
{
    char line[512];
    size_t i;

    for (i = 0; d != NULL && i < d->len; i++) {
        const char *text = d->items[i]->text;
        size_t n = strlen(text);
        int rc;

        if (n < sizeof line) {          /* one write per line when we can */
            memcpy(line, text, n);
            line[n] = '\n';
            rc = haz__write_all(fd, line, n + 1);
        } else {
            rc = haz__write_all(fd, text, n);
            if (rc == 0)
                rc = haz__write_all(fd, "\n", 1);
        }
        if (rc != 0)
            return haz__error_os(d->ctx, HAZ_EIO, errno,
                                 "cannot write diagnostics to fd %d", fd);
    }
    return HAZ_OK;
}

/* ------------------------------------------------------------------------
 * Adding an entry.
 * ---------------------------------------------------------------------- */

/* a += b, failing on overflow. */
static int size_add(size_t *a, size_t b)
{
    if (b > SIZE_MAX - *a)
        return -1;
    *a += b;
    return 0;
}

/* Copy s (n bytes plus NUL) to *pos and advance it; NULL stays NULL. */
static const char *put_str(char **pos, const char *s, size_t n)
{
    char *d = *pos;

    if (s == NULL)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    *pos = d + n + 1;
    return d;
}

/* Copy s without its NUL to d; return the end. */
static char *cat(char *d, const char *s)
{
    size_t n = strlen(s);

    memcpy(d, s, n);
    return d + n;
}

static int grow(haz_diags *d)
{
    size_t cap;
    haz_diag **items;

    if (d->len < d->cap)
        return HAZ_OK;
    cap = d->cap ? d->cap * 2 : 8;
    items = haz__reallocarray(d->ctx, d->items, cap, sizeof *items);
    if (items == NULL)
        return HAZ_ENOMEM;
    d->items = items;
    d->cap = cap;
    return HAZ_OK;
}

int haz__diag_add(haz_diags *d, haz_diag_kind kind, const char *file,
                  unsigned long line, const char *project, const char *task,
                  const char *fmt, ...)
{
    char prefix[64];
    size_t flen, plen, tlen, mlen, xlen, size;
    const char *loc1, *loc2;
    haz_diag *e;
    char *pos, *text;
    va_list ap;
    int n;

    if (d == NULL || fmt == NULL)
        return haz__error(haz__diags_ctx(d), HAZ_EINVAL,
                          "haz__diag_add: NULL argument");

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return haz__error(d->ctx, HAZ_EINVAL, "bad diagnostic format '%s'",
                          fmt);
    mlen = (size_t)n;

    /* The location prefix: loc1 [":" loc2] ": " (line numbers via prefix). */
    loc1 = loc2 = NULL;
    prefix[0] = '\0';
    if (file != NULL) {
        loc1 = file;
        if (line > 0)
            snprintf(prefix, sizeof prefix, ":%lu", line);
    } else if (project != NULL) {
        loc1 = project;
        loc2 = task;
    } else {
        loc1 = task;
    }
    xlen = mlen;
    if (loc1 != NULL &&
        (size_add(&xlen, strlen(loc1) + 2) != 0 ||
         size_add(&xlen, strlen(prefix)) != 0 ||
         (loc2 != NULL && size_add(&xlen, strlen(loc2) + 1) != 0)))
        return haz__error(d->ctx, HAZ_ENOMEM, "diagnostic too long");

    flen = file ? strlen(file) : 0;
    plen = project ? strlen(project) : 0;
    tlen = task ? strlen(task) : 0;
    size = sizeof *e;
    if (size_add(&size, flen + 1) != 0 || size_add(&size, plen + 1) != 0 ||
        size_add(&size, tlen + 1) != 0 || size_add(&size, mlen + 1) != 0 ||
        size_add(&size, xlen + 1) != 0)
        return haz__error(d->ctx, HAZ_ENOMEM, "diagnostic too long");

    if (grow(d) != HAZ_OK)
        return HAZ_ENOMEM;
    e = haz__malloc(d->ctx, size);
    if (e == NULL)
        return HAZ_ENOMEM;

    pos = (char *)(e + 1);
    e->kind = kind;
    e->line = line;
    e->file = put_str(&pos, file, flen);
    e->project = put_str(&pos, project, plen);
    e->task = put_str(&pos, task, tlen);

    /* message, formatted straight into place */
    va_start(ap, fmt);
    vsnprintf(pos, mlen + 1, fmt, ap);
    va_end(ap);
    e->message = pos;
    pos += mlen + 1;

    /* full text: [loc1 prefix [":" loc2] ": "] message */
    text = pos;
    if (loc1 != NULL) {
        pos = cat(pos, loc1);
        pos = cat(pos, prefix);
        if (loc2 != NULL) {
            pos = cat(pos, ":");
            pos = cat(pos, loc2);
        }
        pos = cat(pos, ": ");
    }
    memcpy(pos, e->message, mlen + 1);
    e->text = text;

    d->items[d->len++] = e;
    return HAZ_OK;
}
