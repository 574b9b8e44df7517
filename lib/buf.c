/*
 * lib/buf.c: the growable byte buffer (haz_buf) used to build strings and
 * encodings, and haz__write_all, the EINTR- and short-write-safe write loop.
 *
 * A buffer allocates through its context; capacity doubles (at least 64
 * bytes) and always leaves room for a terminating NUL, so after any
 * successful append `data` is a NUL-terminated string of `len` bytes (which
 * may itself contain NULs).  A failed append changes nothing.
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void haz__buf_init(haz_buf *b, haz_ctx *ctx)
{
    b->ctx = ctx;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void haz__buf_free(haz_buf *b)
{
    haz__free(b->ctx, b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

/* Make room for `extra` more bytes plus the NUL. */
static int reserve(haz_buf *b, size_t extra)
{
    size_t need, cap;
    char *p;

    if (extra > SIZE_MAX - 1 - b->len)
        return haz__error(b->ctx, HAZ_ENOMEM, "buffer size overflow");
    need = b->len + extra + 1;
    if (need <= b->cap)
        return HAZ_OK;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = haz__realloc(b->ctx, b->data, cap);
    if (p == NULL)
        return HAZ_ENOMEM;
    b->data = p;
    b->cap = cap;
    return HAZ_OK;
}

int haz__buf_append(haz_buf *b, const void *data, size_t n)
{
    if (reserve(b, n) != HAZ_OK)
        return HAZ_ENOMEM;
    if (n > 0)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return HAZ_OK;
}

int haz__buf_puts(haz_buf *b, const char *s)
{
    return haz__buf_append(b, s, strlen(s));
}

int haz__buf_vprintf(haz_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return haz__error(b->ctx, HAZ_EINVAL, "bad format '%s'", fmt);
    if (reserve(b, (size_t)n) != HAZ_OK)
        return HAZ_ENOMEM;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return HAZ_OK;
}

int haz__buf_printf(haz_buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = haz__buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int haz__write_all_with(ssize_t (*wr)(int, const void *, size_t), int fd,
                        const void *data, size_t n)
{
    const char *p = data;

    while (n > 0) {
        ssize_t w = wr(fd, p, n);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (w == 0) {           /* no progress and no error: give up */
            errno = EIO;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int haz__write_all(int fd, const void *data, size_t n)
{
    return haz__write_all_with(write, fd, data, n);
}
