/*
 * backends/mock_trace.c: the mock spawner's trace (docs/mock-script.md,
 * section 7): one text line per thing the spawner saw or did, each opened
 * by the virtual time.  One function per kind of line.
 *
 * Recording never makes a spawner call fail: when memory runs out the
 * trace is dropped for good and haz__mock_trace_text returns NULL, while
 * the spawner goes on exactly as before.  Recording can also be switched
 * off (haz_mock_spawner_set_trace), which drops it the same way; each
 * line function then returns at once, so a spawner without a trace pays
 * nothing for it.
 */
#include "internal.h"
#include "mock.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void haz__mock_trace_init(mock_trace *t, haz_ctx *ctx)
{
    haz__buf_init(&t->buf, ctx);
    t->lost = 0;
}

void haz__mock_trace_free(mock_trace *t)
{
    haz__buf_free(&t->buf);
}

const char *haz__mock_trace_text(const mock_trace *t, size_t *len)
{
    if (t->lost)
        return NULL;
    if (len != NULL)
        *len = t->buf.len;
    return t->buf.data != NULL ? t->buf.data : "";
}

void haz__mock_trace_set(mock_trace *t, int on)
{
    if (on && t->lost) {
        haz__buf_init(&t->buf, t->buf.ctx);
        t->lost = 0;
    } else if (!on && !t->lost) {
        haz__buf_free(&t->buf);
        t->lost = 1;
    }
}

static void check(mock_trace *t, int rc)
{
    if (rc != HAZ_OK && !t->lost) {
        t->lost = 1;
        haz__buf_free(&t->buf);
    }
}

static void put(mock_trace *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void put(mock_trace *t, const char *fmt, ...)
{
    va_list ap;

    if (t->lost)
        return;
    va_start(ap, fmt);
    check(t, haz__buf_vprintf(&t->buf, fmt, ap));
    va_end(ap);
}

static void esc(mock_trace *t, const void *data, size_t n, const char *extra)
{
    if (!t->lost)
        check(t, haz__mock_escape(&t->buf, data, n, extra));
}

/* "SECONDS.NANOSECONDS KIND[ TASK]". */
static void head(mock_trace *t, uint64_t time, const char *kind,
                 const char *task)
{
    put(t, "%" PRIu64 ".%09" PRIu64 " %s", time / 1000000000u,
        time % 1000000000u, kind);
    if (task != NULL) {
        put(t, " ");
        esc(t, task, strlen(task), " ");
    }
}

/* Comma-separated items (n of them, or up to a NULL). */
static void list(mock_trace *t, const char *const *v, size_t n)
{
    size_t i;

    for (i = 0; i < n && v[i] != NULL; i++) {
        if (i > 0)
            put(t, ",");
        esc(t, v[i], strlen(v[i]), ",]");
    }
}

void haz__mock_trace_spawn(mock_trace *t, uint64_t now,
                           const haz_spawn_plan *p, haz_child id,
                           size_t entry)
{
    const char *sh[3];

    if (t->lost)
        return;
    head(t, now, "spawn", p->task_id);
    put(t, " child=%" PRIu64 " argv=[", id);
    if (p->action == HAZ_ACTION_SHELL) {
        sh[0] = "/bin/sh";
        sh[1] = "-c";
        sh[2] = p->script;
        list(t, sh, 3);
    } else {
        list(t, p->argv, p->argc);
    }
    put(t, "] cwd=");
    esc(t, p->cwd, strlen(p->cwd), " ");
    put(t, " env=[");
    if (p->envp != NULL)
        list(t, p->envp, SIZE_MAX);
    if (entry > 0)
        put(t, "] entry=%zu\n", entry);
    else
        put(t, "] unscripted\n");
}

/* " errno=NAME" (or its number when it has no name). */
static void put_errno(mock_trace *t, int err)
{
    const char *name = haz__mock_errno_name(err);

    if (name != NULL)
        put(t, " errno=%s", name);
    else
        put(t, " errno=%d", err);
}

void haz__mock_trace_spawn_error(mock_trace *t, uint64_t now,
                                 const char *task, int err, size_t entry)
{
    if (t->lost)
        return;
    head(t, now, "spawn-error", task);
    put_errno(t, err);
    put(t, " entry=%zu\n", entry);
}

void haz__mock_trace_read_error(mock_trace *t, uint64_t now,
                                const char *task, haz_stream stream, int err)
{
    if (t->lost)
        return;
    head(t, now, "read-error", task);
    put(t, stream == HAZ_STREAM_STDOUT ? " stdout" : " stderr");
    put_errno(t, err);
    put(t, "\n");
}

void haz__mock_trace_output(mock_trace *t, uint64_t now, const char *task,
                            haz_stream stream, const void *data, size_t len)
{
    if (t->lost)
        return;
    head(t, now, stream == HAZ_STREAM_STDOUT ? "stdout" : "stderr", task);
    put(t, " %zu \"", len);
    esc(t, data, len, NULL);
    put(t, "\"\n");
}

void haz__mock_trace_signal(mock_trace *t, uint64_t now, const char *task,
                            int signo)
{
    const char *name = haz__mock_signal_name(signo);

    if (t->lost)
        return;
    head(t, now, "signal", task);
    if (name != NULL)
        put(t, " %s\n", name);
    else
        put(t, " %d\n", signo);
}

void haz__mock_trace_file(mock_trace *t, uint64_t now, const char *task,
                          const char *path, size_t len)
{
    if (t->lost)
        return;
    head(t, now, "file", task);
    put(t, " ");
    esc(t, path, strlen(path), " ");
    put(t, " %zu\n", len);
}

void haz__mock_trace_exit(mock_trace *t, uint64_t now, const char *task,
                          const haz_exit_status *st)
{
    if (t->lost)
        return;
    head(t, now, "exit", task);
    if (st->kind == HAZ_EXIT_CODE)
        put(t, " code=%d\n", st->code);
    else
        put(t, " signal=%d\n", st->signo);
}

void haz__mock_trace_mark(mock_trace *t, uint64_t now, const char *what)
{
    if (t->lost)
        return;
    head(t, now, what, NULL);
    put(t, "\n");
}
