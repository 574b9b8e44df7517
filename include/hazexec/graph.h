/*
 * hazexec/graph.h: the task graph.
 *
 * A graph holds projects and tasks.  A project has a name, a root directory
 * (relative to the workspace root) and tags.  A task belongs to one project
 * and has an action (a shell script run as `/bin/sh -c SCRIPT`, or an argv
 * run directly), hard and soft dependencies, tags, mutexes, an environment
 * allow-list and overrides, input and output patterns and an optional
 * timeout.  The graph also carries the workspace settings that belong to
 * the task model: per-tag concurrency caps and the default host-environment
 * allow-list.
 *
 * Life cycle: build the graph through haz_graph_add_* and haz_task_*, then
 * call haz_graph_validate().  Building accepts any text for names, paths,
 * patterns and references and records it; validation checks everything and
 * reports every problem it finds at once (DAG-011).  After a successful
 * validation the graph is frozen: the add/set calls return HAZ_ESTATE, and
 * the read-only queries (haz_graph_task_count, haz_graph_task_info, ...)
 * become available, with tasks indexed 0..n-1 in canonical order: by
 * project name, then task name, byte-wise (strcmp).
 *
 * Rules checked by validation (reference-io.md section 5 and 6):
 *   names (projects, tasks, tags, mutexes)   ID-001..ID-004: 1 to 64 bytes;
 *       the first byte in [A-Za-z0-9]; the others in [A-Za-z0-9_-];
 *       case-sensitive.
 *   environment variable names               [A-Za-z_][A-Za-z0-9_]*, at most
 *       256 bytes.
 *   project roots                            "." or a relative path whose
 *       segments obey PATH-002 (no empty, ".", ".." segment, no control
 *       byte), without a leading or trailing '/'.
 *   input and output patterns                PATH-002/003 and PATH-008..016
 *       (see haz_pattern_check below).
 *   task references                          "project:task" (REF-003) or
 *       "~:task", the task of the bearing project (REF-002).  An unknown
 *       task is an error; so is a reference to the task itself (DAG-012),
 *       and the same task in both deps and weak_deps (DAG-010).
 *   cycles                                   over hard and soft edges
 *       together (DAG-014); each cycle is reported with its path,
 *       "a:x -> a:y -> a:x" (read "->" as "depends on").  Producer-matching
 *       edges are checked at run
 *       time (EXEC-019), where materialised outputs are known.
 *   literal outputs                          two tasks declaring the same
 *       literal output path (after resolving project-relative paths against
 *       the project root) is an error (DAG-016).
 *   actions                                  every task has exactly one
 *       action; an empty or all-blank script and an empty argv or argv[0]
 *       are rejected.
 */
#ifndef HAZEXEC_GRAPH_H
#define HAZEXEC_GRAPH_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct haz_graph haz_graph;
typedef struct haz_task haz_task;   /* a task being built */

#define HAZ_NAME_MAX 64         /* ID-003 */
#define HAZ_ENV_NAME_MAX 256

/* How a task runs. */
typedef enum haz_action_kind {
    HAZ_ACTION_NONE = 0,    /* not set yet (a validation error) */
    HAZ_ACTION_SHELL = 1,   /* /bin/sh -c SCRIPT */
    HAZ_ACTION_ARGV = 2     /* argv[0] found through the task's PATH */
} haz_action_kind;

/* Mutex scope (MUTEX-001) and mode (design 2.2). */
typedef enum haz_mutex_scope {
    HAZ_MUTEX_WORKSPACE = 0, /* "name": one lock for the whole workspace */
    HAZ_MUTEX_PROJECT = 1    /* "~:name": one lock per owning project */
} haz_mutex_scope;

typedef enum haz_mutex_mode {
    HAZ_MUTEX_EXCLUSIVE = 0, /* single writer (the default) */
    HAZ_MUTEX_SHARED = 1     /* many readers */
} haz_mutex_mode;

typedef struct haz_mutex_decl {
    haz_mutex_scope scope;
    haz_mutex_mode mode;
    const char *name;
} haz_mutex_decl;

typedef struct haz_env_pair {
    const char *name;
    const char *value;
} haz_env_pair;

typedef struct haz_tag_cap {
    const char *tag;
    unsigned cap;           /* >= 1 */
} haz_tag_cap;

