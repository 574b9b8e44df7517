/*
 * lib/strmap.h: a string-keyed hash map (open addressing, linear probing)
 * from NUL-terminated byte strings to size_t values.  Keys are not copied:
 * they must outlive the map.  Used for output claims (EXEC-020) and other
 * per-run lookups by path or name.
 */
#ifndef HAZ_STRMAP_H
#define HAZ_STRMAP_H

#include "internal.h"

typedef struct haz_strmap {
    haz_ctx *ctx;
    const char **keys;      /* NULL: empty slot */
    size_t *vals;
    size_t cap;             /* power of two, or 0 */
    size_t len;
} haz_strmap;

void haz__strmap_init(haz_strmap *m, haz_ctx *ctx);
void haz__strmap_free(haz_strmap *m);

/* haz__strmap_get: 1 and *val if `key` is present, else 0. */
int haz__strmap_get(const haz_strmap *m, const char *key, size_t *val);

/* haz__strmap_put: insert or replace.  Returns 0 or HAZ_ENOMEM (the map is
 * unchanged then). */
int haz__strmap_put(haz_strmap *m, const char *key, size_t val);

/* haz__strhash: the map's hash function (FNV-1a, 64-bit folded). */
size_t haz__strhash(const char *s);

#endif /* HAZ_STRMAP_H */
