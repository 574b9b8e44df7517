/*
 * examples/hazrun.c: `hazrun`, the command-line front end of hazexec.
 *
 *     hazrun [OPTIONS] [TARGET...]
 *     hazrun [-C DIR] [-f FILE] why TASK [--summary FILE]
 *     hazrun [-C DIR] [-f FILE] cache SUBCOMMAND [OPTIONS]
 *
 * It reads a `hazfile` (docs/hazfile.md), selects the TARGETs and their
 * dependency closure (every task when none is named) and runs them with
 * the posix spawner and the filesystem cache, or with -n prints them in
 * canonical order.  SIGINT and SIGTERM cancel the run gracefully (SIGTERM
 * to every task's process group, SIGKILL after the grace period); a second
 * signal kills at once.  Exit codes follow design 2.11: 0 success, 1 a
 * task failed or errored (or an internal failure such as running out of
 * memory), 2 invalid input or usage (nothing ran), 128+N cancelled by
 * signal N.
 *
 * Streams: task stdout goes to stdout and task stderr to stderr (prefixed
 * with [project:task] in live mode, a block per task in buffered mode);
 * everything hazrun says itself (the status line, -v command lines, the
 * summary, diagnostics) goes to stderr, so that stdout carries task
 * output only.  Listings and reports asked for (-n, why, cache, --help)
 * go to stdout.
 *
 * This file holds the usage text, option parsing, loading the hazfile and
 * main; hazrun.h lists the other files.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hazrun.h"

const char usage_line[] =
    "usage: hazrun [-C DIR] [-f FILE] [-j N] [-n] [-q | -v]\n"
    "              [--output=live|buffered] [--grace SECONDS]\n"
    "              [--timeout SECONDS] [--no-cache] [--summary FILE]\n"
    "              [--trace FILE] [-h] [--version] [TARGET...]\n"
    "       hazrun [-C DIR] [-f FILE] why TASK [--summary FILE]\n"
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
    "  -q                 quiet: show only the output of tasks that fail,\n"
    "                     and the summary\n"
    "  -v                 print each command as it starts:\n"
    "                     [project:task] $ COMMAND\n"
    "  --output=MODE      live (lines prefixed with [project:task]) or\n"
    "                     buffered (each task's output in one block)\n"
    "  --grace SECONDS    time between SIGTERM and SIGKILL on cancellation\n"
    "  --timeout SECONDS  stop any task running longer (default: none)\n"
    "  --no-cache         neither use nor fill the cache\n"
    "  --summary FILE     write a JSON summary of the run to FILE\n"
    "  --trace FILE       write a Chrome trace of the run to FILE\n"
    "                     (open it in Perfetto or chrome://tracing)\n"
    "  -h, --help         print this help and exit\n"
    "  --version          print the version and exit\n"
    "\n"
    "Task output goes to stdout and stderr; hazrun's own lines (-v, the\n"
    "summary) go to stderr.  On a terminal (stdout and stderr, TERM not\n"
    "dumb, NO_COLOR unset or empty) a status line [done/total] running:\n"
    "... stays below the output and the summary is in colour.\n"
    "\n"
    "`hazrun why TASK` prints what TASK's cache key is made of: its\n"
    "command, environment, input files and the output of the tasks it\n"
    "depends on (those must be in the cache).  With --summary FILE, a\n"
    "summary written by an earlier run, it also says what changed since.\n"
    "\n"
    "The cache lives in .haz/cache beside the hazfile.  `hazrun cache`\n"
    "reports on it (info), re-hashes every entry (verify; exit 1 when one is\n"
    "broken), removes it (clear), or removes broken entries and leftovers\n"
    "(clean, the default), entries older than --max-age, or the oldest\n"
    "entries until it fits --max-size; --dry-run only counts.  Name a task\n"
    "called cache or why as PROJECT:cache or after --.\n"
    "\n"
    "Exit status: 0 success, 1 a task failed or an internal error,\n"
    "2 invalid input or usage (nothing ran), 128+N cancelled by signal N\n"
    "(130 for SIGINT).  A second SIGINT kills every task at once.\n";

/* ------------------------------------------------------------------------
 * Options.
 * ---------------------------------------------------------------------- */

/* Parse a count >= 1 for -j.  Returns 0 or -1. */
static int parse_count(const char *s, unsigned *value)
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
    *value = (unsigned)v;
    return 0;
}

int parse_seconds(const char *s, uint64_t *value)
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
    *value = whole * UINT64_C(1000000000) + frac;
    return 0;
}

static void print_stdout(const char *s1, const char *s2)
{
    out o;

    out_init(&o, 1);
    out_puts(&o, s1);
    out_puts(&o, s2);
    out_flush(&o);
}

/*
 * A long option `name` taking an argument, given as NAME=ARG or NAME ARG.
 * Returns 1 (matched: *arg set, *i advanced past a separate argument),
 * 0 (not this option) or an exit status (a usage error) as 2.
 */
static int long_arg(const char *a, const char *name, int argc, char **argv,
                    int *i, const char **arg)
{
    size_t len = strlen(name);

    if (strncmp(a, name, len) != 0 || (a[len] != '=' && a[len] != '\0'))
        return 0;
    if (a[len] == '=') {
        *arg = a + len + 1;
    } else if (*i + 1 < argc) {
        *arg = argv[++*i];
    } else {
        (void)usage_error("option '%s' needs an argument", a);
        return EXIT_BADINPUT;
    }
    return 1;
}