/* ------------------------------------------------------------------------
 * Building.
 * ---------------------------------------------------------------------- */

/*
 * haz_graph_new: create an empty graph.  Its default host-environment
 * allow-list is { "PATH" } (design 2.14).
 * Returns 0 or one of: HAZ_EINVAL (NULL argument), HAZ_ENOMEM.
 */
HAZ_API int haz_graph_new(haz_ctx *ctx, haz_graph **out);

/* haz_graph_free: free the graph and every task in it.  NULL is ignored. */
HAZ_API void haz_graph_free(haz_graph *g);

/*
 * haz_graph_set_source: set the source location recorded with everything
 * added from now on (file may be NULL; line 0 means none).  Validation
 * diagnostics then read "FILE:LINE: message".  The file string is copied.
 * Returns 0 or one of: HAZ_ENOMEM, HAZ_ESTATE (frozen).
 */
HAZ_API int haz_graph_set_source(haz_graph *g, const char *file,
                                 unsigned long line);

/*
 * haz_graph_add_project: declare project `name` with root directory `root`
 * relative to the workspace root ("." or NULL for the workspace root).  A
 * project that tasks were added to before it was declared takes this root.
 * Returns 0 or one of: HAZ_EINVAL (NULL name), HAZ_EEXIST (declared
 * before), HAZ_ESTATE (frozen), HAZ_ENOMEM.
 */
HAZ_API int haz_graph_add_project(haz_graph *g, const char *name,
                                  const char *root);

/*
 * haz_graph_add_project_tag: add a tag to a project (creating the project
 * implicitly, with the workspace root, if it does not exist; a later
 * haz_graph_add_project may still declare it).  Every task of the project
 * carries it.  Adding a tag twice is harmless.
 * Returns 0 or one of: HAZ_EINVAL, HAZ_ESTATE, HAZ_ENOMEM.
 */
HAZ_API int haz_graph_add_project_tag(haz_graph *g, const char *project,
                                      const char *tag);

/*
 * haz_graph_set_tag_cap: at most `cap` tasks carrying `tag` run at once
 * (EXEC-005).  Setting it again replaces the value.
 * Returns 0 or one of: HAZ_EINVAL (NULL tag, cap 0), HAZ_ESTATE,
 * HAZ_ENOMEM.
 */
HAZ_API int haz_graph_set_tag_cap(haz_graph *g, const char *tag,
                                  unsigned cap);

/*
 * haz_graph_set_env_from_host: replace the default allow-list of host
 * variables every task receives with the `n` names given (n may be 0).
 * Returns 0 or one of: HAZ_EINVAL, HAZ_ESTATE, HAZ_ENOMEM.
 */
HAZ_API int haz_graph_set_env_from_host(haz_graph *g,
                                        const char *const *names, size_t n);

/*
 * haz_graph_add_task: add task `name` to `project` (declared implicitly with
 * the workspace root and no tags if needed).  On success *out, if not NULL,
 * receives a handle to configure the task with haz_task_*; the handle
 * belongs to the graph and is valid until it is freed.
 * Returns 0 or one of: HAZ_EINVAL (NULL argument), HAZ_EEXIST (the same
 * project:task was added before), HAZ_ESTATE (frozen), HAZ_ENOMEM.
 */
HAZ_API int haz_graph_add_task(haz_graph *g, const char *project,
                               const char *name, haz_task **out);

/*
 * The haz_task_* setters below copy their strings.  Each returns 0 or one
 * of: HAZ_EINVAL (NULL argument), HAZ_ESTATE (graph frozen), HAZ_ENOMEM,
 * plus the codes listed with the function.
 */

/* haz_task_set_shell: the action is `/bin/sh -c script`.
 * Also: HAZ_EEXIST when an action was set before. */
HAZ_API int haz_task_set_shell(haz_task *t, const char *script);

/* haz_task_set_argv: the action runs argv[0..argc-1] directly; argv[0] is
 * searched in the task's effective PATH unless it contains a '/'.
 * Also: HAZ_EEXIST when an action was set before. */
HAZ_API int haz_task_set_argv(haz_task *t, size_t argc,
                              const char *const *argv);

/* haz_task_add_dep: a hard edge from the referenced task (DAG-008).
 * `ref` is "project:task" or "~:task"; it is resolved at validation. */
