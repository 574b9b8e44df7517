/*
 * examples/hazrun_list.c: `hazrun -n`, the listing of what would run.
 *
 * The workspace settings, then every selected task in canonical order
 * with what the cache would do for it (haz_run_probe) and its settings,
 * one "  key: value" line each, on stdout.  Nothing is run, restored or
 * stored.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hazrun.h"

/* A list line "  KEY: a b c" of task ids given by index; none: no line. */
static void out_task_list(out *o, const haz_graph *g, const char *key,
                          const size_t *idx, size_t n)
{
    size_t i;

    if (n == 0)
        return;
    out_puts(o, "  ");
    out_puts(o, key);
    out_byte(o, ':');
    for (i = 0; i < n; i++) {
        haz_task_info dep;

        out_byte(o, ' ');
        if (haz_graph_task_info(g, idx[i], &dep) == 0)
            out_text(o, dep.id);
    }
    out_byte(o, '\n');
}

static void out_string_list(out *o, const char *key,
                            const char *const *v, size_t n)
{
    size_t i;

    if (n == 0)
        return;
    out_puts(o, "  ");
    out_puts(o, key);
    out_byte(o, ':');
    for (i = 0; i < n; i++) {
        out_byte(o, ' ');
        out_text(o, v[i]);
    }
    out_byte(o, '\n');
}

static void out_task(out *o, const haz_graph *g, const haz_task_info *t,
                     haz_probe probe)
{
    size_t i;

    out_text(o, t->id);
    out_byte(o, '\n');
    switch (probe) {
    case HAZ_PROBE_HIT:
        out_puts(o, "  cache: hit (would be restored)\n");
        break;
    case HAZ_PROBE_MISS:
        out_puts(o, "  cache: miss (would run)\n");
        break;
    case HAZ_PROBE_UNKNOWN:
        out_puts(o, "  cache: unknown (a dependency would run first)\n");
        break;
    case HAZ_PROBE_ERROR:
        out_puts(o, "  cache: error (its key cannot be derived)\n");
        break;
    default:
        out_puts(o, "  cache: off\n");
        break;
    }
    if (t->project_root && strcmp(t->project_root, ".") != 0) {
        out_puts(o, "  root: ");
        out_text(o, t->project_root);
        out_byte(o, '\n');
    }
    if (t->action == HAZ_ACTION_SHELL && t->script) {
        out_puts(o, "  run: ");
        out_text(o, t->script);
        out_byte(o, '\n');
    } else if (t->action == HAZ_ACTION_ARGV) {
        out_puts(o, "  argv: ");
        out_command(o, t->action, NULL, t->argv, t->argc);
        out_byte(o, '\n');
    }
    out_task_list(o, g, "deps", t->deps, t->n_deps);
    out_task_list(o, g, "weak_deps", t->weak_deps, t->n_weak_deps);
    out_string_list(o, "tags", t->tags, t->n_tags);
    if (t->n_mutexes > 0) {
        out_puts(o, "  mutex:");
        for (i = 0; i < t->n_mutexes; i++) {
            out_byte(o, ' ');
            if (t->mutexes[i].mode == HAZ_MUTEX_SHARED)
                out_puts(o, "shared:");
            if (t->mutexes[i].scope == HAZ_MUTEX_PROJECT)
                out_puts(o, "~:");
            out_text(o, t->mutexes[i].name);
        }
        out_byte(o, '\n');
    }
    out_string_list(o, "inputs", t->inputs, t->n_inputs);
    out_string_list(o, "outputs", t->outputs, t->n_outputs);
    out_string_list(o, "env_from_host", t->env_from_host,
                    t->n_env_from_host);
    if (t->n_env > 0) {
        out_puts(o, "  env:");
        for (i = 0; i < t->n_env; i++) {
            out_byte(o, ' ');
            out_text(o, t->env[i].name);
            out_byte(o, '=');
            out_shell_word(o, t->env[i].value);
        }
        out_byte(o, '\n');
    }
    if (t->timeout_ns > 0) {
        out_puts(o, "  timeout: ");
        out_seconds(o, t->timeout_ns);
        out_byte(o, '\n');
    }
}

/* Print the workspace settings, then every selected task.  Returns an exit
 * status. */
static int list_tasks(const haz_hazfile *hf, const unsigned char *selected,
                      const haz_probe *probe)
{
    const haz_tag_cap *caps;
    size_t i, n_caps = 0, n = haz_graph_task_count(hf->graph);
    out o;

    out_init(&o, 1);
    out_puts(&o, "workspace: concurrency=");
    if (hf->concurrency == 0)
        out_puts(&o, "auto");
    else
        out_ulong(&o, hf->concurrency);
    out_puts(&o, " cancel_grace=");
    out_seconds(&o, hf->cancel_grace_ns);
    out_puts(&o, hf->output == HAZ_OUTPUT_BUFFERED ? " output=buffered\n" :
             " output=live\n");
    caps = haz_graph_tag_caps(hf->graph, &n_caps);
    for (i = 0; caps && i < n_caps; i++) {
        out_puts(&o, "tag ");
        out_text(&o, caps[i].tag);
        out_puts(&o, ": cap=");
        out_ulong(&o, caps[i].cap);
        out_byte(&o, '\n');
    }
    for (i = 0; i < n; i++) {
        haz_task_info t;

        if (!selected[i] || haz_graph_task_info(hf->graph, i, &t) != 0)
            continue;
        out_task(&o, hf->graph, &t, probe[i]);
    }
    out_flush(&o);
    if (o.err != 0) {
        say("cannot write the listing: %s", strerror(o.err));
        return EXIT_INTERNAL;
    }
    return EXIT_OK;
}

int dry_run(haz_ctx *ctx, const haz_hazfile *hf,
            const unsigned char *selected, const options *opt,
            const char *file)
{
    size_t n = haz_graph_task_count(hf->graph);
    haz_probe *probe = calloc(n ? n : 1, sizeof *probe);
    haz_cache_store *store = NULL;
    haz_clock *clock = NULL;
    haz_run_options ro;
    haz_run_config cfg;
    char *root = workspace_root(file);
    int status = EXIT_INTERNAL;

    if (probe == NULL || root == NULL) {
        say("cannot prepare the listing: %s", strerror(errno));
        goto done;
    }
    haz_run_options_init(&ro);
    ro.workspace_root = root;
    ro.host_env = (const char *const *)environ;
    ro.no_cache = opt->no_cache;
    memset(&cfg, 0, sizeof cfg);
    cfg.graph = hf->graph;
    cfg.selected = selected;
    cfg.hash = &haz_hash_sha256;
    cfg.options = &ro;
    if (!opt->no_cache &&
        haz_clock_open(ctx, &haz_clock_posix, NULL, &clock) == 0)
        cfg.cache = store = open_cache_store(ctx, root, clock, 0);
    if (haz_run_probe(ctx, &cfg, probe) != 0) {
        say("cannot look the tasks up in the cache: %s", haz_ctx_errmsg(ctx));
        goto done;
    }
    status = list_tasks(hf, selected, probe);
done:
    haz_cache_store_close(store);
    haz_clock_close(clock);
    free(root);
    free(probe);
    return status;
}
