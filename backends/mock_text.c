/*
 * backends/mock_text.c: the notations the mock spawner reads in scripts and
 * writes in traces.  First the signal table and the errno table (only the
 * names this platform defines, so numbers always come from <signal.h> and
 * <errno.h>), with lookups both ways; then the C-style escaping shared by
 * the trace (output bytes, argv words, paths) and by parse messages, and
 * its inverse for quoted script strings; last, decimal seconds read
 * exactly into nanoseconds (no floating point, no locale).
 */
#include "internal.h"
#include "mock.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

typedef struct mock_name {
    int number;
    const char *name;
} mock_name;

#define NAME(x) { x, #x }

static const mock_name signal_names[] = {
#ifdef SIGHUP
    NAME(SIGHUP),
#endif
#ifdef SIGINT
    NAME(SIGINT),
#endif
#ifdef SIGQUIT
    NAME(SIGQUIT),
#endif
#ifdef SIGILL
    NAME(SIGILL),
#endif
#ifdef SIGTRAP
    NAME(SIGTRAP),
#endif
#ifdef SIGABRT
    NAME(SIGABRT),
#endif
#ifdef SIGBUS
    NAME(SIGBUS),
#endif
#ifdef SIGFPE
    NAME(SIGFPE),
#endif
#ifdef SIGKILL
    NAME(SIGKILL),
#endif
#ifdef SIGUSR1
    NAME(SIGUSR1),
#endif
#ifdef SIGSEGV
    NAME(SIGSEGV),
#endif
#ifdef SIGUSR2
    NAME(SIGUSR2),
#endif
#ifdef SIGPIPE
    NAME(SIGPIPE),
#endif
#ifdef SIGALRM
    NAME(SIGALRM),
#endif
#ifdef SIGTERM
    NAME(SIGTERM),
#endif
#ifdef SIGCHLD
    NAME(SIGCHLD),
#endif
#ifdef SIGCONT
    NAME(SIGCONT),
#endif
#ifdef SIGSTOP
    NAME(SIGSTOP),
#endif
#ifdef SIGTSTP
    NAME(SIGTSTP),
#endif
#ifdef SIGTTIN
    NAME(SIGTTIN),
#endif
#ifdef SIGTTOU
    NAME(SIGTTOU),
#endif
#ifdef SIGURG
    NAME(SIGURG),
#endif
#ifdef SIGXCPU
    NAME(SIGXCPU),
#endif
#ifdef SIGXFSZ
    NAME(SIGXFSZ),
#endif
#ifdef SIGVTALRM
    NAME(SIGVTALRM),
#endif
#ifdef SIGPROF
    NAME(SIGPROF),
#endif
#ifdef SIGSYS
    NAME(SIGSYS),
#endif
    { 0, NULL }
};

static const mock_name errno_names[] = {
    NAME(E2BIG), NAME(EACCES), NAME(EAGAIN), NAME(EBADF), NAME(EBUSY),
    NAME(ECHILD), NAME(EEXIST), NAME(EFAULT), NAME(EFBIG), NAME(EINTR),
    NAME(EINVAL), NAME(EIO), NAME(EISDIR), NAME(ELOOP), NAME(EMFILE),
    NAME(ENAMETOOLONG), NAME(ENFILE), NAME(ENODEV), NAME(ENOENT),
    NAME(ENOEXEC), NAME(ENOMEM), NAME(ENOSPC), NAME(ENOSYS), NAME(ENOTDIR),
    NAME(EPERM), NAME(EPIPE), NAME(EROFS), NAME(ETXTBSY), NAME(EXDEV),
    { 0, NULL }
};

#undef NAME

static const char *name_of(const mock_name *t, int number)
{
    for (; t->name != NULL; t++)
        if (t->number == number)
            return t->name;
    return NULL;
}

static int number_of(const mock_name *t, const char *s, size_t n)
{
    for (; t->name != NULL; t++)
        if (strlen(t->name) == n && memcmp(t->name, s, n) == 0)
            return t->number;
    return 0;
}

const char *haz__mock_signal_name(int signo)
{
    return name_of(signal_names, signo);
}

int haz__mock_signal_number(const char *s, size_t n)
{
    return number_of(signal_names, s, n);
}

const char *haz__mock_errno_name(int err)
{
    return name_of(errno_names, err);
}

int haz__mock_errno_number(const char *s, size_t n)
{
    return number_of(errno_names, s, n);
}

/* ------------------------------------------------------------------------
 * Escaping.
 * ---------------------------------------------------------------------- */

/* The escaped form of byte c into out (at most 4 bytes, no NUL); returns
 * its length. */
static size_t escape_byte(char *out, unsigned char c, const char *extra)
{
    static const char hex[] = "0123456789abcdef";

    if (c != '\0' && extra != NULL && strchr(extra, c) != NULL)
        goto as_hex;
    switch (c) {
    case '\\': out[0] = '\\'; out[1] = '\\'; return 2;
    case '"':  out[0] = '\\'; out[1] = '"';  return 2;
    case '\n': out[0] = '\\'; out[1] = 'n';  return 2;
    case '\r': out[0] = '\\'; out[1] = 'r';  return 2;
    case '\t': out[0] = '\\'; out[1] = 't';  return 2;
    default:
        break;
    }
    if (c >= 0x20 && c < 0x7f) {
        out[0] = (char)c;
        return 1;
    }
as_hex:
    out[0] = '\\';
    out[1] = 'x';
    out[2] = hex[c >> 4];
    out[3] = hex[c & 0xf];
    return 4;
}

