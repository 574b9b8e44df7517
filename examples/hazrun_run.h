/*
 * examples/hazrun_run.h: the state of one hazrun run, shared by the files
 * that take part in it: hazrun_run.c (setting up and tearing down),
 * hazrun_view.c (the observer, the status line and the final summary),
 * hazrun_tap.c (the spawner and cache-store wrappers, and the tracking of
 * slots and phases they feed) and hazrun_report.c (the JSON summary and
 * the Chrome trace).
 *
 * The library calls hazrun back from one thread only, in the order things
 * happen, so this state needs no locking.  Times are on the run's clock
 * (nanoseconds; r->t0 is the start of the run).
 */
#ifndef HAZRUN_RUN_H
#define HAZRUN_RUN_H

#include "hazrun.h"

#define HR_NONE ((size_t)-1)

/* A growable byte buffer. */
typedef struct hr_bytes {
    char *p;
    size_t len;
    size_t cap;
} hr_bytes;

/* Append n bytes.  Returns 0, or -1 when out of memory (nothing added). */
int hr_bytes_add(hr_bytes *b, const void *p, size_t n);
void hr_bytes_free(hr_bytes *b);

/* Where a task is, as hazrun follows it. */
typedef enum hr_phase {
    HR_IDLE = 0,        /* not started */
    HR_ACTIVE = 1,      /* started: looking up, restoring or parked */
    HR_RUNNING = 2,     /* its process was spawned */
    HR_DONE = 3         /* a terminal event came */
} hr_phase;

/* How the observer holds task output before passing it on. */
typedef enum hr_hold {
    HOLD_NONE = 0,      /* pass every chunk on at once */
    HOLD_LINES = 1,     /* pass whole lines on; hold the partial tail */
    HOLD_ALL = 2        /* hold everything until the task ends */
} hr_hold;

typedef struct hr_task {
    haz_task_info info;
    int selected;
    hr_phase phase;
    unsigned slot;          /* the slot held now; 0: none */
    unsigned long seq;      /* spawn order, for the status line */
    haz_child child;        /* HR_RUNNING: the spawner's id */

    /* Phases, for the trace.  A slice exists when its flag is set. */
    uint64_t t_start;       /* on_task_started */
    int looked_up;          /* the store's lookup() was called */
    uint64_t t_lookup_end;
    unsigned lookup_slot;
    int restored;           /* a hit was restored (restore() returned 0) */
    uint64_t t_restore;     /* restore() called; the slice ends at t_end */
    int spawned;            /* a process ran */
    uint64_t t_spawn;
    uint64_t t_exit;        /* its exit was reported; 0: not seen */
    unsigned run_slot;
    int stored;             /* store() was called for it */
    uint64_t t_store0;
    uint64_t t_store1;
    uint64_t t_end;         /* its terminal event */

    /* Held output: HOLD_ALL records (a stream byte, a size_t length, the
     * bytes) and HOLD_LINES partial lines per stream (index stream - 1). */
    hr_bytes held;
    hr_bytes line[2];
} hr_task;

typedef struct hr_run {
    haz_ctx *ctx;
    haz_clock *clock;
    const haz_graph *graph;
    size_t n;               /* tasks in the graph */
    hr_task *t;             /* n entries, by canonical index */
    size_t total;           /* selected tasks */
    uint64_t t0;            /* the run's start on the clock */

    /* Presentation (hazrun_view.c). */
    int tty;                /* status line and colour */
    int quiet;              /* -q */
    int verbose;            /* -v */
    hr_hold hold;
    haz_observer inner;     /* the built-in live or buffered observer */
    int drawn;              /* the status line is on the screen */
    int shown;              /* task output or a command line was shown */
    unsigned long done;     /* terminal events so far */
    unsigned long cached;
    unsigned long failed;   /* failed or errored */
    unsigned long seq;
    size_t *running;        /* spawned, not ended, in spawn order */
    size_t n_running;
    hr_bytes status;        /* the status line last drawn */

    /* Slots and phases (hazrun_tap.c). */
    unsigned char *slot_used;   /* n + 1 entries; slot 0 unused */
    unsigned max_slot;          /* highest slot ever used */
    size_t pending;         /* holds a slot between start and spawn */
    size_t current;         /* the last task started: owner of a lookup
                               or restore call */
    int have_store;         /* a store() call waits for its task's end */
    uint64_t store0;
    uint64_t store1;
} hr_run;

/* hazrun_run.c: the clock's time now. */
uint64_t hr_now(hr_run *r);

/* ------------------------------------------------------------------------
 * hazrun_view.c
 * ---------------------------------------------------------------------- */

/* The observer hazrun hands to haz_run (ud: the hr_run). */
extern const haz_observer_methods hr_observer_methods;

/* Before the run blocks: draw the status line if it changed. */
void view_idle(hr_run *r);
/* -v: the command line of task i, which is about to start. */
void view_command(hr_run *r, size_t i);
/* After the run: take the status line off the screen. */
void view_end(hr_run *r);
/* The final summary on stderr. */
void view_summary(hr_run *r, const haz_run_result *res, uint64_t wall_ns);

/* ------------------------------------------------------------------------
 * hazrun_tap.c
 * ---------------------------------------------------------------------- */

/* Slot and phase tracking, called by the observer. */
void track_started(hr_run *r, size_t i);
void track_output(hr_run *r, size_t i);
void track_terminal(hr_run *r, size_t i);

/* Open the posix spawner wrapped in a tap that tells `r` about spawns and
 * exits and draws the status line before every wait.  0 or a HAZ_E*. */
int tap_spawner_open(hr_run *r, haz_spawner **spawner);

/* Open the filesystem store wrapped in a tap that times lookups,
 * restores and stores.  0 or a HAZ_E*. */
int tap_store_open(hr_run *r, const haz_cache_store_config *cc,
                   haz_cache_store **store);

/* ------------------------------------------------------------------------
 * hazrun_report.c
 * ---------------------------------------------------------------------- */

typedef struct hr_meta {
    const char *root;           /* the workspace root */
    const char *hazfile;        /* as given */
    const char *const *targets;
    size_t n_targets;
    int cache;                  /* a cache store was used */
    unsigned concurrency;       /* the global cap (0: auto) */
    int64_t start_ms;           /* Unix time in milliseconds */
    int64_t end_ms;
    uint64_t wall_ns;
    int exit_code;
} hr_meta;

/* --summary FILE.  Returns 0, or -1 after saying why. */
int report_summary(hr_run *r, const haz_run_config *cfg,
                   const haz_run_result *res, const hr_meta *m,
                   const char *path);

/* --trace FILE.  Returns 0, or -1 after saying why. */
int report_trace(hr_run *r, const haz_run_result *res, const char *path);

#endif /* HAZRUN_RUN_H */