HAZ_API int haz_task_add_dep(haz_task *t, const char *ref);

/* haz_task_add_weak_dep: a soft edge (DAG-009, design 2.1). */
HAZ_API int haz_task_add_weak_dep(haz_task *t, const char *ref);

/* haz_task_add_tag: a tag of the task itself, added to its project's. */
HAZ_API int haz_task_add_tag(haz_task *t, const char *tag);

/* haz_task_add_mutex: a mutex the task holds while its process runs
 * (MUTEX-001, design 2.2); a task may declare several.
 * Also: HAZ_EEXIST when the same lock (scope and name) is declared twice. */
HAZ_API int haz_task_add_mutex(haz_task *t, haz_mutex_scope scope,
                               haz_mutex_mode mode, const char *name);

/* haz_task_add_env_from_host: pass this host variable through, in addition
 * to the graph's default allow-list (CACHE-008). */
HAZ_API int haz_task_add_env_from_host(haz_task *t, const char *name);

/* haz_task_set_env: an override; it wins over the host's value.
 * Also: HAZ_EEXIST when the name was set before. */
HAZ_API int haz_task_set_env(haz_task *t, const char *name,
                             const char *value);

/* haz_task_add_input / haz_task_add_output: a path pattern, relative to the
 * project root, or to the workspace root with a leading '/'. */
HAZ_API int haz_task_add_input(haz_task *t, const char *pattern);
HAZ_API int haz_task_add_output(haz_task *t, const char *pattern);

/* haz_task_set_timeout_ns: the task is stopped and fails after this long
 * (design 2.10); 0 means no timeout of its own (the run's default applies). */
HAZ_API int haz_task_set_timeout_ns(haz_task *t, uint64_t timeout_ns);

/* ------------------------------------------------------------------------
 * Validation.
 * ---------------------------------------------------------------------- */

/*
 * haz_graph_validate: check the whole graph (see the top of this file),
 * appending one diagnostic per problem to `diags` (which may be NULL to
 * only get the verdict).  Diagnostics come in a stable order: workspace
 * settings (default env_from_host names, then tag caps by tag), projects
 * by name, per-task problems in canonical task order, then cycles (by
 * their smallest task), then output collisions (by path).  On HAZ_ENOMEM
 * `diags` may hold part of the problems.
 * On success the graph is frozen and indexed in canonical order; calling
 * it again on a frozen graph returns 0 at once.
 * Returns 0 or one of: HAZ_EGRAPH (problems found; the graph is not
 * frozen and can be corrected and validated again), HAZ_EINVAL,
 * HAZ_ENOMEM.
 */
HAZ_API int haz_graph_validate(haz_graph *g, haz_diags *diags);

/* ------------------------------------------------------------------------
 * Queries (valid graphs only).  Strings and arrays point into the graph and
 * stay valid until it is freed.
 * ---------------------------------------------------------------------- */

/* A read-only view of one task. */
typedef struct haz_task_info {
    size_t index;                 /* position in canonical order */
    const char *project;
    const char *name;
    const char *id;               /* "project:task" */
    const char *project_root;     /* relative to the workspace root; "." */
    haz_action_kind action;
    const char *script;           /* HAZ_ACTION_SHELL, else NULL */
    const char *const *argv;      /* HAZ_ACTION_ARGV: argc entries + NULL */
    size_t argc;
    const size_t *deps;           /* hard predecessors, sorted indices */
    size_t n_deps;
    const size_t *weak_deps;      /* soft predecessors, sorted indices */
    size_t n_weak_deps;
    const size_t *dependents;     /* hard successors, sorted indices */
    size_t n_dependents;
    const size_t *weak_dependents;/* soft successors, sorted indices */
    size_t n_weak_dependents;
    const char *const *tags;      /* project's and own, sorted, unique */
    size_t n_tags;
    const haz_mutex_decl *mutexes;/* in declaration order */
    size_t n_mutexes;
    const char *const *env_from_host; /* default list + own, sorted, unique */
    size_t n_env_from_host;
    const haz_env_pair *env;      /* overrides, sorted by name */
    size_t n_env;
    const char *const *inputs;    /* patterns as given */
    size_t n_inputs;
    const char *const *outputs;
    size_t n_outputs;
    uint64_t timeout_ns;          /* 0: none of its own */
} haz_task_info;

