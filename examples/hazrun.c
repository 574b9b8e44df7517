/*
 * examples/hazrun.c: `hazrun`, the command-line front end of hazexec.
 *
 *     hazrun [OPTIONS] [TARGET...]
 *
 * It reads a `hazfile` (docs/hazfile.md), selects the TARGETs and their
 * dependency closure (every task when none is named) and runs them with
 * the posix spawner, or with -n prints them in canonical order.  SIGINT and
 * SIGTERM cancel the run gracefully (SIGTERM to every task's process group,
 * SIGKILL after the grace period); a second signal kills at once.  Exit
 * codes follow design 2.11: 0 success, 1 a task failed or errored (or an
 * internal failure such as running out of memory), 2 invalid input or
 * usage (nothing ran), 128+N cancelled by signal N.
 *
 * It uses only the public API, as any embedder would.  The file is divided
 * into: output (a small buffered writer over write(2) with display
 * quoting), the -n listing, option parsing, running, and main.
 */
/* POSIX.1-2008 with the XSI option, for realpath(). */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hazexec.h"

#define EXIT_OK 0
#define EXIT_INTERNAL 1
#define EXIT_BADINPUT 2

static const char usage_line[] =
    "usage: hazrun [-C DIR] [-f FILE] [-j N] [-n] [--output=live|buffered]\n"
    "              [--grace SECONDS] [--timeout SECONDS] [--no-cache]\n"
    "              [-h] [--version] [TARGET...]\n"
    "       hazrun [-C DIR] [-f FILE] cache info|verify|clear\n"
    "       hazrun [-C DIR] [-f FILE] cache clean [--dry-run] [--broken]\n"
    "              [--max-age SECONDS] [--max-size BYTES[K|M|G]]\n";

static const char help_text[] =
    "\n"
    "Run the tasks of a hazfile workspace: the TARGETs and the tasks they\n"
    "depend on, or every task when no TARGET is given.  A TARGET is\n"
    "PROJECT:TASK, or a task name meaning that task in every project.\n"
    "\n"
    "  -C DIR             change to directory DIR first\n"
    "  -f FILE            read FILE instead of ./hazfile\n"
    "  -j N               run at most N tasks at once (default: the\n"
    "                     workspace's concurrency, else one per CPU)\n"
    "  -n                 print the tasks that would run; run nothing\n"
    "  --output=MODE      live (lines prefixed with [project:task]) or\n"
    "                     buffered (each task's output in one block)\n"
    "  --grace SECONDS    time between SIGTERM and SIGKILL on cancellation\n"
    "  --timeout SECONDS  stop any task running longer (default: none)\n"
    "  --no-cache         neither use nor fill the cache\n"
    "  -h, --help         print this help and exit\n"
    "  --version          print the version and exit\n"
    "\n"
    "The cache lives in .haz/cache beside the hazfile.  `hazrun cache`\n"
    "reports on it (info), re-hashes every entry (verify; exit 1 when one is\n"
    "broken), removes it (clear), or removes broken entries and leftovers\n"
    "(clean, the default), entries older than --max-age, or the oldest\n"
    "entries until it fits --max-size; --dry-run only counts.  Name a task\n"
    "called cache as PROJECT:cache or after --.\n"
    "\n"
    "Exit status: 0 success, 1 a task failed or an internal error,\n"
    "2 invalid input or usage (nothing ran), 128+N cancelled by signal N\n"
    "(130 for SIGINT).  A second SIGINT kills every task at once.\n";

/* ------------------------------------------------------------------------
 * Output: a buffered writer over a file descriptor.  A write error is
 * remembered and reported once, at the end.
 * ---------------------------------------------------------------------- */

typedef struct out {
    int fd;
    int err;            /* errno of the first failed write, 0 if none */
    size_t len;
    char buf[8192];
} out;

static void out_flush(out *o)
{
    const char *p = o->buf;
    size_t n = o->len;

    while (n > 0 && o->err == 0) {
        ssize_t w = write(o->fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            o->err = w < 0 ? errno : EIO;
            break;
        }
        p += w;
        n -= (size_t)w;
    }
    o->len = 0;
}

static void out_write(out *o, const char *s, size_t n)
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

static void out_puts(out *o, const char *s)
{
    out_write(o, s, strlen(s));
}

static void out_byte(out *o, char c)
{
    out_write(o, &c, 1);
}

static void out_hex(out *o, unsigned char c)
{
    static const char hex[] = "0123456789abcdef";
    char e[4];

    e[0] = '\\';
    e[1] = 'x';
    e[2] = hex[c >> 4];
    e[3] = hex[c & 15];
    out_write(o, e, 4);
}

