/*
 * lib/hash.c: backend-neutral helpers of the hash interface (hash.h): the
 * hex form of a digest and its strict parser, and the table of built-in hash
 * backends with lookup by name.
 */
#include "internal.h"

#include <string.h>

/* Built-in backends, in order of preference; NULL-terminated. */
static const haz_hash_methods *const builtin_hashes[] = {
    &haz_hash_sha256,
    NULL
};

static const char hexdigits[16] = "0123456789abcdef";

void haz_hash_hex(const void *digest, size_t len, char *hex)
{
    const unsigned char *d = digest;
    size_t i;

    if (hex == NULL)
        return;
    if (d == NULL)
        len = 0;
    for (i = 0; i < len; i++) {
        hex[2 * i] = hexdigits[d[i] >> 4];
        hex[2 * i + 1] = hexdigits[d[i] & 15];
    }
    hex[2 * len] = '\0';
}

/* The value of a lower-case hex digit, or -1. */
static int unhex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

int haz_hash_unhex(const char *hex, void *digest, size_t len)
{
    unsigned char *d = digest;
    size_t i;

    if (hex == NULL || digest == NULL || len > SIZE_MAX / 2)
        return HAZ_EINVAL;
    /* Check everything first, so a rejected string leaves digest alone.
     * The NUL terminator is not a digit, so a short string stops here. */
    for (i = 0; i < 2 * len; i++)
        if (unhex_digit(hex[i]) < 0)
            return HAZ_EINVAL;
    if (hex[2 * len] != '\0')
        return HAZ_EINVAL;
    for (i = 0; i < len; i++)
        d[i] = (unsigned char)((unhex_digit(hex[2 * i]) << 4)
                               | unhex_digit(hex[2 * i + 1]));
    return HAZ_OK;
}

const haz_hash_methods *haz_hash_find(const char *name)
{
    size_t i;

    if (name == NULL)
        return NULL;
    for (i = 0; builtin_hashes[i] != NULL; i++)
        if (strcmp(builtin_hashes[i]->name, name) == 0)
            return builtin_hashes[i];
    return NULL;
}
