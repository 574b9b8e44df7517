/*
 * examples/hazrun_why.c: `hazrun why TASK [--summary FILE]`.
 *
 * Prints what TASK's cache key is made of now (haz_run_explain with no
 * result: the hard predecessors' output hashes come from their cache
 * entries, so each must be a hit) and whether the cache has an entry for
 * it.  Given a summary written by an earlier `hazrun --summary FILE`, it
 * reads the summary back with the strict reader of hazrun_jsonr.c and
 * names each component that differs from the task's record there: the
 * action, an environment variable, an input file (added, removed,
 * changed), a dependency (added, removed, output changed).
 *
 * Output on stdout:
 *     core:build
 *       key: HEX
 *       cache: hit (its entry is in the cache) | miss (...) | off
 *       action: shell: SCRIPT           or  action: argv: WORDS
 *       env: NAME=VALUE                 or  env: NAME (unset)
 *       input: PATH HEX
 *       dependency: ID stdout HEX stderr HEX
 *     changes since FILE:
 *       input /core/src/core.txt: changed
 *       ...
 * Exit status: 0 printed; 1 the key cannot be derived now (a dependency
 * is not in the cache, an input cannot be read); 2 bad usage, an unknown
 * task, or a summary that cannot be read or is not a hazrun summary.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hazrun_json.h"
#include "hazrun.h"

/* ------------------------------------------------------------------------
 * Finding the task.
 * ---------------------------------------------------------------------- */

/* The index of the task `ref` names ("project:task", or a name that only
 * one task has).  Returns 0, or an exit status after saying why. */
static int find_task(const haz_graph *g, const char *ref, size_t *index)
{
    size_t i, n = haz_graph_task_count(g), found = 0;

    if (strchr(ref, ':') != NULL) {
        if (haz_graph_find_task(g, ref, NULL, index) == 0)
            return 0;
        say("unknown task '%s'", ref);
        return EXIT_BADINPUT;
    }
    for (i = 0; i < n; i++) {
        haz_task_info t;

        if (haz_graph_task_info(g, i, &t) == 0 && strcmp(t.name, ref) == 0) {
            *index = i;
            found++;
        }
    }
    if (found == 1)
        return 0;
    say(found == 0 ? "unknown task '%s'"
                   : "'%s' names several tasks: say PROJECT:TASK", ref);
    return EXIT_BADINPUT;
}

/* ------------------------------------------------------------------------
 * Printing the components.
 * ---------------------------------------------------------------------- */

static void print_action(out *o, const haz_key_info *k)
{
    if (k->action == HAZ_ACTION_SHELL) {
        out_puts(o, "shell: ");
    } else {
        out_puts(o, "argv: ");
    }
    out_command(o, k->action, k->script, k->argv, k->argc);
}

static void print_value(out *o, const char *v)
{
    if (v == NULL)
        out_puts(o, "unset");
    else
        out_shell_word(o, v);
}

static void print_info(out *o, const haz_key_info *k, haz_probe probe)
{
    size_t i;

    out_text(o, k->task);
    out_puts(o, "\n  key: ");
    out_hexdigest(o, k->key, k->hash_len);
    out_puts(o, "\n  cache: ");
    out_puts(o, probe == HAZ_PROBE_HIT ? "hit (its entry is in the cache)"
              : probe == HAZ_PROBE_MISS ? "miss (no entry with this key)"
              : "off");
    out_puts(o, "\n  action: ");
    print_action(o, k);
    out_byte(o, '\n');
    for (i = 0; i < k->n_env; i++) {
        out_puts(o, "  env: ");
        out_text(o, k->env[i].name);
        if (k->env[i].value == NULL) {
            out_puts(o, " (unset)");
        } else {
            out_byte(o, '=');
            out_shell_word(o, k->env[i].value);
        }
        out_byte(o, '\n');
    }
    for (i = 0; i < k->n_inputs; i++) {
        out_puts(o, "  input: ");
        out_text(o, k->inputs[i].path);
        out_byte(o, ' ');
        out_hexdigest(o, k->inputs[i].hash, k->hash_len);
        out_byte(o, '\n');
    }
    for (i = 0; i < k->n_preds; i++) {
        out_puts(o, "  dependency: ");
        out_text(o, k->preds[i].id);
        out_puts(o, " stdout ");
        out_hexdigest(o, k->preds[i].stdout_hash, k->hash_len);
        out_puts(o, " stderr ");
        out_hexdigest(o, k->preds[i].stderr_hash, k->hash_len);
        out_byte(o, '\n');
    }
}

