/*
 * lib/observe_live.c: the live observer (EXEC-016, reference-exec.md 3.9,
 * reference-io.md 2.3).  Output is split on '\n' only; each complete line
 * goes out as "[project:task] " + line + "\n" in a single write, stdout
 * lines to out_fd and stderr lines to err_fd, so lines of different tasks
 * interleave only at line boundaries.  Every other byte (CR, NUL, invalid
 * UTF-8) passes through verbatim (B4).
 *
 * Bytes after the last newline of a chunk are held per (task, stream),
 * stored already prefixed so that completing the line is one append and one
 * write.  At the task's terminal event the held bytes are written with an
 * added "\n", stdout first, then stderr.  Each chunk is scanned once with
 * memchr and held bytes only ever grow by appending, so the work is linear
 * in the output size however long a line gets (B5); the memory held for a
 * partial line grows with it, and is given back once the line is written.
 *
 * Every write goes through haz__obs_sink_write (lib/observe_sink.c):
 * EINTR, short writes and EAGAIN on a non-blocking sink are handled there,
 * and the first hard failure (EPIPE, ENOSPC, ...) is kept (R7).
 *
 * The file is divided into: the write paths (a complete line, a held line
 * completed, the degraded path used when memory runs out), the callbacks,
 * and creation / teardown.
 */
#include "internal.h"
#include "observe.h"
#include "observe_sink.h"

#include <string.h>

/* Buffers larger than this are freed after use rather than kept. */
#define LIVE_KEEP_MAX ((size_t)64 * 1024)

static int put_prefix(haz_buf *b, const haz_task_id *t)
{
    if (haz__buf_append(b, "[", 1) != HAZ_OK ||
        haz__buf_puts(b, haz__obs_id(t)) != HAZ_OK ||
        haz__buf_append(b, "] ", 2) != HAZ_OK)
        return HAZ_ENOMEM;
    return HAZ_OK;
}

/* The degraded path, used when memory runs out: the same bytes as one line,
 * but in several writes. */
static void write_split(haz_observer_obj *o, int fd, const haz_task_id *t,
                        const void *data, size_t n)
{
    const char *id = haz__obs_id(t);

    haz__obs_sink_write(o, fd, "[", 1);
    haz__obs_sink_write(o, fd, id, strlen(id));
    haz__obs_sink_write(o, fd, "] ", 2);
    haz__obs_sink_write(o, fd, data, n);
    haz__obs_sink_write(o, fd, "\n", 1);
}

/* Write `held` (prefix and partial line) plus its newline.  A haz_buf
 * always keeps room for a NUL after its bytes, so the newline needs no
 * allocation and a held line can always be written whole. */
static void write_held(haz_observer_obj *o, int fd, haz_buf *held)
{
    if (held->len == 0)
        return;
    held->data[held->len] = '\n';
    haz__obs_sink_write(o, fd, held->data, held->len + 1);
    held->len = 0;
    if (held->cap > LIVE_KEEP_MAX)
        haz__buf_free(held);
    else
        held->data[0] = '\0';
}

/* A complete line with nothing held before it. */
static void emit_line(haz_observer_obj *o, int fd, const haz_task_id *t,
                      const char *p, size_t n)
{
    haz_buf *b = &o->line;

    b->len = 0;
    if (put_prefix(b, t) == HAZ_OK && haz__buf_append(b, p, n) == HAZ_OK) {
        b->data[b->len] = '\n';
        haz__obs_sink_write(o, fd, b->data, b->len + 1);
    } else {
        write_split(o, fd, t, p, n);
    }
    b->len = 0;
    if (b->cap > LIVE_KEEP_MAX)
        haz__buf_free(b);
}

/* Out of memory while growing a held line: write the held part and `p` as
 * one line now, in several writes.  A line may so be split in two, but no
 * byte is lost and no other task's bytes get inside it. */
static void spill(haz_observer_obj *o, int fd, haz_buf *held, const char *p,
                  size_t n)
{
    haz__obs_sink_write(o, fd, held->data, held->len);
    haz__obs_sink_write(o, fd, p, n);
    haz__obs_sink_write(o, fd, "\n", 1);
    haz__buf_free(held);
}

