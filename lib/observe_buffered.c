/*
 * lib/observe_buffered.c: the buffered observer (EXEC-016, reference-exec.md
 * 3.9, reference-io.md 2.4).  Each task's stdout and stderr are accumulated
 * separately; at the task's terminal event its whole stdout is written to
 * out_fd as one block, then its whole stderr to err_fd, verbatim (no prefix,
 * no added newline), and the buffers are freed.  Since callbacks arrive one
 * at a time, blocks of different tasks never interleave.  A cache hit
 * replays through the same calls (EXEC-017), so it renders like a fresh run.
 *
 * Memory grows with a task's output until it ends (that is the point of the
 * mode).  When memory runs out, the bytes held for that stream and the new
 * chunk are written at once: the task's block is then split, but no byte is
 * lost and each stream keeps its order.  Writes go through
 * haz__obs_sink_write (lib/observe_sink.c): EINTR, short writes and EAGAIN
 * are handled there, and the first hard failure is kept (R7).
 */
#include "internal.h"
#include "observe.h"
#include "observe_sink.h"

static void buffered_output(void *ud, const haz_task_id *t, haz_stream stream,
                            const void *data, size_t len)
{
    haz_observer_obj *o = ud;
    int fd = stream == HAZ_STREAM_STDERR ? o->err_fd : o->out_fd;
    haz__obs_task *st;
    haz_buf *b;

    if (t == NULL || data == NULL || len == 0)
        return;
    st = haz__obs_task_make(o, t->index);
    if (st == NULL) {
        haz__obs_sink_write(o, fd, data, len);
        return;
    }
    b = stream == HAZ_STREAM_STDERR ? &st->err : &st->out;
    if (haz__buf_append(b, data, len) != HAZ_OK) {
        haz__obs_sink_write(o, fd, b->data, b->len);
        haz__obs_sink_write(o, fd, data, len);
        haz__buf_free(b);
    }
}

/* Write task `index`'s blocks, stdout then stderr, and forget it. */
static void buffered_flush(haz_observer_obj *o, size_t index)
{
    haz__obs_task *st = haz__obs_task_get(o, index);

    if (st == NULL)
        return;
    haz__obs_sink_write(o, o->out_fd, st->out.data, st->out.len);
    haz__obs_sink_write(o, o->err_fd, st->err.data, st->err.len);
    haz__obs_task_drop(o, index);
}

/* Every terminal event (skipped included, although a skipped task has no
 * output in practice). */
static void buffered_end(void *ud, const haz_task_outcome *oc)
{
    if (oc != NULL)
        buffered_flush(ud, oc->task.index);
}

static const haz_observer_methods buffered_methods = {
    HAZ_OBSERVER_METHODS_VERSION, /* version */
    NULL,                         /* on_task_started */
    buffered_output,              /* on_output */
    buffered_end,                 /* on_task_finished */
    buffered_end,                 /* on_task_skipped */
    buffered_end,                 /* on_task_cancelled */
    buffered_end,                 /* on_task_errored */
    NULL                          /* on_violation */
};

int haz_observer_buffered_new(haz_ctx *ctx, int out_fd, int err_fd,
                              haz_observer_obj **obj, haz_observer *out)
{
    return haz__obs_new_fds(ctx, HAZ__OBS_BUFFERED, "buffered",
                            &buffered_methods, out_fd, err_fd, obj, out);
}

/* haz_observer_free: write the blocks of tasks that never ended, in task
 * index order. */
void haz__obs_buffered_close(haz_observer_obj *o)
{
    size_t i;

    for (i = 0; i < o->n_tasks; i++)
        buffered_flush(o, i);
}
