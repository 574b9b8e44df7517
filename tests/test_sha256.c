/*
 * tests/test_sha256.c: conformance tests of the SHA-256 backend, plus the
 * hash helpers of lib/hash.c.
 *
 * One conformance suite, run two ways (the BearSSL test_crypto.c plan): the
 * same test functions run once through the direct API (haz_sha256_init /
 * update / out) and once through the methods table (haz_hash_sha256), each
 * suite's init function choosing the way.  The vectors are the FIPS 180-4 /
 * NIST ones ("", "abc", the 448- and 896-bit messages, one million 'a'),
 * each fed in one call, byte by byte and split at every offset; and
 * messages around the padding boundaries (55/56/64 bytes and the next
 * block), whose digests were computed with coreutils sha256sum.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------------
 * The two ways.
 * ---------------------------------------------------------------------- */

typedef struct way {
    const char *name;
    void (*init)(void *st);
    void (*update)(void *st, const void *data, size_t len);
    void (*out)(const void *st, void *digest);
    size_t state_size;           /* bytes of state that carry meaning */
} way;

static void direct_init(void *st)
{
    haz_sha256_init(st);
}

static void direct_update(void *st, const void *data, size_t len)
{
    haz_sha256_update(st, data, len);
}

static void direct_out(const void *st, void *digest)
{
    haz_sha256_out(st, digest);
}

static const way way_direct = {
    "direct", direct_init, direct_update, direct_out, sizeof(haz_sha256_ctx)
};

static way way_table;            /* filled from haz_hash_sha256 */
static const way *cur;           /* the way of the running suite */

static int init_direct(void)
{
    cur = &way_direct;
    return 0;
}

static int init_table(void)
{
    if (haz_hash_sha256.context_size > sizeof(haz_hash_state))
        return 1;
    way_table.name = "methods";
    way_table.init = haz_hash_sha256.init;
    way_table.update = haz_hash_sha256.update;
    way_table.out = haz_hash_sha256.out;
    way_table.state_size = haz_hash_sha256.context_size;
    cur = &way_table;
    return 0;
}

/* ------------------------------------------------------------------------
 * Vectors and helpers.
 * ---------------------------------------------------------------------- */

typedef struct kat {
    const char *msg;
    const char *hex;
} kat;

