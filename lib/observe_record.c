/*
 * lib/observe_record.c: the recording observer, which turns every event into
 * one line of text for tests and traces, then forwards the event to an
 * optional chained observer.  The grammar is written down in
 * docs/observer-trace.md; in short, words separated by single spaces, bytes
 * escaped so that a line never holds a raw control byte, and task ids, paths
 * and other tokens also never hold a raw space.
 *
 * The file is divided into: escaping, the line builder (which undoes a
 * half-built line and counts it as lost when memory runs out, and reports
 * the count in a "lost N" line before the next event it can record), one
 * callback per event, and creation plus haz_observer_recording_text.
 */
#include "internal.h"
#include "observe.h"

#include <string.h>

/* ------------------------------------------------------------------------
 * Escaping.
 * ---------------------------------------------------------------------- */

/* Whether byte c can be written as itself: printable ASCII except the
 * backslash, and, inside a token, except the space. */
static int plain(unsigned char c, int token)
{
    if (c == '\\' || (token && c == ' '))
        return 0;
    return c >= 0x20 && c < 0x7f;
}

/* Append `n` bytes escaped: runs of plain bytes are copied as they are. */
static int put_escaped(haz_buf *b, const void *data, size_t n, int token)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = data;
    size_t i = 0;

    while (i < n) {
        size_t run = i;
        char e[4];
        size_t elen = 2;

        while (run < n && plain(p[run], token))
            run++;
        if (run > i && haz__buf_append(b, p + i, run - i) != HAZ_OK)
            return HAZ_ENOMEM;
        if (run == n)
            break;
        e[0] = '\\';
        switch (p[run]) {
        case '\n': e[1] = 'n'; break;
        case '\t': e[1] = 't'; break;
        case '\r': e[1] = 'r'; break;
        case '\\': e[1] = '\\'; break;
        default:
            e[1] = 'x';
            e[2] = hex[p[run] >> 4];
            e[3] = hex[p[run] & 0xf];
            elen = 4;
            break;
        }
        if (haz__buf_append(b, e, elen) != HAZ_OK)
            return HAZ_ENOMEM;
        i = run + 1;
    }
    return HAZ_OK;
}

/* ------------------------------------------------------------------------
 * The line builder.  Each put is a no-op once one has failed; rec_end
 * either ends the line or takes it back.
 * ---------------------------------------------------------------------- */

typedef struct rec {
    haz_observer_obj *o;
    size_t start;       /* text length before this event */
    int rc;
} rec;

static void rec_word(rec *r, const char *s)
{
    if (r->rc == HAZ_OK)
        r->rc = haz__buf_append(&r->o->text, " ", 1);
    if (r->rc == HAZ_OK)
        r->rc = haz__buf_puts(&r->o->text, s);
}

static void rec_token(rec *r, const char *s)
{
    if (s == NULL)
        s = "?";
    if (r->rc == HAZ_OK)
        r->rc = haz__buf_append(&r->o->text, " ", 1);
    if (r->rc == HAZ_OK)
        r->rc = put_escaped(&r->o->text, s, strlen(s), 1);
}

static void rec_id(rec *r, const haz_task_id *t)
{
    rec_token(r, haz__obs_id(t));
}

static void rec_text(rec *r, const void *data, size_t n)
{
    if (r->rc == HAZ_OK)
        r->rc = put_escaped(&r->o->text, data, n, 0);
}

static void rec_status(rec *r, const haz_exit_status *st, int none)
{
    if (r->rc != HAZ_OK)
        return;
    if (st->kind == HAZ_EXIT_CODE)
        r->rc = haz__buf_printf(&r->o->text, " exit=%d", st->code);
    else if (st->kind == HAZ_EXIT_SIGNAL)
        r->rc = haz__buf_printf(&r->o->text, " signal=%d", st->signo);
    else if (none)
        r->rc = haz__buf_append(&r->o->text, " none", 5);
}

