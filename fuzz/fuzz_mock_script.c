/*
 * fuzz/fuzz_mock_script.c: libFuzzer target for the mock script parser,
 * haz_mock_script_parse (backends/mock_parse.c, format in
 * docs/mock-script.md section 6), and for the mock spawner driven by what
 * it parsed (backends/spawn_mock.c).  The input is a script's text.
 *
 * Checked on every input:
 *   - the result is 0 or HAZ_EPARSE; diagnostics exactly on an error, each
 *     "fuzz:LINE: message", in line order;
 *   - a text with an error adds nothing to the script; a clean text adds
 *     its entries, and parsing it again adds as many more;
 *   - every entry holds what the format allows: non-empty chunks in time
 *     order, exit codes 0..255, signals 1..127, relative file paths.
 * When the script is clean and creates no file (a spawner that would
 * write files needs a workspace: not here), one spawn per entry is made
 * on a mock spawner, built to match it (task id, argv or shell text), and
 * the children are waited for, each quiet spell answered first with
 * SIGTERM to every child left, then with SIGKILL.  Checked: a spawn
 * succeeds or fails with HAZ_ESPAWN; every child gets exactly one exit,
 * after all its output; no event names an unknown or retired child; no
 * child is left; and a second drive, on a fresh spawner and clock, records
 * the same trace byte for byte.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "internal.h"
#include "../backends/mock.h"
#include "fuzz.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME "fuzz"
#define MAX_DRIVE 64            /* entries driven at most */

static void check_entries(const haz_mock_script *s)
{
    size_t i, k;

    for (i = 0; i < s->n; i++) {
        const haz_mock_proc *p = s->procs[i];

        HAZ_FUZZ_CHECK(p->script == s);
        HAZ_FUZZ_CHECK(p->number == i + 1);
        HAZ_FUZZ_CHECK((p->kind == MOCK_MATCH_FIFO) == (p->match == NULL));
        for (k = 0; k < p->n_out; k++) {
            /* Output bytes, or a read error (no bytes, an errno). */
            HAZ_FUZZ_CHECK(p->out[k].err == 0
                               ? p->out[k].len > 0 && p->out[k].data != NULL
                               : p->out[k].err > 0 && p->out[k].len == 0 &&
                                     p->out[k].data == NULL);
            HAZ_FUZZ_CHECK(p->out[k].stream == HAZ_STREAM_STDOUT ||
                           p->out[k].stream == HAZ_STREAM_STDERR);
            HAZ_FUZZ_CHECK(k == 0 || p->out[k - 1].at_ns <= p->out[k].at_ns);
        }
        if (p->has_end && p->end.kind == HAZ_EXIT_CODE)
            HAZ_FUZZ_CHECK(p->end.code >= 0 && p->end.code <= 255);
        if (p->has_end && p->end.kind == HAZ_EXIT_SIGNAL)
            HAZ_FUZZ_CHECK(p->end.signo >= 1 && p->end.signo <= 127);
        HAZ_FUZZ_CHECK(p->spawn_errno >= 0);
        for (k = 0; k < p->n_files; k++) {
            const char *f = p->files[k].path;

            HAZ_FUZZ_CHECK(f != NULL && f[0] != '\0' && f[0] != '/');
            HAZ_FUZZ_CHECK(strstr(f, "//") == NULL);
        }
    }
}

/* The state of one child of a drive. */
typedef struct kid {
    haz_child id;               /* 0: the spawn failed */
    int exited;
    unsigned dead;              /* 1 << stream: its read error came */
} kid;

static kid *find_kid(kid *k, size_t n, haz_child id)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (k[i].id == id)
            return &k[i];
    return NULL;
}

/* Spawn one child per entry (at most MAX_DRIVE) and wait for them all.
 * Returns the trace, malloc'ed. */
