/*
 * examples/simulate.c: a whole run on the mock backends, deterministic to
 * the byte and finished in microseconds.
 *
 * A six-task workspace (a hazfile text, docs/hazfile.md) runs on the mock
 * spawner and the mock clock; a mock script (docs/mock-script.md) says
 * what each fake child prints, when, and how it ends:
 *
 *     gen:schema     succeeds at 0.2 s
 *     core:compile   fails with exit status 1 at 0.7 s, so core:test and,
 *     core:test        through it, app:package are skipped
 *     app:package      ("upstream-failed core:compile")
 *     docs:build     prints "watching for changes" at 1.2 s and never ends
 *                    by itself; it ignores SIGTERM
 *     docs:publish   waits for docs:build
 *
 * An observer chained behind the recording observer plays the user who
 * presses Ctrl-C on seeing "watching for changes": it calls
 * haz_cancel_request(token, SIGINT) at that exact virtual instant.  The
 * run sends SIGTERM to docs:build, which ignores it, waits the workspace's
 * grace period (2 s of virtual time, no real sleep) and sends SIGKILL;
 * docs:publish ends "upstream-cancelled".
 *
 * The program prints the recording observer's event trace
 * (docs/observer-trace.md), the mock spawner's trace with virtual times
 * (docs/mock-script.md section 7), every task's outcome and the exit code
 * the run maps to (130: cancelled by SIGINT).  It exits 0 when the
 * simulation ran, 1 when something could not be set up.  The output never
 * changes: tests/test_examples.sh compares it with
 * tests/data/simulate.expected byte for byte.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "hazexec.h"

/* The workspace.  Neither inputs nor outputs are declared: the mock
 * creates no file here, and the workspace root below need not exist. */
static const char hazfile_text[] =
    "[workspace]\n"
    "concurrency = 4\n"
    "cancel_grace = 2\n"
    "\n"
    "[project core]\n"
    "root = core\n"
    "[project app]\n"
    "root = app\n"
    "[project docs]\n"
    "root = docs\n"
    "\n"
    "[task gen:schema]\n"
    "run = ./gen-schema --out schema.json\n"
    "\n"
    "[task core:compile]\n"
    "argv = cc -c core.c -o core.o\n"
    "deps = gen:schema\n"
    "env.CFLAGS = -O2\n"
    "\n"
    "[task core:test]\n"
    "run = ./run-tests\n"
    "deps = ~:compile\n"
    "\n"
    "[task app:package]\n"
    "run = tar cf app.tar bin\n"
    "deps = core:test\n"
    "\n"
    "[task docs:build]\n"
    "run = ./build-docs --watch\n"
    "deps = gen:schema\n"
    "\n"
    "[task docs:publish]\n"
    "run = ./publish site\n"
    "deps = ~:build\n";

/* What the fake children do; times are seconds after each spawn.  Tasks
 * the script does not mention never start here (they are skipped or
 * cancelled first); an unscripted spawn would exit 0 at once. */
static const char mock_text[] =
    "# gen:schema writes the schema and succeeds.\n"
    "[gen:schema]\n"
    "stdout 0.1 \"schema: 12 types\\n\"\n"
    "exit 0.2 0\n"
    "\n"
    "# core:compile reports an error and exits with status 1.\n"
    "[core:compile]\n"
    "stdout 0.1 \"compiling core.c\\n\"\n"
    "stderr 0.4 \"core.c:42: error: 'widget' undeclared\\n\"\n"
    "exit 0.5 1\n"
    "\n"
    "# docs:build renders, then watches for changes until killed.\n"
    "[docs:build]\n"
    "stdout 0.3 \"rendered 3 pages\\n\"\n"
    "stdout 1 \"watching for changes\\n\"\n"
    "hang\n"
    "sigterm ignore\n";

/* The host environment the run sees.  Only PATH is on the default
 * allow-list, so only PATH (and the tasks' own env.NAME) reaches a task. */
static const char *const host_env[] = {
    "HOME=/home/sim", "LANG=C", "PATH=/usr/bin:/bin", NULL
};

/* ------------------------------------------------------------------------
 * The "user": an observer that requests cancellation when a given output
 * chunk arrives.  Only on_output is set; the recording observer forwards
 * every event to it after recording it.
 * ---------------------------------------------------------------------- */
typedef struct trigger {
    haz_cancel *cancel;
    const char *text;       /* the chunk that fires the token */
    int fired;
} trigger;