int haz__mock_escape(haz_buf *b, const void *data, size_t n,
                     const char *extra)
{
    const unsigned char *p = data;
    char tmp[256];
    size_t used = 0, i;

    /* Escaped bytes gather in tmp, flushed in blocks. */
    for (i = 0; i < n; i++) {
        if (used > sizeof tmp - 4) {
            if (haz__buf_append(b, tmp, used) != HAZ_OK)
                return HAZ_ENOMEM;
            used = 0;
        }
        used += escape_byte(tmp + used, p[i], extra);
    }
    return haz__buf_append(b, tmp, used);
}

void haz__mock_quote(char *out, size_t size, const void *data, size_t n)
{
    const unsigned char *p = data;
    size_t used = 0, i;
    char one[4];

    for (i = 0; i < n; i++) {
        size_t k = escape_byte(one, p[i], NULL);

        if (used + k + 4 > size) {      /* room for "..." and the NUL */
            memcpy(out + used, "...", 3);
            used += 3;
            break;
        }
        memcpy(out + used, one, k);
        used += k;
    }
    out[used] = '\0';
}

/* ------------------------------------------------------------------------
 * Unescaping.
 * ---------------------------------------------------------------------- */

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* One escape; *p is just past the backslash.  Returns 0 or HAZ_EPARSE. */
static int unescape(const char **p, const char *end, unsigned char *out,
                    char *msg, size_t size)
{
    static const char from[] = "abfnrtv\\\"'?";
    static const char to[] = "\a\b\f\n\r\t\v\\\"'?";
    const char *s = *p, *hit;
    unsigned v = 0;
    int k;

    if (s == end) {
        snprintf(msg, size, "unterminated string");
        return HAZ_EPARSE;
    }
    if (*s != '\0' && (hit = strchr(from, *s)) != NULL) {
        *out = (unsigned char)to[hit - from];
        *p = s + 1;
        return HAZ_OK;
    }
    if (*s == 'x') {
        if (end - s < 3 || hex_digit(s[1]) < 0 || hex_digit(s[2]) < 0) {
            snprintf(msg, size, "\\x must be followed by two hex digits");
            return HAZ_EPARSE;
        }
        *out = (unsigned char)(hex_digit(s[1]) * 16 + hex_digit(s[2]));
        *p = s + 3;
        return HAZ_OK;
    }
    for (k = 0; k < 3 && s < end && *s >= '0' && *s <= '7'; k++)
        v = v * 8 + (unsigned)(*s++ - '0');
    if (k == 0) {
        char q[16];

        haz__mock_quote(q, sizeof q, s, 1);
        snprintf(msg, size, "unknown escape '\\%s'", q);
        return HAZ_EPARSE;
    }
    if (v > 0377) {
        snprintf(msg, size, "octal escape out of range");
        return HAZ_EPARSE;
    }
    *out = (unsigned char)v;
    *p = s;
    return HAZ_OK;
}

int haz__mock_unquote(const char **p, const char *end, haz_buf *b, char *msg,
                      size_t size)
{
    const char *s = *p + 1;         /* past the opening quote */

    for (;;) {
        unsigned char c;
        int rc;

        if (s == end) {
            snprintf(msg, size, "unterminated string");
            return HAZ_EPARSE;
        }
        c = (unsigned char)*s++;
        if (c == '"')
            break;
        if (c == '\\' && (rc = unescape(&s, end, &c, msg, size)) != HAZ_OK)
            return rc;
        if (haz__buf_append(b, &c, 1) != HAZ_OK)
            return HAZ_ENOMEM;
    }
    *p = s;
    return HAZ_OK;
}

/* ------------------------------------------------------------------------
 * Decimal seconds.
 * ---------------------------------------------------------------------- */

int haz__mock_seconds(const char *s, size_t n, uint64_t *ns, char *msg,
                      size_t size)
{
    const uint64_t giga = 1000000000u;
    uint64_t sec = 0, frac = 0, scale = giga;
    size_t i = 0, digits = 0;
    char q[64];

    haz__mock_quote(q, sizeof q, s, n);
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
        if (sec > (UINT64_MAX - 1) / giga / 10)
            goto range;
        sec = sec * 10 + (uint64_t)(s[i] - '0');
    }
    if (digits > 0 && i < n && s[i] == '.') {
        for (i++, digits = 0; i < n && s[i] >= '0' && s[i] <= '9';
             i++, digits++) {
            if (digits == 9) {
                snprintf(msg, size, "time '%s' has more than 9 decimals", q);
                return HAZ_EPARSE;
            }
            scale /= 10;
            frac += (uint64_t)(s[i] - '0') * scale;
        }
    }
    if (digits == 0 || i != n) {
        snprintf(msg, size,
                 "bad time '%s': expected seconds such as 2 or 0.25", q);
        return HAZ_EPARSE;
    }
    if (sec > (UINT64_MAX - 1 - frac) / giga)
        goto range;
    *ns = sec * giga + frac;
    return HAZ_OK;
range:
    snprintf(msg, size, "time '%s' out of range", q);
    return HAZ_EPARSE;
}
