/*
 * tests/cachefix.h: the fixture shared by the tests of the filesystem cache
 * store (tests/test_cache_fs.c and tests/test_cache_rel.c).
 *
 * Every test is bracketed by begin() and one of the end functions:
 *
 *   begin()   makes a fresh box under tests/tmp holding a workspace `ws`
 *             (its cache is `cachedir` = ws/.haz/cache) and, beside it, a
 *             canary directory whose signature (names, kinds, modes,
 *             contents, link targets) is recorded, and counts the open
 *             descriptors;
 *   end()     checks that the canary is unchanged (INV-WORKSPACE: no cache
 *             entry ever writes outside the workspace), that no descriptor
 *             leaked (INV-FD), and that haz_cache_fs_verify() finds the
 *             workspace cache clean: no broken entry, no temporary
 *             (INV-CACHE); then removes the box;
 *   end_broken(n)  the same for a test that corrupts entries on purpose
 *             and leaves them: verify must report exactly `n` broken
 *             entries (and no temporary).
 *
 * A test that fills another cache directory checks it itself with
 * verify_clean_at() before it removes it.
 *
 * Nothing here allocates through the library except the store helpers;
 * the helpers that take no `haz_ctx` use the fixture's `ctx` and `clk`,
 * which suite_init() opens (a mock clock) and suite_clean() closes.
 * Functions marked "no CUnit assertion" may be called in a forked child.
 */
#ifndef HAZ_TESTS_CACHEFIX_H
#define HAZ_TESTS_CACHEFIX_H

#include "internal.h"
#include "testutil.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* The fixture's context and mock clock (suite_init / suite_clean). */
extern haz_ctx *ctx;
extern haz_clock *clk;
/* The current box, its workspace, the canary and the workspace's cache
 * directory (all real paths, set by begin()). */
extern char box[1024], ws[1100], canary[1100], cachedir[1200];
/* The canary's signature; a test that changes the canary on purpose
 * records the new one with sig_of(canary, canary_sig). */
extern unsigned char canary_sig[32];

/* One output file of a store: workspace path, bytes, mode. */
typedef struct ofile {
    const char *path;
    const char *data;
    size_t len;
    unsigned mode;
} ofile;

/* suite_init: open ctx and clk; 0, or 1 on failure.  suite_clean: close
 * them; always 0.  (CUnit suite init and cleanup functions.) */
int suite_init(void);
int suite_clean(void);

/* begin, end, end_broken: see the top of this file. */
void begin(void);
void end(void);
void end_broken(uint64_t broken);

/* ------------------------------------------------------------------------
 * Files.  `rel` is relative to `base`, with or without a leading '/';
 * "" is base itself.
 * ---------------------------------------------------------------------- */

/* pathof: buf = base/rel (fatal assertion when it does not fit). */
void pathof(char *buf, size_t n, const char *base, const char *rel);

/* mkparents: create the directories above `file` (fatal on failure). */
void mkparents(const char *file);

/* put: write base/rel with `len` bytes of `data` and mode `mode`,
 * creating its parents and replacing what was there (fatal on failure). */
void put(const char *base, const char *rel, const void *data, size_t len,
         unsigned mode);

/* slurp: the whole regular file base/rel, malloc'ed with one spare byte
 * (the caller frees it), *len its size; NULL when it is missing or not a
 * regular file. */
unsigned char *slurp(const char *base, const char *rel, size_t *len);

/* get: read at most `cap` bytes of base/rel into buf; the length read, or
 * -1 when it cannot be opened.  No CUnit assertion. */
long get(const char *base, const char *rel, char *buf, size_t cap);

/* holds: 1 when base/rel is a regular file of exactly these bytes. */
int holds(const char *base, const char *rel, const void *data, size_t len);

/* exists: 1 when base/rel exists (a link is not followed).  lstat_of:
 * lstat(2) of base/rel.  mode_of: its permission bits, 0xffff when it is
 * missing.  No CUnit assertion. */
int exists(const char *base, const char *rel);
int lstat_of(const char *base, const char *rel, struct stat *st);
unsigned mode_of(const char *base, const char *rel);

/* rm_in: remove base/rel, a file or a whole tree (missing is fine). */
void rm_in(const char *base, const char *rel);

/* sig_of: the signature of the tree `dir` into out[32]. */
void sig_of(const char *dir, unsigned char *out);

/* ------------------------------------------------------------------------
 * The store.
 * ---------------------------------------------------------------------- */

/* open_store_in: a filesystem store (SHA-256, the fixture's clock) for
 * the workspace `root` with its cache in `cache` (NULL: the default,
 * root/.haz/cache), opened in context `c`; NULL on failure.  No CUnit
 * assertion.  open_store: the same for ws and its default cache in ctx,
 * with a fatal assertion that it opened.  Close with
 * haz_cache_store_close(). */
haz_cache_store *open_store_in(haz_ctx *c, const char *root,
                               const char *cache);
haz_cache_store *open_store(void);

/* key_n: the SHA-256 of "key <i>", a key unique to i. */
void key_n(int i, unsigned char *key);

/* store_at: write the `n` (at most 8) outputs `o` under `root`, then
 * store them under `key` with the given streams (NULL with length 0 for
 * an empty one) and creation time.  Returns the store's result, or -1
 * when the files could not be written.  No CUnit assertion. */
int store_at(haz_cache_store *cs, const char *root, const unsigned char *key,
             const ofile *o, size_t n, const char *out, size_t out_len,
             const char *err, size_t err_len, int64_t created);

/* entry_dir: the entry directory of `key` in cachedir.  entry_exists: 1
 * when it exists.  blob_path: the path of the blob of `data` in it. */
void entry_dir(const unsigned char *key, char *buf, size_t n);
int entry_exists(const unsigned char *key);
void blob_path(const unsigned char *key, const char *data, size_t len,
               char *buf, size_t n);

/* info: haz_cache_fs_info() of cachedir, asserting it succeeds.  verify:
 * haz_cache_fs_verify() of cachedir, asserting it returns HAZ_OK or
 * HAZ_ECORRUPT (the caller checks the counts). */
haz_cache_stats info(void);
haz_cache_stats verify(void);

/* verify_clean_at: assert that haz_cache_fs_verify() of `dir` returns
 * HAZ_OK with no broken entry and no temporary; returns its count of
 * entries.  `what` names the cache in a failure message. */
uint64_t verify_clean_at(const char *dir, const char *what);

/* clean_leftovers: age every temporary of cachedir past the grace period
 * (with the mock clock) and run clean --broken; asserts that no temporary
 * and no broken entry is left. */
void clean_leftovers(void);

#endif /* HAZ_TESTS_CACHEFIX_H */
