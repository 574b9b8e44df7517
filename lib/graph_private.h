/*
 * lib/graph_private.h: the inside of haz_graph, shared by lib/graph.c (the
 * builder), lib/validate.c (validation, freezing and the queries) and the
 * scheduler.
 *
 * Two layers live here.  The builder layer (haz__project, struct haz_task,
 * struct haz_graph) records what the haz_graph_add_* and haz_task_* calls
 * gave, with the source location of each item.  The frozen layer
 * (haz__frozen, haz__gtask) exists only after a successful validation: tasks
 * in canonical order with resolved dependency indices and the precomputed
 * data the scheduler needs (tag caps per task, lock ids per mutex,
 * workspace-absolute patterns).  The scheduler should only use the frozen
 * layer, through haz__graph_tasks() and friends.
 */
#ifndef HAZ_GRAPH_PRIVATE_H
#define HAZ_GRAPH_PRIVATE_H

#ifndef HAZ_BUILDING
#error "lib/graph_private.h is private to the hazexec build"
#endif

#include "internal.h"

/* ------------------------------------------------------------------------
 * The frozen graph: what the scheduler reads.
 * ---------------------------------------------------------------------- */

/* One input or output pattern of a task. */
typedef struct haz__gpattern {
    const char *text;       /* as given (== info.inputs[i] / outputs[i]) */
    const char *abs;        /* workspace-absolute canonical form: for a
                               literal the path ("/core/a.o"), for a glob the
                               pattern with the project root in front (glob
                               characters of the root escaped), ready for
                               haz__pattern_match() */
    int is_glob;            /* haz_pattern_is_glob(text) */
} haz__gpattern;

/* One distinct lock key (design 2.2): (scope, project or NULL, name). */
typedef struct haz__glock {
    haz_mutex_scope scope;
    const char *project;    /* owning project for HAZ_MUTEX_PROJECT, else
                               NULL */
    const char *name;
} haz__glock;

/* One task of a frozen graph. */
typedef struct haz__gtask {
    haz_task_info info;             /* the public view, by value */
    const haz__gpattern *inputs;    /* info.n_inputs entries */
    const haz__gpattern *outputs;   /* info.n_outputs entries */
    const size_t *caps;             /* indices into the sorted tag caps of
                                       every capped tag the task carries,
                                       ascending */
    size_t n_caps;
    const size_t *locks;            /* per mutex, in declaration order
                                       (info.n_mutexes entries): its index
                                       into haz__graph_locks() */
} haz__gtask;

typedef struct haz__frozen {
    haz__gtask *tasks;      /* canonical order */
    size_t n;
    haz_tag_cap *caps;      /* sorted by tag */
    size_t n_caps;
    haz__glock *locks;      /* sorted by (scope, project, name) */
    size_t n_locks;
    const haz__gtask **by_name; /* tasks sorted by (name, index) */
    /* Pools the arrays above and in haz__gtask point into. */
    size_t *ipool;
    const char **spool;
    haz_env_pair *epool;
    haz_mutex_decl *mpool;
    haz__gpattern *ppool;
    char *cpool;
    char *idpool;           /* the tasks' ids ("project:name"), one after
                               the other in canonical order: the run reads
                               them in about that order (spawn plans,
                               observers), so they stream from memory
                               rather than being looked up one by one */
} haz__frozen;

/*
 * haz__graph_tasks: the tasks of a validated graph in canonical order; *n
 * receives their number.  NULL (and *n = 0) exactly when the graph is not
 * frozen: a validated empty graph gives a non-NULL pointer and *n = 0.
 */
const haz__gtask *haz__graph_tasks(const haz_graph *g, size_t *n);

/*
 * haz__graph_locks: the distinct lock keys used by the graph's mutexes,
 * sorted by scope, project, name; haz__gtask.locks index into it, so the
 * scheduler can keep its hold set in plain arrays.  NULL (and *n = 0)
 * when not frozen or when no task declares a mutex.
 */
const haz__glock *haz__graph_locks(const haz_graph *g, size_t *n);

/* haz__graph_ctx: the context the graph was created with. */
haz_ctx *haz__graph_ctx(const haz_graph *g);

/* ------------------------------------------------------------------------
 * The builder.
 * ---------------------------------------------------------------------- */

/* Where an item came from: haz_graph_set_source at the time it was added.
 * `file` points into the graph's list of file names (or is NULL). */
typedef struct haz__src {
    const char *file;
    unsigned long line;
} haz__src;

