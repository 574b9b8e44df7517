/*
 * tests/t_probe.c: the probe helper of reliability-tests.md, the child that
 * the spawner tests run.  It needs nothing but libc and reads no /proc, so
 * it works on BSD and macOS too.
 *
 * The arguments are a little program, run left to right:
 *
 *   echo TEXT       write TEXT and a newline to stdout
 *   err TEXT        the same on stderr
 *   fds             "fds: 0 1 2\n": every open descriptor (fcntl F_GETFD)
 *   sigstate        "blocked: S S ...\n" and "nondefault: S S ...\n"
 *                   (signals blocked, signals not at SIG_DFL; "-" if none)
 *   ids             "pid=P pgid=G sid=S\n"
 *   cwd             "cwd=DIR\n"
 *   env             every environment entry, one per line, in order
 *   stdin           "stdin: eof\n", "stdin: N bytes\n" or "stdin: error E\n"
 *   bytes N WHERE   N bytes of pattern() to out, err, or both (interleaved
 *                   in 4096-byte pieces, each stream getting all N bytes)
 *   binary          every byte value, NUL runs and invalid UTF-8 on
 *                   stdout, then the same on stderr
 *   pidfile PATH    write "PID\n" to PATH (through a rename: atomic)
 *   fifo PATH       open PATH for reading and read it to EOF (blocks until
 *                   the test opens and closes the writing end)
 *   ignore SIG      set SIG to SIG_IGN; default SIG: to SIG_DFL
 *   trap SIG        catch SIG (blocked until waitsig, so none is missed)
 *   waitsig         wait for a trapped signal, then "got SIG\n"
 *   sleep MS        sleep
 *   closeout        close stdout and stderr
 *   fork ... --     fork: the child runs the words up to "--" and exits 0;
 *                   the parent goes on after "--"
 *   reap            wait for the last forked child: "child exit N\n" or
 *                   "child signal N\n"
 *   setsid          leave the process group and session
 *   block           wait for ever (signals aside)
 *   kill SIG        send SIG to itself
 *   log PATH WORD ID  append "WORD NS ID\n" to PATH in one O_APPEND write
 *                   (NS: CLOCK_MONOTONIC in nanoseconds), the interval
 *                   log of R5: "log L start 7 sleep 2 log L end 7"
 *   nonblock FD     set O_NONBLOCK on descriptor FD (R7)
 *   drain SIZE MS   copy stdin to stdout until end of file, reading at most
 *                   SIZE bytes at a time and sleeping MS between reads: a
 *                   slow reader (R7)
 *   exec PROG ...   replace the probe with PROG and the words after it
 *   exit N          exit with N
 *
 * Signals are numbers.  The end of the words is exit 0.  A bad word, or a
 * failed call, is reported on stderr with exit status 99.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(NSIG)
#define PROBE_NSIG NSIG
#elif defined(_NSIG)
#define PROBE_NSIG _NSIG
#else
#define PROBE_NSIG 65
#endif

extern char **environ;

/* In a sanitizer build the runtime would install its own SIGSEGV, SIGBUS
 * and SIGFPE handlers before main, and sigstate would report those instead
 * of what the probe inherited.  These hooks (read by the runtimes only when
 * they are linked in; visible despite -fvisibility=hidden so that a shared
 * runtime finds them) keep them off. */
#if defined(__GNUC__)
#define PROBE_HOOK __attribute__((visibility("default")))
#else
#define PROBE_HOOK
#endif
PROBE_HOOK const char *__asan_default_options(void);
PROBE_HOOK const char *__ubsan_default_options(void);

const char *__asan_default_options(void)
{
    return "handle_segv=0:handle_sigbus=0:handle_sigfpe=0:"
           "handle_sigill=0:handle_abort=0:detect_leaks=0";
}

const char *__ubsan_default_options(void)
{
    return "handle_segv=0:handle_sigbus=0:handle_sigfpe=0:"
           "handle_sigill=0:handle_abort=0";
}

static volatile sig_atomic_t got_signal;
static sigset_t trapped;
static pid_t last_child = -1;

