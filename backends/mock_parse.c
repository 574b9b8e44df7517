/*
 * backends/mock_parse.c: haz_mock_script_parse, the reader of the mock
 * script text format (docs/mock-script.md).  The format is line-based: a
 * `[MATCH]` line opens an entry, and each following directive line
 * (stdout, stderr, exit, die, hang, spawn-error, sigterm, file) describes
 * it through the same haz_mock_proc_* calls a C test would make, so both
 * ways share one set of checks.
 *
 * Entries are built in a scratch script and moved into the caller's only
 * when the whole text is clean, so a text with any error adds nothing.
 * Every error is reported as "NAME:LINE: message" and parsing goes on with
 * the next line, so one call reports every bad line.  Any byte sequence is
 * accepted as input: nothing here reads past `len` or needs a NUL.
 *
 * In order: errors; words, numbers, times and strings; the directives; the
 * line loop.
 */
#include "internal.h"
#include "mock.h"

#include <stdio.h>
#include <string.h>

typedef struct parser {
    haz_ctx *ctx;
    haz_mock_script *tmp;       /* entries parsed so far */
    haz_mock_proc *cur;         /* the entry being described, or NULL */
    haz_diags *diags;           /* may be NULL */
    const char *name;
    unsigned long line;
    size_t errors;
    haz_buf str;                /* the last string argument, decoded */
} parser;

/* The rest of a line. */
typedef struct cursor {
    const char *p, *end;
} cursor;

/* ------------------------------------------------------------------------
 * Errors.  Each returns HAZ_EPARSE, or HAZ_ENOMEM when the diagnostic
 * could not be stored.
 * ---------------------------------------------------------------------- */