static void trigger_output(void *ud, const haz_task_id *task,
                           haz_stream stream, const void *data, size_t len)
{
    trigger *tr = ud;

    (void)task;
    (void)stream;
    if (!tr->fired && len == strlen(tr->text) &&
        memcmp(data, tr->text, len) == 0) {
        tr->fired = 1;
        haz_cancel_request(tr->cancel, SIGINT);   /* as a Ctrl-C would */
    }
}

static const haz_observer_methods trigger_methods = {
    HAZ_OBSERVER_METHODS_VERSION,
    NULL,               /* on_task_started */
    trigger_output,     /* on_output */
    NULL, NULL, NULL, NULL, NULL
};

/* ------------------------------------------------------------------------
 * Printing.
 * ---------------------------------------------------------------------- */

/* A signal number as its name for the few a run sends, else as "signal N". */
static void print_signal(int signo)
{
    if (signo == SIGINT)
        printf("SIGINT");
    else if (signo == SIGTERM)
        printf("SIGTERM");
    else if (signo == SIGKILL)
        printf("SIGKILL");
    else
        printf("signal %d", signo);
}

/* Virtual nanoseconds as seconds with three decimals: "3.200". */
static void print_seconds(uint64_t ns)
{
    printf("%llu.%03llu", (unsigned long long)(ns / 1000000000u),
           (unsigned long long)(ns % 1000000000u / 1000000u));
}

/* One task: "core:compile  completed: failed, exit 1, ran 0.200-0.700 s",
 * "core:test     skipped: upstream-failed core:compile, at 0.700 s". */
static void print_outcome(const haz_task_outcome *o)
{
    printf("%-13s %s", o->task.id, haz_outcome_kind_name(o->kind));
    switch (o->kind) {
    case HAZ_OUTCOME_COMPLETED:
        printf(": %s", o->state == HAZ_STATE_SUCCEEDED ? "succeeded"
                                                       : "failed");
        break;
    case HAZ_OUTCOME_SKIPPED:
        printf(": %s", haz_skip_cause_name(o->skip_cause));
        break;
    case HAZ_OUTCOME_CANCELLED:
        printf(": %s", haz_cancel_kind_name(o->cancel_kind));
        break;
    case HAZ_OUTCOME_ERRORED:
        printf(": %s", haz_task_error_name(o->error));
        break;
    default:
        break;
    }
    if (o->upstream != NULL)
        printf(" %s", o->upstream->id);
    if (o->status.kind == HAZ_EXIT_CODE) {
        printf(", exit %d", o->status.code);
    } else if (o->status.kind == HAZ_EXIT_SIGNAL) {
        printf(", ");
        print_signal(o->status.signo);
    }
    /* A process ran from admission to the outcome; a task that never
     * started has only the time of its outcome. */
    if (o->status.kind != HAZ_EXIT_NONE) {
        printf(", ran ");
        print_seconds(o->start_ns);
        printf("-");
    } else {
        printf(", at ");
    }
    print_seconds(o->end_ns);
    printf(" s\n");
}

static void print_result(const haz_observer_obj *rec, const haz_spawner *sp,
                         const haz_run_result *res)
{
    const char *text;
    size_t i, n = haz_run_result_count(res);
    int code = haz_exit_code(res, haz_run_result_cancel_signal(res));

    text = haz_observer_recording_text(rec, NULL);
    printf("== observer events ==\n%s", text != NULL ? text : "");
    text = haz_mock_spawner_trace(sp, NULL);
    printf("== mock spawner, virtual seconds ==\n%s",
           text != NULL ? text : "(trace lost: out of memory)\n");
    printf("== outcomes ==\n");
    for (i = 0; i < n; i++)
        print_outcome(haz_run_result_get(res, i));
    printf("== exit code ==\n%d", code);
    if (haz_run_result_cancel_signal(res) != 0) {
        printf(" (128 + ");
        print_signal(haz_run_result_cancel_signal(res));
        printf(": the run was cancelled)");
    }
    printf("\n");
}

/* ------------------------------------------------------------------------
 * main: load, open the mock backends, run, print, free.
 * ---------------------------------------------------------------------- */

/* Print "simulate: WHAT: MESSAGE" for a call that failed with `rc`. */
static void fail(const haz_ctx *ctx, const char *what, int rc)
{
    const char *msg = haz_ctx_errmsg(ctx);

    fprintf(stderr, "simulate: %s: %s\n", what,
            *msg ? msg : haz_strerror(rc));
}

