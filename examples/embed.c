/*
 * examples/embed.c: the shortest useful program that embeds hazexec with
 * the real (posix) backends.
 *
 * It builds a three-task graph through the API, validates it (printing
 * every problem found), opens a posix clock, a posix spawner, a live
 * observer and a cancel token, installs a SIGINT handler that cancels the
 * run, runs the graph in the current directory, prints a one-line summary
 * and exits with haz_exit_code(): 0 when every task succeeded, 1 when one
 * failed, 2 when the graph is invalid, 130 when Ctrl-C cancelled the run.
 *
 *     demo:count   writes the numbers 1 to 3 into numbers.txt
 *     demo:sum     adds them up with awk (an argv action, no shell);
 *                  it depends on demo:count
 *     demo:greet   prints a greeting taken from its environment
 *
 * Run it in a scratch directory: demo:count writes numbers.txt there.
 * Every call that can fail is checked and every object is freed, so the
 * program also serves as a template.  It uses only the public header, as
 * any embedder would; compile an installed copy with
 *     cc embed.c $(pkg-config --cflags --libs hazexec)
 */
/* POSIX.1-2008: sigaction(), getcwd(). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hazexec.h"

extern char **environ;

/* The token the SIGINT handler cancels: set just before the run. */
static haz_cancel *volatile g_cancel;

/* haz_cancel_request() is async-signal-safe: it sets a flag and writes one
 * byte to the token's pipe.  A second Ctrl-C kills every task at once. */
static void on_sigint(int signo)
{
    haz_cancel *c = g_cancel;

    if (c != NULL)
        haz_cancel_request(c, signo);
}

/* Print "embed: WHAT: MESSAGE" for a call that failed with code `rc`.
 * The context's message names the task, file or path involved; when it is
 * empty (an allocation failure, say) the code's description stands in. */
static void fail(const haz_ctx *ctx, const char *what, int rc)
{
    const char *msg = haz_ctx_errmsg(ctx);

    fprintf(stderr, "embed: %s: %s\n", what, *msg ? msg : haz_strerror(rc));
}

/* Add the three tasks.  Building only records what it is given; names,
 * references and patterns are checked by haz_graph_validate(). */
static int build_graph(haz_graph *g)
{
    static const char *const sum_argv[] = {
        "awk", "{ s += $1 } END { print \"sum: \" s }", "numbers.txt"
    };
    haz_task *t;
    int rc;

    if ((rc = haz_graph_add_task(g, "demo", "count", &t)) != HAZ_OK ||
        (rc = haz_task_set_shell(t, "printf '1\\n2\\n3\\n' > numbers.txt"))
            != HAZ_OK ||
        (rc = haz_task_add_output(t, "numbers.txt")) != HAZ_OK)
        return rc;

    if ((rc = haz_graph_add_task(g, "demo", "sum", &t)) != HAZ_OK ||
        (rc = haz_task_set_argv(t, 3, sum_argv)) != HAZ_OK ||
        (rc = haz_task_add_input(t, "numbers.txt")) != HAZ_OK ||
        (rc = haz_task_add_dep(t, "~:count")) != HAZ_OK)   /* same project */
        return rc;

    if ((rc = haz_graph_add_task(g, "demo", "greet", &t)) != HAZ_OK ||
        (rc = haz_task_set_shell(t, "echo \"$GREETING from hazexec\""))
            != HAZ_OK ||
        (rc = haz_task_set_env(t, "GREETING", "hello")) != HAZ_OK)
        return rc;
    return HAZ_OK;
}

/* One line: how many tasks ended which way, and the exit status. */
static void print_summary(const haz_run_result *res, int code)
{
    size_t i, n = haz_run_result_count(res);
    unsigned long ok = 0, failed = 0, skipped = 0, cancelled = 0, errored = 0;

    for (i = 0; i < n; i++) {
        const haz_task_outcome *o = haz_run_result_get(res, i);

        switch (o->kind) {
        case HAZ_OUTCOME_COMPLETED:
            if (o->state == HAZ_STATE_SUCCEEDED)
                ok++;
            else
                failed++;
            break;
        case HAZ_OUTCOME_SKIPPED:   skipped++;   break;
        case HAZ_OUTCOME_CANCELLED: cancelled++; break;
        default:                    errored++;   break;
        }
    }
    printf("embed: %lu tasks: %lu succeeded, %lu failed, %lu skipped, "
           "%lu cancelled, %lu errored; exit %d\n", (unsigned long)n, ok,
           failed, skipped, cancelled, errored, code);
    fflush(stdout);
}

