/*
 * fuzz/fuzz_hazfile.c: libFuzzer target for the hazfile parser,
 * haz_hazfile_parse (lib/hazfile.c, docs/hazfile.md).  The input is the
 * file's text, any bytes.
 *
 * Checked on every input:
 *   - the result is 0, HAZ_EPARSE or HAZ_EGRAPH; a workspace comes back
 *     exactly on 0, and diagnostics exactly on an error;
 *   - every diagnostic reads "fuzz.hazfile:LINE: message"; the parser's
 *     own (HAZ_EPARSE) come in line order;
 *   - on success the graph is validated: tasks in canonical order (by
 *     project, then name), each id "project:task", every edge index in
 *     range and sorted, the workspace values in range, and selecting
 *     every task works;
 *   - a second parse of the same text gives the same result, the same
 *     diagnostics and the same number of tasks (determinism);
 *   - nothing leaks (the counting allocator of fuzz.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "internal.h"
#include "fuzz.h"

#include <string.h>

#define FILE_NAME "fuzz.hazfile"

static void check_sorted(const size_t *v, size_t n, size_t count)
{
    size_t i;

    for (i = 0; i < n; i++) {
        HAZ_FUZZ_CHECK(v[i] < count);
        HAZ_FUZZ_CHECK(i == 0 || v[i - 1] < v[i]);
    }
}

static void check_workspace(haz_ctx *ctx, const haz_hazfile *hf)
{
    size_t n = haz_graph_task_count(hf->graph), i;
    haz_task_info prev, ti;
    unsigned char *sel;

    HAZ_FUZZ_CHECK(strcmp(hf->path, FILE_NAME) == 0);
    HAZ_FUZZ_CHECK(hf->output == HAZ_OUTPUT_LIVE ||
                   hf->output == HAZ_OUTPUT_BUFFERED);
    HAZ_FUZZ_CHECK(hf->cancel_grace_ns <= UINT64_C(1000000) * 1000000000u);
    memset(&prev, 0, sizeof(prev));
    for (i = 0; i < n; i++) {
        size_t plen;

        HAZ_FUZZ_CHECK(haz_graph_task_info(hf->graph, i, &ti) == HAZ_OK);
        HAZ_FUZZ_CHECK(ti.index == i);
        plen = strlen(ti.project);
        HAZ_FUZZ_CHECK(strncmp(ti.id, ti.project, plen) == 0 &&
                       ti.id[plen] == ':' &&
                       strcmp(ti.id + plen + 1, ti.name) == 0);
        HAZ_FUZZ_CHECK(haz_name_check(ti.project) == 0);
        HAZ_FUZZ_CHECK(haz_name_check(ti.name) == 0);
        if (i > 0) {
            int c = strcmp(prev.project, ti.project);

            HAZ_FUZZ_CHECK(c < 0 || (c == 0 &&
                                     strcmp(prev.name, ti.name) < 0));
        }
        HAZ_FUZZ_CHECK(ti.action == HAZ_ACTION_SHELL ?
                       ti.script != NULL && ti.script[0] != '\0' :
                       ti.argc > 0 && ti.argv != NULL &&
                       ti.argv[ti.argc] == NULL);
        check_sorted(ti.deps, ti.n_deps, n);
        check_sorted(ti.weak_deps, ti.n_weak_deps, n);
        check_sorted(ti.dependents, ti.n_dependents, n);
        check_sorted(ti.weak_dependents, ti.n_weak_dependents, n);
        prev = ti;
    }
    HAZ_FUZZ_CHECK(haz_graph_task_info(hf->graph, n, &ti) == HAZ_EINVAL);
    if (n == 0)
        return;
    sel = haz__malloc(ctx, n);
    HAZ_FUZZ_CHECK(sel != NULL);
    HAZ_FUZZ_CHECK(haz_graph_select(hf->graph, NULL, 0, sel, NULL) == 0);
    for (i = 0; i < n; i++)
        HAZ_FUZZ_CHECK(sel[i] == 1);
    haz__free(ctx, sel);
}

int haz_fuzz_hazfile(const uint8_t *data, size_t size)
{
    haz_fuzz_mem fm;
    haz_ctx *ctx = haz_fuzz_ctx(&fm);
    const char *text = (const char *)data;
    haz_diags *d1 = NULL, *d2 = NULL;
    haz_hazfile *hf1 = NULL, *hf2 = NULL;
    int rc1, rc2;

    HAZ_FUZZ_CHECK(haz_diags_new(ctx, &d1) == HAZ_OK);
    HAZ_FUZZ_CHECK(haz_diags_new(ctx, &d2) == HAZ_OK);
    rc1 = haz_hazfile_parse(ctx, FILE_NAME, text, size, &hf1, d1);
    HAZ_FUZZ_CHECK(rc1 == HAZ_OK || rc1 == HAZ_EPARSE || rc1 == HAZ_EGRAPH);
    HAZ_FUZZ_CHECK((rc1 == HAZ_OK) == (hf1 != NULL));
    HAZ_FUZZ_CHECK((rc1 == HAZ_OK) == (haz_diags_count(d1) == 0));
    HAZ_FUZZ_CHECK(haz_ctx_errcode(ctx) == rc1 || rc1 == HAZ_OK);
    haz_fuzz_diags_ok(d1, FILE_NAME, rc1 == HAZ_EPARSE);
    if (hf1 != NULL)
        check_workspace(ctx, hf1);

    rc2 = haz_hazfile_parse(ctx, FILE_NAME, text, size, &hf2, d2);
    HAZ_FUZZ_CHECK(rc2 == rc1);
    HAZ_FUZZ_CHECK(haz_fuzz_diags_equal(d1, d2));
    if (hf1 != NULL) {
        HAZ_FUZZ_CHECK(hf2 != NULL);
        HAZ_FUZZ_CHECK(haz_graph_task_count(hf1->graph) ==
                       haz_graph_task_count(hf2->graph));
        HAZ_FUZZ_CHECK(hf1->concurrency == hf2->concurrency &&
                       hf1->cancel_grace_ns == hf2->cancel_grace_ns &&
                       hf1->output == hf2->output);
    }

    haz_hazfile_free(hf1);
    haz_hazfile_free(hf2);
    haz_diags_free(d1);
    haz_diags_free(d2);
    haz_fuzz_ctx_done(ctx, &fm);
    return 0;
}

#ifndef HAZ_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return haz_fuzz_hazfile(data, size);
}
#endif
