/*
 * examples/hazrun_run.c: running the selected tasks.
 *
 * Sets up what haz_run needs (the posix clock, the posix spawner and the
 * filesystem store, each wrapped in a tap of hazrun_tap.c; the built-in
 * live or buffered observer behind hazrun's own of hazrun_view.c; a cancel
 * token with SIGINT, SIGTERM and SIGHUP handlers), runs, then prints the
 * summary and writes the --summary and --trace files.
 *
 * Which presentation: the terminal one (status line, colour) when stdout
 * and stderr are both terminals, TERM is set and not "dumb", and NO_COLOR
 * is unset or empty; the plain, line-oriented one otherwise.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hazrun_run.h"

uint64_t hr_now(hr_run *r)
{
    return haz_clock_now_ns(r->clock);
}

/* The token the signal handlers cancel; set only while a run is going. */
static haz_cancel *volatile g_cancel;

static void on_signal(int signo)
{
    haz_cancel *c = g_cancel;

    if (c != NULL)
        haz_cancel_request(c, signo);
}

/* The cancelling signals, then SIGCHLD (saved[N_SIGNALS]). */
static const int run_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define N_SIGNALS (sizeof run_signals / sizeof run_signals[0])

/* Install (or, with `restore`, put back) the cancelling handlers, and
 * SIGCHLD's default action: whoever started hazrun may have left SIGCHLD
 * ignored (SIG_IGN survives exec), and then the kernel would reap the
 * tasks itself and every exit status would be lost (reliability-tests
 * P11a: the default is restored for the run and put back after it). */
static void handle_signals(struct sigaction *saved, int restore)
{
    struct sigaction sa;
    size_t k;

    for (k = 0; k < N_SIGNALS; k++) {
        if (restore) {
            (void)sigaction(run_signals[k], &saved[k], NULL);
        } else {
            memset(&sa, 0, sizeof sa);
            sa.sa_handler = on_signal;
            sigfillset(&sa.sa_mask);
            (void)sigaction(run_signals[k], &sa, &saved[k]);
        }
    }
    if (restore) {
        (void)sigaction(SIGCHLD, &saved[N_SIGNALS], NULL);
    } else {
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_DFL;
        sigemptyset(&sa.sa_mask);
        (void)sigaction(SIGCHLD, &sa, &saved[N_SIGNALS]);
    }
}

static haz_cache_store_config store_config(const char *root,
                                           haz_clock *clock)
{
    haz_cache_store_config cc;

    memset(&cc, 0, sizeof cc);
    cc.version = 1;
    cc.workspace_root = root;
    cc.hash = &haz_hash_sha256;
    cc.clock = clock;
    return cc;
}

haz_cache_store *open_cache_store(haz_ctx *ctx, const char *root,
                                  haz_clock *clock, int warn)
{
    haz_cache_store_config cc = store_config(root, clock);
    haz_cache_store *store = NULL;

    if (haz_cache_store_open(ctx, &haz_cache_store_fs, &cc, &store) != 0) {
        if (warn)
            say("running without the cache: %s", haz_ctx_errmsg(ctx));
        return NULL;
    }
    return store;
}

static int set_nonempty(const char *name)
{
    const char *v = getenv(name);

    return v != NULL && v[0] != '\0';
}

static int use_terminal(void)
{
    const char *term = getenv("TERM");

    return isatty(1) && isatty(2) && !set_nonempty("NO_COLOR") &&
           term != NULL && term[0] != '\0' && strcmp(term, "dumb") != 0;
}

