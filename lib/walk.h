/*
 * lib/walk.h: resolving a task's path patterns against the filesystem
 * (reference-io.md 4.3): literals are looked up directly, globs walk the
 * directory tree below their literal prefix.  Only regular files match.
 * The scheduler uses it to enumerate the outputs a successful run
 * materialised (EXEC-019/020, design 2.17).
 */
#ifndef HAZ_WALK_H
#define HAZ_WALK_H

#include "internal.h"
#include "graph_private.h"

/* A sorted list of workspace-absolute paths, owned by the list. */
typedef struct haz_pathlist {
    haz_ctx *ctx;
    char **v;
    size_t n;
    size_t cap;
} haz_pathlist;

void haz__pathlist_init(haz_pathlist *l, haz_ctx *ctx);
void haz__pathlist_free(haz_pathlist *l);

/*
 * haz__resolve_patterns: add to `out` every regular file under the
 * workspace root `ws_root` (absolute host path) that one of the `n`
 * patterns names, then sort the list and drop duplicates.  A literal that
 * does not exist is an error when `missing_literal_fails` is set; a glob
 * that matches nothing is not.  The directory `.haz` at the workspace root
 * is never walked.
 * Returns 0 or one of: HAZ_ENOENT (a literal is missing), HAZ_EEXIST (a
 * literal exists but is not a regular file), HAZ_EIO (a directory could
 * not be read), HAZ_ENOMEM; the context's message names the path.
 */
int haz__resolve_patterns(haz_ctx *ctx, const char *ws_root,
                          const haz__gpattern *pats, size_t n,
                          int missing_literal_fails, haz_pathlist *out);

#endif /* HAZ_WALK_H */