/* ------------------------------------------------------------------------
 * Comparing with a summary.  The task's record is checked first, whole,
 * against the schema (check_*), so that nothing is printed about a file
 * that turns out not to be a summary; the comparison (compare_*) then
 * reads it without further checks.
 * ---------------------------------------------------------------------- */

typedef struct cmp {
    out *o;
    const char *file;
    int bad;                /* the summary does not have the schema */
    unsigned changes;
} cmp;

/* The summary is not what hazrun writes: say where, once. */
static void malformed(cmp *c, const char *where, const char *key,
                      const char *what)
{
    if (!c->bad) {
        char msg[200];

        (void)snprintf(msg, sizeof msg, "%s%s%s %s", where,
                       *where != '\0' ? "." : "", key, what);
        say("'%s' is not a valid hazrun summary: %s", c->file, msg);
    }
    c->bad = 1;
}

/* Member `key` of v must be a string (or null when `nullable`). */
static void check_str(cmp *c, const json_value *v, const char *key,
                      int nullable, const char *where)
{
    const json_value *m = json_member(v, key);

    if (m != NULL && (m->kind == JSON_STRING ||
                      (nullable && m->kind == JSON_NULL)))
        return;
    malformed(c, where, key, nullable ? "is not a string or null"
                                      : "is not a string");
}

/* Member `key` of v must be an array of `kind`; returns it or NULL. */
static const json_value *check_array(cmp *c, const json_value *v,
                                     const char *key, json_kind kind,
                                     const char *where)
{
    const json_value *m = json_member(v, key);
    size_t i;

    if (m != NULL && m->kind == JSON_ARRAY) {
        for (i = 0; i < m->n; i++)
            if (m->items[i]->kind != kind)
                break;
        if (i == m->n)
            return m;
    }
    malformed(c, where, key, kind == JSON_STRING
                                 ? "is not an array of strings"
                                 : "is not an array of objects");
    return NULL;
}

/* Each element of the array `key` of v must have the string members
 * named in `members` (NULL-terminated; a leading '?' allows null). */
static void check_records(cmp *c, const json_value *v, const char *key,
                          const char *const *members, const char *where)
{
    const json_value *a = check_array(c, v, key, JSON_OBJECT, where);
    char in[64];
    size_t i, k;

    (void)snprintf(in, sizeof in, "%s.%s[]", where, key);
    for (i = 0; a != NULL && i < a->n && !c->bad; i++)
        for (k = 0; members[k] != NULL; k++)
            check_str(c, a->items[i], members[k] + (members[k][0] == '?'),
                      members[k][0] == '?', in);
}

static void check_components(cmp *c, const json_value *comp)
{
    static const char *const env[] = {"name", "?value", NULL};
    static const char *const inputs[] = {"path", "hash", NULL};
    static const char *const preds[] = {"id", "stdout_hash", "stderr_hash",
                                        NULL};
    const json_value *action = json_member(comp, "action");
    const char *kind;

    check_str(c, comp, "key", 0, "components");
    if (!c->bad && (action == NULL || action->kind != JSON_OBJECT))
        malformed(c, "components", "action", "is not an object");
    if (!c->bad)
        check_str(c, action, "kind", 0, "components.action");
    if (c->bad)
        return;
    kind = json_string(json_member(action, "kind"));
    if (strcmp(kind, "shell") == 0)
        check_str(c, action, "script", 0, "components.action");
    else if (strcmp(kind, "argv") == 0)
        (void)check_array(c, action, "argv", JSON_STRING,
                          "components.action");
    else
        malformed(c, "components.action", "kind", "is neither shell nor "
                                                  "argv");
    if (!c->bad)
        check_records(c, comp, "env", env, "components");
    if (!c->bad)
        check_records(c, comp, "inputs", inputs, "components");
    if (!c->bad)
        check_records(c, comp, "predecessors", preds, "components");
}