/* Wall-clock time in Unix milliseconds. */
static int64_t unix_ms(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return (int64_t)time(NULL) * 1000;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Allocate the per-task state.  Returns 0 or -1. */
static int run_init(hr_run *r, haz_ctx *ctx, const haz_graph *g,
                    const unsigned char *selected)
{
    size_t i;

    memset(r, 0, sizeof *r);
    r->ctx = ctx;
    r->graph = g;
    r->n = haz_graph_task_count(g);
    r->pending = r->current = HR_NONE;
    r->t = calloc(r->n ? r->n : 1, sizeof *r->t);
    r->running = calloc(r->n ? r->n : 1, sizeof *r->running);
    r->slot_used = calloc(r->n + 1, 1);
    if (r->t == NULL || r->running == NULL || r->slot_used == NULL)
        return -1;
    for (i = 0; i < r->n; i++) {
        if (haz_graph_task_info(g, i, &r->t[i].info) != 0)
            return -1;
        r->t[i].selected = selected[i] != 0;
        r->total += selected[i] != 0;
    }
    return 0;
}

static void run_free(hr_run *r)
{
    size_t i;

    for (i = 0; r->t != NULL && i < r->n; i++) {
        hr_bytes_free(&r->t[i].held);
        hr_bytes_free(&r->t[i].line[0]);
        hr_bytes_free(&r->t[i].line[1]);
    }
    hr_bytes_free(&r->status);
    free(r->t);
    free(r->running);
    free(r->slot_used);
}

int run_tasks(haz_ctx *ctx, const haz_hazfile *hf,
              const unsigned char *selected, const options *opt,
              const char *file)
{
    hr_run r;
    haz_spawner *sp = NULL;
    haz_cancel *cancel = NULL;
    haz_observer_obj *obj = NULL;
    haz_cache_store *store = NULL;
    haz_observer obs;
    int sink_err;
    haz_run_options ro;
    haz_run_config cfg;
    haz_run_result *res = NULL;
    struct sigaction saved[N_SIGNALS + 1];
    hr_meta m;
    char *root = workspace_root(file);
    int rc, status = EXIT_INTERNAL;
    size_t cap;
    int mode = opt->output >= 0 ? opt->output : (int)hf->output;

    if (root == NULL) {
        say("cannot resolve the directory of '%s': %s", file,
            strerror(errno));
        return EXIT_BADINPUT;
    }
    if (run_init(&r, ctx, hf->graph, selected) != 0) {
        say("out of memory");
        goto done;
    }
    r.tty = use_terminal();
    r.quiet = opt->quiet;
    r.verbose = opt->verbose;
    r.hold = r.quiet ? HOLD_ALL
           : !r.tty ? HOLD_NONE
           : mode == HAZ_OUTPUT_BUFFERED ? HOLD_ALL : HOLD_LINES;
    if ((rc = haz_clock_open(ctx, &haz_clock_posix, NULL, &r.clock)) != 0 ||
        (rc = tap_spawner_open(&r, &sp)) != 0 ||
        (rc = haz_cancel_new(ctx, &cancel)) != 0 ||
        (rc = mode == HAZ_OUTPUT_BUFFERED
                  ? haz_observer_buffered_new(ctx, 1, 2, &obj, &r.inner)
                  : haz_observer_live_new(ctx, 1, 2, &obj, &r.inner)) != 0) {
        say("cannot set up the run: %s", rc == HAZ_ENOMEM
                                             ? "out of memory"
                                             : haz_ctx_errmsg(ctx));
        goto done;
    }
    obs.methods = &hr_observer_methods;
    obs.ud = &r;
    if (!opt->no_cache) {
        haz_cache_store_config cc = store_config(root, r.clock);

        if (tap_store_open(&r, &cc, &store) != 0)
            say("running without the cache: %s", haz_ctx_errmsg(ctx));
    }
    haz_run_options_init(&ro);
    ro.concurrency = opt->jobs != 0 ? opt->jobs : hf->concurrency;
    ro.cancel_grace_ns = opt->has_grace ? opt->grace_ns : hf->cancel_grace_ns;
    ro.default_timeout_ns = opt->timeout_ns;
    ro.workspace_root = root;
    ro.host_env = (const char *const *)environ;
    ro.no_cache = opt->no_cache;
    memset(&cfg, 0, sizeof cfg);
    cfg.graph = hf->graph;
    cfg.selected = selected;
    cfg.spawner = sp;
    cfg.clock = r.clock;
    cfg.hash = &haz_hash_sha256;
    cfg.cache = store;
    cfg.observer = &obs;
    cfg.cancel = cancel;
    cfg.options = &ro;

    memset(&m, 0, sizeof m);
    m.root = root;
    m.hazfile = file;
    m.targets = opt->targets;
    m.n_targets = opt->n_targets;
    m.cache = store != NULL;
    m.concurrency = ro.concurrency != 0 ? ro.concurrency : haz_online_cpus();
    /* The scheduler never runs more children than the spawner can watch
     * (select(): FD_SETSIZE); say so once when that caps the request. */
    cap = sp->methods->max_children(sp);
    if (cap != 0 && m.concurrency > cap) {
        char want[24], most[24];

        (void)snprintf(want, sizeof want, "%lu",
                       (unsigned long)m.concurrency);
        (void)snprintf(most, sizeof most, "%lu", (unsigned long)cap);
        say("warning: concurrency %s capped to %s, the most tasks the "
            "spawner can watch at once", want, most);
    }

    /* Children get default dispositions from the spawner; hazrun itself
     * must survive a closed output pipe to report what happened. */
    (void)signal(SIGPIPE, SIG_IGN);
    g_cancel = cancel;
    handle_signals(saved, 0);
    m.start_ms = unix_ms();
    r.t0 = hr_now(&r);
    rc = haz_run(ctx, &cfg, &res);
    m.wall_ns = hr_now(&r) - r.t0;
    m.end_ms = unix_ms();
    handle_signals(saved, 1);
    g_cancel = NULL;
    view_end(&r);
    /* R7: a write to our stdout or stderr that failed (EPIPE after
     * `| head -1`, ENOSPC, ...) leaves the tasks and the cache intact, but
     * the output the user sees is incomplete: say so and do not exit 0. */
    sink_err = haz_observer_sink_errno(obj);
    haz_observer_free(obj);     /* flushes what is pending */
    obj = NULL;
    if (rc != 0) {
        say("the run failed: %s", haz_ctx_errmsg(ctx));
        goto done;
    }
    status = haz_exit_code(res, haz_run_result_cancel_signal(res));
    if (sink_err != 0 && status == EXIT_OK)
        status = EXIT_INTERNAL;
    view_summary(&r, res, m.wall_ns);
    if (sink_err != 0)
        say("cannot write the output of the tasks: %s", strerror(sink_err));
    m.exit_code = status;
    if (opt->summary != NULL &&
        report_summary(&r, &cfg, res, &m, opt->summary) != 0 &&
        status == EXIT_OK)
        status = EXIT_INTERNAL;
    if (opt->trace != NULL && report_trace(&r, res, opt->trace) != 0 &&
        status == EXIT_OK)
        status = EXIT_INTERNAL;

done:
    haz_run_result_free(res);
    haz_observer_free(obj);
    haz_cancel_free(cancel);
    haz_cache_store_close(store);
    haz_spawner_close(sp);
    haz_clock_close(r.clock);
    run_free(&r);
    free(root);
    return status;
}
