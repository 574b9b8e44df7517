/*
 * lib/observe.c: what the built-in observers share.  Creating the common
 * object, the per-task state table (lookup, lazy creation with on-demand
 * growth, release), the task name used in prefixes and traces, the write
 * helper that ignores errors, and haz_observer_free, which flushes through
 * the observer's kind and then frees everything.
 */
#include "internal.h"
#include "observe.h"

#include <string.h>

int haz__obs_new(haz_ctx *ctx, haz__obs_kind kind, haz_observer_obj **out)
{
    haz_observer_obj *o = haz__calloc(ctx, 1, sizeof(*o));

    if (o == NULL)
        return HAZ_ENOMEM;
    o->kind = kind;
    o->ctx = ctx;
    o->out_fd = -1;
    o->err_fd = -1;
    haz__buf_init(&o->line, ctx);
    haz__buf_init(&o->text, ctx);
    *out = o;
    return HAZ_OK;
}

int haz__obs_args(haz_ctx *ctx, const char *what, haz_observer_obj **obj,
                  haz_observer *out)
{
    if (obj != NULL)
        *obj = NULL;
    if (out != NULL) {
        out->methods = NULL;
        out->ud = NULL;
    }
    if (ctx == NULL)
        return HAZ_EINVAL;
    if (obj == NULL || out == NULL)
        return haz__error(ctx, HAZ_EINVAL, "%s observer: NULL argument", what);
    return HAZ_OK;
}

int haz__obs_new_fds(haz_ctx *ctx, haz__obs_kind kind, const char *what,
                     const haz_observer_methods *methods, int out_fd,
                     int err_fd, haz_observer_obj **obj, haz_observer *out)
{
    haz_observer_obj *o;
    int rc = haz__obs_args(ctx, what, obj, out);

    if (rc != HAZ_OK)
        return rc;
    if (out_fd < 0 || err_fd < 0)
        return haz__error(ctx, HAZ_EINVAL,
                          "%s observer: bad descriptor (%d, %d)", what,
                          out_fd, err_fd);
    rc = haz__obs_new(ctx, kind, &o);
    if (rc != HAZ_OK)
        return rc;
    o->out_fd = out_fd;
    o->err_fd = err_fd;
    *obj = o;
    out->methods = methods;
    out->ud = o;
    return HAZ_OK;
}

haz__obs_task *haz__obs_task_get(haz_observer_obj *o, size_t index)
{
    return index < o->n_tasks ? o->tasks[index] : NULL;
}

/* The state of task `index`, created (and the table grown) if needed.
 * NULL when memory runs out; nothing is changed then. */
haz__obs_task *haz__obs_task_make(haz_observer_obj *o, size_t index)
{
    haz__obs_task *t;

    if (index >= o->n_tasks) {
        size_t n = o->n_tasks < 16 ? 16 : o->n_tasks;
        haz__obs_task **nt;

        if (index == SIZE_MAX)
            return NULL;
        while (n <= index)
            n = n > SIZE_MAX / 2 ? index + 1 : 2 * n;
        nt = haz__reallocarray(o->ctx, o->tasks, n, sizeof(*nt));
        if (nt == NULL)
            return NULL;
        memset(nt + o->n_tasks, 0, (n - o->n_tasks) * sizeof(*nt));
        o->tasks = nt;
        o->n_tasks = n;
    }
    if (o->tasks[index] != NULL)
        return o->tasks[index];
    t = haz__malloc(o->ctx, sizeof(*t));
    if (t == NULL)
        return NULL;
    haz__buf_init(&t->out, o->ctx);
    haz__buf_init(&t->err, o->ctx);
    o->tasks[index] = t;
    return t;
}

void haz__obs_task_drop(haz_observer_obj *o, size_t index)
{
    haz__obs_task *t = haz__obs_task_get(o, index);

    if (t == NULL)
        return;
    haz__buf_free(&t->out);
    haz__buf_free(&t->err);
    haz__free(o->ctx, t);
    o->tasks[index] = NULL;
}

/* The printable name of a task: its "project:task" id. */
const char *haz__obs_id(const haz_task_id *t)
{
    return t != NULL && t->id != NULL ? t->id : "?";
}

void haz_observer_free(haz_observer_obj *obj)
{
    size_t i;

    if (obj == NULL)
        return;
    switch (obj->kind) {
    case HAZ__OBS_LIVE:
        haz__obs_live_close(obj);
        break;
    case HAZ__OBS_BUFFERED:
        haz__obs_buffered_close(obj);
        break;
    case HAZ__OBS_RECORDING:
        break;
    }
    for (i = 0; i < obj->n_tasks; i++)
        haz__obs_task_drop(obj, i);
    haz__free(obj->ctx, obj->tasks);
    haz__buf_free(&obj->line);
    haz__buf_free(&obj->text);
    haz__free(obj->ctx, obj);
}
