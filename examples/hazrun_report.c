/*
 * examples/hazrun_report.c: the files a run can leave behind.
 *
 *   --summary FILE  a JSON document describing the run and every task of
 *                   it in canonical order, with the components of each
 *                   task's cache key (haz_run_explain), so that a later
 *                   `hazrun why TASK --summary FILE` (or a diff of two
 *                   summaries) can say why a key changed.  The schema is
 *                   written out in docs/hazrun-summary.md.
 *   --trace FILE    a Chrome trace (Trace Event Format, viewable in
 *                   Perfetto or chrome://tracing): one "X" slice per
 *                   phase of each task on the slot ("thread") it held,
 *                   from the times hazrun_tap.c noted.
 * Both are written whole and then renamed into place (write_file_atomic).
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hazrun_json.h"
#include "hazrun_run.h"

#define SUMMARY_SCHEMA "hazrun-summary"
#define SUMMARY_VERSION 1

/* Write the finished document, or say why not.  Returns 0 or -1. */
static int finish(jw *w, const char *what, const char *path)
{
    int e;

    jw_newline(w);
    if (w->oom) {
        say("cannot write the %s to '%s': out of memory", what, path);
        return -1;
    }
    e = write_file_atomic(path, w->p, w->len);
    if (e != 0) {
        say("cannot write the %s to '%s': %s", what, path, strerror(e));
        return -1;
    }
    return 0;
}

/* Unix milliseconds as RFC 3339 UTC: "2024-05-01T12:00:00.123Z". */
static void jw_time(jw *w, int64_t ms)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    char buf[64];

    if (ms < 0 || gmtime_r(&s, &tm) == NULL ||
        strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
        jw_null(w);
        return;
    }
    (void)snprintf(buf + strlen(buf), sizeof buf - strlen(buf), ".%03dZ",
                   (int)(ms % 1000));
    jw_string(w, buf);
}

/* A clock time relative to the run's start, or null when 0 (never). */
static void jw_reltime(jw *w, const hr_run *r, uint64_t t)
{
    if (t == 0)
        jw_null(w);
    else
        jw_uint(w, t >= r->t0 ? t - r->t0 : 0);
}

static void jw_signal(jw *w, int signo)
{
    char buf[24];

    jw_object(w);
    jw_key(w, "number");
    jw_int(w, signo);
    jw_key(w, "name");
    jw_string(w, signal_name(signo, buf));
    jw_end_object(w);
}

static void jw_exit(jw *w, const haz_task_outcome *o)
{
    switch (o->status.kind) {
    case HAZ_EXIT_CODE:
        jw_object(w);
        jw_key(w, "code");
        jw_int(w, o->status.code);
        jw_end_object(w);
        break;
    case HAZ_EXIT_SIGNAL:
        jw_signal(w, o->status.signo);
        break;
    default:
        jw_null(w);
        break;
    }
}

/* The sub-kind of an outcome: succeeded/failed, or the cause. */
static const char *detail(const haz_task_outcome *o)
{
    switch (o->kind) {
    case HAZ_OUTCOME_COMPLETED:
        return o->state == HAZ_STATE_SUCCEEDED ? "succeeded" : "failed";
    case HAZ_OUTCOME_SKIPPED:
        return haz_skip_cause_name(o->skip_cause);
    case HAZ_OUTCOME_CANCELLED:
        return haz_cancel_kind_name(o->cancel_kind);
    case HAZ_OUTCOME_ERRORED:
        return haz_task_error_name(o->error);
    default:
        return "none";
    }
}

/* The "components" member: what haz_run_explain finds for task `index`
 * now, with the run's result for the predecessors' stream hashes. */
