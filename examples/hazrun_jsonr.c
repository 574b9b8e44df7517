/*
 * examples/hazrun_jsonr.c: a strict JSON reader (RFC 8259), for reading
 * hazrun's own summaries back (`hazrun why --summary FILE`) and for the
 * test checker tests/t_json.c.
 *
 * A recursive-descent parser over a byte range that builds a tree of
 * json_value nodes.  Every read is bounds-checked against the end of the
 * input, nesting is limited to JSON_MAX_DEPTH, and every failure (bad
 * syntax, bad UTF-8, duplicate keys, running out of memory) ends the parse
 * with a message that gives the line and column; the partial tree is
 * freed.  The rules it enforces and the \\u00XX convention for non-UTF-8
 * bytes are in hazrun_json.h.  It depends on the C library only.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hazrun_json.h"

size_t json_utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c;

    if (n == 0)
        return 0;
    c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        if (c == 0xe0 && s[1] < 0xa0)
            return 0;               /* overlong */
        if (c == 0xed && s[1] >= 0xa0)
            return 0;               /* a surrogate */
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
            (s[3] & 0xc0) != 0x80)
            return 0;
        if (c == 0xf0 && s[1] < 0x90)
            return 0;               /* overlong */
        if (c == 0xf4 && s[1] >= 0x90)
            return 0;               /* above U+10FFFF */
        return 4;
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * The parser.
 * ---------------------------------------------------------------------- */

typedef struct jp {
    const unsigned char *start;
    const unsigned char *p;
    const unsigned char *end;
    char *err;
    size_t errlen;
    int failed;
    int oom;
    int depth;
} jp;

