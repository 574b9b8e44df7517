/*
 * lib/pattern.h: private helpers around names, paths and glob patterns
 * (lib/pattern.c), shared by graph validation, the scheduler's producer
 * matching and output-overlap checks, and the cache.
 */
#ifndef HAZ_PATTERN_H
#define HAZ_PATTERN_H

#ifndef HAZ_BUILDING
#error "lib/pattern.h is private to the hazexec build"
#endif

#include <stddef.h>
#include <stdint.h>

#include "hazexec/common.h"

/* Limits on brace alternation, so that matching stays cheap: a pattern may
 * hold at most this many {...} groups, expanding to at most this many
 * alternatives in all.  haz_pattern_check rejects anything larger. */
#define HAZ__PATTERN_MAX_GROUPS 32
#define HAZ__PATTERN_MAX_ALTERNATIVES 1024

/*
 * haz__pattern_match: 1 if `path` matches `pattern`, else 0.  Both are
 * workspace-absolute ("/a/b") or both relative ("a/b"); a mix never
 * matches.  `*` and `?` never match '/', `?` and classes match one UTF-8
 * character (or one byte that is not part of valid UTF-8), `**` as a whole
 * segment matches zero or more segments (one or more at the end of the
 * pattern), `[...]` classes take ranges and `!`/`^` negation, `{a,b}` is
 * one level of alternation, `\` escapes the next byte.  A pattern that
 * haz_pattern_check rejects matches nothing.  Runs in O(A * |pattern| *
 * |path|) time for A brace alternatives, with no recursion and no
 * allocation.
 */
int haz__pattern_match(const char *pattern, const char *path);

/*
 * haz__canonical_join: write the workspace-absolute form of `path` (a
 * literal path or a pattern, relative to the project root `root`, or
 * workspace-absolute with a leading '/') to `dst` and return its length
 * without the NUL.  With dst NULL only the length is computed; otherwise dst
 * must hold that many bytes plus one.  `root` NULL or "." is the workspace
 * root: "/path".  Else "/root/path".  A path that starts with '/' is copied
 * as is.  With `escape_root` set, the glob characters `*?[]{}\` in root get
 * a '\' in front, so that a glob pattern keeps meaning what it meant
 * relative to the root.
 */
size_t haz__canonical_join(char *dst, const char *root, const char *path,
                           int escape_root);

/*
 * haz__path_join_canonical: allocate the workspace-absolute form of the
 * literal path `path` of a project whose root is `project_root` (see
 * haz__canonical_join; no escaping).  *out is freed with haz__free.
 * Returns 0 or one of: HAZ_EINVAL (NULL path or out), HAZ_ENOMEM.
 */
int haz__path_join_canonical(haz_ctx *ctx, const char *project_root,
                             const char *path, char **out);

/*
 * haz__pattern_join_canonical: the same for a pattern: when `pattern` is a
 * glob, the glob characters of the root are escaped.
 * Returns 0 or one of: HAZ_EINVAL, HAZ_ENOMEM.
 */
int haz__pattern_join_canonical(haz_ctx *ctx, const char *project_root,
                                const char *pattern, char **out);

/* Why a name, environment variable name or project root is invalid: a
 * static reason, or NULL when it is valid.  haz__root_why accepts NULL and
 * "." (the workspace root). */
const char *haz__name_why(const char *name);
const char *haz__name_why_n(const char *name, size_t n);   /* name[0..n-1] */
const char *haz__env_name_why(const char *name);
const char *haz__root_why(const char *root);

/*
 * haz__utf8_decode: decode the character at s[0..n-1] (n >= 1) into *cp and
 * return its length in bytes.  Overlong forms, surrogates, values above
 * U+10FFFF and truncated sequences are invalid: then one byte is consumed
 * and *cp is 0xDC00 + the byte value (a lone surrogate, which no valid
 * sequence decodes to) when the byte is >= 0x80.
 */
size_t haz__utf8_decode(const char *s, size_t n, uint32_t *cp);

#endif /* HAZ_PATTERN_H */
