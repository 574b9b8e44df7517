/*
 * lib/cachekey.h: the cache key of a task (design 2.15, reference-io.md
 * 3.3, CACHE-001..009) and the resolution and hashing of its input files
 * (reference-io.md 4.3).
 *
 * Two layers:
 *   - haz__cachekey_build: the pure key builder.  It takes the components
 *     (action, environment view, input files with their content hashes,
 *     hard predecessors with their stream hashes) in any order, sorts each
 *     list itself and feeds the canonical byte encoding of docs/cache-key.md
 *     into the hash.  Nothing else goes into the key: not the task's or
 *     project's name, outputs, tags, mutexes or timeout.
 *   - haz__task_cache_key: what the scheduler calls for a frozen task.  It
 *     resolves the task's input patterns under the workspace root, hashes
 *     every file (through the persistent record of lib/filestat.h when one
 *     is given, so unchanged files are not read again) and builds the key.
 */
#ifndef HAZ_CACHEKEY_H
#define HAZ_CACHEKEY_H

#include "internal.h"
#include "graph_private.h"
#include "filestat.h"

/* The schema revision byte, the first byte of every key encoding.  Bumped
 * whenever docs/cache-key.md changes how anything is encoded. */
#define HAZ__CACHEKEY_REVISION 0x00

/* Tags and markers of the encoding (docs/cache-key.md). */
#define HAZ__KEY_TAG_ARGV 0x01
#define HAZ__KEY_TAG_SHELL 0x02
#define HAZ__KEY_SHELL_POSIX_SH 0x01  /* `/bin/sh -c SCRIPT` (design 2.14) */
#define HAZ__KEY_ENV_ABSENT 0x00
#define HAZ__KEY_ENV_PRESENT 0x01

/* The action (CACHE-005). */
typedef struct haz__key_action {
    haz_action_kind kind;          /* HAZ_ACTION_ARGV or HAZ_ACTION_SHELL */
    const char *const *argv;       /* ARGV: argc words (argc >= 1) */
    size_t argc;
    const char *script;            /* SHELL: the script */
} haz__key_action;

/* The environment view (CACHE-008). */
typedef struct haz__key_env {
    const char *const *allow;      /* allow-listed host names, any order;
                                      a name given twice counts once */
    size_t n_allow;
    const char *const *host;       /* the run's host snapshot, "NAME=VALUE",
                                      NULL-terminated; NULL: nothing set.
                                      The first entry for a name wins, as in
                                      the child's environment */
    const haz_env_pair *overrides; /* the task's overrides, any order; a
                                      name given twice is HAZ_EINVAL */
    size_t n_overrides;
} haz__key_env;

/* One input file (CACHE-006). */
typedef struct haz__key_input {
    const char *path;              /* workspace-absolute, "/dir/file" */
    unsigned char hash[HAZ_HASH_MAX_DIGEST];   /* content hash */
} haz__key_input;

/* One hard predecessor (CACHE-007). */
typedef struct haz__pred_hashes {
    const char *id;                /* "project:task" */
    unsigned char stdout_hash[HAZ_HASH_MAX_DIGEST];
    unsigned char stderr_hash[HAZ_HASH_MAX_DIGEST];
} haz__pred_hashes;

/* One environment entry after merging (CACHE-008): value NULL means the
 * allow-listed name is unset on the host. */
typedef struct haz__key_envitem {
    const char *name;
    const char *value;
} haz__key_envitem;

/*
 * haz__key_env_resolve: merge the allow-list, the host snapshot and the
 * overrides of `env` into the list the key encodes: sorted by name, each
 * name once, an override winning over the host.  *items (freed with
 * haz__free) receives *n entries pointing into `env`'s strings.
 * Returns 0 or one of: HAZ_EINVAL (a NULL string, an override given twice),
 * HAZ_ENOMEM.
 */
int haz__key_env_resolve(haz_ctx *ctx, const haz__key_env *env,
                         haz__key_envitem **items, size_t *n);