/* Record the first failure, located at `at`. */
static void fail(jp *j, const unsigned char *at, const char *what)
{
    unsigned long line = 1, col = 1;
    const unsigned char *q;

    if (j->failed)
        return;
    j->failed = 1;
    if (j->errlen == 0)
        return;
    for (q = j->start; q < at && q < j->end; q++) {
        if (*q == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    (void)snprintf(j->err, j->errlen, "line %lu, column %lu: %s", line, col,
                   what);
}

static void fail_oom(jp *j)
{
    j->oom = 1;
    fail(j, j->p, "out of memory");
}

static void skip_ws(jp *j)
{
    while (j->p < j->end &&
           (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

void json_free(json_value *v)
{
    size_t i;

    if (v == NULL)
        return;
    for (i = 0; i < v->n; i++) {
        json_free(v->items[i]);
        if (v->keys != NULL)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->key_lens);
    free(v->s);
    free(v);
}

static json_value *node(jp *j, json_kind kind)
{
    json_value *v = calloc(1, sizeof *v);

    if (v == NULL)
        fail_oom(j);
    else
        v->kind = kind;
    return v;
}

/* A growable byte buffer for decoding strings. */
typedef struct sbuf {
    char *p;
    size_t len;
    size_t cap;
} sbuf;

static int sb_add(jp *j, sbuf *b, const void *s, size_t n)
{
    if (n + 1 > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 32;
        char *q;

        while (cap - b->len < n + 1)
            cap *= 2;
        q = realloc(b->p, cap);
        if (q == NULL) {
            fail_oom(j);
            return -1;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

static int hex4(const unsigned char *p, unsigned *out)
{
    unsigned v = 0;
    int k;

    for (k = 0; k < 4; k++) {
        unsigned char c = p[k];

        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Encode code point cp as UTF-8 into u; returns the length. */
static size_t utf8_encode(unsigned long cp, unsigned char *u)
{
    if (cp < 0x80) {
        u[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        u[0] = (unsigned char)(0xc0 | (cp >> 6));
        u[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        u[0] = (unsigned char)(0xe0 | (cp >> 12));
        u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    u[0] = (unsigned char)(0xf0 | (cp >> 18));
    u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    u[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

/* A \\u escape at j->p (pointing at the 'u').  Appends the decoded bytes. */
static int unicode_escape(jp *j, sbuf *b)
{
    const unsigned char *at = j->p - 1;
    unsigned hi, lo;
    unsigned long cp;
    unsigned char u[4];

    if (j->end - j->p < 5 || hex4(j->p + 1, &hi) != 0) {
        fail(j, at, "invalid \\u escape");
        return -1;
    }
    j->p += 5;
    if (hi >= 0xdc00 && hi <= 0xdfff) {
        fail(j, at, "lone low surrogate in \\u escape");
        return -1;
    }
    if (hi >= 0xd800 && hi <= 0xdbff) {
        if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' ||
            hex4(j->p + 2, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff) {
            fail(j, at, "lone high surrogate in \\u escape");
            return -1;
        }
        j->p += 6;
        cp = 0x10000 + (((unsigned long)hi - 0xd800) << 10) +
             ((unsigned long)lo - 0xdc00);
        return sb_add(j, b, u, utf8_encode(cp, u));
    }
    if (hi >= 0x80 && hi <= 0xff) {
        /* The byte of that value (hazrun_json.h). */
        u[0] = (unsigned char)hi;
        return sb_add(j, b, u, 1);
    }
    return sb_add(j, b, u, utf8_encode(hi, u));
}

/* A string at j->p (pointing at the opening quote), decoded into *b. */
static int string_(jp *j, sbuf *b)
{
    const unsigned char *open = j->p;

    j->p++;
    if (sb_add(j, b, "", 0) != 0)
        return -1;
    for (;;) {
        const unsigned char *run = j->p;
        unsigned char c;

        while (j->p < j->end && *j->p >= 0x20 && *j->p < 0x80 &&
               *j->p != '"' && *j->p != '\\')
            j->p++;
        if (j->p > run && sb_add(j, b, run, (size_t)(j->p - run)) != 0)
            return -1;
        if (j->p >= j->end) {
            fail(j, open, "unterminated string");
            return -1;
        }
        c = *j->p;
        if (c == '"') {
            j->p++;
            return 0;
        }
        if (c < 0x20) {
            fail(j, j->p, "control character in a string");
            return -1;
        }
        if (c >= 0x80) {
            size_t k = json_utf8_seq(j->p, (size_t)(j->end - j->p));

            if (k == 0) {
                fail(j, j->p, "invalid UTF-8 in a string");
                return -1;
            }
            if (sb_add(j, b, j->p, k) != 0)
                return -1;
            j->p += k;
            continue;
        }
        /* A backslash. */
        j->p++;
        if (j->p >= j->end) {
            fail(j, open, "unterminated string");
            return -1;
        }
        switch (*j->p) {
        case '"': c = '"'; break;
        case '\\': c = '\\'; break;
        case '/': c = '/'; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u':
            if (unicode_escape(j, b) != 0)
                return -1;
            continue;
        default:
            fail(j, j->p - 1, "invalid escape in a string");
            return -1;
        }
        j->p++;
        if (sb_add(j, b, &c, 1) != 0)
            return -1;
    }
}

static int is_digit(const jp *j)
{
    return j->p < j->end && *j->p >= '0' && *j->p <= '9';
}

static json_value *number(jp *j)
{
    const unsigned char *s = j->p;
    json_value *v;

    if (j->p < j->end && *j->p == '-')
        j->p++;
    if (!is_digit(j)) {
        fail(j, s, "invalid number");
        return NULL;
    }
    if (*j->p == '0') {
        j->p++;
        if (is_digit(j)) {
            fail(j, s, "invalid number (leading zero)");
            return NULL;
        }
    } else {
        while (is_digit(j))
            j->p++;
    }
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        if (!is_digit(j)) {
            fail(j, s, "invalid number (no digit after '.')");
            return NULL;
        }
        while (is_digit(j))
            j->p++;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        if (!is_digit(j)) {
            fail(j, s, "invalid number (no digit in the exponent)");
            return NULL;
        }
        while (is_digit(j))
            j->p++;
    }
    v = node(j, JSON_NUMBER);
    if (v == NULL)
        return NULL;
    v->len = (size_t)(j->p - s);
    v->s = malloc(v->len + 1);
    if (v->s == NULL) {
        free(v);
        fail_oom(j);
        return NULL;
    }
    memcpy(v->s, s, v->len);
    v->s[v->len] = '\0';
    return v;
}

static json_value *value(jp *j);

/* Append item (and key) to a container.  Returns 0 or -1. */
static int push(jp *j, json_value *c, json_value *item, char *key,
                size_t key_len, size_t *cap)
{
    if (c->n == *cap) {
        size_t nc = *cap ? 2 * *cap : 8;
        json_value **items;

        if (nc > ((size_t)-1) / sizeof(char *) / 2)
            goto oom;
        items = realloc(c->items, nc * sizeof *items);
        if (items == NULL)
            goto oom;
        c->items = items;
        if (c->kind == JSON_OBJECT) {
            char **keys = realloc(c->keys, nc * sizeof *keys);
            size_t *lens;

            if (keys == NULL)
                goto oom;
            c->keys = keys;
            lens = realloc(c->key_lens, nc * sizeof *lens);
            if (lens == NULL)
                goto oom;
            c->key_lens = lens;
        }
        *cap = nc;
    }
    c->items[c->n] = item;
    if (c->kind == JSON_OBJECT) {
        c->keys[c->n] = key;
        c->key_lens[c->n] = key_len;
    }
    c->n++;
    return 0;
oom:
    fail_oom(j);
    return -1;
}

typedef struct keyref {
    const char *k;
    size_t len;
} keyref;

static int cmp_key(const void *a, const void *b)
{
    const keyref *x = (const keyref *)a, *y = (const keyref *)b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->k, y->k, n);

    if (c != 0)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* Refuse an object with two members of the same name. */
static int check_duplicates(jp *j, const json_value *o,
                            const unsigned char *at)
{
    keyref *v;
    size_t i;
    int rc = 0;

    if (o->n < 2)
        return 0;
    v = malloc(o->n * sizeof *v);
    if (v == NULL) {
        fail_oom(j);
        return -1;
    }
    for (i = 0; i < o->n; i++) {
        v[i].k = o->keys[i];
        v[i].len = o->key_lens[i];
    }
    qsort(v, o->n, sizeof *v, cmp_key);
    for (i = 1; i < o->n && rc == 0; i++) {
        if (cmp_key(&v[i - 1], &v[i]) == 0) {
            char msg[160];
            size_t k, m = 0;

            /* Name the key, printable ASCII only, cut short. */
            for (k = 0; k < v[i].len && m < 60; k++)
                msg[m++] = (unsigned char)v[i].k[k] >= 0x20 &&
                                   (unsigned char)v[i].k[k] < 0x7f
                               ? v[i].k[k] : '?';
            msg[m] = '\0';
            {
                char full[220];

                (void)snprintf(full, sizeof full,
                               "duplicate key \"%s\" in an object", msg);
                fail(j, at, full);
            }
            rc = -1;
        }
    }
    free(v);
    return rc;
}

static json_value *container(jp *j, int object)
{
    const unsigned char *open = j->p;
    json_value *c = node(j, object ? JSON_OBJECT : JSON_ARRAY);
    size_t cap = 0;

    if (c == NULL)
        return NULL;
    if (++j->depth > JSON_MAX_DEPTH) {
        fail(j, open, "nested too deeply");
        goto bad;
    }
    j->p++;
    skip_ws(j);
    if (j->p < j->end && *j->p == (object ? '}' : ']')) {
        j->p++;
        j->depth--;
        return c;
    }
    for (;;) {
        char *key = NULL;
        size_t key_len = 0;
        json_value *item;

        skip_ws(j);
        if (object) {
            sbuf kb = {NULL, 0, 0};

            if (j->p >= j->end || *j->p != '"') {
                fail(j, j->p, "expected a string (a member name)");
                goto bad;
            }
            if (string_(j, &kb) != 0) {
                free(kb.p);
                goto bad;
            }
            key = kb.p;
            key_len = kb.len;
            skip_ws(j);
            if (j->p >= j->end || *j->p != ':') {
                free(key);
                fail(j, j->p, "expected ':' after a member name");
                goto bad;
            }
            j->p++;
            skip_ws(j);
        }
        item = value(j);
        if (item == NULL) {
            free(key);
            goto bad;
        }
        if (push(j, c, item, key, key_len, &cap) != 0) {
            json_free(item);
            free(key);
            goto bad;
        }
        skip_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == (object ? '}' : ']')) {
            j->p++;
            break;
        }
        fail(j, j->p, object ? "expected ',' or '}' in an object"
                             : "expected ',' or ']' in an array");
        goto bad;
    }
    if (object && check_duplicates(j, c, open) != 0)
        goto bad;
    j->depth--;
    return c;
bad:
    json_free(c);
    return NULL;
}

static int literal(jp *j, const char *word)
{
    size_t n = strlen(word);

    if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
        return 0;
    j->p += n;
    return 1;
}

static json_value *value(jp *j)
{
    json_value *v;
    sbuf b = {NULL, 0, 0};

    skip_ws(j);
    if (j->p >= j->end) {
        fail(j, j->p, "expected a value, found the end of the input");
        return NULL;
    }
    switch (*j->p) {
    case '{':
        return container(j, 1);
    case '[':
        return container(j, 0);
    case '"':
        if (string_(j, &b) != 0) {
            free(b.p);
            return NULL;
        }
        v = node(j, JSON_STRING);
        if (v == NULL) {
            free(b.p);
            return NULL;
        }
        v->s = b.p;
        v->len = b.len;
        return v;
    case 't':
        if (literal(j, "true"))
            return node(j, JSON_TRUE);
        break;
    case 'f':
        if (literal(j, "false"))
            return node(j, JSON_FALSE);
        break;
    case 'n':
        if (literal(j, "null"))
            return node(j, JSON_NULL);
        break;
    default:
        if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
            return number(j);
        break;
    }
    fail(j, j->p, "expected a value");
    return NULL;
}

int json_parse(const char *text, size_t len, json_value **out, char *err,
               size_t errlen)
{
    jp j;
    json_value *v;

    *out = NULL;
    memset(&j, 0, sizeof j);
    j.start = j.p = (const unsigned char *)text;
    j.end = j.start + len;
    j.err = err;
    j.errlen = errlen;
    if (errlen > 0)
        err[0] = '\0';
    v = value(&j);
    if (v != NULL) {
        skip_ws(&j);
        if (j.p != j.end) {
            fail(&j, j.p, "unexpected text after the value");
            json_free(v);
            v = NULL;
        }
    }
    if (v == NULL)
        return j.oom ? JSON_ENOMEM : JSON_EMALFORMED;
    *out = v;
    return JSON_OK;
}

int json_read_file(const char *path, json_value **out, char *err,
                   size_t errlen)
{
    struct stat st;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int fd, rc, e = 0;

    *out = NULL;
    fd = open(path, O_RDONLY);
    if (fd < 0) {
        e = errno;
        goto io;
    }
    if (fstat(fd, &st) != 0) {
        e = errno;
        goto io;
    }
    if (!S_ISREG(st.st_mode)) {
        (void)close(fd);
        (void)snprintf(err, errlen, "not a regular file");
        return JSON_EIO;
    }
    for (;;) {
        ssize_t r;

        if (len == cap) {
            size_t nc = cap ? 2 * cap : 65536;
            char *q;

            if (cap >= JSON_MAX_FILE) {
                (void)close(fd);
                free(buf);
                (void)snprintf(err, errlen, "larger than %u bytes",
                               JSON_MAX_FILE);
                return JSON_EIO;
            }
            q = realloc(buf, nc);
            if (q == NULL) {
                (void)close(fd);
                free(buf);
                (void)snprintf(err, errlen, "out of memory");
                return JSON_ENOMEM;
            }
            buf = q;
            cap = nc;
        }
        r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            e = errno;
            goto io;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    (void)close(fd);
    rc = json_parse(buf, len, out, err, errlen);
    free(buf);
    return rc;
io:
    if (fd >= 0)
        (void)close(fd);
    free(buf);
    (void)snprintf(err, errlen, "%s", strerror(e));
    return JSON_EIO;
}

/* ------------------------------------------------------------------------
 * Access.
 * ---------------------------------------------------------------------- */

const json_value *json_member(const json_value *v, const char *key)
{
    size_t i, n = strlen(key);

    if (v == NULL || v->kind != JSON_OBJECT)
        return NULL;
    for (i = 0; i < v->n; i++)
        if (v->key_lens[i] == n && memcmp(v->keys[i], key, n) == 0)
            return v->items[i];
    return NULL;
}

const char *json_string(const json_value *v)
{
    return v != NULL && v->kind == JSON_STRING ? v->s : NULL;
}

int json_uint(const json_value *v, uint64_t *out)
{
    uint64_t x = 0;
    size_t i;

    if (v == NULL || v->kind != JSON_NUMBER || v->len == 0)
        return -1;
    for (i = 0; i < v->len; i++) {
        unsigned d;

        if (v->s[i] < '0' || v->s[i] > '9')
            return -1;
        d = (unsigned)(v->s[i] - '0');
        if (x > (UINT64_MAX - d) / 10)
            return -1;
        x = x * 10 + d;
    }
    *out = x;
    return 0;
}