static int is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/* Text for display: control bytes other than tab become \xNN. */
static void out_text(out *o, const char *s)
{
    for (; *s; s++) {
        if (is_control((unsigned char)*s) && *s != '\t')
            out_hex(o, (unsigned char)*s);
        else
            out_byte(o, *s);
    }
}

/*
 * A word quoted for a POSIX shell: bare when made only of characters no
 * shell treats specially; else in single quotes; and when it holds control
 * bytes, in $'...' with \xNN escapes so that the listing stays one line.
 */
static void out_shell_word(out *o, const char *s)
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
            out_hex(o, (unsigned char)*c);
        else if (*c == '\'' || *c == '\\') {
            out_byte(o, '\\');
            out_byte(o, *c);
        } else
            out_byte(o, *c);
    }
    out_byte(o, '\'');
}

/* Nanoseconds as decimal seconds, without trailing zeros: "2.5s". */
static void out_seconds(out *o, uint64_t ns)
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

/*
 * A message to stderr, "hazrun: " + fmt + "\n", where each %s in fmt takes
 * the next string argument (escaped for display).  Only %s is known.
 */
static void say(const char *fmt, ...)
{
    va_list ap;
    out e;
    const char *p;

    e.fd = 2;
    e.err = 0;
    e.len = 0;
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

/* ------------------------------------------------------------------------
 * The -n listing.
 * ---------------------------------------------------------------------- */

/* A list line "  KEY: a b c" of task ids given by index; none: no line. */
static void out_task_list(out *o, const haz_graph *g, const char *key,
                          const size_t *idx, size_t n)
{
    size_t i;

    if (n == 0)
        return;
    out_puts(o, "  ");
    out_puts(o, key);
    out_byte(o, ':');
    for (i = 0; i < n; i++) {
        haz_task_info dep;

        out_byte(o, ' ');
        if (haz_graph_task_info(g, idx[i], &dep) == 0)
            out_text(o, dep.id);
    }
    out_byte(o, '\n');
}

static void out_string_list(out *o, const char *key,
                            const char *const *v, size_t n)
{
    size_t i;

    if (n == 0)
        return;
    out_puts(o, "  ");
    out_puts(o, key);
    out_byte(o, ':');
    for (i = 0; i < n; i++) {
        out_byte(o, ' ');
        out_text(o, v[i]);
    }
    out_byte(o, '\n');
}

static void out_task(out *o, const haz_graph *g, const haz_task_info *t,
                     haz_probe probe)
{
    size_t i;

    out_text(o, t->id);
    out_byte(o, '\n');
    switch (probe) {
    case HAZ_PROBE_HIT:
        out_puts(o, "  cache: hit (would be restored)\n");
        break;
    case HAZ_PROBE_MISS:
        out_puts(o, "  cache: miss (would run)\n");
        break;
    case HAZ_PROBE_UNKNOWN:
        out_puts(o, "  cache: unknown (a dependency would run first)\n");
        break;
    case HAZ_PROBE_ERROR:
        out_puts(o, "  cache: error (its key cannot be derived)\n");
        break;
    default:
        out_puts(o, "  cache: off\n");
        break;
    }
    if (t->project_root && strcmp(t->project_root, ".") != 0) {
        out_puts(o, "  root: ");
        out_text(o, t->project_root);
        out_byte(o, '\n');
    }
    if (t->action == HAZ_ACTION_SHELL && t->script) {
        out_puts(o, "  run: ");
        out_text(o, t->script);
        out_byte(o, '\n');
    } else if (t->action == HAZ_ACTION_ARGV) {
        out_puts(o, "  argv:");
        for (i = 0; i < t->argc; i++) {
            out_byte(o, ' ');
            out_shell_word(o, t->argv[i]);
        }
        out_byte(o, '\n');
    }
    out_task_list(o, g, "deps", t->deps, t->n_deps);
    out_task_list(o, g, "weak_deps", t->weak_deps, t->n_weak_deps);
    out_string_list(o, "tags", t->tags, t->n_tags);
    if (t->n_mutexes > 0) {
        out_puts(o, "  mutex:");
        for (i = 0; i < t->n_mutexes; i++) {
            out_byte(o, ' ');
            if (t->mutexes[i].mode == HAZ_MUTEX_SHARED)
                out_puts(o, "shared:");
            if (t->mutexes[i].scope == HAZ_MUTEX_PROJECT)
                out_puts(o, "~:");
            out_text(o, t->mutexes[i].name);
        }
        out_byte(o, '\n');
    }
    out_string_list(o, "inputs", t->inputs, t->n_inputs);
    out_string_list(o, "outputs", t->outputs, t->n_outputs);
    out_string_list(o, "env_from_host", t->env_from_host,
                    t->n_env_from_host);
    if (t->n_env > 0) {
        out_puts(o, "  env:");
        for (i = 0; i < t->n_env; i++) {
            out_byte(o, ' ');
            out_text(o, t->env[i].name);
            out_byte(o, '=');
            out_shell_word(o, t->env[i].value);
        }
        out_byte(o, '\n');
    }
    if (t->timeout_ns > 0) {
        out_puts(o, "  timeout: ");
        out_seconds(o, t->timeout_ns);
        out_byte(o, '\n');
    }
}

/* Print the workspace settings, then every selected task.  Returns an exit
 * status. */
static int list_tasks(const haz_hazfile *hf, const unsigned char *selected,
                      const haz_probe *probe)
{
    const haz_tag_cap *caps;
    size_t i, n_caps = 0, n = haz_graph_task_count(hf->graph);
    char num[32];
    out o;

    o.fd = 1;
    o.err = 0;
    o.len = 0;
    out_puts(&o, "workspace: concurrency=");
    if (hf->concurrency == 0) {
        out_puts(&o, "auto");
    } else {
        snprintf(num, sizeof num, "%u", hf->concurrency);
        out_puts(&o, num);
    }
    out_puts(&o, " cancel_grace=");
    out_seconds(&o, hf->cancel_grace_ns);
    out_puts(&o, hf->output == HAZ_OUTPUT_BUFFERED ? " output=buffered\n" :
             " output=live\n");
    caps = haz_graph_tag_caps(hf->graph, &n_caps);
    for (i = 0; caps && i < n_caps; i++) {
        out_puts(&o, "tag ");
        out_text(&o, caps[i].tag);
        snprintf(num, sizeof num, ": cap=%u\n", caps[i].cap);
        out_puts(&o, num);
    }
    for (i = 0; i < n; i++) {
        haz_task_info t;

        if (!selected[i] || haz_graph_task_info(hf->graph, i, &t) != 0)
            continue;
        out_task(&o, hf->graph, &t, probe[i]);
    }
    out_flush(&o);
    if (o.err != 0) {
        say("cannot write the listing: %s", strerror(o.err));
        return EXIT_INTERNAL;
    }
    return EXIT_OK;
}

/* ------------------------------------------------------------------------
 * Options and main.
 * ---------------------------------------------------------------------- */

typedef struct options {
    const char *dir;        /* -C */
    const char *file;       /* -f */
    int dry_run;            /* -n */
    unsigned jobs;          /* -j; 0: the workspace's setting */
    int output;             /* --output; -1: the workspace's setting */
    int has_grace;          /* --grace given */
    uint64_t grace_ns;
    uint64_t timeout_ns;    /* --timeout; 0: none */
    int no_cache;           /* --no-cache */
    const char **targets;
    size_t n_targets;
    int cache_cmd;          /* `hazrun cache ...`: the words follow */
    char **cache_args;
    int n_cache_args;
} options;

/* Parse a count >= 1 for -j.  Returns 0 or -1. */
static int parse_count(const char *s, unsigned *out)
{
    unsigned long v = 0;

    if (*s == '\0')
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (unsigned long)(*s - '0');
        if (v > 65535)
            return -1;
    }
    if (v == 0)
        return -1;
    *out = (unsigned)v;
    return 0;
}

