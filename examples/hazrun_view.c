/*
 * examples/hazrun_view.c: what hazrun shows while and after it runs.
 *
 * Three parts:
 *   - the observer handed to haz_run.  It follows the tasks (hazrun_tap.c)
 *     and passes their output on to the built-in live or buffered observer
 *     (the "inner" one, which writes task stdout to fd 1 and task stderr
 *     to fd 2).  With -q it holds each task's output until the task ends
 *     and passes it on only when the task failed or errored.  On a
 *     terminal it passes whole lines only (live) or whole tasks only
 *     (buffered), taking the status line off the screen first, so that
 *     task output never lands in the middle of the status line;
 *   - the status line, "[done/total, N cached, N failed] running: a:b,
 *     c:d", drawn on stderr as "\r\x1b[K" + text (no newline) whenever
 *     the run is about to block and the text changed, cut to the width of
 *     the terminal;
 *   - the final summary on stderr: a line per failed or errored task, per
 *     invariant violation and for a cancelling signal, then
 *     "Tasks: ..." and " Time: ..." (reference-io.md 2.6).
 * Colour (SGR escapes) is used only when r->tty is set, which hazrun_run.c
 * decides (both stdout and stderr terminals, TERM set and not "dumb",
 * NO_COLOR unset or empty).
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "hazrun_run.h"

#define SGR_RED "\x1b[1;31m"
#define SGR_GREEN "\x1b[32m"
#define SGR_YELLOW "\x1b[33m"
#define SGR_CYAN "\x1b[36m"
#define SGR_RESET "\x1b[0m"
#define ERASE "\r\x1b[K"

int hr_bytes_add(hr_bytes *b, const void *p, size_t n)
{
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 256;
        char *q;

        while (cap - b->len < n) {
            if (cap > ((size_t)-1) / 2)
                return -1;
            cap *= 2;
        }
        q = realloc(b->p, cap);
        if (q == NULL)
            return -1;
        b->p = q;
        b->cap = cap;
    }
    if (n > 0)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

void hr_bytes_free(hr_bytes *b)
{
    free(b->p);
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
}

/* ------------------------------------------------------------------------
 * Passing output on.
 * ---------------------------------------------------------------------- */

/* Take the status line off the screen, before anything else is written. */
static void erase(hr_run *r)
{
    if (r->drawn) {
        (void)write_all(2, ERASE, sizeof ERASE - 1);
        r->drawn = 0;
    }
}

static void pass_output(hr_run *r, const haz_task_id *task, haz_stream s,
                        const void *data, size_t len)
{
    if (len == 0)
        return;
    erase(r);
    if (r->inner.methods->on_output != NULL)
        r->inner.methods->on_output(r->inner.ud, task, s, data, len);
    r->shown = 1;
}

/* HOLD_ALL: pass every held record on, in order, and forget them. */
static void replay_held(hr_run *r, const haz_task_id *task, hr_task *t)
{
    size_t at = 0;

    while (at < t->held.len) {
        unsigned char s = (unsigned char)t->held.p[at];
        size_t n;

        memcpy(&n, t->held.p + at + 1, sizeof n);
        at += 1 + sizeof n;
        pass_output(r, task, (haz_stream)s, t->held.p + at, n);
        at += n;
    }
    t->held.len = 0;
}

/* HOLD_ALL: append a record (stream byte, length, bytes).  Returns 0, or
 * -1 when out of memory (nothing added). */
static int hold_chunk(hr_task *t, haz_stream s, const void *data, size_t len)
{
    unsigned char sb = (unsigned char)s;
    size_t at = t->held.len;

    if (len == 0)
        return 0;
    if (hr_bytes_add(&t->held, &sb, 1) != 0 ||
        hr_bytes_add(&t->held, &len, sizeof len) != 0 ||
        hr_bytes_add(&t->held, data, len) != 0) {
        t->held.len = at;
        return -1;
    }
    return 0;
}

static void ob_started(void *ud, const haz_task_id *task)
{
    hr_run *r = (hr_run *)ud;

    if (task->index < r->n)
        track_started(r, task->index);
    if (r->inner.methods->on_task_started != NULL)
        r->inner.methods->on_task_started(r->inner.ud, task);
}