/* A hex string against a digest. */
static int same_hex(const char *hex, const unsigned char *d, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    if (hex == NULL || strlen(hex) != 2 * n)
        return 0;
    for (i = 0; i < n; i++)
        if (hex[2 * i] != digits[d[i] >> 4] ||
            hex[2 * i + 1] != digits[d[i] & 15])
            return 0;
    return 1;
}

/* "  WHAT NAME: HOW" (HOW carries its own line end). */
static void change(cmp *c, const char *what, const char *name,
                   const char *how)
{
    c->changes++;
    out_puts(c->o, "  ");
    out_puts(c->o, what);
    if (name != NULL) {
        out_byte(c->o, ' ');
        out_text(c->o, name);
    }
    out_puts(c->o, ": ");
    out_puts(c->o, how);
}

/* The string member `key` of v (checked to exist). */
static const char *str(const json_value *v, const char *key)
{
    return json_string(json_member(v, key));
}

static void compare_action(cmp *c, const haz_key_info *k,
                           const json_value *action)
{
    const char *kind = str(action, "kind");
    const json_value *argv = json_member(action, "argv");
    int shell = strcmp(kind, "shell") == 0, same;
    size_t i;

    if (shell) {
        same = k->action == HAZ_ACTION_SHELL && k->script != NULL &&
               strcmp(str(action, "script"), k->script) == 0;
    } else {
        same = k->action == HAZ_ACTION_ARGV && argv->n == k->argc;
        for (i = 0; same && i < argv->n; i++)
            same = strcmp(argv->items[i]->s, k->argv[i]) == 0;
    }
    if (same)
        return;
    change(c, "action", NULL, "changed\n    was: ");
    out_puts(c->o, kind);
    out_puts(c->o, ": ");
    if (shell) {
        out_text(c->o, str(action, "script"));
    } else {
        for (i = 0; i < argv->n; i++) {
            if (i > 0)
                out_byte(c->o, ' ');
            out_shell_word(c->o, argv->items[i]->s);
        }
    }
    out_puts(c->o, "\n    now: ");
    print_action(c->o, k);
    out_byte(c->o, '\n');
}

/* The element of `arr` whose member `key` is the string `name`. */
static const json_value *find_by(const json_value *arr, const char *key,
                                 const char *name)
{
    size_t i;

    for (i = 0; i < arr->n; i++) {
        const char *s = str(arr->items[i], key);

        if (s != NULL && strcmp(s, name) == 0)
            return arr->items[i];
    }
    return NULL;
}

static void compare_env(cmp *c, const haz_key_info *k, const json_value *env)
{
    size_t i, j;

    for (i = 0; i < k->n_env; i++) {
        const json_value *was = find_by(env, "name", k->env[i].name);
        const char *old, *now = k->env[i].value;

        if (was == NULL) {
            change(c, "env", k->env[i].name, "added (");
            print_value(c->o, now);
            out_puts(c->o, ")\n");
            continue;
        }
        old = str(was, "value");
        if ((old == NULL) == (now == NULL) &&
            (old == NULL || strcmp(old, now) == 0))
            continue;
        change(c, "env", k->env[i].name, "changed from ");
        print_value(c->o, old);
        out_puts(c->o, " to ");
        print_value(c->o, now);
        out_byte(c->o, '\n');
    }
    for (i = 0; i < env->n; i++) {
        const char *name = str(env->items[i], "name");

        for (j = 0; j < k->n_env; j++)
            if (strcmp(k->env[j].name, name) == 0)
                break;
        if (j < k->n_env)
            continue;
        change(c, "env", name, "removed (was ");
        print_value(c->o, str(env->items[i], "value"));
        out_puts(c->o, ")\n");
    }
}

static void compare_inputs(cmp *c, const haz_key_info *k,
                           const json_value *in)
{
    size_t i, j;

    for (i = 0; i < k->n_inputs; i++) {
        const json_value *was = find_by(in, "path", k->inputs[i].path);

        if (was == NULL)
            change(c, "input", k->inputs[i].path, "added\n");
        else if (!same_hex(str(was, "hash"), k->inputs[i].hash,
                           k->hash_len))
            change(c, "input", k->inputs[i].path, "changed\n");
    }
    for (i = 0; i < in->n; i++) {
        const char *path = str(in->items[i], "path");

        for (j = 0; j < k->n_inputs; j++)
            if (strcmp(k->inputs[j].path, path) == 0)
                break;
        if (j == k->n_inputs)
            change(c, "input", path, "removed\n");
    }
}