static void jw_components(jw *w, hr_run *r, const haz_run_config *cfg,
                          const haz_run_result *res, size_t index)
{
    haz_key_explain *e = NULL;
    const haz_key_info *k;
    size_t i;

    if (haz_run_explain(r->ctx, cfg, res, index, &e) != 0) {
        jw_key(w, "components");
        jw_null(w);
        jw_key(w, "components_error");
        jw_string(w, haz_ctx_errmsg(r->ctx));
        return;
    }
    k = haz_key_explain_info(e);
    jw_key(w, "components");
    jw_object(w);
    jw_key(w, "key");
    jw_hex(w, k->key, k->hash_len);
    jw_key(w, "action");
    jw_object(w);
    jw_key(w, "kind");
    if (k->action == HAZ_ACTION_SHELL) {
        jw_string(w, "shell");
        jw_key(w, "script");
        jw_string(w, k->script != NULL ? k->script : "");
    } else {
        jw_string(w, "argv");
        jw_key(w, "argv");
        jw_array(w);
        for (i = 0; i < k->argc; i++)
            jw_string(w, k->argv[i]);
        jw_end_array(w);
    }
    jw_end_object(w);
    jw_key(w, "env");
    jw_array(w);
    for (i = 0; i < k->n_env; i++) {
        jw_object(w);
        jw_key(w, "name");
        jw_string(w, k->env[i].name);
        jw_key(w, "value");
        jw_string(w, k->env[i].value);      /* NULL: null, unset */
        jw_end_object(w);
    }
    jw_end_array(w);
    jw_key(w, "inputs");
    jw_array(w);
    for (i = 0; i < k->n_inputs; i++) {
        jw_object(w);
        jw_key(w, "path");
        jw_string(w, k->inputs[i].path);
        jw_key(w, "hash");
        jw_hex(w, k->inputs[i].hash, k->hash_len);
        jw_end_object(w);
    }
    jw_end_array(w);
    jw_key(w, "predecessors");
    jw_array(w);
    for (i = 0; i < k->n_preds; i++) {
        jw_object(w);
        jw_key(w, "id");
        jw_string(w, k->preds[i].id);
        jw_key(w, "stdout_hash");
        jw_hex(w, k->preds[i].stdout_hash, k->hash_len);
        jw_key(w, "stderr_hash");
        jw_hex(w, k->preds[i].stderr_hash, k->hash_len);
        jw_end_object(w);
    }
    jw_end_array(w);
    jw_end_object(w);
    jw_key(w, "components_error");
    jw_null(w);
    haz_key_explain_free(e);
}

static void jw_task(jw *w, hr_run *r, const haz_run_config *cfg,
                    const haz_run_result *res, const haz_task_outcome *o)
{
    size_t i;

    jw_object(w);
    jw_key(w, "id");
    jw_string(w, o->task.id);
    jw_key(w, "project");
    jw_string(w, o->task.project);
    jw_key(w, "task");
    jw_string(w, o->task.task);
    jw_key(w, "outcome");
    jw_string(w, haz_outcome_kind_name(o->kind));
    jw_key(w, "detail");
    jw_string(w, detail(o));
    jw_key(w, "cache_hit");
    jw_bool(w, o->kind == HAZ_OUTCOME_COMPLETED &&
                   o->source == HAZ_SOURCE_CACHE_HIT);
    jw_key(w, "key");
    if (o->has_key)
        jw_hex(w, o->key, haz_hash_sha256.digest_len);
    else
        jw_null(w);
    jw_key(w, "exit");
    jw_exit(w, o);
    jw_key(w, "timed_out");
    jw_bool(w, o->timed_out);
    jw_key(w, "upstream");
    jw_string(w, o->upstream != NULL ? o->upstream->id : NULL);
    jw_key(w, "error");
    if (o->kind == HAZ_OUTCOME_ERRORED) {
        jw_object(w);
        jw_key(w, "kind");
        jw_string(w, haz_task_error_name(o->error));
        jw_key(w, "errno");
        jw_int(w, o->os_errno);
        jw_key(w, "message");
        jw_string(w, o->message);
        jw_end_object(w);
    } else {
        jw_null(w);
    }
    jw_key(w, "start_ns");
    jw_reltime(w, r, o->start_ns);
    jw_key(w, "end_ns");
    jw_reltime(w, r, o->end_ns);
    jw_key(w, "duration_ns");
    if (o->start_ns != 0 && o->end_ns >= o->start_ns)
        jw_uint(w, o->end_ns - o->start_ns);
    else
        jw_null(w);
    jw_key(w, "duration_ms");
    if (o->start_ns != 0 && o->end_ns >= o->start_ns)
        jw_uint(w, (o->end_ns - o->start_ns) / 1000000);
    else
        jw_null(w);
    jw_key(w, "stdout_hash");
    if (o->hash_len > 0)
        jw_hex(w, o->stdout_hash, o->hash_len);
    else
        jw_null(w);
    jw_key(w, "stderr_hash");
    if (o->hash_len > 0)
        jw_hex(w, o->stderr_hash, o->hash_len);
    else
        jw_null(w);
    jw_key(w, "outputs");
    jw_array(w);
    for (i = 0; i < o->n_outputs; i++)
        jw_string(w, o->outputs[i]);
    jw_end_array(w);
    jw_components(w, r, cfg, res, o->task.index);
    jw_end_object(w);
}