/* Start a line with `word`, after a "lost N" line if events were lost. */
static void rec_begin(rec *r, haz_observer_obj *o, const char *word)
{
    r->o = o;
    r->start = o->text.len;
    r->rc = HAZ_OK;
    if (o->lost > 0)
        r->rc = haz__buf_printf(&o->text, "lost %lu\n", o->lost);
    if (r->rc == HAZ_OK)
        r->rc = haz__buf_puts(&o->text, word);
}

/* End the line; out of memory, take back all of it (with the "lost" line
 * before it) and count the event as lost. */
static void rec_end(rec *r)
{
    haz_observer_obj *o = r->o;

    if (r->rc == HAZ_OK)
        r->rc = haz__buf_append(&o->text, "\n", 1);
    if (r->rc == HAZ_OK) {
        o->lost = 0;
        return;
    }
    if (o->text.data != NULL) {
        o->text.len = r->start;
        o->text.data[r->start] = '\0';
    }
    o->lost++;
}

/* The chained observer's slot, or NULL. */
#define CHAIN(o, slot) \
    ((o)->has_chain ? (o)->chain.methods->slot : NULL)

/* ------------------------------------------------------------------------
 * Callbacks.
 * ---------------------------------------------------------------------- */

static void rec_started(void *ud, const haz_task_id *t)
{
    haz_observer_obj *o = ud;
    rec r;

    rec_begin(&r, o, "started");
    rec_id(&r, t);
    rec_end(&r);
    if (CHAIN(o, on_task_started) != NULL)
        o->chain.methods->on_task_started(o->chain.ud, t);
}

static void rec_output(void *ud, const haz_task_id *t, haz_stream stream,
                       const void *data, size_t len)
{
    haz_observer_obj *o = ud;
    rec r;

    rec_begin(&r, o, stream == HAZ_STREAM_STDERR ? "stderr" : "stdout");
    rec_id(&r, t);
    if (r.rc == HAZ_OK)
        r.rc = haz__buf_printf(&o->text, " %lu", (unsigned long)len);
    if (len > 0 && data != NULL) {
        if (r.rc == HAZ_OK)
            r.rc = haz__buf_append(&o->text, " ", 1);
        rec_text(&r, data, len);
    }
    rec_end(&r);
    if (CHAIN(o, on_output) != NULL)
        o->chain.methods->on_output(o->chain.ud, t, stream, data, len);
}

static void rec_finished(void *ud, const haz_task_outcome *oc)
{
    haz_observer_obj *o = ud;
    rec r;

    if (oc == NULL)
        return;
    rec_begin(&r, o, "finished");
    rec_id(&r, &oc->task);
    rec_word(&r, oc->source == HAZ_SOURCE_CACHE_HIT ? "cache-hit" : "fresh");
    rec_word(&r, oc->state == HAZ_STATE_SUCCEEDED ? "succeeded"
                 : oc->state == HAZ_STATE_FAILED ? "failed" : "cancelled");
    rec_status(&r, &oc->status, 1);
    if (oc->timed_out)
        rec_word(&r, "timed-out");
    rec_end(&r);
    if (CHAIN(o, on_task_finished) != NULL)
        o->chain.methods->on_task_finished(o->chain.ud, oc);
}

static void rec_skipped(void *ud, const haz_task_outcome *oc)
{
    haz_observer_obj *o = ud;
    rec r;

    if (oc == NULL)
        return;
    rec_begin(&r, o, "skipped");
    rec_id(&r, &oc->task);
    rec_word(&r, haz_skip_cause_name(oc->skip_cause));
    if (oc->upstream != NULL)
        rec_id(&r, oc->upstream);
    rec_end(&r);
    if (CHAIN(o, on_task_skipped) != NULL)
        o->chain.methods->on_task_skipped(o->chain.ud, oc);
}

static void rec_cancelled(void *ud, const haz_task_outcome *oc)
{
    haz_observer_obj *o = ud;
    rec r;

    if (oc == NULL)
        return;
    rec_begin(&r, o, "cancelled");
    rec_id(&r, &oc->task);
    rec_word(&r, haz_cancel_kind_name(oc->cancel_kind));
    if (oc->upstream != NULL)
        rec_id(&r, oc->upstream);
    rec_status(&r, &oc->status, 0);
    rec_end(&r);
    if (CHAIN(o, on_task_cancelled) != NULL)
        o->chain.methods->on_task_cancelled(o->chain.ud, oc);
}

