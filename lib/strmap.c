/*
 * lib/strmap.c: the string-keyed hash map of strmap.h.  The table doubles
 * when it is half full, so probes stay short and inserts are amortised
 * constant time.
 */
#include "internal.h"
#include "strmap.h"

#include <string.h>

size_t haz__strhash(const char *s)
{
    uint64_t h = UINT64_C(1469598103934665603);

    while (*s != '\0') {
        h ^= (unsigned char)*s++;
        h *= UINT64_C(1099511628211);
    }
    return (size_t)(h ^ (h >> 32));
}

void haz__strmap_init(haz_strmap *m, haz_ctx *ctx)
{
    memset(m, 0, sizeof(*m));
    m->ctx = ctx;
}

void haz__strmap_free(haz_strmap *m)
{
    haz__free(m->ctx, (void *)m->keys);
    haz__free(m->ctx, m->vals);
    m->keys = NULL;
    m->vals = NULL;
    m->cap = m->len = 0;
}

static size_t find_slot(const char **keys, size_t cap, const char *key)
{
    size_t i = haz__strhash(key) & (cap - 1);

    while (keys[i] != NULL && strcmp(keys[i], key) != 0)
        i = (i + 1) & (cap - 1);
    return i;
}

int haz__strmap_get(const haz_strmap *m, const char *key, size_t *val)
{
    size_t i;

    if (m->cap == 0)
        return 0;
    i = find_slot(m->keys, m->cap, key);
    if (m->keys[i] == NULL)
        return 0;
    if (val != NULL)
        *val = m->vals[i];
    return 1;
}

static int grow(haz_strmap *m)
{
    size_t cap = m->cap ? 2 * m->cap : 16, i;
    const char **keys;
    size_t *vals;

    if (cap < m->cap)
        return HAZ_ENOMEM;
    keys = haz__calloc(m->ctx, cap, sizeof(*keys));
    vals = haz__calloc(m->ctx, cap, sizeof(*vals));
    if (keys == NULL || vals == NULL) {
        haz__free(m->ctx, (void *)keys);
        haz__free(m->ctx, vals);
        return HAZ_ENOMEM;
    }
    for (i = 0; i < m->cap; i++) {
        if (m->keys[i] != NULL) {
            size_t j = find_slot(keys, cap, m->keys[i]);

            keys[j] = m->keys[i];
            vals[j] = m->vals[i];
        }
    }
    haz__free(m->ctx, (void *)m->keys);
    haz__free(m->ctx, m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return HAZ_OK;
}

int haz__strmap_put(haz_strmap *m, const char *key, size_t val)
{
    size_t i;

    if ((m->len + 1) * 2 > m->cap && grow(m) != 0)
        return HAZ_ENOMEM;
    i = find_slot(m->keys, m->cap, key);
    if (m->keys[i] == NULL) {
        m->keys[i] = key;
        m->len++;
    }
    m->vals[i] = val;
    return HAZ_OK;
}