static int fail(parser *ps, haz_diag_kind kind, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int fail(parser *ps, haz_diag_kind kind, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ps->errors++;
    if (ps->diags != NULL &&
        haz__diag_add(ps->diags, kind, ps->name, ps->line, NULL, NULL, "%s",
                      msg) != HAZ_OK)
        return HAZ_ENOMEM;
    return HAZ_EPARSE;
}

/* After a haz_mock_* call: its EINVAL becomes a diagnostic. */
static int api(parser *ps, int rc)
{
    if (rc == HAZ_EINVAL)
        return fail(ps, HAZ_DIAG_BAD_VALUE, "%s", haz_ctx_errmsg(ps->ctx));
    return rc;
}

/* ------------------------------------------------------------------------
 * Arguments.
 * ---------------------------------------------------------------------- */

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static void skip_blanks(cursor *c)
{
    while (c->p < c->end && is_blank(*c->p))
        c->p++;
}

/* The next run of non-blank bytes; 0 when the line is used up. */
static int word(cursor *c, const char **w, size_t *n)
{
    skip_blanks(c);
    *w = c->p;
    while (c->p < c->end && !is_blank(*c->p))
        c->p++;
    *n = (size_t)(c->p - *w);
    return *n > 0;
}

static int same(const char *w, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(w, lit, n) == 0;
}

/* A word that must be there; `what` names it in the message. */
static int need_word(parser *ps, cursor *c, const char *what,
                     const char **w, size_t *n)
{
    if (!word(c, w, n))
        return fail(ps, HAZ_DIAG_SYNTAX, "missing %s", what);
    return HAZ_OK;
}

/* A decimal integer in [min, max]. */
static int integer(parser *ps, cursor *c, const char *what, long min,
                   long max, long *v)
{
    const char *w;
    size_t n, i;
    char q[64];
    int rc = need_word(ps, c, what, &w, &n);

    if (rc != HAZ_OK)
        return rc;
    *v = 0;
    for (i = 0; i < n && w[i] >= '0' && w[i] <= '9' && *v <= max; i++)
        *v = *v * 10 + (w[i] - '0');
    if (i == n && *v >= min && *v <= max)
        return HAZ_OK;
    haz__mock_quote(q, sizeof q, w, n);
    return fail(ps, HAZ_DIAG_BAD_VALUE, "bad %s '%s': expected %ld to %ld",
                what, q, min, max);
}

/* Decimal seconds into ns. */
static int seconds(parser *ps, cursor *c, uint64_t *ns)
{
    char msg[160];
    const char *w;
    size_t n;
    int rc = need_word(ps, c, "time", &w, &n);

    if (rc == HAZ_OK &&
        haz__mock_seconds(w, n, ns, msg, sizeof msg) != HAZ_OK)
        rc = fail(ps, HAZ_DIAG_BAD_VALUE, "%s", msg);
    return rc;
}

/* A signal: a name such as SIGSEGV, or a number. */
static int signal_arg(parser *ps, cursor *c, long *signo)
{
    const char *w;
    size_t n;
    char q[64];
    cursor save = *c;
    int rc = need_word(ps, c, "signal", &w, &n);

    if (rc != HAZ_OK)
        return rc;
    if (w[0] >= '0' && w[0] <= '9') {
        *c = save;
        return integer(ps, c, "signal", 1, 127, signo);
    }
    *signo = haz__mock_signal_number(w, n);
    if (*signo != 0)
        return HAZ_OK;
    haz__mock_quote(q, sizeof q, w, n);
    return fail(ps, HAZ_DIAG_BAD_VALUE, "unknown signal '%s'", q);
}

/* An errno value: a name such as ENOENT, or a number. */
static int errno_arg(parser *ps, cursor *c, long *err)
{
    const char *w;
    size_t n;
    char q[64];
    cursor save = *c;
    int rc = need_word(ps, c, "errno", &w, &n);

    if (rc != HAZ_OK)
        return rc;
    if (w[0] >= '0' && w[0] <= '9') {
        *c = save;
        return integer(ps, c, "errno", 1, 4095, err);
    }
    *err = haz__mock_errno_number(w, n);
    if (*err != 0)
        return HAZ_OK;
    haz__mock_quote(q, sizeof q, w, n);
    return fail(ps, HAZ_DIAG_BAD_VALUE, "unknown errno name '%s'", q);
}

/* A double-quoted, C-escaped string, decoded into ps->str. */
static int string(parser *ps, cursor *c, const char *what)
{
    char msg[160];
    int rc;

    ps->str.len = 0;
    skip_blanks(c);
    if (c->p == c->end || *c->p != '"')
        return fail(ps, HAZ_DIAG_SYNTAX, "missing %s (a quoted string)",
                    what);
    rc = haz__mock_unquote(&c->p, c->end, &ps->str, msg, sizeof msg);
    if (rc == HAZ_EPARSE)
        rc = fail(ps, HAZ_DIAG_SYNTAX, "%s", msg);
    return rc;
}

/* ------------------------------------------------------------------------
 * Directives.  Each reads its arguments from c (the end of the line is
 * checked by the caller) and describes ps->cur.
 * ---------------------------------------------------------------------- */

static int d_output(parser *ps, cursor *c, haz_stream stream)
{
    uint64_t t;
    int rc = seconds(ps, c, &t);

    if (rc == HAZ_OK)
        rc = string(ps, c, "output");
    if (rc == HAZ_OK)
        rc = api(ps, haz_mock_proc_output(ps->cur, t, stream, ps->str.data,
                                          ps->str.len));
    return rc;
}

static int d_exit(parser *ps, cursor *c)
{
    uint64_t t;
    long code;
    int rc = seconds(ps, c, &t);

    if (rc == HAZ_OK)
        rc = integer(ps, c, "exit code", 0, 255, &code);
    if (rc == HAZ_OK)
        rc = api(ps, haz_mock_proc_exit(ps->cur, t, (int)code));
    return rc;
}

static int d_die(parser *ps, cursor *c)
{
    uint64_t t;
    long signo;
    int rc = seconds(ps, c, &t);

    if (rc == HAZ_OK)
        rc = signal_arg(ps, c, &signo);
    if (rc == HAZ_OK)
        rc = api(ps, haz_mock_proc_die(ps->cur, t, (int)signo));
    return rc;
}

static int d_spawn_error(parser *ps, cursor *c)
{
    long err;
    int rc = errno_arg(ps, c, &err);

    if (rc == HAZ_OK)
        rc = api(ps, haz_mock_proc_spawn_error(ps->cur, (int)err));
    return rc;
}

/* read-error TIME STREAM ERRNO */
static int d_read_error(parser *ps, cursor *c)
{
    const char *w;
    size_t n;
    uint64_t t;
    long err;
    char q[64];
    haz_stream stream;
    int rc = seconds(ps, c, &t);

    if (rc == HAZ_OK)
        rc = need_word(ps, c, "stream (stdout or stderr)", &w, &n);
    if (rc != HAZ_OK)
        return rc;
    if (same(w, n, "stdout")) {
        stream = HAZ_STREAM_STDOUT;
    } else if (same(w, n, "stderr")) {
        stream = HAZ_STREAM_STDERR;
    } else {
        haz__mock_quote(q, sizeof q, w, n);
        return fail(ps, HAZ_DIAG_BAD_VALUE,
                    "unknown stream '%s' (stdout or stderr)", q);
    }
    rc = errno_arg(ps, c, &err);
    if (rc == HAZ_OK)
        rc = api(ps, haz_mock_proc_read_error(ps->cur, t, stream, (int)err));
    return rc;
}

static int d_sigterm(parser *ps, cursor *c)
{
    const char *w;
    size_t n;
    uint64_t t = 0;
    long code = 0;
    char q[64];
    haz_mock_term how;
    int rc = need_word(ps, c, "SIGTERM reaction (ignore, exit or delay)",
                       &w, &n);

    if (rc != HAZ_OK)
        return rc;
    if (same(w, n, "ignore")) {
        how = HAZ_MOCK_TERM_IGNORE;
    } else if (same(w, n, "exit")) {
        how = HAZ_MOCK_TERM_EXIT;
        rc = integer(ps, c, "exit code", 0, 255, &code);
    } else if (same(w, n, "delay")) {
        how = HAZ_MOCK_TERM_DELAY;
        rc = seconds(ps, c, &t);
        if (rc == HAZ_OK)
            rc = integer(ps, c, "exit code", 0, 255, &code);
    } else {
        haz__mock_quote(q, sizeof q, w, n);
        return fail(ps, HAZ_DIAG_BAD_VALUE,
                    "unknown SIGTERM reaction '%s' (ignore, exit or delay)",
                    q);
    }
    if (rc == HAZ_OK)
        rc = api(ps, haz_mock_proc_on_sigterm(ps->cur, how, t, (int)code));
    return rc;
}

static int d_file(parser *ps, cursor *c)
{
    char path[1024];
    const char *w;
    size_t n;
    int rc;

    skip_blanks(c);
    if (c->p < c->end && *c->p == '"') {
        rc = string(ps, c, "path");
        if (rc != HAZ_OK)
            return rc;
        w = ps->str.data != NULL ? ps->str.data : "";
        n = ps->str.len;
    } else if ((rc = need_word(ps, c, "path", &w, &n)) != HAZ_OK) {
        return rc;
    }
    if (n >= sizeof path || memchr(w, '\0', n) != NULL)
        return fail(ps, HAZ_DIAG_BAD_VALUE, "bad file path: %s",
                    n >= sizeof path ? "too long" : "NUL byte");
    memcpy(path, w, n);
    path[n] = '\0';
    rc = string(ps, c, "file contents");
    if (rc == HAZ_OK)
        rc = api(ps, haz_mock_proc_create_file(ps->cur, path, ps->str.data,
                                               ps->str.len));
    return rc;
}

/* A "[MATCH]" line (trimmed, n >= 1 bytes at s). */
static int header(parser *ps, const char *s, size_t n)
{
    int rc;

    ps->cur = NULL;
    if (n < 2 || s[n - 1] != ']')
        rc = fail(ps, HAZ_DIAG_SYNTAX, "a section line must end with ']'");
    else if (memchr(s, '\0', n) != NULL)
        rc = fail(ps, HAZ_DIAG_SYNTAX, "NUL byte in a section line");
    else if (n == 3 && s[1] == '*')
        return haz_mock_script_add(ps->tmp, NULL, &ps->cur);
    else {
        ps->str.len = 0;
        if (haz__buf_append(&ps->str, s + 1, n - 2) != HAZ_OK)
            return HAZ_ENOMEM;
        rc = api(ps, haz_mock_script_add(ps->tmp, ps->str.data, &ps->cur));
    }
    /* A stand-in, so that the section's lines are still checked. */
    if (rc == HAZ_EPARSE && ps->cur == NULL &&
        haz_mock_script_add(ps->tmp, NULL, &ps->cur) != HAZ_OK)
        return HAZ_ENOMEM;
    return rc;
}

static int directive(parser *ps, const char *s, size_t n)
{
    cursor c;
    const char *w;
    size_t wn;
    char q[64];
    int rc;

    c.p = s;
    c.end = s + n;
    word(&c, &w, &wn);
    if (ps->cur == NULL) {
        haz__mock_quote(q, sizeof q, w, wn);
        rc = fail(ps, HAZ_DIAG_SYNTAX,
                  "'%s' before the first [section] line", q);
        if (rc == HAZ_EPARSE &&
            haz_mock_script_add(ps->tmp, NULL, &ps->cur) != HAZ_OK)
            return HAZ_ENOMEM;
        return rc;
    }
    if (same(w, wn, "stdout"))
        rc = d_output(ps, &c, HAZ_STREAM_STDOUT);
    else if (same(w, wn, "stderr"))
        rc = d_output(ps, &c, HAZ_STREAM_STDERR);
    else if (same(w, wn, "exit"))
        rc = d_exit(ps, &c);
    else if (same(w, wn, "die"))
        rc = d_die(ps, &c);
    else if (same(w, wn, "hang"))
        rc = api(ps, haz_mock_proc_exit(ps->cur, HAZ_MOCK_NEVER, 0));
    else if (same(w, wn, "spawn-error"))
        rc = d_spawn_error(ps, &c);
    else if (same(w, wn, "read-error"))
        rc = d_read_error(ps, &c);
    else if (same(w, wn, "sigterm"))
        rc = d_sigterm(ps, &c);
    else if (same(w, wn, "file"))
        rc = d_file(ps, &c);
    else {
        haz__mock_quote(q, sizeof q, w, wn);
        return fail(ps, HAZ_DIAG_SYNTAX, "unknown directive '%s'", q);
    }
    if (rc != HAZ_OK)
        return rc;
    skip_blanks(&c);
    if (c.p != c.end) {
        haz__mock_quote(q, sizeof q, w, wn);
        return fail(ps, HAZ_DIAG_SYNTAX, "unexpected text after '%s'", q);
    }
    return HAZ_OK;
}

/* ------------------------------------------------------------------------
 * The line loop.
 * ---------------------------------------------------------------------- */

int haz_mock_script_parse(haz_mock_script *s, const char *name,
                          const char *text, size_t len, haz_diags *diags)
{
    parser ps;
    const char *p, *end;
    int rc = HAZ_OK;

    if (s == NULL)
        return HAZ_EINVAL;
    if (text == NULL && len > 0)
        return haz__error(s->ctx, HAZ_EINVAL,
                          "haz_mock_script_parse: text is NULL");
    memset(&ps, 0, sizeof ps);
    ps.ctx = s->ctx;
    ps.diags = diags;
    ps.name = name != NULL ? name : "script";
    haz__buf_init(&ps.str, s->ctx);
    if (haz_mock_script_new(s->ctx, &ps.tmp) != HAZ_OK)
        return HAZ_ENOMEM;

    p = len > 0 ? text : NULL;
    end = len > 0 ? text + len : NULL;
    while (p != NULL && p < end && rc != HAZ_ENOMEM) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *a = p, *b = nl != NULL ? nl : end;

        p = nl != NULL ? nl + 1 : NULL;
        ps.line++;
        if (b > a && b[-1] == '\r')
            b--;
        while (a < b && is_blank(*a))
            a++;
        while (b > a && is_blank(b[-1]))
            b--;
        if (a == b || *a == '#')
            rc = HAZ_OK;
        else if (*a == '[')
            rc = header(&ps, a, (size_t)(b - a));
        else
            rc = directive(&ps, a, (size_t)(b - a));
    }

    haz__buf_free(&ps.str);
    if (rc != HAZ_ENOMEM && ps.errors > 0)
        rc = HAZ_EPARSE;
    else if (rc != HAZ_ENOMEM)
        rc = haz__mock_script_merge(s, ps.tmp);
    haz_mock_script_free(ps.tmp);
    if (rc == HAZ_EPARSE)
        return haz__error(s->ctx, HAZ_EPARSE, "%s: %zu error%s in mock script",
                          ps.name, ps.errors, ps.errors == 1 ? "" : "s");
    return rc;
}
