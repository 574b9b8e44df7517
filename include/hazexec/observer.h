/*
 * hazexec/observer.h: the observer interface, through which a run reports
 * everything that happens to its tasks (reference-exec.md 3.8), and the
 * built-in observers.
 *
 * Calls come from the thread that called haz_run(), one at a time, in the
 * order things happen.  For each task:
 *   on_task_started   once, at its first admission, before its cache lookup;
 *                     never for a task skipped or drained before admission;
 *   on_output         zero or more chunks while it runs (fresh run, design
 *                     2.6), or exactly one call per non-empty stream on a
 *                     cache hit, stdout first (EXEC-017, design 2.5);
 *   then exactly one terminal call: on_task_finished (COMPLETED),
 *                     on_task_skipped, on_task_cancelled or on_task_errored.
 * on_violation reports runtime invariant violations as they are detected.
 * Any slot may be NULL (the event is then not delivered).  The records and
 * byte buffers passed are valid only during the call.
 */
#ifndef HAZEXEC_OBSERVER_H
#define HAZEXEC_OBSERVER_H

#include "common.h"
#include "outcome.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HAZ_OBSERVER_METHODS_VERSION 1

typedef enum haz_stream {
    HAZ_STREAM_STDOUT = 1,
    HAZ_STREAM_STDERR = 2
} haz_stream;

typedef struct haz_observer_methods {
    int version;   /* HAZ_OBSERVER_METHODS_VERSION */
    void (*on_task_started)(void *ud, const haz_task_id *task);
    void (*on_output)(void *ud, const haz_task_id *task, haz_stream stream,
                      const void *data, size_t len);
    void (*on_task_finished)(void *ud, const haz_task_outcome *o);
    void (*on_task_skipped)(void *ud, const haz_task_outcome *o);
    void (*on_task_cancelled)(void *ud, const haz_task_outcome *o);
    void (*on_task_errored)(void *ud, const haz_task_outcome *o);
    void (*on_violation)(void *ud, const haz_violation *v);
} haz_observer_methods;

/* An observer: a methods table plus the user data passed to every call. */
typedef struct haz_observer {
    const haz_observer_methods *methods;
    void *ud;
} haz_observer;

/* ------------------------------------------------------------------------
 * Built-in observers.  Each is created with *_new and freed with
 * haz_observer_free; the haz_observer it fills points into the object.
 * ---------------------------------------------------------------------- */
typedef struct haz_observer_obj haz_observer_obj;

/*
 * haz_observer_live_new: the live observer (EXEC-016): every complete line
 * of a task's output is written as "[project:task] " + line + "\n" in one
 * write() to `out_fd` (stdout lines) or `err_fd` (stderr lines), so lines of
 * different tasks interleave only at line boundaries.  Bytes after the last
 * newline are held per task and stream until the line completes or the task
 * ends, when they are written with an added "\n".  Only '\n' separates
 * lines; every other byte (CR, NUL, ...) is written as it is.  Writes are
 * retried on EINTR, continued after a short write, and on a non-blocking
 * descriptor that is full (EAGAIN) the observer waits with poll() until it
 * takes bytes again: every byte goes out once, in order.  Other write
 * errors (EPIPE, ENOSPC, EIO, ...) cannot stop the run: the bytes of that
 * write are dropped and the first such error is kept for
 * haz_observer_sink_errno().  (With SIGPIPE left at its default, a closed
 * pipe still kills the process: handling SIGPIPE is the program's
 * business.)
 * Memory: a held partial line is kept whole, so it costs memory in
 * proportion to its length (a task printing 64 MiB without a newline holds
 * 64 MiB or more); it is given back once the line is written.
 * Out of memory inside a callback, the observer writes what it has at once
 * instead of holding it: no byte is lost and lines of different tasks still
 * never mix, but a long line may come out split in two (each part with its
 * prefix and newline) or in several write() calls.
 * Returns 0 or one of: HAZ_EINVAL (a NULL argument or a negative
 * descriptor), HAZ_ENOMEM.
 */
HAZ_API int haz_observer_live_new(haz_ctx *ctx, int out_fd, int err_fd,
                                  haz_observer_obj **obj, haz_observer *out);

/*
 * haz_observer_buffered_new: the buffered observer (EXEC-016): a task's
 * output is kept and written when it ends, its whole stdout to `out_fd` as
 * one block, then its whole stderr to `err_fd`, verbatim.  Memory grows
 * with each running task's output until it ends.  Out of memory inside a
 * callback, the bytes held for that stream and the new chunk are written at
 * once: no byte is lost and each stream keeps its order, but that task's
 * block is split.  Write errors are handled as by the live observer
 * (EINTR, short writes and EAGAIN waited out; the first other error kept
 * for haz_observer_sink_errno()).
 * Returns 0 or one of: HAZ_EINVAL (a NULL argument or a negative
 * descriptor), HAZ_ENOMEM.
 */
HAZ_API int haz_observer_buffered_new(haz_ctx *ctx, int out_fd, int err_fd,
                                      haz_observer_obj **obj,
                                      haz_observer *out);

/*
 * haz_observer_recording_new: an observer that records every event as one
 * text line, for tests and traces, e.g.
 *   "started core:build"
 *   "stdout core:build 6 hello\n"   (length, then bytes with \n, \\, and
 *                                    non-printable bytes escaped)
 *   "finished core:build fresh succeeded exit=0"
 *   "skipped app:link upstream-failed core:build"
 *   "cancelled app:link upstream-cancelled core:build"
 *   "errored core:gen spawn: <message>"
 *   "violation output-overlap a:x b:y /out/f"
 * The exact grammar is in docs/observer-trace.md.  If `chain` is not NULL
 * every event is forwarded to it after being recorded; the observer is
 * copied, and what it points to must outlive the recording observer.
 * Out of memory inside a callback, the event's line is left out whole and
 * a line "lost N" before the next recorded event counts what was left out.
 * Returns 0 or one of: HAZ_EINVAL (a NULL argument, or `chain` without a
 * methods table of version >= 1), HAZ_ENOMEM.
 */
HAZ_API int haz_observer_recording_new(haz_ctx *ctx, const haz_observer *chain,
                                       haz_observer_obj **obj,
                                       haz_observer *out);

/*
 * haz_observer_recording_text: the events recorded so far, one per line,
 * NUL-terminated; *len (if not NULL) receives the length.  Valid until the
 * next event or haz_observer_free.  NULL for other observers.
 */
HAZ_API const char *haz_observer_recording_text(const haz_observer_obj *obj,
                                                size_t *len);

/*
 * haz_observer_sink_errno: for a live or buffered observer, the errno of
 * the first write to its descriptors that failed (EPIPE when the reader
 * of a pipe has gone, ENOSPC, EIO, EBADF, ...), or 0 while every write
 * succeeded.  EINTR, short writes and EAGAIN are never reported: they are
 * retried or waited out.  A program checks it after the run to report
 * that its output is incomplete; the tasks' outcomes and the cache are not
 * affected.  Returns 0 for NULL and for other observers.  Changes nothing.
 */
HAZ_API int haz_observer_sink_errno(const haz_observer_obj *obj);

/*
 * haz_observer_free: flush what is pending and free.  Pending output is
 * that of tasks that received no terminal event: the live observer writes
 * their held partial lines (with "\n"), the buffered one their blocks, in
 * task index order.  NULL is ignored.
 */
HAZ_API void haz_observer_free(haz_observer_obj *obj);

#ifdef __cplusplus
}
#endif
#endif /* HAZEXEC_OBSERVER_H */
