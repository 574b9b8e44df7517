/*
 * examples/hazrun.h: what the files of the hazrun command share.
 *
 * hazrun is split by concern: hazrun.c (options, loading the hazfile,
 * main), hazrun_out.c (a buffered writer over write(2), display quoting,
 * durations, signal names), hazrun_list.c (the -n listing),
 * hazrun_cache.c (`hazrun cache ...`), hazrun_run.c (running: signals,
 * the run, the reports), hazrun_view.c (the terminal-aware observer, the
 * status line, the final summary), hazrun_tap.c (the spawner and cache
 * store wrappers that time each phase of a task), hazrun_report.c (the
 * JSON summary and the Chrome trace), hazrun_jsonw.c (a JSON writer and
 * atomic file replacement), hazrun_jsonr.c (a strict JSON reader, also
 * used by tests/t_json.c; see hazrun_json.h) and hazrun_why.c
 * (`hazrun why`).  Everything here uses only the public API of hazexec.
 */
#ifndef HAZRUN_H
#define HAZRUN_H

#include <stddef.h>
#include <stdint.h>

#include "hazexec.h"

#define EXIT_OK 0
#define EXIT_INTERNAL 1
#define EXIT_BADINPUT 2

/* ------------------------------------------------------------------------
 * hazrun_out.c: a buffered writer over a file descriptor.  A write error
 * is remembered (the first errno) and the rest is dropped.
 * ---------------------------------------------------------------------- */

typedef struct out {
    int fd;
    int err;            /* errno of the first failed write, 0 if none */
    size_t len;
    char buf[8192];
} out;

void out_init(out *o, int fd);
void out_flush(out *o);
void out_write(out *o, const char *s, size_t n);
void out_puts(out *o, const char *s);
void out_byte(out *o, char c);
void out_ulong(out *o, unsigned long long v);
/* Text for display: control bytes other than tab become \xNN. */
void out_text(out *o, const char *s);
/* A word quoted for a POSIX shell (bare, '...' or $'...'). */
void out_shell_word(out *o, const char *s);
/* Nanoseconds as decimal seconds without trailing zeros: "2.5s". */
void out_seconds(out *o, uint64_t ns);
/* Nanoseconds in the duration grammar of reference-io.md 2.6: "176ms",
 * "7s 856ms", "1m 23s", "1h 23m" (truncated; a non-zero time under a
 * millisecond is "1ms"). */
void out_duration(out *o, uint64_t ns);
/* A digest as lower-case hex. */
void out_hexdigest(out *o, const unsigned char *d, size_t n);
/* A task's command for display: the shell script (display-escaped), or
 * the argv words quoted for a shell. */
void out_command(out *o, haz_action_kind action, const char *script,
                 const char *const *argv, size_t argc);
/* Write a whole buffer to fd, retrying EINTR and short writes.  Returns 0
 * or an errno value. */
int write_all(int fd, const char *p, size_t n);

/*
 * say: a message to stderr, "hazrun: " + fmt + "\n", where each %s in fmt
 * takes the next string argument (escaped for display).  Only %s is known.
 */
void say(const char *fmt, ...);

/* The usage text, and a usage error: say(fmt, arg), the usage, status 2. */
extern const char usage_line[];
int usage_error(const char *fmt, const char *arg);

/* "SIGKILL", or "signal 37" for a number without a known name; `buf`
 * must hold 24 bytes. */
const char *signal_name(int signo, char *buf);

/* The name of signal `signo` ("SIGKILL"), or NULL when it has none known
 * here.  The string is static. */
const char *signal_known(int signo);

/* out_signal: "signal 9 (SIGKILL)", or "signal 37" for a number without a
 * known name (reliability-tests P1: the number and the name). */
void out_signal(out *o, int signo);

/* ------------------------------------------------------------------------
 * Options (hazrun.c).
 * ---------------------------------------------------------------------- */

typedef enum hr_command {
    CMD_RUN = 0,            /* run (or, with -n, list) the targets */
    CMD_CACHE = 1,          /* hazrun cache SUBCOMMAND ... */
    CMD_WHY = 2             /* hazrun why TASK ... */
} hr_command;

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
    int quiet;              /* -q */
    int verbose;            /* -v */
    const char *summary;    /* --summary FILE */
    const char *trace;      /* --trace FILE */
    const char **targets;
    size_t n_targets;
    hr_command command;     /* cache and why: their words follow */
    char **cmd_args;
    int n_cmd_args;
} options;

/* Parse a number of seconds ("5", "0.25") into nanoseconds.  0 or -1. */
int parse_seconds(const char *s, uint64_t *value);

/* The absolute directory holding `file`: a malloc'ed string, or NULL with
 * errno set. */
char *workspace_root(const char *file);

extern char **environ;

/* ------------------------------------------------------------------------
 * The commands.
 * ---------------------------------------------------------------------- */

/* hazrun_list.c: -n, the listing with what the cache would do. */
int dry_run(haz_ctx *ctx, const haz_hazfile *hf,
            const unsigned char *selected, const options *opt,
            const char *file);

/* hazrun_cache.c: `hazrun cache info|verify|clean|clear`. */
int cache_command(const options *opt, const char *file);

/* hazrun_run.c: run the selected tasks; the exit status of design 2.11. */
int run_tasks(haz_ctx *ctx, const haz_hazfile *hf,
              const unsigned char *selected, const options *opt,
              const char *file);

/* hazrun_why.c: `hazrun why TASK [--summary FILE]`. */
int why_command(haz_ctx *ctx, const haz_hazfile *hf, const options *opt,
                const char *file);

/* hazrun.c: 1 when `target` names at least one task. */
int target_known(const haz_graph *g, const char *target);

/* hazrun_run.c: open the filesystem cache store of the workspace, or
 * NULL (a message was printed when `warn` is set). */
haz_cache_store *open_cache_store(haz_ctx *ctx, const char *root,
                                  haz_clock *clock, int warn);

#endif /* HAZRUN_H */
