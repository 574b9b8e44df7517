/*
 * hazexec/spawner.h: the spawner backend interface, through which the
 * scheduler starts child processes, signals them and waits for what they
 * do; plus the built-in backends (posix, mock).
 *
 * The scheduler blocks only in wait(): it returns a batch of events (output
 * bytes, a child's exit), or returns early when the deadline passes or the
 * cancel token fires.  A child's EXIT event comes after every byte of its
 * output has been delivered; after it, the child id is retired.
 *
 * What a child gets (design 2.14): the argv or `/bin/sh -c SCRIPT`; the
 * plan's working directory; exactly the plan's environment; stdin from
 * /dev/null; stdout and stderr to pipes; its own process group; an empty
 * signal mask and default dispositions; no descriptor other than 0, 1, 2.
 *
 * Subclassing as in clock.h: the core allocates methods->state_size bytes
 * starting with a struct haz_spawner and calls open.
 */
#ifndef HAZEXEC_SPAWNER_H
#define HAZEXEC_SPAWNER_H

#include "common.h"
#include "clock.h"
#include "graph.h"
#include "observer.h"
#include "outcome.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HAZ_SPAWNER_METHODS_VERSION 1

typedef struct haz_spawner haz_spawner;
typedef struct haz_spawner_methods haz_spawner_methods;
typedef struct haz_cancel haz_cancel;   /* see run.h */

/* A child, as named by the spawner: never 0, never reused within one
 * spawner's lifetime. */
typedef uint64_t haz_child;

/* What to start.  The plan and every string it points to are valid only
 * during the spawn call: a backend copies what it keeps. */
typedef struct haz_spawn_plan {
    size_t task_index;          /* the task's canonical index */
    const char *task_id;        /* "project:task", for messages and matching */
    haz_action_kind action;     /* SHELL or ARGV */
    const char *script;         /* SHELL: run as /bin/sh -c script */
    const char *const *argv;    /* ARGV: argc words + NULL */
    size_t argc;
    const char *cwd;            /* absolute working directory */
    const char *const *envp;    /* the whole environment, "NAME=VALUE",
                                   NULL-terminated, sorted by name */
    const char *path;           /* the PATH value of envp, or NULL: where an
                                   argv[0] without '/' is searched */
} haz_spawn_plan;

typedef enum haz_spawn_event_type {
    HAZ_EV_OUTPUT = 1,   /* `len` bytes of `stream` at `data` */
    HAZ_EV_EXIT = 2,     /* the child ended with `status`; the id retires */
    HAZ_EV_STREAM_ERROR = 3  /* reading `stream` failed with `os_errno`:
                                the spawner stopped reading it, so what the
                                child writes there from now on is lost; the
                                child is not signalled, its EXIT follows
                                (at most one per stream) */
} haz_spawn_event_type;

typedef struct haz_spawn_event {
    haz_spawn_event_type type;
    haz_child child;
    haz_stream stream;          /* OUTPUT, STREAM_ERROR */
    const void *data;           /* OUTPUT: valid until the next wait() */
    size_t len;
    haz_exit_status status;     /* EXIT */
    int os_errno;               /* EXIT: non-zero when the status could not
                                   be collected (then status.kind is NONE);
                                   STREAM_ERROR: why the read failed */
} haz_spawn_event;

/* wait() result flags. */
#define HAZ_WAIT_DEADLINE  0x1u   /* the deadline passed */
#define HAZ_WAIT_CANCEL    0x2u   /* the cancel token has fired */

/* Capability bits. */
#define HAZ_SPAWNER_REAL_PROCESSES 0x1u  /* children are OS processes */

/* Generic configuration passed to open. */
typedef struct haz_spawner_config {
    int version;                /* 1 */
    haz_clock *clock;           /* deadlines are in this clock's time */
    const void *backend;        /* backend-specific, may be NULL */
} haz_spawner_config;

/* The base object. */
struct haz_spawner {
    const haz_spawner_methods *methods;  /* NULL until open succeeds */
    haz_ctx *ctx;                        /* set by haz_spawner_open */
};

