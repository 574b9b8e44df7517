/*
 * examples/hazrun_jsonw.c: the JSON writer of hazrun, and the atomic
 * replacement of a file.
 *
 * The writer appends to a growable buffer, keeping track of nesting so
 * that separators and (up to a chosen depth) newlines and indentation come
 * out right; string escaping follows hazrun_json.h.  An allocation failure
 * is remembered in w->oom and the caller reports it once.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hazrun_json.h"

static const char hex[] = "0123456789abcdef";

void jw_init(jw *w, int pretty)
{
    memset(w, 0, sizeof *w);
    w->pretty = pretty;
    w->first[0] = 1;
}

void jw_free(jw *w)
{
    free(w->p);
    w->p = NULL;
    w->len = w->cap = 0;
}

static void put(jw *w, const char *s, size_t n)
{
    if (w->oom)
        return;
    if (n > w->cap - w->len) {
        size_t cap = w->cap ? w->cap : 4096;
        char *q;

        while (cap - w->len < n) {
            if (cap > ((size_t)-1) / 2) {
                w->oom = 1;
                return;
            }
            cap *= 2;
        }
        q = realloc(w->p, cap);
        if (q == NULL) {
            w->oom = 1;
            return;
        }
        w->p = q;
        w->cap = cap;
    }
    memcpy(w->p + w->len, s, n);
    w->len += n;
}

static void puts_(jw *w, const char *s)
{
    put(w, s, strlen(s));
}

static void indent(jw *w, int depth)
{
    int k;

    if (depth > w->pretty)
        return;
    put(w, "\n", 1);
    for (k = 0; k < depth; k++)
        put(w, "  ", 2);
}

/* What goes before a value: nothing after a key; else a comma unless it
 * is the first element, and a newline and indentation. */
static void begin_value(jw *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->depth == 0)
        return;
    if (!w->first[w->depth])
        put(w, ",", 1);
    w->first[w->depth] = 0;
    indent(w, w->depth);
}

static void open_(jw *w, const char *c)
{
    begin_value(w);
    put(w, c, 1);
    if (w->depth < JW_MAX_DEPTH)
        w->depth++;
    w->first[w->depth] = 1;
}

static void close_(jw *w, const char *c)
{
    int empty = w->first[w->depth], inner = w->depth;

    if (w->depth > 0)
        w->depth--;
    /* On its own line when the members were. */
    if (!empty && inner <= w->pretty) {
        int k;

        put(w, "\n", 1);
        for (k = 0; k < w->depth; k++)
            put(w, "  ", 2);
    }
    put(w, c, 1);
}

void jw_object(jw *w)
{
    open_(w, "{");
}

void jw_end_object(jw *w)
{
    close_(w, "}");
}

void jw_array(jw *w)
{
    open_(w, "[");
}

void jw_end_array(jw *w)
{
    close_(w, "]");
}

static void string_body(jw *w, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strlen(str), i = 0;

    put(w, "\"", 1);
    while (i < n) {
        unsigned char c = s[i];
        char e[6];

        if (c == '"' || c == '\\') {
            e[0] = '\\';
            e[1] = (char)c;
            put(w, e, 2);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            const char *named = c == '\n' ? "\\n" : c == '\t' ? "\\t"
                              : c == '\r' ? "\\r" : c == '\b' ? "\\b"
                              : c == '\f' ? "\\f" : NULL;

            if (named != NULL) {
                puts_(w, named);
            } else {
                memcpy(e, "\\u00", 4);
                e[4] = hex[c >> 4];
                e[5] = hex[c & 15];
                put(w, e, 6);
            }
            i++;
        } else if (c < 0x80) {
            put(w, (const char *)s + i, 1);
            i++;
        } else {
            size_t k = json_utf8_seq(s + i, n - i);

            if (k > 0) {
                put(w, (const char *)s + i, k);
                i += k;
            } else {
                /* Not UTF-8: the byte as \\u00XX (hazrun_json.h). */
                memcpy(e, "\\u00", 4);
                e[4] = hex[c >> 4];
                e[5] = hex[c & 15];
                put(w, e, 6);
                i++;
            }
        }
    }
    put(w, "\"", 1);
}

