/*
 * hazexec/run.h: running a graph.
 *
 * haz_run() is one single-threaded event loop (design section 1): it admits
 * ready tasks under the caps (EXEC-004/005) in canonical order, looks each
 * up in the cache before anything else (EXEC-007), takes its mutexes all at
 * once or parks it (MUTEX-001..007), hands processes to the spawner, streams
 * their output to the observer, cascades failures (EXEC-010/011), checks
 * the runtime invariants (EXEC-019/020) and honours cancellation through
 * the caller's token (EXEC-012..015).  It blocks only in the spawner's
 * wait().  It installs no signal handler: the program does, and calls
 * haz_cancel_request() from it.
 */
#ifndef HAZEXEC_RUN_H
#define HAZEXEC_RUN_H

#include "common.h"
#include "cache.h"
#include "clock.h"
#include "graph.h"
#include "hash.h"
#include "observer.h"
#include "outcome.h"
#include "spawner.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * The cancel token: a self-pipe plus a flag.
 * ---------------------------------------------------------------------- */

/*
 * haz_cancel_new: create a token (it opens a close-on-exec, non-blocking
 * pipe).  Returns 0 or one of: HAZ_EINVAL, HAZ_ENOMEM, HAZ_EIO.
 */
HAZ_API int haz_cancel_new(haz_ctx *ctx, haz_cancel **out);

/* haz_cancel_free: close the pipe and free.  NULL is ignored. */
HAZ_API void haz_cancel_free(haz_cancel *c);

/*
 * haz_cancel_request: ask the run to cancel.  `signo` is the signal that
 * caused it (SIGINT, SIGTERM, ...; 0 when not caused by a signal); the first
 * request's signal is kept.  The first request starts the graceful flow
 * (SIGTERM, then SIGKILL after the grace period, EXEC-014); any further
 * request escalates: every running process group is killed at once.
 * Async-signal-safe: it only stores to volatile sig_atomic_t objects and
 * write()s one byte to the pipe, preserving errno.  Safe to call any number
 * of times.
 */
HAZ_API void haz_cancel_request(haz_cancel *c, int signo);

/* haz_cancel_requested: 1 once a request was made, else 0. */
HAZ_API int haz_cancel_requested(const haz_cancel *c);

/* haz_cancel_count: how many requests were made (saturating). */
HAZ_API int haz_cancel_count(const haz_cancel *c);

/* haz_cancel_signal: the signal of the first request, or 0. */
HAZ_API int haz_cancel_signal(const haz_cancel *c);

/*
 * haz_cancel_pending: 1 when a request arrived that the run has not yet
 * acknowledged with haz_cancel_ack(), else 0 (also for NULL).  A spawner's
 * wait() returns early while this is 1.
 */
HAZ_API int haz_cancel_pending(const haz_cancel *c);

/*
 * haz_cancel_ack: acknowledge every request made so far and empty the pipe,
 * so that wait() blocks again until the next request.  Called by the run,
 * not by signal handlers.
 */
HAZ_API void haz_cancel_ack(haz_cancel *c);

/* haz_cancel_fd: the read end of the pipe, readable while a request is
 * pending, for spawners that select() on it.  Never read from it. */
HAZ_API int haz_cancel_fd(const haz_cancel *c);

/* ------------------------------------------------------------------------
 * Run options and the run.
 * ---------------------------------------------------------------------- */
#define HAZ_RUN_OPTIONS_VERSION 1

typedef struct haz_run_options {
    int version;                 /* HAZ_RUN_OPTIONS_VERSION */
    unsigned concurrency;        /* global cap; 0: auto = online CPUs */
    uint64_t cancel_grace_ns;    /* SIGTERM to SIGKILL (EXEC-014) */
    uint64_t default_timeout_ns; /* for tasks without one; 0: none */
    const char *workspace_root;  /* absolute; project roots hang below */
    const char *const *host_env; /* snapshot "NAME=VALUE", NULL-terminated;
                                    NULL: no host variable is set */
    int64_t created_at;          /* cache entry time; 0: clock wall time */
    int no_cache;                /* 1: every lookup misses, nothing stored */
    const char *cache_dir;       /* absolute; where the run keeps its record
                                    of input-file hashes when a cache store
                                    is given; NULL: ROOT/.haz/cache */
} haz_run_options;

/*
 * haz_run_options_init: fill *o with the defaults: version set,
 * concurrency auto, grace 5 s (CFG-031), no default timeout, everything
 * else zero.
 */
HAZ_API void haz_run_options_init(haz_run_options *o);

/* Everything a run uses.  The caller owns all of it; it must outlive the
 * call. */
typedef struct haz_run_config {
    const haz_graph *graph;         /* validated */
    const unsigned char *selected;  /* haz_graph_select() mask; NULL: all */
    haz_spawner *spawner;
    haz_clock *clock;
    const haz_hash_methods *hash;   /* NULL: haz_hash_sha256 */
    haz_cache_store *cache;         /* NULL: no cache (every lookup misses) */
    const haz_observer *observer;   /* NULL: no events */
    haz_cancel *cancel;             /* NULL: never cancelled */
    const haz_run_options *options; /* NULL: defaults */
} haz_run_config;

