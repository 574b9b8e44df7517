/*
 * backends/mock.h: private to the mock spawner's files.  The layout of a
 * mock script (what backends/mock_script.c builds and backends/spawn_mock.c
 * reads); the trace (backends/mock_trace.c); and the small text helpers
 * that the script, its parser, the trace and the spawner share
 * (backends/mock_text.c): signal and errno names, C-style escaping and
 * unescaping, decimal seconds.
 */
#ifndef HAZ_MOCK_H
#define HAZ_MOCK_H

#include "internal.h"

/* UINT64_MAX as a time: never (a child that hangs until it is killed). */
#define HAZ_MOCK_NEVER UINT64_MAX

/* How an entry selects the spawn it serves. */
typedef enum mock_match_kind {
    MOCK_MATCH_FIFO = 0,    /* NULL: the oldest unused such entry */
    MOCK_MATCH_TASK = 1,    /* "project:task" */
    MOCK_MATCH_ARGV = 2,    /* "argv:WORDS" */
    MOCK_MATCH_SH = 3       /* "sh:SCRIPT" */
} mock_match_kind;

/* One output chunk; `data` is its own allocation, so it never moves. */
typedef struct mock_chunk {
    uint64_t at_ns;         /* after the spawn */
    haz_stream stream;
    unsigned char *data;    /* NULL for a read error */
    size_t len;             /* > 0, or 0 for a read error */
    int err;                /* > 0: reading `stream` fails with it here
                               (haz_mock_proc_read_error) */
} mock_chunk;

/* One file to create when the child exits with a code. */
typedef struct mock_file {
    char *path;             /* under the workspace root, no leading slash */
    unsigned char *data;    /* NULL when len is 0 */
    size_t len;
} mock_file;

struct haz_mock_proc {
    haz_mock_script *script;
    size_t number;          /* 1-based position in the script */
    mock_match_kind kind;
    char *match;            /* as given, NULL for FIFO */
    const char *key;        /* match text after its prefix */

    mock_chunk *out;        /* sorted by at_ns, stable */
    size_t n_out, cap_out;

    int has_end;            /* exit or die scripted (else exit 0 at 0) */
    uint64_t end_ns;        /* HAZ_MOCK_NEVER: hangs */
    haz_exit_status end;

    int spawn_errno;        /* > 0: spawn() fails with it */

    int has_term;           /* on_sigterm given (else die by SIGTERM) */
    haz_mock_term term;
    uint64_t term_delay_ns;
    int term_code;

    mock_file *files;
    size_t n_files, cap_files;
};

struct haz_mock_script {
    haz_ctx *ctx;
    haz_mock_proc **procs;  /* in the order added */
    size_t n, cap;
};

/* ------------------------------------------------------------------------
 * The trace (mock_trace.c), one function per kind of line.
 * ---------------------------------------------------------------------- */
typedef struct mock_trace {
    haz_buf buf;
    int lost;               /* out of memory once: no trace any more */
} mock_trace;

void haz__mock_trace_init(mock_trace *t, haz_ctx *ctx);
void haz__mock_trace_free(mock_trace *t);
/* The text so far, or NULL once lost. */
const char *haz__mock_trace_text(const mock_trace *t, size_t *len);
/* Recording on (from an empty trace, if it was off or lost) or off (what
 * was recorded is dropped; the text is NULL until it is switched on). */
void haz__mock_trace_set(mock_trace *t, int on);
/* entry: 1-based script position, 0 for unscripted. */
void haz__mock_trace_spawn(mock_trace *t, uint64_t now,
                           const haz_spawn_plan *p, haz_child id,
                           size_t entry);
void haz__mock_trace_spawn_error(mock_trace *t, uint64_t now,
                                 const char *task, int err, size_t entry);
void haz__mock_trace_output(mock_trace *t, uint64_t now, const char *task,
                            haz_stream stream, const void *data, size_t len);
void haz__mock_trace_read_error(mock_trace *t, uint64_t now,
                                const char *task, haz_stream stream, int err);
void haz__mock_trace_signal(mock_trace *t, uint64_t now, const char *task,
                            int signo);
void haz__mock_trace_file(mock_trace *t, uint64_t now, const char *task,
                          const char *path, size_t len);
void haz__mock_trace_exit(mock_trace *t, uint64_t now, const char *task,
                          const haz_exit_status *st);
/* A line without task: "deadline", "cancel". */
void haz__mock_trace_mark(mock_trace *t, uint64_t now, const char *what);

/* ------------------------------------------------------------------------
 * Script helpers (mock_script.c) and text helpers (mock_text.c).
 * ---------------------------------------------------------------------- */

/* haz__mock_script_merge: move every entry of `from` to the end of `to`
 * (same context), leaving `from` empty.  Returns 0 or HAZ_ENOMEM (then
 * nothing moved). */
int haz__mock_script_merge(haz_mock_script *to, haz_mock_script *from);

/* haz__mock_file_write: create or truncate root/f->path (parents made
 * with mode 0755, the file set to 0644) and write its bytes; `path`
 * (size bytes) receives the full path.  Returns 0 or an errno value. */
int haz__mock_file_write(const char *root, const mock_file *f, char *path,
                         size_t size);

/* Signal names ("SIGTERM") and errno names ("ENOENT") known on this
 * platform.  *_name returns NULL for a number without a name; *_number
 * returns 0 for an unknown name (n bytes at s, not NUL-terminated). */
const char *haz__mock_signal_name(int signo);
int haz__mock_signal_number(const char *s, size_t n);
const char *haz__mock_errno_name(int err);
int haz__mock_errno_number(const char *s, size_t n);

/*
 * haz__mock_escape: append n bytes of data to b, C-style: printable ASCII
 * as is except backslash and double quote, which get a backslash; \n, \r
 * and \t; every other byte, and each byte of `extra` (may be NULL), as \xHH
 * with two lower-case hex digits.  Returns 0 or HAZ_ENOMEM.
 */
int haz__mock_escape(haz_buf *b, const void *data, size_t n,
                     const char *extra);

/* haz__mock_quote: the same escaping into out (size >= 16), cut to fit
 * with "..." at the end; for quoting user text in messages. */
void haz__mock_quote(char *out, size_t size, const void *data, size_t n);

/*
 * haz__mock_unquote: decode the double-quoted, C-escaped string that
 * starts at *p (on its opening quote) and ends before `end`, appending the
 * bytes to b and moving *p past the closing quote.  Returns 0, HAZ_ENOMEM,
 * or HAZ_EPARSE with the problem written to msg (size bytes).
 */
int haz__mock_unquote(const char **p, const char *end, haz_buf *b, char *msg,
                      size_t size);

/*
 * haz__mock_seconds: decimal seconds, "S" or "S.F" with 1 to 9 digits of
 * F (n bytes at s, no sign, no exponent), into *ns, which stays below
 * UINT64_MAX.  Returns 0, or HAZ_EPARSE with the problem written to msg.
 */
int haz__mock_seconds(const char *s, size_t n, uint64_t *ns, char *msg,
                      size_t size);

#endif /* HAZ_MOCK_H */
