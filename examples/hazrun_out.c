/*
 * examples/hazrun_out.c: hazrun's text output helpers.
 *
 * A small buffered writer over write(2) (no stdio, so that nothing hazrun
 * prints can be reordered against what the observers write straight to
 * the same descriptors), quoting for display and for a shell, the
 * duration grammar of reference-io.md 2.6, signal names, and say(), the
 * "hazrun: ..." diagnostic on stderr.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hazrun.h"

/* A non-blocking descriptor (a pipe the caller of hazrun made so) that is
 * full gives EAGAIN: wait until it takes bytes again (R7), so that every
 * byte goes out once and in order. */
static int wait_writable(int fd)
{
    struct pollfd pf;
    int r;

    pf.fd = fd;
    pf.events = POLLOUT;
    pf.revents = 0;
    do
        r = poll(&pf, 1, -1);
    while (r == -1 && errno == EINTR);
    return r == -1 ? errno : 0;
}

int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int e = wait_writable(fd);

            if (e != 0)
                return e;
            continue;
        }
        if (w <= 0)
            return w < 0 ? errno : EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

void out_init(out *o, int fd)
{
    o->fd = fd;
    o->err = 0;
    o->len = 0;
}

void out_flush(out *o)
{
    if (o->err == 0 && o->len > 0)
        o->err = write_all(o->fd, o->buf, o->len);
    o->len = 0;
}

void out_write(out *o, const char *s, size_t n)
{
    while (n > 0) {
        size_t room = sizeof o->buf - o->len;
        size_t k = n < room ? n : room;

        memcpy(o->buf + o->len, s, k);
        o->len += k;
        s += k;
        n -= k;
        if (o->len == sizeof o->buf)
            out_flush(o);
    }
}

void out_puts(out *o, const char *s)
{
    out_write(o, s, strlen(s));
}

void out_byte(out *o, char c)
{
    out_write(o, &c, 1);
}

void out_ulong(out *o, unsigned long long v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%llu", v);

    if (n > 0)
        out_write(o, num, (size_t)n);
}

static const char hexdigits[] = "0123456789abcdef";

static void out_esc(out *o, unsigned char c)
{
    char e[4];

    e[0] = '\\';
    e[1] = 'x';
    e[2] = hexdigits[c >> 4];
    e[3] = hexdigits[c & 15];
    out_write(o, e, 4);
}

void out_hexdigest(out *o, const unsigned char *d, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        out_byte(o, hexdigits[d[i] >> 4]);
        out_byte(o, hexdigits[d[i] & 15]);
    }
}

static int is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

void out_text(out *o, const char *s)
{
    for (; *s; s++) {
        if (is_control((unsigned char)*s) && *s != '\t')
            out_esc(o, (unsigned char)*s);
        else
            out_byte(o, *s);
    }
}

/*
 * Bare when made only of characters no shell treats specially; else in
 * single quotes; and when it holds control bytes, in $'...' with \xNN
 * escapes so that the text stays on one line.
 */
