/*
 * hazexec/sha256.h: the SHA-256 reference backend (FIPS 180-4), in portable
 * C99.  Usable directly (haz_sha256_init / update / out) or through the
 * haz_hash_sha256 methods table.
 */
#ifndef HAZEXEC_SHA256_H
#define HAZEXEC_SHA256_H

#include "hash.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HAZ_SHA256_DIGEST_LEN 32
#define HAZ_SHA256_BLOCK_LEN  64

/*
 * The SHA-256 state.  Plain data: copy it with memcpy to fork a computation.
 * Its fields are private.
 */
typedef struct haz_sha256_ctx {
    uint32_t h[8];
    uint64_t count;               /* bytes fed so far */
    unsigned char buf[64];        /* pending partial block */
} haz_sha256_ctx;

/* haz_sha256_init: start a new computation. */
HAZ_API void haz_sha256_init(haz_sha256_ctx *c);

/* haz_sha256_update: feed `len` bytes from `data` (NULL allowed when len is
 * 0).  Any split of the input into calls gives the same digest. */
HAZ_API void haz_sha256_update(haz_sha256_ctx *c, const void *data, size_t len);

/* haz_sha256_out: write the 32-byte digest of the data fed so far.  `c` is
 * not modified, so feeding may continue. */
HAZ_API void haz_sha256_out(const haz_sha256_ctx *c, void *digest);

/* haz_sha256: one-shot digest of `len` bytes. */
HAZ_API void haz_sha256(const void *data, size_t len, void *digest);

/* The methods table: name "sha256", id HAZ_HASH_ID_SHA256, 32-byte digest. */
HAZ_API extern const haz_hash_methods haz_hash_sha256;

#ifdef __cplusplus
}
#endif
#endif /* HAZEXEC_SHA256_H */