/*
 * haz_run: run the selected tasks of the graph to completion.  Task
 * failures, executor errors, cancellation and invariant violations are all
 * reported in the result, not as an error (reference-exec.md 3.1).  On
 * success *out receives the result, owned by the caller: every selected
 * task has exactly one outcome.
 * Returns 0 or one of: HAZ_EINVAL (bad config: graph not validated, no
 * spawner or clock, relative workspace root ...), HAZ_ENOMEM, HAZ_EIO or
 * HAZ_EINTERNAL (the spawner failed fatally; every child was killed and
 * reaped before returning).  On error *out is NULL and the context's
 * message says what went wrong.
 */
HAZ_API int haz_run(haz_ctx *ctx, const haz_run_config *cfg,
                    haz_run_result **out);

/* What a run would do with a task's cache entry (haz_run_probe). */
typedef enum haz_probe {
    HAZ_PROBE_NONE = 0,     /* not in the run */
    HAZ_PROBE_HIT = 1,      /* its entry is there: it would be restored */
    HAZ_PROBE_MISS = 2,     /* no entry: it would run */
    HAZ_PROBE_UNKNOWN = 3,  /* its key depends on the output of a hard
                               predecessor that would run */
    HAZ_PROBE_ERROR = 4,    /* its key cannot be derived (a missing input
                               ...): the run would report it errored */
    HAZ_PROBE_NO_CACHE = 5  /* no cache store, or options.no_cache */
} haz_probe;

/*
 * haz_run_probe: tell, for every task of the run described by `cfg`,
 * whether a run would restore it from the cache, without running,
 * restoring or storing anything (hazrun -n).  A task's key takes its hard
 * predecessors' stream hashes (CACHE-007), known here only when those are
 * hits themselves.  `out` must have haz_graph_task_count() entries; tasks
 * outside the selection get HAZ_PROBE_NONE.  The spawner, observer and
 * cancel token of `cfg` are not used (the spawner may be NULL).
 * Returns 0 or one of: HAZ_EINVAL (bad config, as for haz_run),
 * HAZ_ENOMEM.
 */
HAZ_API int haz_run_probe(haz_ctx *ctx, const haz_run_config *cfg,
                          haz_probe *out);

/* haz_probe_name: "hit", "miss", "unknown", "error", "no-cache" or "none". */
HAZ_API const char *haz_probe_name(haz_probe p);

/* ------------------------------------------------------------------------
 * What a task's cache key is made of (design 2.15, docs/cache-key.md), so
 * that a miss can be explained (hazrun why, hazrun --summary).
 * ---------------------------------------------------------------------- */

typedef struct haz_key_env {
    const char *name;
    const char *value;          /* NULL: allow-listed but unset on the host */
} haz_key_env;

typedef struct haz_key_file {
    const char *path;           /* workspace-absolute */
    unsigned char hash[HAZ_HASH_MAX_DIGEST];
} haz_key_file;

typedef struct haz_key_pred {
    const char *id;             /* "project:task" of a hard predecessor */
    unsigned char stdout_hash[HAZ_HASH_MAX_DIGEST];
    unsigned char stderr_hash[HAZ_HASH_MAX_DIGEST];
} haz_key_pred;

typedef struct haz_key_info {
    const char *task;           /* "project:task" */
    size_t hash_len;            /* digest length of every hash here */
    unsigned char key[HAZ_HASH_MAX_DIGEST];
    haz_action_kind action;
    const char *script;         /* HAZ_ACTION_SHELL */
    const char *const *argv;    /* HAZ_ACTION_ARGV */
    size_t argc;
    const haz_key_env *env;     /* sorted by name; overrides applied */
    size_t n_env;
    const haz_key_file *inputs; /* sorted by path */
    size_t n_inputs;
    const haz_key_pred *preds;  /* sorted by id */
    size_t n_preds;
} haz_key_info;

typedef struct haz_key_explain haz_key_explain;

/*
 * haz_run_explain: derive task `index`'s key for the run `cfg` describes
 * and return its components.  The hard predecessors' stream hashes come
 * from `result` when it is not NULL (they must have succeeded there), else
 * from the cache, as haz_run_probe finds them (each must be a hit).  Input
 * files are resolved and hashed now.  On success *out receives an object
 * owned by the caller; haz_key_explain_info gives its view.
 * Returns 0 or one of: HAZ_EINVAL (bad config or index), HAZ_ENOENT (a
 * hard predecessor's stream hashes are not known: the message names it),
 * HAZ_EIO, HAZ_EEXIST (an input cannot be read, or is not a regular file:
 * the message names it), HAZ_ENOMEM.
 */
HAZ_API int haz_run_explain(haz_ctx *ctx, const haz_run_config *cfg,
                            const haz_run_result *result, size_t index,
                            haz_key_explain **out);

/* haz_key_explain_info: the components; valid until the object is freed. */
HAZ_API const haz_key_info *haz_key_explain_info(const haz_key_explain *e);

/* haz_key_explain_free: free the object.  NULL is ignored. */
HAZ_API void haz_key_explain_free(haz_key_explain *e);

/*
 * haz_online_cpus: the number of online CPUs (sysconf), at least 1: what
 * concurrency "auto" resolves to (EXEC-004).
 */
HAZ_API unsigned haz_online_cpus(void);

#ifdef __cplusplus
}
#endif
#endif /* HAZEXEC_RUN_H */