/* The rest of a held line, up to (not including) its newline. */
static void complete_held(haz_observer_obj *o, int fd, haz_buf *held,
                          const char *p, size_t n)
{
    if (haz__buf_append(held, p, n) != HAZ_OK)
        spill(o, fd, held, p, n);
    else
        write_held(o, fd, held);
}

/* More bytes of a line that is already held. */
static void hold_more(haz_observer_obj *o, int fd, haz_buf *held,
                      const char *p, size_t n)
{
    if (haz__buf_append(held, p, n) != HAZ_OK)
        spill(o, fd, held, p, n);
}

/* The start of a partial line: keep the prefix and the bytes. */
static void hold_new(haz_observer_obj *o, const haz_task_id *t,
                     haz_stream stream, int fd, const char *p, size_t n)
{
    haz__obs_task *st = haz__obs_task_make(o, t->index);
    haz_buf *held;

    if (st == NULL) {
        write_split(o, fd, t, p, n);
        return;
    }
    held = stream == HAZ_STREAM_STDERR ? &st->err : &st->out;
    held->len = 0;
    if (put_prefix(held, t) != HAZ_OK ||
        haz__buf_append(held, p, n) != HAZ_OK) {
        held->len = 0;
        write_split(o, fd, t, p, n);
    }
}

/* ------------------------------------------------------------------------
 * Callbacks.
 * ---------------------------------------------------------------------- */

static void live_output(void *ud, const haz_task_id *t, haz_stream stream,
                        const void *data, size_t len)
{
    haz_observer_obj *o = ud;
    int fd = stream == HAZ_STREAM_STDERR ? o->err_fd : o->out_fd;
    const char *p = data, *end, *nl;
    haz__obs_task *st;

    if (t == NULL || data == NULL || len == 0)
        return;
    end = p + len;
    st = haz__obs_task_get(o, t->index);
    if (st != NULL) {
        haz_buf *held = stream == HAZ_STREAM_STDERR ? &st->err : &st->out;

        if (held->len > 0) {
            nl = memchr(p, '\n', len);
            if (nl == NULL) {
                hold_more(o, fd, held, p, len);
                return;
            }
            complete_held(o, fd, held, p, (size_t)(nl - p));
            p = nl + 1;
        }
    }
    while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        emit_line(o, fd, t, p, (size_t)(nl - p));
        p = nl + 1;
    }
    if (p < end)
        hold_new(o, t, stream, fd, p, (size_t)(end - p));
}

/* Flush the held partial lines of task `index` and forget it. */
static void live_flush(haz_observer_obj *o, size_t index)
{
    haz__obs_task *st = haz__obs_task_get(o, index);

    if (st == NULL)
        return;
    write_held(o, o->out_fd, &st->out);
    write_held(o, o->err_fd, &st->err);
    haz__obs_task_drop(o, index);
}

/* Every terminal event (skipped included, although a skipped task has no
 * output in practice). */
static void live_end(void *ud, const haz_task_outcome *oc)
{
    if (oc != NULL)
        live_flush(ud, oc->task.index);
}

static const haz_observer_methods live_methods = {
    HAZ_OBSERVER_METHODS_VERSION, /* version */
    NULL,                         /* on_task_started */
    live_output,                  /* on_output */
    live_end,                     /* on_task_finished */
    live_end,                     /* on_task_skipped */
    live_end,                     /* on_task_cancelled */
    live_end,                     /* on_task_errored */
    NULL                          /* on_violation */
};

/* ------------------------------------------------------------------------
 * Creation and teardown.
 * ---------------------------------------------------------------------- */

int haz_observer_live_new(haz_ctx *ctx, int out_fd, int err_fd,
                          haz_observer_obj **obj, haz_observer *out)
{
    return haz__obs_new_fds(ctx, HAZ__OBS_LIVE, "live", &live_methods,
                            out_fd, err_fd, obj, out);
}

/* haz_observer_free: write what is still held, in task index order. */
void haz__obs_live_close(haz_observer_obj *o)
{
    size_t i;

    for (i = 0; i < o->n_tasks; i++)
        live_flush(o, i);
}
