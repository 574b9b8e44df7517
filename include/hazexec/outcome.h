/*
 * hazexec/outcome.h: what happened to each task of a run, and to the run.
 *
 * Every task of a run ends with exactly one outcome (reference-exec.md 4.2,
 * design 2.7):
 *   COMPLETED  it reached an EXEC-009 classification through the
 *              lookup-then-spawn pipeline: Succeeded (exit 0 or a cache hit,
 *              CACHE-018) or Failed (non-zero exit, a signal the executor did
 *              not send, or a timeout, design 2.10);
 *   SKIPPED    a cascade removed it before it started (EXEC-010/011), a
 *              runtime cycle stopped it (EXEC-019), or admission closed
 *              after an invariant violation (design 2.8);
 *   CANCELLED  cancellation caught it (EXEC-012..015): signalled in flight,
 *              drained from the ready set, or below a cancelled task;
 *   ERRORED    the executor could not do its job for it (spawn failure,
 *              unreadable input, restore failure, ...; design 2.7).
 *
 * Records are plain structs handed to observers and kept in the run result.
 * Their pointers stay valid as long as the object that handed them out.
 */
#ifndef HAZEXEC_OUTCOME_H
#define HAZEXEC_OUTCOME_H

#include "common.h"
#include "hash.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Names a task in events and records. */
typedef struct haz_task_id {
    size_t index;            /* canonical index in the graph */
    const char *project;
    const char *task;
    const char *id;          /* "project:task" */
} haz_task_id;

typedef enum haz_outcome_kind {
    HAZ_OUTCOME_NONE = 0,    /* not decided (never in a finished run) */
    HAZ_OUTCOME_COMPLETED = 1,
    HAZ_OUTCOME_SKIPPED = 2,
    HAZ_OUTCOME_CANCELLED = 3,
    HAZ_OUTCOME_ERRORED = 4
} haz_outcome_kind;

/* COMPLETED: where the result came from. */
typedef enum haz_run_source {
    HAZ_SOURCE_FRESH = 0,    /* a process ran */
    HAZ_SOURCE_CACHE_HIT = 1 /* restored from the cache */
} haz_run_source;

/* EXEC-009 classification. */
typedef enum haz_run_state {
    HAZ_STATE_SUCCEEDED = 0,
    HAZ_STATE_FAILED = 1,
    HAZ_STATE_CANCELLED = 2
} haz_run_state;

/* How a child ended. */
typedef enum haz_exit_kind {
    HAZ_EXIT_NONE = 0,       /* no process (cache hit, never started) */
    HAZ_EXIT_CODE = 1,       /* exited with `code` */
    HAZ_EXIT_SIGNAL = 2      /* killed by signal `signo` */
} haz_exit_kind;

typedef struct haz_exit_status {
    haz_exit_kind kind;
    int code;                /* HAZ_EXIT_CODE: 0..255 */
    int signo;               /* HAZ_EXIT_SIGNAL: the signal number */
} haz_exit_status;

/* SKIPPED causes. */
typedef enum haz_skip_cause {
    HAZ_SKIP_UPSTREAM_FAILED = 1,  /* a hard ancestor failed (root named) */
    HAZ_SKIP_UPSTREAM_ERRORED = 2, /* a hard ancestor errored (root named) */
    HAZ_SKIP_RUNTIME_CYCLE = 3,    /* member of a runtime cycle (EXEC-019) */
    HAZ_SKIP_ADMISSION_CLOSED = 4  /* never admitted after an invariant
                                      violation closed admission (design 2.8) */
} haz_skip_cause;

/* CANCELLED shapes (reference-exec.md 4.5). */
typedef enum haz_cancel_kind {
    HAZ_CANCEL_SIGNALED_IN_FLIGHT = 1, /* its process was signalled */
    HAZ_CANCEL_RUN_CANCELLED = 2,      /* waiting when the run was cancelled */
    HAZ_CANCEL_UPSTREAM_CANCELLED = 3  /* a hard ancestor was cancelled */
} haz_cancel_kind;

/* ERRORED kinds (reference-exec.md 4.8). */
typedef enum haz_task_error {
    HAZ_TERR_BUILD_KEY = 1,          /* input resolution / hashing failed */
    HAZ_TERR_RESTORE = 2,            /* restoring a cache hit failed */
    HAZ_TERR_SPAWN = 3,              /* the process could not be started */
    HAZ_TERR_WAIT = 4,               /* waiting for the child failed */
    HAZ_TERR_STREAM_READ = 5,        /* reading stdout or stderr failed */
    HAZ_TERR_OUTPUT_RESOLVE = 6,     /* output patterns could not be walked */
    HAZ_TERR_OUTPUT_NOT_REGULAR = 7, /* an output is not a regular file */
    HAZ_TERR_OUTPUT_MISSING = 8,     /* a declared literal output is missing */
    HAZ_TERR_OUTPUT_PATH = 9,        /* an output path is not canonical */
    HAZ_TERR_STORE = 10,             /* writing the cache entry failed */
    HAZ_TERR_INTERNAL = 11           /* a scheduler invariant broke */
} haz_task_error;