struct haz_spawner_methods {
    int version;          /* HAZ_SPAWNER_METHODS_VERSION */
    const char *name;     /* "posix", "mock", ... */
    unsigned caps;        /* HAZ_SPAWNER_* bits */
    size_t state_size;    /* >= sizeof(haz_spawner) */
    /* open: initialise the zeroed state.  Returns 0 or a HAZ_E* code. */
    int (*open)(haz_spawner *sp, const haz_spawner_config *cfg);
    /* close: SIGKILL every child still running, reap it, release all. */
    void (*close)(haz_spawner *sp);
    /* spawn: start a child; on success *child receives its id.  Returns 0
     * or HAZ_ESPAWN (the context's message names the program and the task,
     * haz_ctx_errno the cause), HAZ_ELIMIT (max_children reached),
     * HAZ_EINVAL, HAZ_ENOMEM. */
    int (*spawn)(haz_spawner *sp, const haz_spawn_plan *plan,
                 haz_child *child);
    /* signal: send signo to the child's process group.  A child that has
     * already exited but not yet been reported is not an error.  Returns 0
     * or HAZ_ENOENT (unknown id), HAZ_EIO. */
    int (*signal)(haz_spawner *sp, haz_child child, int signo);
    /* wait: block until at least one event, the deadline (clock time in ns;
     * UINT64_MAX for none) or the cancel token (may be NULL).  Stores up to
     * `cap` events in ev, their count in *n, and flags in *flags.  Returns 0
     * or HAZ_EIO / HAZ_EINTERNAL (fatal for the run). */
    int (*wait)(haz_spawner *sp, uint64_t deadline_ns,
                const haz_cancel *cancel, haz_spawn_event *ev, size_t cap,
                size_t *n, unsigned *flags);
    /* max_children: how many children it can watch at once (0: no limit). */
    size_t (*max_children)(haz_spawner *sp);
};

/*
 * haz_spawner_open: allocate and open a spawner (see clock.h for the
 * pattern).  Returns 0 or one of: HAZ_EINVAL, HAZ_ENOMEM, or what open
 * returned.
 */
HAZ_API int haz_spawner_open(haz_ctx *ctx, const haz_spawner_methods *methods,
                             const haz_spawner_config *cfg,
                             haz_spawner **out);

/* haz_spawner_close: close and free.  NULL is ignored. */
HAZ_API void haz_spawner_close(haz_spawner *sp);

/* ------------------------------------------------------------------------
 * Built-in backends.
 * ---------------------------------------------------------------------- */

/* posix_spawn (or fork + exec when built --without-posix-spawn) + select. */
HAZ_API extern const haz_spawner_methods haz_spawner_posix;

/* The scriptable mock (design section 4); its config is a
 * haz_mock_config.  It needs a mock clock. */
HAZ_API extern const haz_spawner_methods haz_spawner_mock;

/* ------------------------------------------------------------------------
 * Mock scripts.  A script says, per process, what the fake child does.
 * Times are virtual nanoseconds after the spawn.
 * ---------------------------------------------------------------------- */
typedef struct haz_mock_script haz_mock_script;
typedef struct haz_mock_proc haz_mock_proc;

typedef enum haz_mock_term {
    HAZ_MOCK_TERM_EXIT = 0,    /* SIGTERM: exit at once with `code`
                                  (default: die by SIGTERM) */
    HAZ_MOCK_TERM_DELAY = 1,   /* exit with `code` `delay_ns` later */
    HAZ_MOCK_TERM_IGNORE = 2   /* ignore; only SIGKILL ends it */
} haz_mock_term;

/* The mock's configuration.  A mock spawner records a trace from open on
 * (haz_mock_spawner_trace); haz_mock_spawner_set_trace(sp, 0) right after
 * open runs it without one, for benchmarks and long stress runs where
 * formatting the trace would cost more than the run itself.  Matching a
 * spawn to its script entry takes constant time, whatever the size of the
 * script. */