static void compare_preds(cmp *c, const haz_key_info *k,
                          const json_value *pr)
{
    size_t i, j;

    for (i = 0; i < k->n_preds; i++) {
        const json_value *was = find_by(pr, "id", k->preds[i].id);
        int out_changed, err_changed;

        if (was == NULL) {
            change(c, "dependency", k->preds[i].id, "added\n");
            continue;
        }
        out_changed = !same_hex(str(was, "stdout_hash"),
                                k->preds[i].stdout_hash, k->hash_len);
        err_changed = !same_hex(str(was, "stderr_hash"),
                                k->preds[i].stderr_hash, k->hash_len);
        if (out_changed || err_changed)
            change(c, "dependency", k->preds[i].id,
                   out_changed && err_changed
                       ? "output changed (stdout and stderr)\n"
                       : out_changed ? "output changed (stdout)\n"
                                     : "output changed (stderr)\n");
    }
    for (i = 0; i < pr->n; i++) {
        const char *id = str(pr->items[i], "id");

        for (j = 0; j < k->n_preds; j++)
            if (strcmp(k->preds[j].id, id) == 0)
                break;
        if (j == k->n_preds)
            change(c, "dependency", id, "removed\n");
    }
}

/* A summary read back: the document, the task's record (NULL when the
 * task is not in it) and its components (an object, or null). */
typedef struct summary_doc {
    json_value *doc;
    const json_value *task;
    const json_value *comp;
} summary_doc;

/* Read `file` and check the record of task `id`.  Returns -1 to go on,
 * or an exit status after saying what is wrong. */
static int summary_load(const char *file, const char *id, summary_doc *sm)
{
    const json_value *tasks = NULL;
    char err[256];
    uint64_t version;
    cmp c;
    int rc;

    memset(&c, 0, sizeof c);
    memset(sm, 0, sizeof *sm);
    c.file = file;
    rc = json_read_file(file, &sm->doc, err, sizeof err);
    if (rc != JSON_OK) {
        say("cannot read the summary '%s': %s", file, err);
        return rc == JSON_ENOMEM ? EXIT_INTERNAL : EXIT_BADINPUT;
    }
    check_str(&c, sm->doc, "schema", 0, "");
    if (!c.bad && (strcmp(str(sm->doc, "schema"), "hazrun-summary") != 0 ||
                   json_uint(json_member(sm->doc, "schema_version"),
                             &version) != 0 || version != 1))
        malformed(&c, "", "schema", "is not hazrun-summary version 1");
    if (!c.bad)
        tasks = check_array(&c, sm->doc, "tasks", JSON_OBJECT, "");
    if (!c.bad && (sm->task = find_by(tasks, "id", id)) != NULL) {
        sm->comp = json_member(sm->task, "components");
        if (sm->comp != NULL && sm->comp->kind == JSON_OBJECT)
            check_components(&c, sm->comp);
        else if (sm->comp == NULL || sm->comp->kind != JSON_NULL)
            malformed(&c, "tasks[]", "components", "is not an object or "
                                                   "null");
        else
            check_str(&c, sm->task, "components_error", 1, "tasks[]");
    }
    if (c.bad) {
        json_free(sm->doc);
        sm->doc = NULL;
        return EXIT_BADINPUT;
    }
    return -1;
}

/* What changed since the summary. */
static void summary_diff(out *o, const char *file, const summary_doc *sm,
                         const haz_key_info *k)
{
    const json_value *comp = sm->comp;
    cmp c;

    memset(&c, 0, sizeof c);
    c.o = o;
    c.file = file;
    out_puts(o, "changes since ");
    out_text(o, file);
    out_puts(o, ":\n");
    if (sm->task == NULL) {
        out_puts(o, "  ");
        out_text(o, k->task);
        out_puts(o, " is not in the summary\n");
    } else if (comp->kind == JSON_NULL) {
        const char *why = str(sm->task, "components_error");

        out_puts(o, "  the summary has no key for it");
        if (why != NULL) {
            out_puts(o, ": ");
            out_text(o, why);
        }
        out_byte(o, '\n');
    } else {
        compare_action(&c, k, json_member(comp, "action"));
        compare_env(&c, k, json_member(comp, "env"));
        compare_inputs(&c, k, json_member(comp, "inputs"));
        compare_preds(&c, k, json_member(comp, "predecessors"));
        if (same_hex(str(comp, "key"), k->key, k->hash_len))
            out_puts(o, "  nothing: the key is the same\n");
        else if (c.changes == 0)
            out_puts(o, "  the key changed, but none of its components "
                        "did (another hash or key encoding)\n");
    }
}