/*
 * One task's outcome.  Fields not relevant to `kind` are zero / NULL.
 */
typedef struct haz_task_outcome {
    haz_task_id task;
    haz_outcome_kind kind;

    /* COMPLETED, and CANCELLED with HAZ_CANCEL_SIGNALED_IN_FLIGHT */
    haz_run_source source;
    haz_run_state state;
    int timed_out;                  /* 1 when Failed by its timeout */
    haz_exit_status status;
    size_t hash_len;                /* digest length of the hashes below */
    unsigned char stdout_hash[HAZ_HASH_MAX_DIGEST];
    unsigned char stderr_hash[HAZ_HASH_MAX_DIGEST];
    int has_key;                    /* 1 when a cache key was derived */
    unsigned char key[HAZ_HASH_MAX_DIGEST];
    const char *const *outputs;     /* materialised workspace-absolute paths */
    size_t n_outputs;
    uint64_t start_ns;              /* clock time of admission, 0 if none */
    uint64_t end_ns;                /* clock time of the outcome */

    /* SKIPPED */
    haz_skip_cause skip_cause;
    /* CANCELLED */
    haz_cancel_kind cancel_kind;
    /* SKIPPED (UPSTREAM_*) and CANCELLED (UPSTREAM_CANCELLED): the root */
    const haz_task_id *upstream;

    /* ERRORED */
    haz_task_error error;
    int os_errno;                   /* OS errno behind it, or 0 */
    const char *message;            /* names the task and what failed */
} haz_task_outcome;

/* Runtime invariant violations (reference-exec.md 4.7). */
typedef enum haz_violation_kind {
    HAZ_VIOLATION_OUTPUT_OVERLAP = 1, /* EXEC-020 */
    HAZ_VIOLATION_RUNTIME_CYCLE = 2   /* EXEC-019 */
} haz_violation_kind;

typedef struct haz_violation {
    haz_violation_kind kind;
    /* OUTPUT_OVERLAP: first claimant, later claimant, the shared path.
     * RUNTIME_CYCLE: the offending edge first -> second. */
    const haz_task_id *first;
    const haz_task_id *second;
    const char *path;                 /* OUTPUT_OVERLAP only */
    const haz_task_id *const *cycle;  /* RUNTIME_CYCLE: members, canonical */
    size_t n_cycle;
} haz_violation;

/* ------------------------------------------------------------------------
 * The run result.
 * ---------------------------------------------------------------------- */
typedef struct haz_run_result haz_run_result;

/* haz_run_result_free: free a result.  NULL is ignored. */
HAZ_API void haz_run_result_free(haz_run_result *r);

/* haz_run_result_count: the number of tasks in the run. */
HAZ_API size_t haz_run_result_count(const haz_run_result *r);

/*
 * haz_run_result_get: the outcome of the i-th task of the run, in canonical
 * order, or NULL when i is out of range.  Valid until the result is freed.
 */
HAZ_API const haz_task_outcome *haz_run_result_get(const haz_run_result *r,
                                                   size_t i);

/* haz_run_result_violations: the invariant violations in detection order;
 * *n receives the count. */
HAZ_API const haz_violation *haz_run_result_violations(
    const haz_run_result *r, size_t *n);

/* haz_run_result_cancel_signal: the signal number passed to
 * haz_cancel_request() if the caller's token cancelled the run, else 0. */
HAZ_API int haz_run_result_cancel_signal(const haz_run_result *r);

/*
 * Exit codes (design 2.11, EXEC-021).
 */
#define HAZ_EXIT_OK 0       /* every task succeeded or was restored */
#define HAZ_EXIT_FAILED 1   /* a task failed or errored, or a violation */
#define HAZ_EXIT_INVALID 2  /* bad workspace file, invalid graph, bad usage */

/*
 * haz_exit_code: the process exit status for a finished run, evaluated top
 * to bottom (first match wins):
 *   cancel_signal > 0          128 + cancel_signal (130 SIGINT, 143 SIGTERM);
 *   any ERRORED outcome, any violation, or any COMPLETED/Failed   1;
 *   otherwise                  0 (Skipped and Cancelled alone are not
 *                              failures: they always follow one of the above
 *                              or a signal).
 * `cancel_signal` is the OS signal that caused cancellation (0 for none);
 * pass haz_run_result_cancel_signal(r) to use the one recorded by the run.
 * A NULL result counts as an empty run.  Pure: writes nothing.
 */
HAZ_API int haz_exit_code(const haz_run_result *r, int cancel_signal);

/* Short lower-case names for printing: "completed", "upstream-failed", ... */
HAZ_API const char *haz_outcome_kind_name(haz_outcome_kind k);
HAZ_API const char *haz_skip_cause_name(haz_skip_cause c);
HAZ_API const char *haz_cancel_kind_name(haz_cancel_kind k);
HAZ_API const char *haz_task_error_name(haz_task_error e);

#ifdef __cplusplus
}
#endif
#endif /* HAZEXEC_OUTCOME_H */