/* Parse decimal seconds ("5", "0.25", at most 9 decimals and 1e6 s) into
 * nanoseconds without floating point.  Returns 0 or -1. */
static int parse_seconds(const char *s, uint64_t *out)
{
    uint64_t whole = 0, frac = 0, scale = UINT64_C(1000000000);
    int digits = 0, decimals = 0;

    for (; *s >= '0' && *s <= '9'; s++, digits++) {
        whole = whole * 10 + (uint64_t)(*s - '0');
        if (whole > 1000000)
            return -1;
    }
    if (digits == 0)
        return -1;
    if (*s == '.') {
        for (s++; *s >= '0' && *s <= '9'; s++) {
            if (++decimals > 9)
                return -1;
            scale /= 10;
            frac += (uint64_t)(*s - '0') * scale;
        }
        if (decimals == 0)
            return -1;
    }
    if (*s != '\0')
        return -1;
    *out = whole * UINT64_C(1000000000) + frac;
    return 0;
}

static void print_stdout(const char *s1, const char *s2)
{
    out o;

    o.fd = 1;
    o.err = 0;
    o.len = 0;
    out_puts(&o, s1);
    out_puts(&o, s2);
    out_flush(&o);
}

static int usage_error(const char *fmt, const char *arg)
{
    out e;

    say(fmt, arg);
    e.fd = 2;
    e.err = 0;
    e.len = 0;
    out_puts(&e, usage_line);
    out_flush(&e);
    return EXIT_BADINPUT;
}

