/*
 * lib/result.h: the run result object, private to the library.  The
 * scheduler fills one outcome per task of the run and appends violations;
 * tests build results by hand to exercise haz_exit_code().
 */
#ifndef HAZ_RESULT_H
#define HAZ_RESULT_H

#include "internal.h"

/* A block of memory owned by a result (output path lists, messages). */
typedef struct haz_result_block {
    struct haz_result_block *next;
} haz_result_block;

struct haz_run_result {
    haz_ctx *ctx;
    size_t n;                       /* tasks in the run */
    haz_task_outcome *outcomes;     /* n entries, canonical order */
    haz_task_id *ids;               /* n entries: outcomes[i].task == ids[i] */
    haz_result_block *blocks;       /* extra memory, freed with the result */
    haz_violation *violations;      /* detection order */
    size_t n_violations;
    size_t cap_violations;
    int cancel_signal;              /* from the caller's token, or 0 */
};

/* haz__run_result_new: a result for n tasks, every outcome NONE.
 * Returns NULL on allocation failure (HAZ_ENOMEM recorded in ctx). */
haz_run_result *haz__run_result_new(haz_ctx *ctx, size_t n);

/* haz__run_result_outcome: the writable outcome slot i (i < n). */
haz_task_outcome *haz__run_result_outcome(haz_run_result *r, size_t i);

/* haz__run_result_alloc: `n` bytes owned by the result, zeroed, aligned
 * for any object; freed with it.  Returns NULL on allocation failure. */
void *haz__run_result_alloc(haz_run_result *r, size_t n);

/* haz__run_result_strdup: a copy of s owned by the result, or NULL. */
char *haz__run_result_strdup(haz_run_result *r, const char *s);

/* haz__run_result_add_violation: append a copy of *v (pointers inside are
 * kept as given: they must live as long as the result).
 * Returns 0 or HAZ_ENOMEM. */
int haz__run_result_add_violation(haz_run_result *r, const haz_violation *v);

#endif /* HAZ_RESULT_H */