/* haz_graph_task_count: the number of tasks; 0 if not validated. */
HAZ_API size_t haz_graph_task_count(const haz_graph *g);

/*
 * haz_graph_task_info: fill *out with a view of task `index`.
 * Returns 0 or one of: HAZ_EINVAL (NULL, index out of range),
 * HAZ_ESTATE (not validated).
 */
HAZ_API int haz_graph_task_info(const haz_graph *g, size_t index,
                                haz_task_info *out);

/*
 * haz_graph_find_task: the index of the task that `ref` names.  `ref` is
 * "project:task", or "~:task" resolved against `bearing_project`.
 * Returns 0 or one of: HAZ_EINVAL (bad argument or reference syntax),
 * HAZ_ENOENT (no such task), HAZ_ESTATE (not validated).
 */
HAZ_API int haz_graph_find_task(const haz_graph *g, const char *ref,
                                const char *bearing_project, size_t *index);

/* haz_graph_tag_caps: the tag caps, sorted by tag; *n receives the count.
 * NULL (and *n = 0) when there are none or the graph is not validated. */
HAZ_API const haz_tag_cap *haz_graph_tag_caps(const haz_graph *g, size_t *n);

/*
 * haz_graph_select: mark the tasks a run contains (design 2.13): the
 * targets plus their hard and soft dependency closure.  `selected` must
 * have haz_graph_task_count() bytes; each is set to 1 (in the run) or 0.
 * A target is "project:task", or a bare task name meaning every task of
 * that name in any project.  n_targets == 0 selects every task.
 * Every unknown target is reported in `diags` (HAZ_DIAG_UNKNOWN_TARGET).
 * Returns 0 or one of: HAZ_EINVAL, HAZ_ENOENT (an unknown target; nothing
 * is selected), HAZ_ESTATE (not validated), HAZ_ENOMEM.
 */
HAZ_API int haz_graph_select(const haz_graph *g,
                             const char *const *targets, size_t n_targets,
                             unsigned char *selected, haz_diags *diags);

/* ------------------------------------------------------------------------
 * Syntax helpers, usable on their own.
 * ---------------------------------------------------------------------- */

/* haz_name_check: 0 if `name` is a valid project, task, tag or mutex name
 * (ID-001..003), else HAZ_EINVAL. */
HAZ_API int haz_name_check(const char *name);

/* haz_env_name_check: 0 if `name` is a valid environment variable name,
 * else HAZ_EINVAL. */
HAZ_API int haz_env_name_check(const char *name);

/*
 * haz_path_check: 0 if `path` is a valid path (PATH-002/003): optional
 * leading '/', then one or more segments separated by single '/', none
 * empty, ".", "..", or containing a byte below 0x20 or 0x7f, and no
 * trailing '/'.  Else HAZ_EINVAL, with a reason in `why` when it is not
 * NULL (a static string).
 */
HAZ_API int haz_path_check(const char *path, const char **why);

/*
 * haz_pattern_check: 0 if `pattern` is a valid input/output pattern: a
 * literal path (haz_path_check) or a glob with `*`, `?`, `**` (a whole
 * segment), `[...]` classes (with `!` or `^` negation and ranges), one level
 * of `{a,b}` alternation, and `\` escapes (PATH-008..016).  So that
 * matching stays cheap, a pattern holds at most 32 `{...}` groups and
 * expands to at most 1024 alternatives.  Else HAZ_EINVAL with a reason in
 * `why`.
 */
HAZ_API int haz_pattern_check(const char *pattern, const char **why);

/* haz_pattern_is_glob: 1 if the text contains any of `*?[{\` (PATH-015). */
HAZ_API int haz_pattern_is_glob(const char *pattern);

/*
 * haz_mutex_parse: parse a hazfile mutex spec: an optional "shared:" or
 * "exclusive:" mode prefix, then "~:" for project scope, then the name.
 * On success *name points into `spec`.
 * Returns 0 or HAZ_EINVAL (empty name, unknown prefix, invalid name).
 */
HAZ_API int haz_mutex_parse(const char *spec, haz_mutex_scope *scope,
                            haz_mutex_mode *mode, const char **name);

#ifdef __cplusplus
}
#endif
#endif /* HAZEXEC_GRAPH_H */