/*
 * Parse argv by hand (no getopt_long): short options may be grouped (-nC
 * DIR) and take their argument attached or as the next word; options and
 * targets may be mixed; "--" ends the options.  Returns -1 to go on, or an
 * exit status (help, version, usage error).
 */
static int parse_options(int argc, char **argv, options *opt)
{
    int i, only_targets = 0;

    opt->targets = malloc(((size_t)argc + 1) * sizeof *opt->targets);
    if (!opt->targets) {
        say("out of memory");
        return EXIT_INTERNAL;
    }
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        size_t j;

        if (!only_targets && opt->n_targets == 0 && strcmp(a, "cache") == 0) {
            /* `hazrun [-C DIR] [-f FILE] cache SUBCOMMAND [OPTIONS]` */
            opt->cache_cmd = 1;
            opt->cache_args = argv + i + 1;
            opt->n_cache_args = argc - i - 1;
            break;
        }
        if (only_targets || a[0] != '-' || a[1] == '\0') {
            opt->targets[opt->n_targets++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_targets = 1;
            continue;
        }
        if (a[1] == '-') {
            if (strcmp(a, "--help") == 0) {
                print_stdout(usage_line, help_text);
                return EXIT_OK;
            }
            if (strcmp(a, "--version") == 0) {
                print_stdout("hazrun (hazexec) " HAZEXEC_VERSION, "\n");
                return EXIT_OK;
            }
            if (strcmp(a, "--no-cache") == 0) {
                opt->no_cache = 1;
                continue;
            }
            if (strncmp(a, "--output=", 9) == 0) {
                if (strcmp(a + 9, "live") == 0)
                    opt->output = HAZ_OUTPUT_LIVE;
                else if (strcmp(a + 9, "buffered") == 0)
                    opt->output = HAZ_OUTPUT_BUFFERED;
                else
                    return usage_error("--output must be live or buffered, "
                                       "got '%s'", a + 9);
                continue;
            }
            if (strncmp(a, "--grace", 7) == 0 ||
                strncmp(a, "--timeout", 9) == 0) {
                int grace = a[2] == 'g';
                size_t len = grace ? 7 : 9;
                const char *arg;
                uint64_t ns;

                if (a[len] == '=')
                    arg = a + len + 1;
                else if (a[len] == '\0' && i + 1 < argc)
                    arg = argv[++i];
                else if (a[len] == '\0')
                    return usage_error("option '%s' needs an argument", a);
                else
                    return usage_error("unknown option '%s'", a);
                if (parse_seconds(arg, &ns) != 0 || (!grace && ns == 0))
                    return usage_error(grace ? "--grace needs seconds >= 0, "
                                               "got '%s'"
                                             : "--timeout needs seconds > 0, "
                                               "got '%s'", arg);
                if (grace) {
                    opt->has_grace = 1;
                    opt->grace_ns = ns;
                } else {
                    opt->timeout_ns = ns;
                }
                continue;
            }
            return usage_error("unknown option '%s'", a);
        }
        for (j = 1; a[j]; j++) {
            char flag[3];
            const char *arg;

            flag[0] = '-';
            flag[1] = a[j];
            flag[2] = '\0';
            switch (a[j]) {
            case 'n':
                opt->dry_run = 1;
                continue;
            case 'h':
                print_stdout(usage_line, help_text);
                return EXIT_OK;
            case 'C':
            case 'f':
            case 'j':
                if (a[j + 1])
                    arg = a + j + 1;
                else if (i + 1 < argc)
                    arg = argv[++i];
                else
                    return usage_error("option '%s' needs an argument",
                                       flag);
                if (*arg == '\0')
                    return usage_error("option '%s' needs a non-empty "
                                       "argument", flag);
                if (a[j] == 'C')
                    opt->dir = arg;
                else if (a[j] == 'f')
                    opt->file = arg;
                else if (parse_count(arg, &opt->jobs) != 0)
                    return usage_error("-j needs a number of jobs >= 1, "
                                       "got '%s'", arg);
                break;
            default:
                return usage_error("unknown option '%s'", flag);
            }
            break;  /* -C and -f took the rest of the word */
        }
    }
    return -1;
}

