/*
 * lib/outcome.c: the run result (its accessors and the private constructor
 * the scheduler uses), the exit-code function of design 2.11 (EXEC-021) and
 * the printable names of outcome kinds, causes and errors.
 */
#include "internal.h"
#include "result.h"

#include <string.h>

haz_run_result *haz__run_result_new(haz_ctx *ctx, size_t n)
{
    haz_run_result *r = haz__calloc(ctx, 1, sizeof(*r));

    if (r == NULL)
        return NULL;
    r->ctx = ctx;
    r->n = n;
    if (n > 0) {
        r->outcomes = haz__calloc(ctx, n, sizeof(*r->outcomes));
        r->ids = haz__calloc(ctx, n, sizeof(*r->ids));
        if (r->outcomes == NULL || r->ids == NULL) {
            haz_run_result_free(r);
            return NULL;
        }
    }
    return r;
}

/* Blocks are prefixed by a header padded to the strictest alignment. */
typedef union haz_result_align {
    haz_result_block b;
    long double ld;
    void *p;
    uint64_t u;
} haz_result_align;

void *haz__run_result_alloc(haz_run_result *r, size_t n)
{
    haz_result_align *a;

    if (n > SIZE_MAX - sizeof(*a)) {
        (void)haz__error(r->ctx, HAZ_ENOMEM, "out of memory");
        return NULL;
    }
    a = haz__calloc(r->ctx, 1, sizeof(*a) + n);
    if (a == NULL)
        return NULL;
    a->b.next = r->blocks;
    r->blocks = &a->b;
    return a + 1;
}

char *haz__run_result_strdup(haz_run_result *r, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = haz__run_result_alloc(r, n);

    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

haz_task_outcome *haz__run_result_outcome(haz_run_result *r, size_t i)
{
    return i < r->n ? &r->outcomes[i] : NULL;
}

int haz__run_result_add_violation(haz_run_result *r, const haz_violation *v)
{
    if (r->n_violations == r->cap_violations) {
        size_t cap = r->cap_violations ? 2 * r->cap_violations : 4;
        haz_violation *nv = haz__reallocarray(r->ctx, r->violations, cap,
                                              sizeof(*nv));
        if (nv == NULL)
            return HAZ_ENOMEM;
        r->violations = nv;
        r->cap_violations = cap;
    }
    r->violations[r->n_violations++] = *v;
    return HAZ_OK;
}

void haz_run_result_free(haz_run_result *r)
{
    haz_result_block *b;

    if (r == NULL)
        return;
    while ((b = r->blocks) != NULL) {
        r->blocks = b->next;
        haz__free(r->ctx, b);
    }
    haz__free(r->ctx, r->ids);
    haz__free(r->ctx, r->violations);
    haz__free(r->ctx, r->outcomes);
    haz__free(r->ctx, r);
}

size_t haz_run_result_count(const haz_run_result *r)
{
    return r != NULL ? r->n : 0;
}

const haz_task_outcome *haz_run_result_get(const haz_run_result *r, size_t i)
{
    return (r != NULL && i < r->n) ? &r->outcomes[i] : NULL;
}

const haz_violation *haz_run_result_violations(const haz_run_result *r,
                                               size_t *n)
{
    if (n != NULL)
        *n = r != NULL ? r->n_violations : 0;
    return r != NULL ? r->violations : NULL;
}

int haz_run_result_cancel_signal(const haz_run_result *r)
{
    return r != NULL ? r->cancel_signal : 0;
}

/*
 * EXEC-021 / design 2.11, first match wins: a cancelling signal gives
 * 128 + signo; an executor error, an invariant violation or a Failed task
 * gives 1; anything else 0.  Skipped and Cancelled outcomes alone never
 * make a run fail.
 */
int haz_exit_code(const haz_run_result *r, int cancel_signal)
{
    size_t i;

    if (cancel_signal > 0)
        return 128 + cancel_signal;
    if (r == NULL)
        return HAZ_EXIT_OK;
    if (r->n_violations > 0)
        return HAZ_EXIT_FAILED;
    for (i = 0; i < r->n; i++) {
        const haz_task_outcome *o = &r->outcomes[i];

        if (o->kind == HAZ_OUTCOME_ERRORED)
            return HAZ_EXIT_FAILED;
        if (o->kind == HAZ_OUTCOME_COMPLETED && o->state == HAZ_STATE_FAILED)
            return HAZ_EXIT_FAILED;
    }
    return HAZ_EXIT_OK;
}

const char *haz_outcome_kind_name(haz_outcome_kind k)
{
    switch (k) {
    case HAZ_OUTCOME_NONE: return "none";
    case HAZ_OUTCOME_COMPLETED: return "completed";
    case HAZ_OUTCOME_SKIPPED: return "skipped";
    case HAZ_OUTCOME_CANCELLED: return "cancelled";
    case HAZ_OUTCOME_ERRORED: return "errored";
    }
    return "unknown";
}

const char *haz_skip_cause_name(haz_skip_cause c)
{
    switch (c) {
    case HAZ_SKIP_UPSTREAM_FAILED: return "upstream-failed";
    case HAZ_SKIP_UPSTREAM_ERRORED: return "upstream-errored";
    case HAZ_SKIP_RUNTIME_CYCLE: return "runtime-cycle";
    case HAZ_SKIP_ADMISSION_CLOSED: return "admission-closed";
    }
    return "unknown";
}

const char *haz_cancel_kind_name(haz_cancel_kind k)
{
    switch (k) {
    case HAZ_CANCEL_SIGNALED_IN_FLIGHT: return "signaled-in-flight";
    case HAZ_CANCEL_RUN_CANCELLED: return "run-cancelled";
    case HAZ_CANCEL_UPSTREAM_CANCELLED: return "upstream-cancelled";
    }
    return "unknown";
}

const char *haz_task_error_name(haz_task_error e)
{
    switch (e) {
    case HAZ_TERR_BUILD_KEY: return "build-key";
    case HAZ_TERR_RESTORE: return "restore";
    case HAZ_TERR_SPAWN: return "spawn";
    case HAZ_TERR_WAIT: return "wait";
    case HAZ_TERR_STREAM_READ: return "stream-read";
    case HAZ_TERR_OUTPUT_RESOLVE: return "output-resolve";
    case HAZ_TERR_OUTPUT_NOT_REGULAR: return "output-not-regular";
    case HAZ_TERR_OUTPUT_MISSING: return "output-missing";
    case HAZ_TERR_OUTPUT_PATH: return "output-path";
    case HAZ_TERR_STORE: return "store";
    case HAZ_TERR_INTERNAL: return "internal";
    }
    return "unknown";
}