static char *drive(haz_ctx *ctx, const haz_mock_script *s)
{
    static const char *const envp[] = {"PATH=/bin", NULL};
    haz_mock_config mc;
    haz_spawner_config sc;
    haz_spawner *sp = NULL;
    haz_clock *clk = NULL;
    kid kids[MAX_DRIVE];
    size_t n = s->n < MAX_DRIVE ? s->n : MAX_DRIVE, i, left = 0;
    int stage = 0, rounds = 0;
    const char *trace;
    char *copy;

    HAZ_FUZZ_CHECK(haz_clock_open(ctx, &haz_clock_mock, NULL, &clk) == 0);
    memset(&mc, 0, sizeof(mc));
    mc.script = s;
    memset(&sc, 0, sizeof(sc));
    sc.version = 1;
    sc.clock = clk;
    sc.backend = &mc;
    HAZ_FUZZ_CHECK(haz_spawner_open(ctx, &haz_spawner_mock, &sc, &sp) == 0);

    memset(kids, 0, sizeof(kids));
    for (i = 0; i < n; i++) {
        const haz_mock_proc *p = s->procs[i];
        char task[32], buf[1024];
        const char *argv[64];
        haz_spawn_plan plan;
        int rc;

        memset(&plan, 0, sizeof(plan));
        (void)snprintf(task, sizeof(task), "fuzz:t%zu", i);
        plan.task_index = i;
        plan.task_id = task;
        plan.action = HAZ_ACTION_SHELL;
        plan.script = "true";
        plan.cwd = "/ws";
        plan.envp = envp;
        plan.path = "/bin";
        if (p->kind == MOCK_MATCH_TASK) {
            plan.task_id = p->key;
        } else if (p->kind == MOCK_MATCH_SH) {
            plan.script = p->key;
        } else if (p->kind == MOCK_MATCH_ARGV && strlen(p->key) < sizeof(buf)) {
            /* Split on single spaces, as the matcher joins them. */
            char *w = buf;
            size_t argc = 0;

            memcpy(buf, p->key, strlen(p->key) + 1);
            for (;;) {
                char *sp_ = strchr(w, ' ');

                if (argc + 1 >= HAZ_ARRAY_LEN(argv))
                    break;
                argv[argc++] = w;
                if (sp_ == NULL)
                    break;
                *sp_ = '\0';
                w = sp_ + 1;
            }
            argv[argc] = NULL;
            plan.action = HAZ_ACTION_ARGV;
            plan.argv = argv;
            plan.argc = argc;
        }
        rc = sp->methods->spawn(sp, &plan, &kids[i].id);
        HAZ_FUZZ_CHECK(rc == HAZ_OK || rc == HAZ_ESPAWN);
        if (rc == HAZ_OK) {
            HAZ_FUZZ_CHECK(kids[i].id != 0);
            left++;
        } else {
            HAZ_FUZZ_CHECK(haz_ctx_errno(ctx) > 0);
            kids[i].id = 0;
        }
    }

    while (left > 0) {
        haz_spawn_event ev[8];
        size_t got = 0, k;
        unsigned flags = 0;

        HAZ_FUZZ_CHECK(++rounds < 100000);
        HAZ_FUZZ_CHECK(sp->methods->wait(sp, UINT64_MAX - 1, NULL, ev, 8,
                                         &got, &flags) == HAZ_OK);
        HAZ_FUZZ_CHECK(got <= 8);
        for (k = 0; k < got; k++) {
            kid *c = find_kid(kids, n, ev[k].child);

            HAZ_FUZZ_CHECK(c != NULL && c->id != 0 && !c->exited);
            if (ev[k].type == HAZ_EV_OUTPUT) {
                HAZ_FUZZ_CHECK(ev[k].len > 0 && ev[k].data != NULL);
                HAZ_FUZZ_CHECK(!(c->dead & (1u << ev[k].stream)));
            } else if (ev[k].type == HAZ_EV_STREAM_ERROR) {
                /* At most one per stream, nothing of it after. */
                HAZ_FUZZ_CHECK(ev[k].os_errno > 0);
                HAZ_FUZZ_CHECK(!(c->dead & (1u << ev[k].stream)));
                c->dead |= 1u << ev[k].stream;
            } else {
                HAZ_FUZZ_CHECK(ev[k].type == HAZ_EV_EXIT);
                HAZ_FUZZ_CHECK(ev[k].status.kind == HAZ_EXIT_CODE ||
                               ev[k].status.kind == HAZ_EXIT_SIGNAL);
                c->exited = 1;
                left--;
                HAZ_FUZZ_CHECK(sp->methods->signal(sp, c->id, 0) ==
                               HAZ_ENOENT);
            }
        }
        if (got == 0 && left > 0) {
            /* Nothing more will happen by itself: every child left hangs
             * (or waits far beyond the deadline). */
            HAZ_FUZZ_CHECK(flags & HAZ_WAIT_DEADLINE);
            HAZ_FUZZ_CHECK(stage < 2);
            for (i = 0; i < n; i++)
                if (kids[i].id != 0 && !kids[i].exited)
                    HAZ_FUZZ_CHECK(sp->methods->signal(
                        sp, kids[i].id, stage == 0 ? SIGTERM : SIGKILL) ==
                        HAZ_OK);
            stage++;
        }
    }
    for (i = 0; i < n; i++)
        if (kids[i].id != 0)
            HAZ_FUZZ_CHECK(sp->methods->signal(sp, kids[i].id, 0) ==
                           HAZ_ENOENT);

    trace = haz_mock_spawner_trace(sp, NULL);
    HAZ_FUZZ_CHECK(trace != NULL);
    copy = malloc(strlen(trace) + 1);
    HAZ_FUZZ_CHECK(copy != NULL);
    memcpy(copy, trace, strlen(trace) + 1);
    haz_spawner_close(sp);
    haz_clock_close(clk);
    return copy;
}