int main(void)
{
    haz_ctx *ctx = NULL;
    haz_diags *diags = NULL;
    haz_hazfile *hf = NULL;
    haz_mock_script *script = NULL;
    haz_clock *clock = NULL;
    haz_spawner *sp = NULL;
    haz_cancel *cancel = NULL;
    haz_observer_obj *rec = NULL;
    haz_observer rec_obs, trig_obs;
    haz_run_result *res = NULL;
    haz_mock_config mc;
    haz_spawner_config sc;
    haz_run_options opts;
    haz_run_config cfg;
    trigger tr;
    int rc, status = 1;

    if ((rc = haz_ctx_new(&ctx, NULL)) != HAZ_OK) {
        fprintf(stderr, "simulate: cannot create a context: %s\n",
                haz_strerror(rc));
        return 1;
    }
    if ((rc = haz_diags_new(ctx, &diags)) != HAZ_OK) {
        fail(ctx, "setup", rc);
        goto done;
    }

    /* The workspace and the script, both parsed from text; every problem
     * would be listed as "NAME:LINE: message". */
    rc = haz_hazfile_parse(ctx, "simulate.hazfile", hazfile_text,
                           sizeof hazfile_text - 1, &hf, diags);
    if (rc == HAZ_OK) {
        if ((rc = haz_mock_script_new(ctx, &script)) == HAZ_OK)
            rc = haz_mock_script_parse(script, "simulate.mock", mock_text,
                                       sizeof mock_text - 1, diags);
    }
    if (rc != HAZ_OK) {
        if (haz_diags_count(diags) > 0)
            haz_diags_write(diags, 2);
        else
            fail(ctx, "loading", rc);
        goto done;
    }

    /* The mock clock starts at 0 and moves only when the mock spawner's
     * wait() jumps it to the next scripted event or deadline. */
    if ((rc = haz_clock_open(ctx, &haz_clock_mock, NULL, &clock))
            != HAZ_OK) {
        fail(ctx, "opening the mock clock", rc);
        goto done;
    }
    memset(&mc, 0, sizeof mc);
    mc.script = script;
    memset(&sc, 0, sizeof sc);
    sc.version = 1;
    sc.clock = clock;
    sc.backend = &mc;
    if ((rc = haz_spawner_open(ctx, &haz_spawner_mock, &sc, &sp))
            != HAZ_OK) {
        fail(ctx, "opening the mock spawner", rc);
        goto done;
    }

    /* The recording observer, with the trigger chained behind it. */
    if ((rc = haz_cancel_new(ctx, &cancel)) != HAZ_OK) {
        fail(ctx, "creating the cancel token", rc);
        goto done;
    }
    tr.cancel = cancel;
    tr.text = "watching for changes\n";
    tr.fired = 0;
    trig_obs.methods = &trigger_methods;
    trig_obs.ud = &tr;
    if ((rc = haz_observer_recording_new(ctx, &trig_obs, &rec, &rec_obs))
            != HAZ_OK) {
        fail(ctx, "creating the recording observer", rc);
        goto done;
    }

    /* The workspace root is only a name here: it appears as the children's
     * working directories in the spawner trace. */
    haz_run_options_init(&opts);
    opts.concurrency = hf->concurrency;
    opts.cancel_grace_ns = hf->cancel_grace_ns;
    opts.workspace_root = "/sim/ws";
    opts.host_env = host_env;
    memset(&cfg, 0, sizeof cfg);
    cfg.graph = hf->graph;
    cfg.spawner = sp;
    cfg.clock = clock;
    cfg.observer = &rec_obs;
    cfg.cancel = cancel;
    cfg.options = &opts;
    if ((rc = haz_run(ctx, &cfg, &res)) != HAZ_OK) {
        fail(ctx, "run", rc);
        goto done;
    }

    print_result(rec, sp, res);
    status = fflush(stdout) == 0 ? 0 : 1;

done:
    haz_run_result_free(res);
    haz_observer_free(rec);
    haz_cancel_free(cancel);
    haz_spawner_close(sp);
    haz_clock_close(clock);
    haz_mock_script_free(script);
    haz_hazfile_free(hf);
    haz_diags_free(diags);
    haz_ctx_free(ctx);
    return status;
}