static void rec_errored(void *ud, const haz_task_outcome *oc)
{
    haz_observer_obj *o = ud;
    rec r;

    if (oc == NULL)
        return;
    rec_begin(&r, o, "errored");
    rec_id(&r, &oc->task);
    rec_word(&r, haz_task_error_name(oc->error));
    if (r.rc == HAZ_OK)
        r.rc = haz__buf_append(&o->text, ":", 1);
    if (oc->message != NULL && oc->message[0] != '\0') {
        if (r.rc == HAZ_OK)
            r.rc = haz__buf_append(&o->text, " ", 1);
        rec_text(&r, oc->message, strlen(oc->message));
    }
    rec_end(&r);
    if (CHAIN(o, on_task_errored) != NULL)
        o->chain.methods->on_task_errored(o->chain.ud, oc);
}

static void rec_violation(void *ud, const haz_violation *v)
{
    haz_observer_obj *o = ud;
    rec r;
    size_t i;

    if (v == NULL)
        return;
    rec_begin(&r, o, "violation");
    switch (v->kind) {
    case HAZ_VIOLATION_OUTPUT_OVERLAP:
        rec_word(&r, "output-overlap");
        rec_id(&r, v->first);
        rec_id(&r, v->second);
        rec_token(&r, v->path);
        break;
    case HAZ_VIOLATION_RUNTIME_CYCLE:
        rec_word(&r, "runtime-cycle");
        rec_id(&r, v->first);
        rec_id(&r, v->second);
        for (i = 0; v->cycle != NULL && i < v->n_cycle; i++)
            rec_id(&r, v->cycle[i]);
        break;
    default:
        rec_word(&r, "unknown");
        rec_id(&r, v->first);
        rec_id(&r, v->second);
        break;
    }
    rec_end(&r);
    if (CHAIN(o, on_violation) != NULL)
        o->chain.methods->on_violation(o->chain.ud, v);
}

static const haz_observer_methods recording_methods = {
    HAZ_OBSERVER_METHODS_VERSION, /* version */
    rec_started,                  /* on_task_started */
    rec_output,                   /* on_output */
    rec_finished,                 /* on_task_finished */
    rec_skipped,                  /* on_task_skipped */
    rec_cancelled,                /* on_task_cancelled */
    rec_errored,                  /* on_task_errored */
    rec_violation                 /* on_violation */
};

/* ------------------------------------------------------------------------
 * Creation and the text.
 * ---------------------------------------------------------------------- */

int haz_observer_recording_new(haz_ctx *ctx, const haz_observer *chain,
                               haz_observer_obj **obj, haz_observer *out)
{
    haz_observer_obj *o;
    int rc = haz__obs_args(ctx, "recording", obj, out);

    if (rc != HAZ_OK)
        return rc;
    if (chain != NULL && (chain->methods == NULL ||
                          chain->methods->version < 1))
        return haz__error(ctx, HAZ_EINVAL,
                          "recording observer: chained observer has no "
                          "methods table of version 1 or later");
    rc = haz__obs_new(ctx, HAZ__OBS_RECORDING, &o);
    if (rc != HAZ_OK)
        return rc;
    if (chain != NULL) {
        o->has_chain = 1;
        o->chain = *chain;
    }
    *obj = o;
    out->methods = &recording_methods;
    out->ud = o;
    return HAZ_OK;
}

const char *haz_observer_recording_text(const haz_observer_obj *obj,
                                        size_t *len)
{
    if (len != NULL)
        *len = 0;
    if (obj == NULL || obj->kind != HAZ__OBS_RECORDING)
        return NULL;
    if (len != NULL)
        *len = obj->text.len;
    return obj->text.data != NULL ? obj->text.data : "";
}