/* ------------------------------------------------------------------------
 * The command.
 * ---------------------------------------------------------------------- */

int why_command(haz_ctx *ctx, const haz_hazfile *hf, const options *opt,
                const char *file)
{
    const char *target = NULL, *summary = opt->summary;
    size_t index, n = haz_graph_task_count(hf->graph);
    unsigned char *selected = NULL;
    haz_probe *probe = NULL;
    haz_clock *clock = NULL;
    haz_cache_store *store = NULL;
    haz_key_explain *e = NULL;
    haz_run_options ro;
    haz_run_config cfg;
    haz_task_info ti;
    summary_doc sm;
    char *root = NULL;
    int i, rc, status = EXIT_INTERNAL;
    out o;

    memset(&sm, 0, sizeof sm);
    for (i = 0; i < opt->n_cmd_args; i++) {
        const char *a = opt->cmd_args[i];

        if (strcmp(a, "--summary") == 0 && i + 1 < opt->n_cmd_args)
            summary = opt->cmd_args[++i];
        else if (strncmp(a, "--summary=", 10) == 0)
            summary = a + 10;
        else if (a[0] == '-' && a[1] != '\0')
            return usage_error("unknown why option '%s'", a);
        else if (target != NULL)
            return usage_error("why takes one task, got '%s' too", a);
        else
            target = a;
    }
    if (target == NULL)
        return usage_error("%s", "why needs a task: hazrun why "
                                 "PROJECT:TASK");
    if (summary != NULL && summary[0] == '\0')
        return usage_error("%s", "--summary needs a file name");
    if ((rc = find_task(hf->graph, target, &index)) != 0)
        return rc;
    (void)haz_graph_task_info(hf->graph, index, &ti);
    root = workspace_root(file);
    selected = malloc(n);
    probe = calloc(n, sizeof *probe);
    if (root == NULL || selected == NULL || probe == NULL ||
        haz_graph_select(hf->graph, &ti.id, 1, selected, NULL) != 0 ||
        haz_clock_open(ctx, &haz_clock_posix, NULL, &clock) != 0) {
        say("cannot prepare: %s", root == NULL ? "cannot resolve the "
                                                 "workspace directory"
                                               : "out of memory");
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
    cfg.clock = clock;
    cfg.options = &ro;
    if (!opt->no_cache)
        cfg.cache = store = open_cache_store(ctx, root, clock, 0);
    rc = haz_run_explain(ctx, &cfg, NULL, index, &e);
    if (rc == HAZ_ENOENT) {
        say("the key of %s cannot be known yet: %s", ti.id,
            haz_ctx_errmsg(ctx));
        say("its dependencies must have run and be in the cache first "
            "(hazrun %s runs them)", ti.id);
        status = 1;
        goto done;
    }
    if (rc != 0) {
        say("cannot derive the key of %s: %s", ti.id, haz_ctx_errmsg(ctx));
        status = 1;
        goto done;
    }
    if (haz_run_probe(ctx, &cfg, probe) != 0)
        probe[index] = HAZ_PROBE_NO_CACHE;
    if (summary != NULL &&
        (status = summary_load(summary, ti.id, &sm)) >= 0)
        goto done;
    out_init(&o, 1);
    print_info(&o, haz_key_explain_info(e), probe[index]);
    if (summary != NULL)
        summary_diff(&o, summary, &sm, haz_key_explain_info(e));
    status = EXIT_OK;
    out_flush(&o);
    if (o.err != 0) {
        say("cannot write: %s", strerror(o.err));
        status = EXIT_INTERNAL;
    }
done:
    json_free(sm.doc);
    haz_key_explain_free(e);
    haz_cache_store_close(store);
    haz_clock_close(clock);
    free(probe);
    free(selected);
    free(root);
    return status;
}
