/*
 * hazexec/hash.h: the hash backend interface.
 *
 * A hash backend is a constant methods table (BearSSL br_hash_class style).
 * The state is caller-allocated: `context_size` bytes, suitably aligned for
 * any object type (allocate with malloc or use a haz_hash_state union).  The
 * state is plain data: it may be copied with memcpy to fork a computation.
 *
 * The core uses one hash backend per run for cache keys, input and output
 * content hashes and stream hashes (CACHE-002).  The backend's `id` byte is
 * fed into every cache key (design 2.15), so two backends never share keys.
 */
#ifndef HAZEXEC_HASH_H
#define HAZEXEC_HASH_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HAZ_HASH_METHODS_VERSION 1
#define HAZ_HASH_MAX_DIGEST 64   /* no backend may have a longer digest */

/* Well-known backend id bytes (the value recorded in cache keys). */
#define HAZ_HASH_ID_BLAKE3 0x00
#define HAZ_HASH_ID_SHA256 0x01

typedef struct haz_hash_methods haz_hash_methods;

struct haz_hash_methods {
    int version;            /* HAZ_HASH_METHODS_VERSION at the time of writing */
    const char *name;       /* lower-case name, e.g. "sha256" */
    unsigned id;            /* id byte recorded in cache keys (0..255) */
    size_t digest_len;      /* digest length in bytes, <= HAZ_HASH_MAX_DIGEST */
    size_t context_size;    /* bytes of state the caller provides */
    /* init: start a new computation in `state`. */
    void (*init)(void *state);
    /* update: feed `len` bytes (len may be 0; data may be NULL then). */
    void (*update)(void *state, const void *data, size_t len);
    /* out: write the digest of everything fed so far to `digest`
     * (digest_len bytes).  The state is left unchanged, so more data may be
     * fed afterwards and out called again. */
    void (*out)(const void *state, void *digest);
};

/*
 * A state buffer large enough and aligned enough for every built-in backend.
 * Third-party backends with larger states must be allocated by the caller.
 */
typedef union haz_hash_state {
    uint64_t u64[32];
    long double ld;
    void *p;
    unsigned char bytes[256];
} haz_hash_state;

/*
 * haz_hash_hex: write the lower-case hex form of `len` bytes of `digest` to
 * `hex`, which must hold 2*len+1 bytes (the result is NUL-terminated).
 */
HAZ_API void haz_hash_hex(const void *digest, size_t len, char *hex);

/*
 * haz_hash_unhex: parse exactly 2*len lower-case hex characters from `hex`
 * into `digest` (len bytes).  Upper-case digits, other characters and a
 * different length are rejected.  Returns 0 or HAZ_EINVAL.
 */
HAZ_API int haz_hash_unhex(const char *hex, void *digest, size_t len);

/*
 * haz_hash_find: the built-in backend with this name ("sha256"), or NULL.
 */
HAZ_API const haz_hash_methods *haz_hash_find(const char *name);

#ifdef __cplusplus
}
#endif
#endif /* HAZEXEC_HASH_H */