static int has_files(const haz_mock_script *s)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        if (s->procs[i]->n_files > 0)
            return 1;
    return 0;
}

int haz_fuzz_mock_script(const uint8_t *data, size_t size)
{
    haz_fuzz_mem fm;
    haz_ctx *ctx = haz_fuzz_ctx(&fm);
    const char *text = (const char *)data;
    haz_mock_script *s = NULL;
    haz_diags *d = NULL;
    size_t n;
    int rc;

    HAZ_FUZZ_CHECK(haz_mock_script_new(ctx, &s) == HAZ_OK);
    HAZ_FUZZ_CHECK(haz_diags_new(ctx, &d) == HAZ_OK);
    rc = haz_mock_script_parse(s, NAME, text, size, d);
    HAZ_FUZZ_CHECK(rc == HAZ_OK || rc == HAZ_EPARSE);
    HAZ_FUZZ_CHECK((rc == HAZ_OK) == (haz_diags_count(d) == 0));
    haz_fuzz_diags_ok(d, NAME, 1);
    if (rc != HAZ_OK) {
        HAZ_FUZZ_CHECK(s->n == 0);
    } else {
        n = s->n;
        check_entries(s);
        if (n > 0 && !has_files(s)) {
            char *t1 = drive(ctx, s), *t2 = drive(ctx, s);

            HAZ_FUZZ_CHECK(strcmp(t1, t2) == 0);
            free(t1);
            free(t2);
        }
        HAZ_FUZZ_CHECK(haz_mock_script_parse(s, NAME, text, size, d) ==
                       HAZ_OK);
        HAZ_FUZZ_CHECK(s->n == 2 * n && haz_diags_count(d) == 0);
        check_entries(s);
    }
    haz_diags_free(d);
    haz_mock_script_free(s);
    haz_fuzz_ctx_done(ctx, &fm);
    return 0;
}

#ifndef HAZ_FUZZ_NO_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return haz_fuzz_mock_script(data, size);
}
#endif