static void ob_output(void *ud, const haz_task_id *task, haz_stream stream,
                      const void *data, size_t len)
{
    hr_run *r = (hr_run *)ud;
    const char *p = (const char *)data;
    hr_task *t;
    hr_bytes *b;
    size_t head;

    if (task->index >= r->n ||
        (stream != HAZ_STREAM_STDOUT && stream != HAZ_STREAM_STDERR) ||
        r->hold == HOLD_NONE) {
        if (task->index < r->n)
            track_output(r, task->index);
        pass_output(r, task, stream, data, len);
        return;
    }
    t = &r->t[task->index];
    track_output(r, task->index);
    if (r->hold == HOLD_ALL) {
        if (hold_chunk(t, stream, data, len) != 0) {
            /* Out of memory: show it now rather than lose it. */
            replay_held(r, task, t);
            pass_output(r, task, stream, data, len);
        }
        return;
    }
    /* HOLD_LINES: pass on up to the last newline; hold the rest. */
    b = &t->line[stream - 1];
    for (head = len; head > 0 && p[head - 1] != '\n'; head--)
        ;
    if (head == 0) {
        if (hr_bytes_add(b, data, len) == 0)
            return;
        head = len;     /* out of memory: pass it all on now */
    }
    pass_output(r, task, stream, b->p, b->len);
    b->len = 0;
    pass_output(r, task, stream, data, head);
    if (head < len && hr_bytes_add(b, p + head, len - head) != 0)
        pass_output(r, task, stream, p + head, len - head);
}

/* Whether a task's held output is shown (-q shows failures only). */
static int shown_at_end(const hr_run *r, const haz_task_outcome *o)
{
    if (!r->quiet)
        return 1;
    return (o->kind == HAZ_OUTCOME_COMPLETED &&
            o->state == HAZ_STATE_FAILED) ||
           o->kind == HAZ_OUTCOME_ERRORED;
}

static void terminal(hr_run *r, const haz_task_outcome *o,
                     void (*fn)(void *, const haz_task_outcome *))
{
    size_t i = o->task.index;

    if (i < r->n) {
        hr_task *t = &r->t[i];

        track_terminal(r, i);
        r->done++;
        if (o->kind == HAZ_OUTCOME_COMPLETED &&
            o->state == HAZ_STATE_SUCCEEDED &&
            o->source == HAZ_SOURCE_CACHE_HIT)
            r->cached++;
        if ((o->kind == HAZ_OUTCOME_COMPLETED &&
             o->state == HAZ_STATE_FAILED) ||
            o->kind == HAZ_OUTCOME_ERRORED)
            r->failed++;
        if (shown_at_end(r, o))
            replay_held(r, &o->task, t);
        pass_output(r, &o->task, HAZ_STREAM_STDOUT, t->line[0].p,
                    t->line[0].len);
        pass_output(r, &o->task, HAZ_STREAM_STDERR, t->line[1].p,
                    t->line[1].len);
        hr_bytes_free(&t->held);
        hr_bytes_free(&t->line[0]);
        hr_bytes_free(&t->line[1]);
    }
    erase(r);
    if (fn != NULL)
        fn(r->inner.ud, o);
}

static void ob_finished(void *ud, const haz_task_outcome *o)
{
    hr_run *r = (hr_run *)ud;

    terminal(r, o, r->inner.methods->on_task_finished);
}

static void ob_skipped(void *ud, const haz_task_outcome *o)
{
    hr_run *r = (hr_run *)ud;

    terminal(r, o, r->inner.methods->on_task_skipped);
}

static void ob_cancelled(void *ud, const haz_task_outcome *o)
{
    hr_run *r = (hr_run *)ud;

    terminal(r, o, r->inner.methods->on_task_cancelled);
}

static void ob_errored(void *ud, const haz_task_outcome *o)
{
    hr_run *r = (hr_run *)ud;

    terminal(r, o, r->inner.methods->on_task_errored);
}

static void ob_violation(void *ud, const haz_violation *v)
{
    hr_run *r = (hr_run *)ud;

    erase(r);
    if (r->inner.methods->on_violation != NULL)
        r->inner.methods->on_violation(r->inner.ud, v);
}

const haz_observer_methods hr_observer_methods = {
    HAZ_OBSERVER_METHODS_VERSION,   /* version */
    ob_started,                     /* on_task_started */
    ob_output,                      /* on_output */
    ob_finished,                    /* on_task_finished */
    ob_skipped,                     /* on_task_skipped */
    ob_cancelled,                   /* on_task_cancelled */
    ob_errored,                     /* on_task_errored */
    ob_violation                    /* on_violation */
};

/* ------------------------------------------------------------------------
 * The status line.
 * ---------------------------------------------------------------------- */

/* The terminal's width in columns: TIOCGWINSZ on stderr, else 80. */
static size_t term_width(void)
{
#ifdef TIOCGWINSZ
    struct winsize ws;

    if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
#endif
    return 80;
}

static int add_str(hr_bytes *b, const char *s)
{
    return hr_bytes_add(b, s, strlen(s));
}