static void die(const char *what, const char *arg)
{
    char msg[512];
    int e = errno;

    snprintf(msg, sizeof msg, "t_probe: %s%s%s: %s\n", what,
             arg ? " " : "", arg ? arg : "", e ? strerror(e) : "bad usage");
    (void)!write(2, msg, strlen(msg));
    _exit(99);
}

static void put(int fd, const void *data, size_t n)
{
    const char *p = data;

    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            _exit(98);
        p += w;
        n -= (size_t)w;
    }
}

static void puts_fd(int fd, const char *s)
{
    put(fd, s, strlen(s));
}

static long number(const char *s)
{
    char *end;
    long v;

    errno = 0;
    if (s == NULL)
        die("missing number", NULL);
    v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno != 0)
        die("not a number:", s);
    return v;
}

/* The byte at offset k of a `bytes` stream (the tests compute the same). */
static unsigned char pattern(unsigned long k)
{
    return (unsigned char)((k * 131u + (k >> 8) + (k >> 16)) & 0xffu);
}

static void list_fds(void)
{
    long max = sysconf(_SC_OPEN_MAX), fd;
    char word[32];

    if (max < 0 || max > 65536)
        max = 65536;
    puts_fd(1, "fds:");
    for (fd = 0; fd < max; fd++) {
        if (fcntl((int)fd, F_GETFD) == -1)
            continue;
        snprintf(word, sizeof word, " %ld", fd);
        puts_fd(1, word);
    }
    puts_fd(1, "\n");
}

static void sig_state(void)
{
    sigset_t mask;
    struct sigaction sa;
    char word[32];
    int sig, any = 0;

    if (sigprocmask(SIG_BLOCK, NULL, &mask) != 0)
        die("sigprocmask", NULL);
    puts_fd(1, "blocked:");
    for (sig = 1; sig < PROBE_NSIG; sig++) {
        if (sigismember(&mask, sig) == 1) {
            snprintf(word, sizeof word, " %d", sig);
            puts_fd(1, word);
            any = 1;
        }
    }
    puts_fd(1, any ? "\nnondefault:" : " -\nnondefault:");
    any = 0;
    for (sig = 1; sig < PROBE_NSIG; sig++) {
        if (sigaction(sig, NULL, &sa) != 0)
            continue;           /* a number the system reserves */
        if (sa.sa_handler != SIG_DFL) {
            snprintf(word, sizeof word, " %d", sig);
            puts_fd(1, word);
            any = 1;
        }
    }
    puts_fd(1, any ? "\n" : " -\n");
}

static void read_stdin(void)
{
    char buf[4096], line[64];
    long total = 0;
    ssize_t r;

    for (;;) {
        r = read(0, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        total += (long)r;
    }
    if (r < 0)
        snprintf(line, sizeof line, "stdin: error %d\n", errno);
    else if (total == 0)
        snprintf(line, sizeof line, "stdin: eof\n");
    else
        snprintf(line, sizeof line, "stdin: %ld bytes\n", total);
    puts_fd(1, line);
}

static void bytes(long n, const char *where)
{
    unsigned char chunk[4096];
    unsigned long off = 0;
    int out = strcmp(where, "out") == 0 || strcmp(where, "both") == 0;
    int err = strcmp(where, "err") == 0 || strcmp(where, "both") == 0;

    if (!out && !err)
        die("bytes: not out, err or both:", where);
    while (off < (unsigned long)n) {
        size_t len = sizeof chunk, i;

        if (len > (unsigned long)n - off)
            len = (size_t)((unsigned long)n - off);
        for (i = 0; i < len; i++)
            chunk[i] = pattern(off + i);
        if (out)
            put(1, chunk, len);
        if (err)
            put(2, chunk, len);
        off += len;
    }
}

static void binary(int fd)
{
    static const unsigned char odd[] = {
        0, 0, 0, 0, '\n', 0xff, 0xc0, 0xaf, 0xed, 0xa0, 0x80, '\r',
        0x1b, '[', '3', '1', 'm', 0xe2, 0x82
    };
    unsigned char all[256];
    int i;

    for (i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    put(fd, all, sizeof all);
    put(fd, odd, sizeof odd);
}

static void pidfile(const char *path)
{
    char tmp[4096], line[32];
    int fd;

    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        die("open", tmp);
    snprintf(line, sizeof line, "%ld\n", (long)getpid());
    put(fd, line, strlen(line));
    if (close(fd) != 0 || rename(tmp, path) != 0)
        die("rename", path);
}

static void read_fifo(const char *path)
{
    char buf[256];
    ssize_t r;
    int fd;

    do
        fd = open(path, O_RDONLY);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        die("open", path);
    do
        r = read(fd, buf, sizeof buf);
    while (r > 0 || (r < 0 && errno == EINTR));
    close(fd);
}

static void on_signal(int sig)
{
    got_signal = sig;
}

static void set_disposition(int sig, void (*handler)(int))
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0)
        die("sigaction", NULL);
}