/* 1 when `target` names at least one task. */
static int target_known(const haz_graph *g, const char *target)
{
    size_t i, n = haz_graph_task_count(g), idx;

    if (strchr(target, ':'))
        return haz_graph_find_task(g, target, NULL, &idx) == 0;
    for (i = 0; i < n; i++) {
        haz_task_info t;

        if (haz_graph_task_info(g, i, &t) == 0 &&
            strcmp(t.name, target) == 0)
            return 1;
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * Running.
 * ---------------------------------------------------------------------- */

extern char **environ;

/* The token the signal handlers cancel; set only while a run is going. */
static haz_cancel *volatile g_cancel;

static void on_signal(int signo)
{
    haz_cancel *c = g_cancel;

    if (c != NULL)
        haz_cancel_request(c, signo);
}

static const int run_signals[] = {SIGINT, SIGTERM, SIGHUP};

/* Install (or, with `restore`, put back) the cancelling handlers. */
static void handle_signals(struct sigaction *saved, int restore)
{
    size_t k;

    for (k = 0; k < sizeof run_signals / sizeof run_signals[0]; k++) {
        if (restore) {
            (void)sigaction(run_signals[k], &saved[k], NULL);
        } else {
            struct sigaction sa;

            memset(&sa, 0, sizeof sa);
            sa.sa_handler = on_signal;
            sigfillset(&sa.sa_mask);
            (void)sigaction(run_signals[k], &sa, &saved[k]);
        }
    }
}

/* The absolute directory holding `file` (resolved from the current one).
 * Returns a malloc'ed string or NULL with errno set. */
static char *workspace_root(const char *file)
{
    const char *slash = strrchr(file, '/');
    char *dir, *abs;

    if (slash == NULL)
        return realpath(".", NULL);
    if (slash == file)
        return realpath("/", NULL);
    dir = malloc((size_t)(slash - file) + 1);
    if (dir == NULL)
        return NULL;
    memcpy(dir, file, (size_t)(slash - file));
    dir[slash - file] = '\0';
    abs = realpath(dir, NULL);
    free(dir);
    return abs;
}

/* One line per task that did not succeed, then the counts. */
static void summarise(const haz_run_result *res)
{
    size_t i, n = haz_run_result_count(res), nv;
    unsigned long ok = 0, hit = 0, failed = 0, skipped = 0, cancelled = 0;
    const haz_violation *v = haz_run_result_violations(res, &nv);
    char num[256];
    out e;

    e.fd = 2;
    e.err = 0;
    e.len = 0;
    for (i = 0; i < n; i++) {
        const haz_task_outcome *o = haz_run_result_get(res, i);

        switch (o->kind) {
        case HAZ_OUTCOME_COMPLETED:
            if (o->state == HAZ_STATE_SUCCEEDED) {
                ok++;
                hit += o->source == HAZ_SOURCE_CACHE_HIT;
                continue;
            }
            failed++;
            out_puts(&e, "hazrun: FAILED ");
            out_text(&e, o->task.id);
            if (o->timed_out)
                out_puts(&e, " (timed out)");
            else if (o->status.kind == HAZ_EXIT_SIGNAL)
                (void)snprintf(num, sizeof num, " (signal %d)",
                               o->status.signo);
            else
                (void)snprintf(num, sizeof num, " (exit %d)", o->status.code);
            if (!o->timed_out)
                out_puts(&e, num);
            out_byte(&e, '\n');
            break;
        case HAZ_OUTCOME_ERRORED:
            failed++;
            out_puts(&e, "hazrun: ERROR ");
            out_text(&e, o->message != NULL ? o->message : o->task.id);
            out_byte(&e, '\n');
            break;
        case HAZ_OUTCOME_SKIPPED:
            skipped++;
            break;
        case HAZ_OUTCOME_CANCELLED:
            cancelled++;
            break;
        default:
            break;
        }
    }
    for (i = 0; i < nv; i++) {
        out_puts(&e, "hazrun: ");
        out_puts(&e, v[i].kind == HAZ_VIOLATION_OUTPUT_OVERLAP
                         ? "output overlap: "
                         : "runtime cycle: ");
        out_text(&e, v[i].first->id);
        out_puts(&e, v[i].kind == HAZ_VIOLATION_OUTPUT_OVERLAP ? " and "
                                                               : " -> ");
        out_text(&e, v[i].second->id);
        if (v[i].path != NULL) {
            out_puts(&e, " both produce ");
            out_text(&e, v[i].path);
        }
        out_byte(&e, '\n');
    }
    (void)snprintf(num, sizeof num,
                   "hazrun: %lu succeeded (%lu from cache), %lu failed, "
                   "%lu skipped, %lu cancelled\n",
                   ok, hit, failed, skipped, cancelled);
    out_puts(&e, num);
    out_flush(&e);
}

/* Run the selected tasks.  Returns the exit status of design 2.11. */
static int run_tasks(haz_ctx *ctx, const haz_hazfile *hf,
                     const unsigned char *selected, const options *opt,
                     const char *file)
{
    haz_clock *clock = NULL;
    haz_spawner *sp = NULL;
    haz_cancel *cancel = NULL;
    haz_observer_obj *obj = NULL;
    haz_cache_store *store = NULL;
    haz_observer obs;
    haz_run_options ro;
    haz_run_config cfg;
    haz_spawner_config sc;
    haz_run_result *res = NULL;
    struct sigaction saved[sizeof run_signals / sizeof run_signals[0]];
    char *root = workspace_root(file);
    int rc, status = EXIT_INTERNAL;
    int mode = opt->output >= 0 ? opt->output : (int)hf->output;

    if (root == NULL) {
        say("cannot resolve the directory of '%s': %s", file,
            strerror(errno));
        return EXIT_BADINPUT;
    }
    memset(&sc, 0, sizeof sc);
    sc.version = 1;
    if ((rc = haz_clock_open(ctx, &haz_clock_posix, NULL, &clock)) != 0 ||
        (sc.clock = clock,
         (rc = haz_spawner_open(ctx, &haz_spawner_posix, &sc, &sp)) != 0) ||
        (rc = haz_cancel_new(ctx, &cancel)) != 0 ||
        (rc = mode == HAZ_OUTPUT_BUFFERED
                  ? haz_observer_buffered_new(ctx, 1, 2, &obj, &obs)
                  : haz_observer_live_new(ctx, 1, 2, &obj, &obs)) != 0) {
        say("cannot set up the run: %s", rc == HAZ_ENOMEM
                                             ? "out of memory"
                                             : haz_ctx_errmsg(ctx));
        goto done;
    }
    if (!opt->no_cache) {
        haz_cache_store_config cc;

        memset(&cc, 0, sizeof cc);
        cc.version = 1;
        cc.workspace_root = root;
        cc.hash = &haz_hash_sha256;
        cc.clock = clock;
        if (haz_cache_store_open(ctx, &haz_cache_store_fs, &cc, &store) != 0)
            say("running without the cache: %s", haz_ctx_errmsg(ctx));
    }
    haz_run_options_init(&ro);
    ro.concurrency = opt->jobs != 0 ? opt->jobs : hf->concurrency;
    ro.cancel_grace_ns = opt->has_grace ? opt->grace_ns : hf->cancel_grace_ns;
    ro.default_timeout_ns = opt->timeout_ns;
    ro.workspace_root = root;
    ro.host_env = (const char *const *)environ;
    ro.no_cache = opt->no_cache;
    memset(&cfg, 0, sizeof cfg);
    cfg.graph = hf->graph;
    cfg.selected = selected;
    cfg.spawner = sp;
    cfg.clock = clock;
    cfg.hash = &haz_hash_sha256;
    cfg.cache = store;
    cfg.observer = &obs;
    cfg.cancel = cancel;
    cfg.options = &ro;

    /* Children get default dispositions from the spawner; hazrun itself
     * must survive a closed output pipe to report what happened. */
    (void)signal(SIGPIPE, SIG_IGN);
    g_cancel = cancel;
    handle_signals(saved, 0);
    rc = haz_run(ctx, &cfg, &res);
    handle_signals(saved, 1);
    g_cancel = NULL;
    haz_observer_free(obj);     /* flushes what is pending */
    obj = NULL;
    if (rc != 0) {
        say("the run failed: %s", haz_ctx_errmsg(ctx));
        goto done;
    }
    summarise(res);
    status = haz_exit_code(res, haz_run_result_cancel_signal(res));

done:
    haz_run_result_free(res);
    haz_observer_free(obj);
    haz_cancel_free(cancel);
    haz_cache_store_close(store);
    haz_spawner_close(sp);
    haz_clock_close(clock);
    free(root);
    return status;
}

/* -n: the listing, with what the cache would do for each task. */
static int dry_run(haz_ctx *ctx, const haz_hazfile *hf,
                   const unsigned char *selected, const options *opt,
                   const char *file)
{
    size_t n = haz_graph_task_count(hf->graph);
    haz_probe *probe = calloc(n ? n : 1, sizeof *probe);
    haz_cache_store *store = NULL;
    haz_clock *clock = NULL;
    haz_run_options ro;
    haz_run_config cfg;
    char *root = workspace_root(file);
    int status = EXIT_INTERNAL;

    if (probe == NULL || root == NULL) {
        say("cannot prepare the listing: %s", strerror(errno));
        goto done;
    }
    haz_run_options_init(&ro);
    ro.workspace_root = root;
    ro.host_env = (const char *const *)environ;
    ro.no_cache = opt->no_cache;
    memset(&cfg, 0, sizeof cfg);
    cfg.graph = hf->graph;
    cfg.selected = selected;
    cfg.hash = &haz_hash_sha256;
    cfg.options = &ro;
    if (!opt->no_cache && haz_clock_open(ctx, &haz_clock_posix, NULL,
                                         &clock) == 0) {
        haz_cache_store_config cc;

        memset(&cc, 0, sizeof cc);
        cc.version = 1;
        cc.workspace_root = root;
        cc.hash = &haz_hash_sha256;
        cc.clock = clock;
        if (haz_cache_store_open(ctx, &haz_cache_store_fs, &cc, &store) == 0)
            cfg.cache = store;
    }
    if (haz_run_probe(ctx, &cfg, probe) != 0) {
        say("cannot look the tasks up in the cache: %s", haz_ctx_errmsg(ctx));
        goto done;
    }
    status = list_tasks(hf, selected, probe);
done:
    haz_cache_store_close(store);
    haz_clock_close(clock);
    free(root);
    free(probe);
    return status;
}

/* Parse a size: digits with an optional K, M or G (powers of 1024). */
static int parse_size(const char *s, uint64_t *out)
{
    uint64_t v = 0, mul = 1;

    if (*s < '0' || *s > '9')
        return -1;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (UINT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (*s == 'K' || *s == 'k')
        mul = UINT64_C(1) << 10;
    else if (*s == 'M' || *s == 'm')
        mul = UINT64_C(1) << 20;
    else if (*s == 'G' || *s == 'g')
        mul = UINT64_C(1) << 30;
    if (mul != 1)
        s++;
    if (*s != '\0' || v > UINT64_MAX / mul)
        return -1;
    *out = v * mul;
    return 0;
}

static void print_stats(const char *dir, const haz_cache_stats *st)
{
    char line[256];
    out o;

    o.fd = 1;
    o.err = 0;
    o.len = 0;
    out_puts(&o, "cache: ");
    out_text(&o, dir);
    (void)snprintf(line, sizeof line,
                   "\nentries: %llu\nbytes: %llu\nbroken: %llu\n"
                   "temporaries: %llu\n",
                   (unsigned long long)st->entries,
                   (unsigned long long)st->bytes,
                   (unsigned long long)st->broken,
                   (unsigned long long)st->temporaries);
    out_puts(&o, line);
    out_flush(&o);
}

/* `hazrun cache info|verify|clear|clean ...`. */
static int cache_command(const options *opt, const char *file)
{
    haz_ctx *ctx = NULL;
    haz_clock *clock = NULL;
    haz_cache_stats st;
    haz_cache_clean_options co;
    char *root = workspace_root(file), *dir = NULL, line[256];
    const char *sub = opt->n_cache_args > 0 ? opt->cache_args[0] : NULL;
    int i, rc = 0, status = EXIT_INTERNAL, mode_given = 0;

    memset(&st, 0, sizeof st);
    memset(&co, 0, sizeof co);
    if (sub == NULL) {
        status = usage_error("%s", "cache needs a subcommand: info, verify, "
                                   "clean or clear");
        goto done;
    }
    if (strcmp(sub, "info") != 0 && strcmp(sub, "verify") != 0 &&
        strcmp(sub, "clear") != 0 && strcmp(sub, "clean") != 0) {
        status = usage_error("unknown cache subcommand '%s'", sub);
        goto done;
    }
    for (i = 1; i < opt->n_cache_args; i++) {
        const char *a = opt->cache_args[i];
        const char *v = i + 1 < opt->n_cache_args ? opt->cache_args[i + 1]
                                                  : NULL;
        uint64_t x;

        if (strcmp(sub, "clean") != 0) {
            status = usage_error("unexpected argument '%s'", a);
            goto done;
        }
        if (strcmp(a, "--dry-run") == 0) {
            co.dry_run = 1;
        } else if (strcmp(a, "--broken") == 0) {
            co.broken = 1;
            mode_given = 1;
        } else if (strcmp(a, "--max-age") == 0 && v != NULL) {
            if (parse_seconds(v, &x) != 0 || x < UINT64_C(1000000000)) {
                status = usage_error("--max-age needs whole seconds >= 1, "
                                     "got '%s'", v);
                goto done;
            }
            co.max_age_s = (int64_t)(x / UINT64_C(1000000000));
            mode_given = 1;
            i++;
        } else if (strcmp(a, "--max-size") == 0 && v != NULL) {
            if (parse_size(v, &co.max_bytes) != 0 || co.max_bytes == 0) {
                status = usage_error("--max-size needs a size such as 500M, "
                                     "got '%s'", v);
                goto done;
            }
            mode_given = 1;
            i++;
        } else {
            status = usage_error("unknown cache clean option '%s'", a);
            goto done;
        }
    }
    if (!mode_given)
        co.broken = 1;
    if (root == NULL) {
        say("cannot resolve the directory of '%s': %s", file,
            strerror(errno));
        status = EXIT_BADINPUT;
        goto done;
    }
    dir = malloc(strlen(root) + sizeof "/.haz/cache");
    if (dir == NULL || haz_ctx_new(&ctx, NULL) != 0 ||
        haz_clock_open(ctx, &haz_clock_posix, NULL, &clock) != 0) {
        say("out of memory");
        goto done;
    }
    strcpy(dir, strcmp(root, "/") == 0 ? "" : root);
    strcat(dir, "/.haz/cache");
    if (strcmp(sub, "info") == 0) {
        rc = haz_cache_fs_info(ctx, dir, &st);
        if (rc == 0)
            print_stats(dir, &st);
    } else if (strcmp(sub, "verify") == 0) {
        rc = haz_cache_fs_verify(ctx, dir, &haz_hash_sha256, &st);
        if (rc == 0 || rc == HAZ_ECORRUPT) {
            print_stats(dir, &st);
            (void)snprintf(line, sizeof line, "verify: %llu entries ok, "
                           "%llu broken\n", (unsigned long long)st.entries,
                           (unsigned long long)st.broken);
            print_stdout(line, "");
            status = rc == 0 ? EXIT_OK : 1;
            goto done;
        }
    } else if (strcmp(sub, "clear") == 0) {
        rc = haz_cache_fs_clear(ctx, dir, &st);
        if (rc == 0) {
            (void)snprintf(line, sizeof line, "cleared: %llu entries, "
                           "%llu bytes\n", (unsigned long long)st.removed,
                           (unsigned long long)st.removed_bytes);
            print_stdout(line, "");
        }
    } else {
        rc = haz_cache_fs_clean(ctx, dir, &co, clock, &st);
        if (rc == 0) {
            (void)snprintf(line, sizeof line, "%s: %llu entries or "
                           "temporaries, %llu bytes\n",
                           co.dry_run ? "would remove" : "removed",
                           (unsigned long long)st.removed,
                           (unsigned long long)st.removed_bytes);
            print_stdout(line, "");
        }
    }
    if (rc != 0) {
        say("cache %s: %s", sub, haz_ctx_errmsg(ctx));
        goto done;
    }
    status = EXIT_OK;
done:
    haz_clock_close(clock);
    haz_ctx_free(ctx);
    free(dir);
    free(root);
    return status;
}

static int run(options *opt)
{
    haz_ctx *ctx = NULL;
    haz_diags *diags = NULL;
    haz_hazfile *hf = NULL;
    unsigned char *selected = NULL;
    const char *file = opt->file ? opt->file : "hazfile";
    size_t i, n;
    int rc, status = EXIT_INTERNAL, unknown = 0;

    if (opt->dir && chdir(opt->dir) != 0) {
        int e = errno;

        say("cannot change to directory '%s': %s", opt->dir, strerror(e));
        return EXIT_BADINPUT;
    }
    if (opt->cache_cmd)
        return cache_command(opt, file);
    if (haz_ctx_new(&ctx, NULL) != 0 || haz_diags_new(ctx, &diags) != 0) {
        say("out of memory");
        goto done;
    }
    rc = haz_hazfile_load(ctx, file, &hf, diags);
    if (rc == HAZ_EPARSE || rc == HAZ_EGRAPH) {
        haz_diags_write(diags, 2);
        status = EXIT_BADINPUT;
        goto done;
    }
    if (rc != 0) {
        say("%s", haz_ctx_errmsg(ctx));
        status = rc == HAZ_EIO || rc == HAZ_ERANGE ? EXIT_BADINPUT :
                 EXIT_INTERNAL;
        goto done;
    }

    for (i = 0; i < opt->n_targets; i++) {
        if (!target_known(hf->graph, opt->targets[i])) {
            say("unknown target '%s'", opt->targets[i]);
            unknown = 1;
        }
    }
    if (unknown) {
        status = EXIT_BADINPUT;
        goto done;
    }
    n = haz_graph_task_count(hf->graph);
    selected = malloc(n ? n : 1);
    if (!selected) {
        say("out of memory");
        goto done;
    }
    haz_diags_clear(diags);
    rc = haz_graph_select(hf->graph, opt->targets, opt->n_targets, selected,
                          diags);
    if (rc != 0) {
        if (haz_diags_count(diags) > 0)
            haz_diags_write(diags, 2);
        else
            say("%s", haz_ctx_errmsg(ctx));
        status = rc == HAZ_ENOENT ? EXIT_BADINPUT : EXIT_INTERNAL;
        goto done;
    }
    if (opt->dry_run)
        status = dry_run(ctx, hf, selected, opt, file);
    else
        status = run_tasks(ctx, hf, selected, opt, file);

done:
    free(selected);
    haz_hazfile_free(hf);
    haz_diags_free(diags);
    haz_ctx_free(ctx);
    return status;
}

int main(int argc, char **argv)
{
    options opt;
    int status;

    memset(&opt, 0, sizeof opt);
    opt.output = -1;
    status = parse_options(argc, argv, &opt);
    if (status < 0)
        status = run(&opt);
    free(opt.targets);
    return status;
}