static int add_num(hr_bytes *b, unsigned long v)
{
    char num[24];
    size_t n = sizeof num;

    do {
        num[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    return hr_bytes_add(b, num + n, sizeof num - n);
}

/* A task id for the status line: anything but printable ASCII becomes
 * '?', so that one byte is one column. */
static int add_id(hr_bytes *b, const char *id)
{
    for (; *id; id++) {
        char c = (unsigned char)*id >= 0x20 && (unsigned char)*id < 0x7f
                     ? *id : '?';

        if (hr_bytes_add(b, &c, 1) != 0)
            return -1;
    }
    return 0;
}

/*
 * The visible text into `vis`; [*red0, *red1) is the part to show in red
 * (empty when nothing failed).  Returns 0 or -1.
 */
static int status_text(hr_run *r, hr_bytes *vis, size_t *red0, size_t *red1)
{
    size_t k;
    int rc = 0;

    *red0 = *red1 = 0;
    rc |= add_str(vis, "[");
    rc |= add_num(vis, r->done);
    rc |= add_str(vis, "/");
    rc |= add_num(vis, (unsigned long)r->total);
    if (r->cached > 0) {
        rc |= add_str(vis, ", ");
        rc |= add_num(vis, r->cached);
        rc |= add_str(vis, " cached");
    }
    if (r->failed > 0) {
        rc |= add_str(vis, ", ");
        *red0 = vis->len;
        rc |= add_num(vis, r->failed);
        rc |= add_str(vis, " failed");
        *red1 = vis->len;
    }
    rc |= add_str(vis, "]");
    for (k = 0; k < r->n_running; k++) {
        rc |= add_str(vis, k == 0 ? " running: " : ", ");
        rc |= add_id(vis, r->t[r->running[k]].info.id);
    }
    return rc != 0 ? -1 : 0;
}

/* The bytes to write: ERASE, the text cut to `width` - 1 columns (with
 * "..." when cut), colour where wanted.  Returns 0 or -1. */
static int status_line(hr_run *r, size_t width, hr_bytes *line)
{
    hr_bytes vis = {NULL, 0, 0};
    size_t red0, red1, cut, k, max = width > 1 ? width - 1 : 1;
    int ellipsis = 0, rc = status_text(r, &vis, &red0, &red1);
    int sgr = r->tty && red0 != red1;

    cut = vis.len;
    if (cut > max) {
        ellipsis = max > 3;
        cut = ellipsis ? max - 3 : max;
    }
    rc |= add_str(line, ERASE);
    for (k = 0; rc == 0 && k < cut; k++) {
        if (sgr && k == red0)
            rc |= add_str(line, SGR_RED);
        rc |= hr_bytes_add(line, vis.p + k, 1);
        if (sgr && k + 1 == red1)
            rc |= add_str(line, SGR_RESET);
    }
    if (sgr && red0 < cut && cut < red1)
        rc |= add_str(line, SGR_RESET);
    if (ellipsis)
        rc |= add_str(line, "...");
    hr_bytes_free(&vis);
    return rc != 0 ? -1 : 0;
}

void view_idle(hr_run *r)
{
    hr_bytes line = {NULL, 0, 0};

    if (!r->tty || r->quiet)
        return;
    if (status_line(r, term_width(), &line) == 0 &&
        !(r->drawn && line.len == r->status.len &&
          memcmp(line.p, r->status.p, line.len) == 0)) {
        (void)write_all(2, line.p, line.len);
        r->drawn = 1;
        r->status.len = 0;
        if (hr_bytes_add(&r->status, line.p, line.len) != 0)
            r->status.len = 0;
    }
    hr_bytes_free(&line);
}

void view_end(hr_run *r)
{
    erase(r);
    hr_bytes_free(&r->status);
}

void view_command(hr_run *r, size_t i)
{
    const haz_task_info *t = &r->t[i].info;
    out o;

    if (!r->verbose)
        return;
    erase(r);
    out_init(&o, 2);
    out_byte(&o, '[');
    out_text(&o, t->id);
    out_puts(&o, "] $ ");
    out_command(&o, t->action, t->script, t->argv, t->argc);
    out_byte(&o, '\n');
    out_flush(&o);
    r->shown = 1;
}

/* ------------------------------------------------------------------------
 * The final summary.
 * ---------------------------------------------------------------------- */

static void colour(hr_run *r, out *o, const char *sgr)
{
    if (r->tty)
        out_puts(o, sgr);
}

/* "N WORD", after ", " unless `first`, in colour when N > 0. */
static void count(hr_run *r, out *o, unsigned long n, const char *word,
                  const char *sgr, int first)
{
    if (!first)
        out_puts(o, ", ");
    if (n > 0)
        colour(r, o, sgr);
    out_ulong(o, n);
    out_byte(o, ' ');
    out_puts(o, word);
    if (n > 0)
        colour(r, o, SGR_RESET);
}

static void failed_line(hr_run *r, out *o, const haz_task_outcome *t)
{
    colour(r, o, SGR_RED);
    out_puts(o, "FAILED");
    colour(r, o, SGR_RESET);
    out_byte(o, ' ');
    out_text(o, t->task.id);
    out_puts(o, " (");
    if (t->timed_out)
        out_puts(o, "timed out, ");
    if (t->status.kind == HAZ_EXIT_SIGNAL) {
        out_puts(o, "killed by ");
        out_signal(o, t->status.signo);     /* P1: number and name */
    } else if (t->status.kind == HAZ_EXIT_CODE) {
        out_puts(o, "exit ");
        out_ulong(o, (unsigned long long)t->status.code);
    } else {
        out_puts(o, "no exit status");
    }
    out_puts(o, ")\n");
}

void view_summary(hr_run *r, const haz_run_result *res, uint64_t wall_ns)
{
    size_t i, n = haz_run_result_count(res), nv;
    unsigned long ok = 0, hit = 0, failed = 0, errored = 0, skipped = 0,
                  cancelled = 0;
    const haz_violation *v = haz_run_result_violations(res, &nv);
    int signo = haz_run_result_cancel_signal(res);
    char sig[24];
    out e;

    out_init(&e, 2);
    if (r->shown)
        out_byte(&e, '\n');
    for (i = 0; i < n; i++) {
        const haz_task_outcome *o = haz_run_result_get(res, i);

        switch (o->kind) {
        case HAZ_OUTCOME_COMPLETED:
            if (o->state == HAZ_STATE_SUCCEEDED) {
                ok++;
                hit += o->source == HAZ_SOURCE_CACHE_HIT;
            } else {
                failed++;
                failed_line(r, &e, o);
            }
            break;
        case HAZ_OUTCOME_ERRORED:
            errored++;
            colour(r, &e, SGR_RED);
            out_puts(&e, "ERRORED");
            colour(r, &e, SGR_RESET);
            out_byte(&e, ' ');
            out_text(&e, o->message != NULL ? o->message : o->task.id);
            out_byte(&e, '\n');
            break;
        case HAZ_OUTCOME_SKIPPED:
            skipped++;
            break;
        case HAZ_OUTCOME_CANCELLED:
            cancelled++;
            break;
        default:
            break;
        }
    }
    for (i = 0; i < nv; i++) {
        colour(r, &e, SGR_RED);
        out_puts(&e, "VIOLATION");
        colour(r, &e, SGR_RESET);
        out_puts(&e, v[i].kind == HAZ_VIOLATION_OUTPUT_OVERLAP
                         ? " output overlap: "
                         : " runtime cycle: ");
        out_text(&e, v[i].first->id);
        out_puts(&e, v[i].kind == HAZ_VIOLATION_OUTPUT_OVERLAP ? " and "
                                                               : " -> ");
        out_text(&e, v[i].second->id);
        if (v[i].path != NULL) {
            out_puts(&e, " both produce ");
            out_text(&e, v[i].path);
        }
        out_byte(&e, '\n');
    }
    if (signo > 0) {
        colour(r, &e, SGR_YELLOW);
        out_puts(&e, "CANCELLED");
        colour(r, &e, SGR_RESET);
        out_puts(&e, " by ");
        out_puts(&e, signal_name(signo, sig));
        out_byte(&e, '\n');
    }
    out_puts(&e, "Tasks: ");
    count(r, &e, ok, "succeeded", SGR_GREEN, 1);
    if (hit > 0) {
        out_puts(&e, " (");
        colour(r, &e, SGR_CYAN);
        out_ulong(&e, hit);
        out_puts(&e, " cached");
        colour(r, &e, SGR_RESET);
        out_byte(&e, ')');
    }
    if (failed > 0)
        count(r, &e, failed, "failed", SGR_RED, 0);
    if (errored > 0)
        count(r, &e, errored, "errored", SGR_RED, 0);
    if (skipped > 0)
        count(r, &e, skipped, "skipped", SGR_YELLOW, 0);
    if (cancelled > 0)
        count(r, &e, cancelled, "cancelled", SGR_YELLOW, 0);
    out_puts(&e, "\n Time: ");
    out_duration(&e, wall_ns);
    out_byte(&e, '\n');
    out_flush(&e);
}