static void trap(int sig)
{
    sigset_t one;

    sigemptyset(&one);
    sigaddset(&one, sig);
    sigaddset(&trapped, sig);
    if (sigprocmask(SIG_BLOCK, &one, NULL) != 0)
        die("sigprocmask", NULL);
    set_disposition(sig, on_signal);
}

static void wait_signal(void)
{
    sigset_t mask;
    char line[32];
    int sig;

    if (sigprocmask(SIG_BLOCK, NULL, &mask) != 0)
        die("sigprocmask", NULL);
    for (sig = 1; sig < PROBE_NSIG; sig++)
        if (sigismember(&trapped, sig) == 1)
            sigdelset(&mask, sig);
    while (got_signal == 0)
        sigsuspend(&mask);
    snprintf(line, sizeof line, "got %d\n", (int)got_signal);
    got_signal = 0;
    puts_fd(1, line);
}

static void reap(void)
{
    char line[64];
    int st;

    while (waitpid(last_child, &st, 0) < 0)
        if (errno != EINTR)
            die("waitpid", NULL);
    if (WIFSIGNALED(st))
        snprintf(line, sizeof line, "child signal %d\n", WTERMSIG(st));
    else
        snprintf(line, sizeof line, "child exit %d\n", WEXITSTATUS(st));
    puts_fd(1, line);
}

/* The index of the "--" that ends the fork body starting at i. */
/* One interval-log record (R5): a single write() on an O_APPEND
 * descriptor, so records of concurrent tasks never mix. */
static void log_line(const char *path, const char *word, const char *id)
{
    char rec[512];
    struct timespec ts;
    int fd, n;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        die("clock_gettime", NULL);
    n = snprintf(rec, sizeof rec, "%s %lld %s\n", word,
                 (long long)ts.tv_sec * 1000000000LL + (long long)ts.tv_nsec,
                 id);
    if (n <= 0 || (size_t)n >= sizeof rec)
        die("log: record too long", NULL);
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd < 0)
        die("open", path);
    if (write(fd, rec, (size_t)n) != n)
        die("write", path);
    (void)close(fd);
}

/* A slow reader (R7): stdin to stdout, `size` bytes at most per read,
 * `ms` milliseconds between reads. */
