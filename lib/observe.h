/*
 * lib/observe.h: private to the built-in observers (lib/observe*.c).
 *
 * One object type serves the three built-in observers; a kind tag says
 * which one it is, and haz_observer_free dispatches on it with a switch.
 * The live and buffered observers keep per-task state in a table indexed by
 * haz_task_id.index: an array of pointers, grown on demand to the largest
 * index seen, whose entries are allocated when a task first has bytes to
 * hold and freed at its terminal event.  So the table costs one pointer per
 * index up to the largest one seen, and buffers exist only for tasks that
 * are running with output pending.
 */
#ifndef HAZ_OBSERVE_H
#define HAZ_OBSERVE_H

#include "internal.h"

typedef enum haz__obs_kind {
    HAZ__OBS_LIVE = 1,
    HAZ__OBS_BUFFERED = 2,
    HAZ__OBS_RECORDING = 3
} haz__obs_kind;

/* What one task holds: live, the partial last line of each stream, stored
 * already prefixed with "[id] " (empty when nothing is held); buffered, the
 * whole output of each stream so far. */
typedef struct haz__obs_task {
    haz_buf out;
    haz_buf err;
} haz__obs_task;

struct haz_observer_obj {
    haz__obs_kind kind;
    haz_ctx *ctx;

    /* live and buffered */
    int out_fd;
    int err_fd;
    haz__obs_task **tasks;      /* indexed by haz_task_id.index */
    size_t n_tasks;             /* entries in `tasks` */
    haz_buf line;               /* live: scratch for one complete line */
    int sink_errno;             /* live, buffered: first failed write's
                                   errno, 0 if none (lib/observe_sink.c) */

    /* recording */
    haz_buf text;               /* the trace */
    unsigned long lost;         /* events not recorded since the last one
                                   that was (out of memory) */
    int has_chain;
    haz_observer chain;
};

/* lib/observe.c */
int haz__obs_new(haz_ctx *ctx, haz__obs_kind kind, haz_observer_obj **out);
/* What every public constructor checks first: clears *obj and *out (each
 * when not NULL); HAZ_EINVAL when ctx, obj or out is NULL (the message
 * begins with `what`), else 0. */
int haz__obs_args(haz_ctx *ctx, const char *what, haz_observer_obj **obj,
                  haz_observer *out);
/* The public constructor of an observer writing to two descriptors (live,
 * buffered): checks the arguments (messages begin with `what`), creates
 * the object and fills *obj and *out (both cleared first when not NULL).
 * Returns 0, HAZ_EINVAL or HAZ_ENOMEM. */
int haz__obs_new_fds(haz_ctx *ctx, haz__obs_kind kind, const char *what,
                     const haz_observer_methods *methods, int out_fd,
                     int err_fd, haz_observer_obj **obj, haz_observer *out);
haz__obs_task *haz__obs_task_get(haz_observer_obj *o, size_t index);
haz__obs_task *haz__obs_task_make(haz_observer_obj *o, size_t index);
void haz__obs_task_drop(haz_observer_obj *o, size_t index);
const char *haz__obs_id(const haz_task_id *t);

/* Per-kind teardown: flush what is pending; observe.c frees the rest. */
void haz__obs_live_close(haz_observer_obj *o);
void haz__obs_buffered_close(haz_observer_obj *o);

#endif /* HAZ_OBSERVE_H */