void out_shell_word(out *o, const char *s)
{
    static const char safe[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        "0123456789_@%+=:,./-";
    const char *c;
    int control = 0;

    if (*s && strspn(s, safe) == strlen(s)) {
        out_puts(o, s);
        return;
    }
    for (c = s; *c; c++)
        if (is_control((unsigned char)*c))
            control = 1;
    if (!control) {
        out_byte(o, '\'');
        for (c = s; *c; c++) {
            if (*c == '\'')
                out_puts(o, "'\\''");
            else
                out_byte(o, *c);
        }
        out_byte(o, '\'');
        return;
    }
    out_puts(o, "$'");
    for (c = s; *c; c++) {
        if (is_control((unsigned char)*c))
            out_esc(o, (unsigned char)*c);
        else if (*c == '\'' || *c == '\\') {
            out_byte(o, '\\');
            out_byte(o, *c);
        } else
            out_byte(o, *c);
    }
    out_byte(o, '\'');
}

void out_command(out *o, haz_action_kind action, const char *script,
                 const char *const *argv, size_t argc)
{
    size_t i;

    if (action == HAZ_ACTION_SHELL) {
        out_text(o, script != NULL ? script : "");
        return;
    }
    for (i = 0; i < argc; i++) {
        if (i > 0)
            out_byte(o, ' ');
        out_shell_word(o, argv[i]);
    }
}

void out_seconds(out *o, uint64_t ns)
{
    char num[48];
    uint64_t frac = ns % UINT64_C(1000000000);
    int n = snprintf(num, sizeof num, "%llu",
                     (unsigned long long)(ns / UINT64_C(1000000000)));

    if (frac != 0 && n > 0) {
        int k;

        n += snprintf(num + n, sizeof num - (size_t)n, ".%09lu",
                      (unsigned long)frac);
        for (k = n - 1; num[k] == '0'; k--)
            num[k] = '\0';
    }
    out_puts(o, num);
    out_byte(o, 's');
}

void out_duration(out *o, uint64_t ns)
{
    const uint64_t ms = UINT64_C(1000000), s = UINT64_C(1000000000);
    const uint64_t min = 60 * s, h = 60 * min;

    if (ns < s) {
        uint64_t v = ns / ms;

        out_ulong(o, v == 0 && ns > 0 ? 1 : v);
        out_puts(o, "ms");
    } else if (ns < min) {
        out_ulong(o, ns / s);
        out_puts(o, "s ");
        out_ulong(o, ns % s / ms);
        out_puts(o, "ms");
    } else if (ns < h) {
        out_ulong(o, ns / min);
        out_puts(o, "m ");
        out_ulong(o, ns % min / s);
        out_byte(o, 's');
    } else {
        out_ulong(o, ns / h);
        out_puts(o, "h ");
        out_ulong(o, ns % h / min);
        out_byte(o, 'm');
    }
}

void say(const char *fmt, ...)
{
    va_list ap;
    out e;
    const char *p;

    out_init(&e, 2);
    out_puts(&e, "hazrun: ");
    va_start(ap, fmt);
    for (p = fmt; *p; p++) {
        if (p[0] == '%' && p[1] == 's') {
            const char *arg = va_arg(ap, const char *);

            out_text(&e, arg ? arg : "(null)");
            p++;
        } else {
            out_byte(&e, *p);
        }
    }
    va_end(ap);
    out_byte(&e, '\n');
    out_flush(&e);
}

int usage_error(const char *fmt, const char *arg)
{
    out e;

    say(fmt, arg);
    out_init(&e, 2);
    out_puts(&e, usage_line);
    out_flush(&e);
    return EXIT_BADINPUT;
}

const char *signal_known(int signo)
{
    static const struct {
        int signo;
        const char *name;
    } names[] = {
        {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"},
        {SIGILL, "SIGILL"},   {SIGABRT, "SIGABRT"}, {SIGFPE, "SIGFPE"},
        {SIGKILL, "SIGKILL"}, {SIGSEGV, "SIGSEGV"}, {SIGPIPE, "SIGPIPE"},
        {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"}, {SIGUSR1, "SIGUSR1"},
        {SIGUSR2, "SIGUSR2"}, {SIGBUS, "SIGBUS"},
#ifdef SIGTRAP
        {SIGTRAP, "SIGTRAP"},
#endif
#ifdef SIGSYS
        {SIGSYS, "SIGSYS"},
#endif
#ifdef SIGXCPU
        {SIGXCPU, "SIGXCPU"},
#endif
#ifdef SIGXFSZ
        {SIGXFSZ, "SIGXFSZ"},
#endif
    };
    size_t i;

    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].signo == signo)
            return names[i].name;
    return NULL;
}

const char *signal_name(int signo, char *buf)
{
    const char *name = signal_known(signo);

    if (name != NULL)
        return name;
    (void)snprintf(buf, 24, "signal %d", signo);
    return buf;
}

void out_signal(out *o, int signo)
{
    const char *name = signal_known(signo);

    out_puts(o, "signal ");
    out_ulong(o, signo > 0 ? (unsigned long long)signo : 0);
    if (name != NULL) {
        out_puts(o, " (");
        out_puts(o, name);
        out_byte(o, ')');
    }
}