static void drain(long size, long ms)
{
    char buf[65536];
    struct timespec ts;
    ssize_t r;

    if (size < 1 || size > (long)sizeof buf)
        die("drain: bad size", NULL);
    for (;;) {
        r = read(0, buf, (size_t)size);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            die("read", NULL);
        if (r == 0)
            return;
        put(1, buf, (size_t)r);
        ts.tv_sec = ms / 1000;
        ts.tv_nsec = (ms % 1000) * 1000000L;
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
}

static int fork_end(int argc, char **argv, int i)
{
    for (; i < argc; i++)
        if (strcmp(argv[i], "--") == 0)
            return i;
    errno = 0;
    die("fork without --", NULL);
    return argc;
}

int main(int argc, char **argv)
{
    int i, end = argc;
    char line[4200];

    sigemptyset(&trapped);
    for (i = 1; i < end; i++) {
        const char *w = argv[i], *a = i + 1 < end ? argv[i + 1] : NULL;

        errno = 0;
        if (strcmp(w, "echo") == 0 || strcmp(w, "err") == 0) {
            if (a == NULL)
                die("missing text for", w);
            snprintf(line, sizeof line, "%s\n", a);
            puts_fd(w[0] == 'e' && w[1] == 'c' ? 1 : 2, line);
            i++;
        } else if (strcmp(w, "fds") == 0) {
            list_fds();
        } else if (strcmp(w, "sigstate") == 0) {
            sig_state();
        } else if (strcmp(w, "ids") == 0) {
            snprintf(line, sizeof line, "pid=%ld pgid=%ld sid=%ld\n",
                     (long)getpid(), (long)getpgrp(), (long)getsid(0));
            puts_fd(1, line);
        } else if (strcmp(w, "cwd") == 0) {
            char dir[4096];

            if (getcwd(dir, sizeof dir) == NULL)
                die("getcwd", NULL);
            snprintf(line, sizeof line, "cwd=%s\n", dir);
            puts_fd(1, line);
        } else if (strcmp(w, "env") == 0) {
            char **e;

            for (e = environ; *e != NULL; e++) {
                puts_fd(1, *e);
                puts_fd(1, "\n");
            }
        } else if (strcmp(w, "stdin") == 0) {
            read_stdin();
        } else if (strcmp(w, "bytes") == 0) {
            long n = number(a);

            if (i + 2 >= end)
                die("bytes: missing stream", NULL);
            bytes(n, argv[i + 2]);
            i += 2;
        } else if (strcmp(w, "binary") == 0) {
            binary(1);
            binary(2);
        } else if (strcmp(w, "pidfile") == 0 || strcmp(w, "fifo") == 0) {
            if (a == NULL)
                die("missing path for", w);
            if (w[0] == 'p')
                pidfile(a);
            else
                read_fifo(a);
            i++;
        } else if (strcmp(w, "ignore") == 0) {
            set_disposition((int)number(a), SIG_IGN);
            i++;
        } else if (strcmp(w, "default") == 0) {
            set_disposition((int)number(a), SIG_DFL);
            i++;
        } else if (strcmp(w, "trap") == 0) {
            trap((int)number(a));
            i++;
        } else if (strcmp(w, "waitsig") == 0) {
            wait_signal();
        } else if (strcmp(w, "sleep") == 0) {
            long ms = number(a);
            struct timespec ts;

            ts.tv_sec = ms / 1000;
            ts.tv_nsec = (ms % 1000) * 1000000L;
            while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
                ;
            i++;
        } else if (strcmp(w, "closeout") == 0) {
            close(1);
            close(2);
        } else if (strcmp(w, "fork") == 0) {
            int stop = fork_end(end, argv, i + 1);
            pid_t p = fork();

            if (p < 0)
                die("fork", NULL);
            if (p == 0) {
                end = stop;         /* run the body, then exit 0 */
            } else {
                last_child = p;
                i = stop;
            }
        } else if (strcmp(w, "reap") == 0) {
            reap();
        } else if (strcmp(w, "setsid") == 0) {
            if (setsid() < 0)
                die("setsid", NULL);
        } else if (strcmp(w, "block") == 0) {
            for (;;)
                pause();
        } else if (strcmp(w, "kill") == 0) {
            if (kill(getpid(), (int)number(a)) != 0)
                die("kill", NULL);
            i++;
        } else if (strcmp(w, "log") == 0) {
            if (i + 3 >= end)
                die("log: missing arguments", NULL);
            log_line(a, argv[i + 2], argv[i + 3]);
            i += 3;
        } else if (strcmp(w, "nonblock") == 0) {
            int fd = (int)number(a), fl = fcntl(fd, F_GETFL);

            if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
                die("fcntl", a);
            i++;
        } else if (strcmp(w, "drain") == 0) {
            if (i + 2 >= end)
                die("drain: missing arguments", NULL);
            drain(number(a), number(argv[i + 2]));
            i += 2;
        } else if (strcmp(w, "exec") == 0) {
            if (a == NULL)
                die("exec: missing program", NULL);
            argv[end] = NULL;
            execv(a, argv + i + 1);
            die("exec", a);
        } else if (strcmp(w, "exit") == 0) {
            _exit((int)number(a));
        } else {
            die("unknown word", w);
        }
    }
    _exit(0);
}