static const kat kats[] = {
    {"",
     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc",
     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
     "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
     "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
};

#define MILLION 1000000u
static const char million_a_hex[] =
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

/* Bytes (i * 31 + 7) mod 256 for i = 0 .. len-1, hashed with sha256sum. */
typedef struct pad_kat {
    size_t len;
    const char *hex;
} pad_kat;

static const pad_kat pad_kats[] = {
    {1, "ca358758f6d27e6cf45272937977a748fd88391db679ceda7dc7bf1f005ee879"},
    {55, "8aa994584139d128848eeebc4e815639ba5ab6e6e39574195a63ac4f14f7c43b"},
    {56, "ad574708f75c044c9b85de64cb568ee7711ff4f36448c6242f053ba8f6cc2b63"},
    {57, "5b46e502092be01b1100193e089fdda95638c12e19a1d24f308eb2c3d3ae849d"},
    {63, "280ed3e8ff1df845b2e7dfe6ac6cee817bef20e783cc65abc41b818b4d2fe076"},
    {64, "c6ab9724ade5b6a7a1edfffb12f3aa9181351355af8fd08c919952ad211339dd"},
    {65, "788367c73c7ddf4c53f65e68cc0d943e6227ab55b0e78ba63ace822b1c6301c0"},
    {111, "dd1413178fb627f9abbc041ffe39c44aa7aaa0e2e6d2ca5c4528ac7073a2da45"},
    {112, "a65c92dac124062d0ab951a42773cb04fc98d1d4bf8897b176f8cff3509d379e"},
    {119, "3d610547d68216dedf7435a4fb6260353911f6b3fd3f18805ddb8be285d726fe"},
    {120, "1f80156a804cb7862ad113e8200e9d74499723e7c7854d5f48776d3148e09656"},
    {127, "192409cd280e14b743642ad1343fbd3e82d9305de72c078117745a679210cc3d"},
    {128, "cc548ca2dec1f6fe4f58b2e27aa9c7521607df1130d140b55a4dad0665302356"},
    {129, "81e89a7b2911aaa7795f9e3d4910cb47d6cd2b00d83b8399481527261a1a7519"},
    {1000, "5097e7d587352f5097062ae679f37bda5802d9f875aba14c8cb4d1a188ada179"},
};

static void fill_pattern(unsigned char *buf, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        buf[i] = (unsigned char)((i * 31 + 7) & 255);
}

/* Digest of data fed in pieces of `chunk` bytes (0: in one call). */
static void hash_chunked(const void *data, size_t len, size_t chunk,
                         char hex[2 * HAZ_SHA256_DIGEST_LEN + 1])
{
    const unsigned char *p = data;
    unsigned char digest[HAZ_SHA256_DIGEST_LEN];
    haz_hash_state st;
    size_t off, n;

    cur->init(&st);
    if (chunk == 0)
        chunk = len > 0 ? len : 1;
    for (off = 0; off < len; off += n) {
        n = len - off < chunk ? len - off : chunk;
        cur->update(&st, p + off, n);
    }
    cur->out(&st, digest);
    haz_hash_hex(digest, sizeof digest, hex);
}

/* Digest of data fed as [0, split) then [split, len). */
static void hash_split(const void *data, size_t len, size_t split,
                       char hex[2 * HAZ_SHA256_DIGEST_LEN + 1])
{
    const unsigned char *p = data;
    unsigned char digest[HAZ_SHA256_DIGEST_LEN];
    haz_hash_state st;

    cur->init(&st);
    cur->update(&st, p, split);
    cur->update(&st, p + split, len - split);
    cur->out(&st, digest);
    haz_hash_hex(digest, sizeof digest, hex);
}

static unsigned char *million_a(void)
{
    unsigned char *buf = malloc(MILLION);

    if (buf != NULL)
        memset(buf, 'a', MILLION);
    return buf;
}

/* ------------------------------------------------------------------------
 * The conformance suite (run once per way).
 * ---------------------------------------------------------------------- */

static void test_kat_one_call(void)
{
    char hex[2 * HAZ_SHA256_DIGEST_LEN + 1];
    unsigned char digest[HAZ_SHA256_DIGEST_LEN];
    size_t i;

    for (i = 0; i < NELEM(kats); i++) {
        hash_chunked(kats[i].msg, strlen(kats[i].msg), 0, hex);
        CU_ASSERT_STRING_EQUAL(hex, kats[i].hex);
        /* The one-shot function, whatever the way. */
        haz_sha256(kats[i].msg, strlen(kats[i].msg), digest);
        haz_hash_hex(digest, sizeof digest, hex);
        CU_ASSERT_STRING_EQUAL(hex, kats[i].hex);
    }
}

static void test_kat_byte_by_byte(void)
{
    char hex[2 * HAZ_SHA256_DIGEST_LEN + 1];
    size_t i;

    for (i = 0; i < NELEM(kats); i++) {
        hash_chunked(kats[i].msg, strlen(kats[i].msg), 1, hex);
        CU_ASSERT_STRING_EQUAL(hex, kats[i].hex);
    }
}

static void test_kat_split_everywhere(void)
{
    char hex[2 * HAZ_SHA256_DIGEST_LEN + 1];
    size_t i, split, len;

    for (i = 0; i < NELEM(kats); i++) {
        len = strlen(kats[i].msg);
        for (split = 0; split <= len; split++) {
            hash_split(kats[i].msg, len, split, hex);
            CU_ASSERT_STRING_EQUAL(hex, kats[i].hex);
        }
    }
}

static void test_million_a_one_call(void)
{
    char hex[2 * HAZ_SHA256_DIGEST_LEN + 1];
    unsigned char *buf = million_a();

    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    hash_chunked(buf, MILLION, 0, hex);
    CU_ASSERT_STRING_EQUAL(hex, million_a_hex);
    free(buf);
}

static void test_million_a_chunked(void)
{
    static const size_t chunks[] = {1, 63, 64, 65, 4096};
    char hex[2 * HAZ_SHA256_DIGEST_LEN + 1];
    unsigned char *buf = million_a();
    size_t i;

    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    for (i = 0; i < NELEM(chunks); i++) {
        hash_chunked(buf, MILLION, chunks[i], hex);
        CU_ASSERT_STRING_EQUAL(hex, million_a_hex);
    }
    free(buf);
}

static void test_million_a_split(void)
{
    /* Block boundaries and their neighbours, near both ends and inside;
     * 999936 = 15624 * 64 is the last block boundary before the end. */
    static const size_t splits[] = {
        0, 1, 2, 55, 56, 57, 63, 64, 65, 127, 128, 129, 4095, 4096, 4097,
        65535, 65536, 65537, 499999, 500000, 500001, 999935, 999936, 999937,
        999998, 999999, MILLION
    };
    char hex[2 * HAZ_SHA256_DIGEST_LEN + 1];
    unsigned char *buf = million_a();
    size_t i;

    CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
    for (i = 0; i < NELEM(splits); i++) {
        hash_split(buf, MILLION, splits[i], hex);
        CU_ASSERT_STRING_EQUAL(hex, million_a_hex);
    }
    free(buf);
}

static void test_padding_boundaries(void)
{
    unsigned char buf[1000];
    char hex[2 * HAZ_SHA256_DIGEST_LEN + 1];
    size_t i, split;

    fill_pattern(buf, sizeof buf);
    for (i = 0; i < NELEM(pad_kats); i++) {
        hash_chunked(buf, pad_kats[i].len, 0, hex);
        CU_ASSERT_STRING_EQUAL(hex, pad_kats[i].hex);
        hash_chunked(buf, pad_kats[i].len, 1, hex);
        CU_ASSERT_STRING_EQUAL(hex, pad_kats[i].hex);
        for (split = 0; split <= pad_kats[i].len && split <= 130; split++) {
            hash_split(buf, pad_kats[i].len, split, hex);
            CU_ASSERT_STRING_EQUAL(hex, pad_kats[i].hex);
        }
    }
}

static void test_unaligned_input(void)
{
    /* Words are loaded byte by byte: any address works. */
    unsigned char buf[1000 + 8];
    char hex[2 * HAZ_SHA256_DIGEST_LEN + 1];
    size_t off;

    for (off = 0; off < 8; off++) {
        fill_pattern(buf + off, 1000);
        hash_chunked(buf + off, 1000, 0, hex);
        CU_ASSERT_STRING_EQUAL(hex, pad_kats[NELEM(pad_kats) - 1].hex);
        hash_chunked(buf + off, 1000, 65, hex);
        CU_ASSERT_STRING_EQUAL(hex, pad_kats[NELEM(pad_kats) - 1].hex);
    }
}

static void test_empty_update(void)
{
    haz_hash_state st, copy;
    unsigned char digest[HAZ_SHA256_DIGEST_LEN];
    char hex[2 * HAZ_SHA256_DIGEST_LEN + 1];

    memset(&st, 0, sizeof st);
    cur->init(&st);
    cur->update(&st, "ab", 2);
    memcpy(&copy, &st, sizeof st);
    cur->update(&st, NULL, 0);
    cur->update(&st, "xyz", 0);
    CU_ASSERT(memcmp(&st, &copy, cur->state_size) == 0);
    cur->update(&st, "c", 1);
    cur->out(&st, digest);
    haz_hash_hex(digest, sizeof digest, hex);
    CU_ASSERT_STRING_EQUAL(hex, kats[1].hex);
}

static void test_out_leaves_state(void)
{
    const char *msg = kats[3].msg;
    size_t len = strlen(msg), cut;
    haz_hash_state st, before;
    unsigned char d1[HAZ_SHA256_DIGEST_LEN], d2[HAZ_SHA256_DIGEST_LEN];
    unsigned char want[HAZ_SHA256_DIGEST_LEN];
    char hex[2 * HAZ_SHA256_DIGEST_LEN + 1];

    /* Cut before, at and after the 56-byte padding limit and a block. */
    memset(&st, 0, sizeof st);
    for (cut = 0; cut <= len; cut++) {
        cur->init(&st);
        cur->update(&st, msg, cut);
        memcpy(&before, &st, sizeof st);
        cur->out(&st, d1);
        cur->out(&st, d2);
        CU_ASSERT(memcmp(&st, &before, cur->state_size) == 0);
        CU_ASSERT(memcmp(d1, d2, sizeof d1) == 0);
        haz_sha256(msg, cut, want);
        CU_ASSERT(memcmp(d1, want, sizeof d1) == 0);
        /* Feeding goes on as if out had not been called. */
        cur->update(&st, msg + cut, len - cut);
        cur->out(&st, d1);
        haz_hash_hex(d1, sizeof d1, hex);
        CU_ASSERT_STRING_EQUAL(hex, kats[3].hex);
    }
}

static void test_fork_by_memcpy(void)
{
    const char *msg = kats[3].msg;
    size_t len = strlen(msg), cut;
    haz_hash_state st, fork;
    unsigned char d1[HAZ_SHA256_DIGEST_LEN], d2[HAZ_SHA256_DIGEST_LEN];
    unsigned char want[HAZ_SHA256_DIGEST_LEN];
    char hex[2 * HAZ_SHA256_DIGEST_LEN + 1];

    for (cut = 0; cut <= len; cut++) {
        cur->init(&st);
        cur->update(&st, msg, cut);
        memcpy(&fork, &st, cur->state_size);
        /* The original gets the rest of the message, the fork "abc". */
        cur->update(&st, msg + cut, len - cut);
        cur->update(&fork, "abc", 3);
        cur->out(&st, d1);
        cur->out(&fork, d2);
        haz_hash_hex(d1, sizeof d1, hex);
        CU_ASSERT_STRING_EQUAL(hex, kats[3].hex);
        {
            unsigned char tmp[200];
            memcpy(tmp, msg, cut);
            memcpy(tmp + cut, "abc", 3);
            haz_sha256(tmp, cut + 3, want);
        }
        CU_ASSERT(memcmp(d2, want, sizeof d2) == 0);
    }
}

static void test_reinit(void)
{
    haz_hash_state st;
    unsigned char digest[HAZ_SHA256_DIGEST_LEN];
    char hex[2 * HAZ_SHA256_DIGEST_LEN + 1];

    cur->init(&st);
    cur->update(&st, kats[2].msg, strlen(kats[2].msg));
    cur->init(&st);
    cur->update(&st, "abc", 3);
    cur->out(&st, digest);
    haz_hash_hex(digest, sizeof digest, hex);
    CU_ASSERT_STRING_EQUAL(hex, kats[1].hex);
}

static CU_TestInfo conformance_tests[] = {
    {"vectors in one call", test_kat_one_call},
    {"vectors byte by byte", test_kat_byte_by_byte},
    {"vectors split at every offset", test_kat_split_everywhere},
    {"million a in one call", test_million_a_one_call},
    {"million a in chunks of 1, 63, 64, 65, 4096", test_million_a_chunked},
    {"million a split at block boundaries", test_million_a_split},
    {"padding boundaries 55/56/64/120/128", test_padding_boundaries},
    {"unaligned input", test_unaligned_input},
    {"empty update changes nothing", test_empty_update},
    {"out leaves the state unchanged", test_out_leaves_state},
    {"fork by memcpy", test_fork_by_memcpy},
    {"init restarts", test_reinit},
    CU_TEST_INFO_NULL
};

/* ------------------------------------------------------------------------
 * The methods table and the helpers of lib/hash.c (run once).
 * ---------------------------------------------------------------------- */

static void test_methods_table(void)
{
    CU_ASSERT_EQUAL(haz_hash_sha256.version, HAZ_HASH_METHODS_VERSION);
    CU_ASSERT_STRING_EQUAL(haz_hash_sha256.name, "sha256");
    CU_ASSERT_EQUAL(haz_hash_sha256.id, HAZ_HASH_ID_SHA256);
    CU_ASSERT_EQUAL(haz_hash_sha256.digest_len, HAZ_SHA256_DIGEST_LEN);
    CU_ASSERT(haz_hash_sha256.digest_len <= HAZ_HASH_MAX_DIGEST);
    CU_ASSERT_EQUAL(haz_hash_sha256.context_size, sizeof(haz_sha256_ctx));
    CU_ASSERT(haz_hash_sha256.context_size <= sizeof(haz_hash_state));
    CU_ASSERT_PTR_NOT_NULL(haz_hash_sha256.init);
    CU_ASSERT_PTR_NOT_NULL(haz_hash_sha256.update);
    CU_ASSERT_PTR_NOT_NULL(haz_hash_sha256.out);
}

static void test_find(void)
{
    CU_ASSERT_PTR_EQUAL(haz_hash_find("sha256"), &haz_hash_sha256);
    CU_ASSERT_PTR_NULL(haz_hash_find("SHA256"));
    CU_ASSERT_PTR_NULL(haz_hash_find("sha256 "));
    CU_ASSERT_PTR_NULL(haz_hash_find("sha"));
    CU_ASSERT_PTR_NULL(haz_hash_find("md5"));
    CU_ASSERT_PTR_NULL(haz_hash_find(""));
    CU_ASSERT_PTR_NULL(haz_hash_find(NULL));
}

static void test_hex(void)
{
    static const unsigned char bytes[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
    char hex[2 * sizeof bytes + 1];

    haz_hash_hex(bytes, sizeof bytes, hex);
    CU_ASSERT_STRING_EQUAL(hex, "00017f80abff");
    memset(hex, 'x', sizeof hex);
    haz_hash_hex(bytes, 0, hex);
    CU_ASSERT_STRING_EQUAL(hex, "");
}

static void test_unhex_round_trip(void)
{
    unsigned char digest[HAZ_SHA256_DIGEST_LEN], back[HAZ_SHA256_DIGEST_LEN];
    char hex[2 * HAZ_SHA256_DIGEST_LEN + 1];
    size_t i;

    for (i = 0; i < NELEM(kats); i++) {
        CU_ASSERT_EQUAL(haz_hash_unhex(kats[i].hex, digest, sizeof digest),
                        HAZ_OK);
        haz_hash_hex(digest, sizeof digest, hex);
        CU_ASSERT_STRING_EQUAL(hex, kats[i].hex);
        haz_sha256(kats[i].msg, strlen(kats[i].msg), back);
        CU_ASSERT(memcmp(digest, back, sizeof digest) == 0);
    }
    /* Every byte value. */
    {
        unsigned char all[256], parsed[256];
        char allhex[2 * 256 + 1];

        for (i = 0; i < 256; i++)
            all[i] = (unsigned char)i;
        haz_hash_hex(all, sizeof all, allhex);
        CU_ASSERT_EQUAL(haz_hash_unhex(allhex, parsed, sizeof parsed), HAZ_OK);
        CU_ASSERT(memcmp(all, parsed, sizeof all) == 0);
    }
    CU_ASSERT_EQUAL(haz_hash_unhex("", digest, 0), HAZ_OK);
}

static void test_unhex_rejects(void)
{
    unsigned char d[4], keep[4];

    memset(d, 0x5a, sizeof d);
    memcpy(keep, d, sizeof d);
    CU_ASSERT_EQUAL(haz_hash_unhex("0a1b2c3d", d, 4), HAZ_OK);
    CU_ASSERT(d[0] == 0x0a && d[1] == 0x1b && d[2] == 0x2c && d[3] == 0x3d);

    memcpy(d, keep, sizeof d);
    CU_ASSERT_EQUAL(haz_hash_unhex("0A1B2C3D", d, 4), HAZ_EINVAL); /* upper */
    CU_ASSERT_EQUAL(haz_hash_unhex("0a1b2c3D", d, 4), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_hash_unhex("0a1b2c3", d, 4), HAZ_EINVAL);  /* odd */
    CU_ASSERT_EQUAL(haz_hash_unhex("0a1b2c", d, 4), HAZ_EINVAL);   /* short */
    CU_ASSERT_EQUAL(haz_hash_unhex("", d, 4), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_hash_unhex("0a1b2c3d4", d, 4), HAZ_EINVAL); /* long */
    CU_ASSERT_EQUAL(haz_hash_unhex("0a1b2c3d4e", d, 4), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_hash_unhex("0a1b2c3d\n", d, 4), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_hash_unhex("0a1b2c3g", d, 4), HAZ_EINVAL); /* non-hex */
    CU_ASSERT_EQUAL(haz_hash_unhex("0a1b 2c3", d, 4), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_hash_unhex("0x1b2c3d", d, 4), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_hash_unhex("-a1b2c3d", d, 4), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_hash_unhex("0a1b2c3:", d, 4), HAZ_EINVAL); /* '9'+1 */
    CU_ASSERT_EQUAL(haz_hash_unhex("0a1b2c3`", d, 4), HAZ_EINVAL); /* 'a'-1 */
    CU_ASSERT_EQUAL(haz_hash_unhex("0a1b2c3/", d, 4), HAZ_EINVAL); /* '0'-1 */
    CU_ASSERT_EQUAL(haz_hash_unhex("x", d, 0), HAZ_EINVAL);
    CU_ASSERT(memcmp(d, keep, sizeof d) == 0);    /* untouched on failure */

    CU_ASSERT_EQUAL(haz_hash_unhex(NULL, d, 4), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_hash_unhex("0a1b2c3d", NULL, 4), HAZ_EINVAL);
    CU_ASSERT_EQUAL(haz_hash_unhex("0a1b2c3d", d, SIZE_MAX), HAZ_EINVAL);
}

static CU_TestInfo helper_tests[] = {
    {"methods table fields", test_methods_table},
    {"find by name", test_find},
    {"hex", test_hex},
    {"unhex round trip", test_unhex_round_trip},
    {"unhex rejects", test_unhex_rejects},
    CU_TEST_INFO_NULL
};

static CU_SuiteInfo suites[] = {
    {.pName = "sha256 direct", .pInitFunc = init_direct,
     .pTests = conformance_tests},
    {.pName = "sha256 methods", .pInitFunc = init_table,
     .pTests = conformance_tests},
    HAZ_TEST_SUITE("hash helpers", helper_tests),
    CU_SUITE_INFO_NULL
};

int main(int argc, char **argv)
{
    return haz_test_main(argc, argv, suites);
}