int main(void)
{
    haz_ctx *ctx = NULL;
    haz_graph *g = NULL;
    haz_diags *diags = NULL;
    haz_clock *clock = NULL;
    haz_spawner *sp = NULL;
    haz_observer_obj *live = NULL;
    haz_observer obs;
    haz_cancel *cancel = NULL;
    haz_run_result *res = NULL;
    haz_spawner_config sc;
    haz_run_options opts;
    haz_run_config cfg;
    struct sigaction sa, old_sa;
    char root[4096];
    int rc, code = HAZ_EXIT_FAILED;

    /* A context allocates through the C library (NULL hooks) and keeps the
     * message of the last failure. */
    if ((rc = haz_ctx_new(&ctx, NULL)) != HAZ_OK) {
        fprintf(stderr, "embed: cannot create a context: %s\n",
                haz_strerror(rc));
        return HAZ_EXIT_FAILED;
    }

    /* 1. The graph.  Validation reports every problem at once, one per
     *    line ("demo:sum: ..."), and freezes the graph when there is none. */
    if ((rc = haz_graph_new(ctx, &g)) != HAZ_OK ||
        (rc = haz_diags_new(ctx, &diags)) != HAZ_OK) {
        fail(ctx, "setup", rc);
        goto done;
    }
    if ((rc = build_graph(g)) != HAZ_OK) {
        fail(ctx, "building the graph", rc);
        goto done;
    }
    rc = haz_graph_validate(g, diags);
    if (rc == HAZ_EGRAPH) {
        haz_diags_write(diags, 2);
        code = HAZ_EXIT_INVALID;
        goto done;
    }
    if (rc != HAZ_OK) {
        fail(ctx, "validating the graph", rc);
        goto done;
    }

    /* 2. The backends: real time, real processes, output streamed live as
     *    "[demo:greet] hello from hazexec", and a token to cancel with. */
    memset(&sc, 0, sizeof sc);
    sc.version = 1;
    if ((rc = haz_clock_open(ctx, &haz_clock_posix, NULL, &clock))
            != HAZ_OK) {
        fail(ctx, "opening the clock", rc);
        goto done;
    }
    sc.clock = clock;
    if ((rc = haz_spawner_open(ctx, &haz_spawner_posix, &sc, &sp))
            != HAZ_OK) {
        fail(ctx, "opening the spawner", rc);
        goto done;
    }
    if ((rc = haz_observer_live_new(ctx, 1, 2, &live, &obs)) != HAZ_OK ||
        (rc = haz_cancel_new(ctx, &cancel)) != HAZ_OK) {
        fail(ctx, "setup", rc);
        goto done;
    }

    /* 3. The run: the current directory is the workspace root, and the
     *    tasks see PATH from our environment (the default allow-list) plus
     *    their own overrides; nothing else leaks in.  No cache store is
     *    given, so every task runs (see haz_cache_store_open()). */
    if (getcwd(root, sizeof root) == NULL) {
        perror("embed: getcwd");
        goto done;
    }
    haz_run_options_init(&opts);          /* concurrency auto, grace 5 s */
    opts.workspace_root = root;
    opts.host_env = (const char *const *)environ;
    memset(&cfg, 0, sizeof cfg);
    cfg.graph = g;
    cfg.spawner = sp;
    cfg.clock = clock;
    cfg.observer = &obs;
    cfg.cancel = cancel;
    cfg.options = &opts;

    /* The library installs no signal handler: the program does.  Ctrl-C
     * sends SIGTERM to every task, then SIGKILL after the grace period. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    g_cancel = cancel;
    if (sigaction(SIGINT, &sa, &old_sa) != 0) {
        perror("embed: sigaction");
        goto done;
    }
    rc = haz_run(ctx, &cfg, &res);
    (void)sigaction(SIGINT, &old_sa, NULL);
    g_cancel = NULL;
    haz_observer_free(live);              /* flushes held partial lines */
    live = NULL;
    if (rc != HAZ_OK) {
        /* Task failures are outcomes, not errors: this is the run itself
         * failing (out of memory, a broken spawner). */
        fail(ctx, "run", rc);
        goto done;
    }

    /* 4. The verdict: 0, 1, or 128+N when signal N cancelled the run. */
    code = haz_exit_code(res, haz_run_result_cancel_signal(res));
    print_summary(res, code);

done:
    /* Every free/close function accepts NULL. */
    haz_run_result_free(res);
    haz_cancel_free(cancel);
    haz_observer_free(live);
    haz_spawner_close(sp);
    haz_clock_close(clock);
    haz_diags_free(diags);
    haz_graph_free(g);
    haz_ctx_free(ctx);
    return code;
}