typedef struct haz_mock_config {
    const haz_mock_script *script;  /* must outlive the spawner */
    const char *workspace_root;     /* where scripted files are created */
    size_t max_children;            /* what max_children() reports; 0: no
                                       limit */
} haz_mock_config;

/* haz_mock_script_new / free.  Returns 0 or HAZ_EINVAL, HAZ_ENOMEM. */
HAZ_API int haz_mock_script_new(haz_ctx *ctx, haz_mock_script **out);
HAZ_API void haz_mock_script_free(haz_mock_script *s);

/*
 * haz_mock_script_add: add a process description.  `match` selects which
 * spawn it serves: "project:task" (by task id), "argv:WORDS" (by argv joined
 * with single spaces), "sh:SCRIPT" (by shell text), or NULL (the next spawn
 * that no other entry matches, first in, first out).  An entry serves one
 * spawn; add it again for more.  *out receives the entry to describe.
 * Returns 0 or HAZ_EINVAL, HAZ_ENOMEM.
 */
HAZ_API int haz_mock_script_add(haz_mock_script *s, const char *match,
                                haz_mock_proc **out);

/* Describe the entry.  Each returns 0 or HAZ_EINVAL, HAZ_ENOMEM.  An
 * exit or death at UINT64_MAX never happens: the child hangs until a
 * signal ends it. */
HAZ_API int haz_mock_proc_output(haz_mock_proc *p, uint64_t at_ns,
                                 haz_stream stream, const void *data,
                                 size_t len);
HAZ_API int haz_mock_proc_exit(haz_mock_proc *p, uint64_t at_ns, int code);
HAZ_API int haz_mock_proc_die(haz_mock_proc *p, uint64_t at_ns, int signo);
HAZ_API int haz_mock_proc_spawn_error(haz_mock_proc *p, int os_errno);
/* Reading `stream` fails at at_ns with os_errno (> 0): the spawner reports
 * HAZ_EV_STREAM_ERROR then, and the entry's later output on that stream is
 * lost (never delivered). */
HAZ_API int haz_mock_proc_read_error(haz_mock_proc *p, uint64_t at_ns,
                                     haz_stream stream, int os_errno);
HAZ_API int haz_mock_proc_on_sigterm(haz_mock_proc *p, haz_mock_term how,
                                     uint64_t delay_ns, int code);
HAZ_API int haz_mock_proc_create_file(haz_mock_proc *p, const char *path,
                                      const void *data, size_t len);

/*
 * haz_mock_script_parse: add the entries described by a script text (the
 * format is in docs/mock-script.md); errors are reported as "NAME:LINE:
 * message" in diags.  Returns 0 or HAZ_EPARSE, HAZ_EINVAL, HAZ_ENOMEM.
 */
HAZ_API int haz_mock_script_parse(haz_mock_script *s, const char *name,
                                  const char *text, size_t len,
                                  haz_diags *diags);

/*
 * haz_mock_spawner_trace: everything the mock saw and did, one event per
 * line with its virtual time: spawn plans (argv, cwd, env), signals sent,
 * events delivered.  The same script always yields the same trace.
 * NUL-terminated; *len (if not NULL) receives the length; valid until the
 * next call on the spawner.  NULL for a spawner that is not the mock, once
 * recording ran out of memory (the spawner itself keeps working), or while
 * recording is switched off (haz_mock_spawner_set_trace).
 */
HAZ_API const char *haz_mock_spawner_trace(const haz_spawner *sp,
                                           size_t *len);

/*
 * haz_mock_spawner_set_trace: switch the trace recording off (on = 0) or
 * on again.  Off, what was recorded is dropped, nothing is recorded and
 * haz_mock_spawner_trace returns NULL; the spawner behaves exactly the
 * same.  On, recording starts again from an empty trace if it was off
 * (or had run out of memory); a trace being recorded is kept.
 * Returns 0 or HAZ_EINVAL (sp is NULL or not the mock).
 */
HAZ_API int haz_mock_spawner_set_trace(haz_spawner *sp, int on);

#ifdef __cplusplus
}
#endif
#endif /* HAZEXEC_SPAWNER_H */