/* Hash table key, the first member of every hashed object: (a, b) with b
 * NULL for one-string keys. */
typedef struct haz__key {
    size_t hash;
    const char *a;
    const char *b;
} haz__key;

/* Open addressing, linear probing, load factor at most 1/2; no removal. */
typedef struct haz__htab {
    haz__key **slot;
    size_t cap;             /* 0 or a power of two */
    size_t n;
} haz__htab;

/* A list of strings, each with its source location. */
typedef struct haz__item {
    char *text;
    haz__src src;
} haz__item;

typedef struct haz__items {
    haz__item *v;
    size_t n, cap;
} haz__items;

typedef struct haz__mutex_item {
    haz_mutex_decl decl;    /* decl.name == name */
    char *name;
    haz__src src;
} haz__mutex_item;

typedef struct haz__env_item {
    char *name;
    char *value;
    haz__src src;
} haz__env_item;

typedef struct haz__project {
    haz__key key;           /* (name, NULL); must stay first */
    char *name;
    char *root;             /* as given; NULL means the workspace root */
    int declared;           /* through haz_graph_add_project */
    haz__src src;           /* where declared or first used */
    haz__items tags;
    int root_ok;            /* validation scratch */
} haz__project;

struct haz_task {
    haz__key key;           /* (project name, task name); must stay first */
    haz_graph *g;
    haz__project *proj;
    char *id;               /* "project:name" */
    const char *name;       /* points into id */
    haz__src src;
    haz_action_kind action;
    char *script;
    char **argv;            /* argc entries + NULL */
    size_t argc;
    haz__src action_src;
    haz__items deps;
    haz__items weak_deps;
    haz__items tags;
    haz__items env_host;
    haz__items inputs;
    haz__items outputs;
    haz__mutex_item *mutexes;
    size_t n_mutexes, cap_mutexes;
    haz__env_item *env;
    size_t n_env, cap_env;
    uint64_t timeout_ns;
    size_t vidx;            /* validation scratch: canonical index */
};

typedef struct haz__cap_item {
    haz__key key;           /* (tag, NULL); must stay first */
    char *tag;
    unsigned cap;
    haz__src src;
} haz__cap_item;

struct haz_graph {
    haz_ctx *ctx;
    haz__frozen *fz;        /* non-NULL once validated */
    const char *cur_file;   /* current source, points into files */
    unsigned long cur_line;
    char **files;
    size_t n_files, cap_files;
    haz__project **projects;        /* creation order */
    size_t n_projects, cap_projects;
    haz__htab project_tab;
    haz_task **tasks;               /* creation order */
    size_t n_tasks, cap_tasks;
    haz__htab task_tab;
    haz__cap_item **caps;           /* creation order */
    size_t n_caps, cap_caps;
    haz__htab cap_tab;
    haz__items env_default;         /* default env_from_host */
};

/* Helpers shared by graph.c and validate.c. */

/* haz__reserve: make room for `need` elements of `size` bytes in the array
 * `arr` of capacity *cap.  Returns the (possibly moved) array, with *cap
 * updated, or NULL on allocation failure (then arr and *cap are unchanged
 * and still valid). */
void *haz__reserve(haz_ctx *ctx, void *arr, size_t *cap, size_t need,
                   size_t size);

/* Hash of the key (a[0..alen-1], b); b may be NULL. */
size_t haz__key_hash(const char *a, size_t alen, const char *b);
haz__key *haz__htab_find(const haz__htab *t, size_t hash, const char *a,
                         size_t alen, const char *b);

/* The task (project[0..plen-1], name), or NULL. */
haz_task *haz__graph_find(const haz_graph *g, const char *project,
                          size_t plen, const char *name);

/* Append `s` to b with control characters, invalid UTF-8, C1 controls and
 * bidirectional overrides escaped (\xHH or \uHHHH), cut after `max` bytes
 * of s with "...".  haz__quote cuts after 256 bytes.  Returns 0 or
 * HAZ_ENOMEM. */
int haz__quote_n(haz_buf *b, const char *s, size_t max);
int haz__quote(haz_buf *b, const char *s);

/* The same into a fixed buffer (always NUL-terminated, cut to fit), for
 * context error messages that must not allocate. */
void haz__quote_fixed(char *dst, size_t cap, const char *s);

void haz__frozen_free(haz_ctx *ctx, haz__frozen *fz);

#endif /* HAZ_GRAPH_PRIVATE_H */