void jw_key(jw *w, const char *key)
{
    if (w->depth > 0) {
        if (!w->first[w->depth])
            put(w, ",", 1);
        w->first[w->depth] = 0;
        indent(w, w->depth);
    }
    string_body(w, key);
    put(w, w->depth <= w->pretty ? ": " : ":", w->depth <= w->pretty ? 2 : 1);
    w->after_key = 1;
}

void jw_string(jw *w, const char *s)
{
    if (s == NULL) {
        jw_null(w);
        return;
    }
    begin_value(w);
    string_body(w, s);
}

void jw_null(jw *w)
{
    begin_value(w);
    put(w, "null", 4);
}

void jw_bool(jw *w, int b)
{
    begin_value(w);
    puts_(w, b ? "true" : "false");
}

void jw_uint(jw *w, uint64_t v)
{
    char num[24];
    size_t n = sizeof num;

    begin_value(w);
    do {
        num[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    put(w, num + n, sizeof num - n);
}

void jw_int(jw *w, int64_t v)
{
    if (v < 0) {
        begin_value(w);
        put(w, "-", 1);
        w->after_key = 1;   /* the digits follow without a separator */
        jw_uint(w, (uint64_t)0 - (uint64_t)v);
    } else {
        jw_uint(w, (uint64_t)v);
    }
}

void jw_micros(jw *w, uint64_t ns)
{
    char frac[5];

    jw_uint(w, ns / 1000);
    frac[0] = '.';
    frac[1] = (char)('0' + ns % 1000 / 100);
    frac[2] = (char)('0' + ns % 100 / 10);
    frac[3] = (char)('0' + ns % 10);
    frac[4] = '\0';
    put(w, frac, 4);
}

void jw_hex(jw *w, const unsigned char *d, size_t n)
{
    size_t i;

    begin_value(w);
    put(w, "\"", 1);
    for (i = 0; i < n; i++) {
        char e[2];

        e[0] = hex[d[i] >> 4];
        e[1] = hex[d[i] & 15];
        put(w, e, 2);
    }
    put(w, "\"", 1);
}

void jw_newline(jw *w)
{
    put(w, "\n", 1);
}

/* ------------------------------------------------------------------------
 * Atomic replacement.
 * ---------------------------------------------------------------------- */

int write_file_atomic(const char *path, const char *data, size_t len)
{
    size_t pl = strlen(path);
    char *tmp = malloc(pl + sizeof ".tmpXXXXXX");
    mode_t mask;
    int fd, e = 0;

    if (tmp == NULL)
        return ENOMEM;
    memcpy(tmp, path, pl);
    memcpy(tmp + pl, ".tmpXXXXXX", sizeof ".tmpXXXXXX");
    fd = mkstemp(tmp);
    if (fd < 0) {
        e = errno;
        free(tmp);
        return e;
    }
    mask = umask(0);
    (void)umask(mask);
    if (fchmod(fd, (mode_t)0666 & ~mask) != 0)
        e = errno;
    while (e == 0 && len > 0) {
        ssize_t wr = write(fd, data, len);

        if (wr < 0 && errno == EINTR)
            continue;
        if (wr <= 0) {
            e = wr < 0 ? errno : EIO;
            break;
        }
        data += wr;
        len -= (size_t)wr;
    }
    if (e == 0 && fsync(fd) != 0)
        e = errno;
    if (close(fd) != 0 && e == 0)
        e = errno;
    if (e == 0 && rename(tmp, path) != 0)
        e = errno;
    if (e != 0)
        (void)unlink(tmp);
    free(tmp);
    return e;
}