int report_summary(hr_run *r, const haz_run_config *cfg,
                   const haz_run_result *res, const hr_meta *m,
                   const char *path)
{
    size_t i, n = haz_run_result_count(res), nv;
    const haz_violation *v = haz_run_result_violations(res, &nv);
    uint64_t c[7];
    int signo = haz_run_result_cancel_signal(res), rc;
    static const char *const names[7] = {"tasks", "succeeded", "cached",
                                         "failed", "errored", "skipped",
                                         "cancelled"};
    jw w;

    memset(c, 0, sizeof c);
    for (i = 0; i < n; i++) {
        const haz_task_outcome *o = haz_run_result_get(res, i);

        c[0]++;
        if (o->kind == HAZ_OUTCOME_COMPLETED &&
            o->state == HAZ_STATE_SUCCEEDED) {
            c[1]++;
            c[2] += o->source == HAZ_SOURCE_CACHE_HIT;
        } else if (o->kind == HAZ_OUTCOME_COMPLETED) {
            c[3]++;
        }
        c[4] += o->kind == HAZ_OUTCOME_ERRORED;
        c[5] += o->kind == HAZ_OUTCOME_SKIPPED;
        c[6] += o->kind == HAZ_OUTCOME_CANCELLED;
    }
    jw_init(&w, JW_MAX_DEPTH);
    jw_object(&w);
    jw_key(&w, "schema");
    jw_string(&w, SUMMARY_SCHEMA);
    jw_key(&w, "schema_version");
    jw_uint(&w, SUMMARY_VERSION);
    jw_key(&w, "hazexec_version");
    jw_string(&w, HAZEXEC_VERSION);
    jw_key(&w, "workspace_root");
    jw_string(&w, m->root);
    jw_key(&w, "hazfile");
    jw_string(&w, m->hazfile);
    jw_key(&w, "targets");
    jw_array(&w);
    for (i = 0; i < m->n_targets; i++)
        jw_string(&w, m->targets[i]);
    jw_end_array(&w);
    jw_key(&w, "hash");
    jw_string(&w, haz_hash_sha256.name);
    jw_key(&w, "cache");
    jw_bool(&w, m->cache);
    jw_key(&w, "concurrency");
    jw_uint(&w, m->concurrency);
    jw_key(&w, "start_time");
    jw_time(&w, m->start_ms);
    jw_key(&w, "end_time");
    jw_time(&w, m->end_ms);
    jw_key(&w, "start_unix_ms");
    jw_int(&w, m->start_ms);
    jw_key(&w, "end_unix_ms");
    jw_int(&w, m->end_ms);
    jw_key(&w, "duration_ns");
    jw_uint(&w, m->wall_ns);
    jw_key(&w, "duration_ms");
    jw_uint(&w, m->wall_ns / 1000000);
    jw_key(&w, "exit_code");
    jw_int(&w, m->exit_code);
    jw_key(&w, "cancel_signal");
    if (signo > 0)
        jw_signal(&w, signo);
    else
        jw_null(&w);
    jw_key(&w, "counts");
    jw_object(&w);
    for (i = 0; i < 7; i++) {
        jw_key(&w, names[i]);
        jw_uint(&w, c[i]);
    }
    jw_end_object(&w);
    jw_key(&w, "violations");
    jw_array(&w);
    for (i = 0; i < nv; i++) {
        size_t k;

        jw_object(&w);
        jw_key(&w, "kind");
        jw_string(&w, v[i].kind == HAZ_VIOLATION_OUTPUT_OVERLAP
                          ? "output-overlap" : "runtime-cycle");
        jw_key(&w, "first");
        jw_string(&w, v[i].first != NULL ? v[i].first->id : NULL);
        jw_key(&w, "second");
        jw_string(&w, v[i].second != NULL ? v[i].second->id : NULL);
        jw_key(&w, "path");
        jw_string(&w, v[i].path);
        jw_key(&w, "cycle");
        jw_array(&w);
        for (k = 0; k < v[i].n_cycle; k++)
            jw_string(&w, v[i].cycle[k]->id);
        jw_end_array(&w);
        jw_end_object(&w);
    }
    jw_end_array(&w);
    jw_key(&w, "tasks");
    jw_array(&w);
    for (i = 0; i < n; i++)
        jw_task(&w, r, cfg, res, haz_run_result_get(res, i));
    jw_end_array(&w);
    jw_end_object(&w);
    rc = finish(&w, "summary", path);
    jw_free(&w);
    return rc;
}