/*
 * haz__cachekey_build: derive the key of the given components under hash
 * `h` and write it (h->digest_len bytes) to key_out.  The lists may come in
 * any order.  With `encoding` non-NULL the exact bytes fed to the hash are
 * also appended to it (for debugging and the test vectors).
 * Returns 0 or one of: HAZ_EINVAL (NULL argument, unknown action kind, an
 * argv without words, a NULL string, the same override name, input path or
 * predecessor id given twice), HAZ_ENOMEM.  Nothing is written to key_out
 * on failure.
 */
int haz__cachekey_build(haz_ctx *ctx, const haz_hash_methods *h,
                        const haz__key_action *act, const haz__key_env *env,
                        const haz__key_input *inputs, size_t n_inputs,
                        const haz__pred_hashes *preds, size_t n_preds,
                        haz_buf *encoding, unsigned char *key_out);

/* ------------------------------------------------------------------------
 * Input files of a task.
 * ---------------------------------------------------------------------- */

/* One resolved input: its path, content hash and the status the hash
 * belongs to (so a caller can tell afterwards whether it changed, C13). */
typedef struct haz__input_file {
    char *path;                    /* workspace-absolute */
    unsigned char hash[HAZ_HASH_MAX_DIGEST];
    haz__fileid id;
} haz__input_file;

typedef struct haz__input_set {
    haz_ctx *ctx;
    haz__input_file *v;            /* sorted by path, unique */
    size_t n;
} haz__input_set;

void haz__input_set_init(haz__input_set *s, haz_ctx *ctx);
void haz__input_set_free(haz__input_set *s);

/*
 * haz__task_inputs: resolve the input patterns of `task` under the
 * workspace root `ws_root` (an absolute host path) and hash every file with
 * `h` (through `fsrec` when it is not NULL).  A literal input that is
 * missing is an error; a glob that matches nothing is not.  A symbolic link
 * is recorded under its own path and hashed through the link.  The result
 * replaces the content of `out`.
 * Returns 0 or one of: HAZ_ENOENT (a literal input does not exist, or a
 * file vanished while being hashed), HAZ_EEXIST (a literal input is not a
 * regular file), HAZ_EIO (a directory or file could not be read; the
 * context's errno says why), HAZ_ENOMEM, HAZ_EINVAL.  The context's
 * message names the task and the path.
 */
int haz__task_inputs(haz_ctx *ctx, const haz_hash_methods *h,
                     const char *ws_root, const haz__gtask *task,
                     haz__filestat *fsrec, haz__input_set *out);

/*
 * haz__input_set_changed: stat every file of `s` again (under ws_root) and
 * return 1 when any of them differs from the status its hash was taken
 * from (or is gone), else 0; *which (if not NULL) then points at the first
 * changed path inside `s`.  Returns HAZ_ENOMEM when memory ran out before
 * the answer was known.  Lets the scheduler refuse to store a result
 * whose inputs changed while the task ran (reliability test C13).
 */
int haz__input_set_changed(const char *ws_root, const haz__input_set *s,
                           const char **which);

/*
 * haz__task_cache_key: the key of `task` (design 2.15).  `host_env` is the
 * run's snapshot ("NAME=VALUE", NULL-terminated, may be NULL); `preds` are
 * the stream hashes of the task's hard predecessors, exactly
 * task->info.n_deps of them, in any order.  The input files are resolved
 * and hashed as haz__task_inputs does; with `inputs` non-NULL the set is
 * handed back (else freed).  key_out receives h->digest_len bytes.
 * Returns 0 or what haz__task_inputs returns, or HAZ_EINVAL (a bad
 * argument, or n_preds different from the task's hard predecessor count:
 * a scheduler bug, PredecessorStreamsMissing).  On failure the scheduler
 * reports the task as errored (HAZ_TERR_BUILD_KEY) with the context's
 * message and errno.
 */
int haz__task_cache_key(haz_ctx *ctx, const haz_hash_methods *h,
                        const char *ws_root, const haz__gtask *task,
                        const char *const *host_env,
                        const haz__pred_hashes *preds, size_t n_preds,
                        haz__filestat *fsrec, haz__input_set *inputs,
                        unsigned char *key_out);

#endif /* HAZ_CACHEKEY_H */