/* Seconds for --grace (>= 0) or --timeout (> 0). */
static int seconds_option(const char *arg, int grace, options *opt)
{
    uint64_t ns;

    if (parse_seconds(arg, &ns) != 0 || (!grace && ns == 0))
        return usage_error(grace ? "--grace needs seconds >= 0, got '%s'"
                                 : "--timeout needs seconds > 0, got '%s'",
                           arg);
    if (grace) {
        opt->has_grace = 1;
        opt->grace_ns = ns;
    } else {
        opt->timeout_ns = ns;
    }
    return -1;
}

/* A long option.  Returns -1 to go on, or an exit status. */
static int long_option(int argc, char **argv, int *i, options *opt)
{
    const char *a = argv[*i], *arg = NULL;
    int m;

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
        return -1;
    }
    if (strncmp(a, "--output=", 9) == 0) {
        if (strcmp(a + 9, "live") == 0)
            opt->output = HAZ_OUTPUT_LIVE;
        else if (strcmp(a + 9, "buffered") == 0)
            opt->output = HAZ_OUTPUT_BUFFERED;
        else
            return usage_error("--output must be live or buffered, "
                               "got '%s'", a + 9);
        return -1;
    }
    if ((m = long_arg(a, "--grace", argc, argv, i, &arg)) != 0)
        return m == 1 ? seconds_option(arg, 1, opt) : m;
    if ((m = long_arg(a, "--timeout", argc, argv, i, &arg)) != 0)
        return m == 1 ? seconds_option(arg, 0, opt) : m;
    if ((m = long_arg(a, "--summary", argc, argv, i, &arg)) != 0 ||
        (m = long_arg(a, "--trace", argc, argv, i, &arg)) != 0) {
        if (m != 1)
            return m;
        if (*arg == '\0')
            return usage_error("option '%s' needs a file name", a);
        if (a[2] == 's')
            opt->summary = arg;
        else
            opt->trace = arg;
        return -1;
    }
    return usage_error("unknown option '%s'", a);
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

        if (!only_targets && opt->n_targets == 0 &&
            (strcmp(a, "cache") == 0 || strcmp(a, "why") == 0)) {
            /* `hazrun [-C DIR] [-f FILE] cache|why ...` */
            opt->command = a[0] == 'c' ? CMD_CACHE : CMD_WHY;
            opt->cmd_args = argv + i + 1;
            opt->n_cmd_args = argc - i - 1;
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
            int st = long_option(argc, argv, &i, opt);

            if (st >= 0)
                return st;
            continue;
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
            case 'q':
                opt->quiet = 1;
                continue;
            case 'v':
                opt->verbose = 1;
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
            break;  /* -C, -f and -j took the rest of the word */
        }
    }
    if (opt->quiet && opt->verbose)
        return usage_error("%s", "-q and -v cannot be used together");
    if (opt->dry_run && (opt->summary != NULL || opt->trace != NULL))
        return usage_error("%s", "-n runs nothing: --summary and --trace "
                                 "need a run");
    return -1;
}

int target_known(const haz_graph *g, const char *target)
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

char *workspace_root(const char *file)
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

/* ------------------------------------------------------------------------
 * Loading the workspace and dispatching.
 * ---------------------------------------------------------------------- */

/* Select the targets; a status for run(), or -1 to go on. */
static int select_targets(haz_ctx *ctx, haz_hazfile *hf, haz_diags *diags,
                          const options *opt, unsigned char **selected)
{
    size_t i, n;
    int rc, unknown = 0;

    for (i = 0; i < opt->n_targets; i++) {
        if (!target_known(hf->graph, opt->targets[i])) {
            say("unknown target '%s'", opt->targets[i]);
            unknown = 1;
        }
    }
    if (unknown)
        return EXIT_BADINPUT;
    n = haz_graph_task_count(hf->graph);
    *selected = malloc(n ? n : 1);
    if (*selected == NULL) {
        say("out of memory");
        return EXIT_INTERNAL;
    }
    haz_diags_clear(diags);
    rc = haz_graph_select(hf->graph, opt->targets, opt->n_targets,
                          *selected, diags);
    if (rc != 0) {
        if (haz_diags_count(diags) > 0)
            haz_diags_write(diags, 2);
        else
            say("%s", haz_ctx_errmsg(ctx));
        return rc == HAZ_ENOENT ? EXIT_BADINPUT : EXIT_INTERNAL;
    }
    return -1;
}

static int run(options *opt)
{
    haz_ctx *ctx = NULL;
    haz_diags *diags = NULL;
    haz_hazfile *hf = NULL;
    unsigned char *selected = NULL;
    const char *file = opt->file ? opt->file : "hazfile";
    int rc, status = EXIT_INTERNAL;

    if (opt->dir && chdir(opt->dir) != 0) {
        int e = errno;

        say("cannot change to directory '%s': %s", opt->dir, strerror(e));
        return EXIT_BADINPUT;
    }
    if (opt->command == CMD_CACHE)
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
    if (opt->command == CMD_WHY) {
        status = why_command(ctx, hf, opt, file);
        goto done;
    }
    status = select_targets(ctx, hf, diags, opt, &selected);
    if (status >= 0)
        goto done;
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