/* ------------------------------------------------------------------------
 * The trace.
 * ---------------------------------------------------------------------- */

/* One complete ("X") event. */
static void slice(jw *w, hr_run *r, const char *verb, const char *cat,
                  const hr_task *t, unsigned slot, uint64_t from,
                  uint64_t to, const haz_task_outcome *o)
{
    size_t vl = strlen(verb);
    char *full;

    if (slot == 0 || from == 0)
        return;
    if (to < from)
        to = from;
    full = malloc(vl + 1 + strlen(t->info.id) + 1);
    if (full == NULL) {
        w->oom = 1;
        return;
    }
    memcpy(full, verb, vl);
    full[vl] = ' ';
    strcpy(full + vl + 1, t->info.id);
    jw_object(w);
    jw_key(w, "name");
    jw_string(w, full);
    jw_key(w, "cat");
    jw_string(w, cat);
    jw_key(w, "ph");
    jw_string(w, "X");
    jw_key(w, "ts");
    jw_micros(w, from >= r->t0 ? from - r->t0 : 0);
    jw_key(w, "dur");
    jw_micros(w, to - from);
    jw_key(w, "pid");
    jw_uint(w, 1);
    jw_key(w, "tid");
    jw_uint(w, slot);
    jw_key(w, "args");
    jw_object(w);
    jw_key(w, "task");
    jw_string(w, t->info.id);
    if (o != NULL && strcmp(verb, "run") == 0) {
        jw_key(w, "outcome");
        jw_string(w, detail(o));
        jw_key(w, "exit");
        jw_exit(w, o);
        if (o->timed_out) {
            jw_key(w, "timed_out");
            jw_bool(w, 1);
        }
    }
    jw_end_object(w);
    jw_end_object(w);
    free(full);
}

static void meta(jw *w, const char *what, unsigned tid, const char *name,
                 int sort)
{
    jw_object(w);
    jw_key(w, "name");
    jw_string(w, what);
    jw_key(w, "ph");
    jw_string(w, "M");
    jw_key(w, "pid");
    jw_uint(w, 1);
    jw_key(w, "tid");
    jw_uint(w, tid);
    jw_key(w, "args");
    jw_object(w);
    if (sort >= 0) {
        jw_key(w, "sort_index");
        jw_int(w, sort);
    } else {
        jw_key(w, "name");
        jw_string(w, name);
    }
    jw_end_object(w);
    jw_end_object(w);
}

/* The outcome of graph task i in the result, or NULL. */
static const haz_task_outcome *outcome_of(const haz_run_result *res,
                                          size_t i)
{
    size_t lo = 0, hi = haz_run_result_count(res);

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const haz_task_outcome *o = haz_run_result_get(res, mid);

        if (o->task.index == i)
            return o;
        if (o->task.index < i)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

int report_trace(hr_run *r, const haz_run_result *res, const char *path)
{
    unsigned s;
    size_t i;
    char name[32];
    int rc;
    jw w;

    jw_init(&w, 2);
    jw_object(&w);
    jw_key(&w, "displayTimeUnit");
    jw_string(&w, "ms");
    jw_key(&w, "traceEvents");
    jw_array(&w);
    meta(&w, "process_name", 0, "hazrun", -1);
    for (s = 1; s <= r->max_slot; s++) {
        (void)snprintf(name, sizeof name, "slot %u", s);
        meta(&w, "thread_name", s, name, -1);
        meta(&w, "thread_sort_index", s, NULL, (int)s);
    }
    for (i = 0; i < r->n; i++) {
        const hr_task *t = &r->t[i];
        const haz_task_outcome *o = outcome_of(res, i);

        if (t->looked_up)
            slice(&w, r, "lookup", "cache", t, t->lookup_slot, t->t_start,
                  t->t_lookup_end, o);
        if (t->restored)
            slice(&w, r, "restore", "cache", t, t->lookup_slot, t->t_restore,
                  t->t_end, o);
        if (t->spawned)
            slice(&w, r, "run", "task", t, t->run_slot, t->t_spawn,
                  t->t_exit != 0 ? t->t_exit : t->t_end, o);
        if (t->stored)
            slice(&w, r, "store", "cache", t, t->run_slot, t->t_store0,
                  t->t_store1, o);
    }
    jw_end_array(&w);
    jw_end_object(&w);
    rc = finish(&w, "trace", path);
    jw_free(&w);
    return rc;
}
