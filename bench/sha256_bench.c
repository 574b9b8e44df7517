/*
 * bench/sha256_bench.c: throughput of the SHA-256 backend.
 *
 *     sha256_bench FILE [MIB]
 *
 * Fills a buffer of MIB mebibytes (default 256) with a deterministic
 * pseudo-random pattern, writes it to FILE (so that bench/sha256-bench.sh
 * can hash the same bytes with sha256sum), then hashes the buffer with
 * haz_sha256 three times, timed with clock_gettime(CLOCK_MONOTONIC), and
 * prints the best rate in MB/s (10^6 bytes per second) and the digest:
 *
 *     bytes: 268435456
 *     digest: <64 hex digits>
 *     hazexec sha256: 462.3 MB/s
 *
 * Exit status: 0, 1 on an I/O or allocation error, 2 on a usage error.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hazexec/sha256.h"

#define RUNS 3

static double now_seconds(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        perror("clock_gettime");
        exit(1);
    }
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift64*: fast, deterministic, byte order independent output. */
static void fill(unsigned char *buf, size_t len)
{
    uint64_t x = UINT64_C(0x9e3779b97f4a7c15);
    uint64_t r = 0;
    size_t i;

    for (i = 0; i < len; i++) {
        if ((i & 7) == 0) {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            r = x * UINT64_C(0x2545f4914f6cdd1d);
        }
        buf[i] = (unsigned char)r;
        r >>= 8;
    }
}

static int write_file(const char *path, const unsigned char *buf, size_t len)
{
    FILE *f = fopen(path, "wb");

    if (f == NULL) {
        fprintf(stderr, "sha256_bench: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (fwrite(buf, 1, len, f) != len || fflush(f) != 0) {
        fprintf(stderr, "sha256_bench: %s: write failed: %s\n", path,
                strerror(errno));
        fclose(f);
        return -1;
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "sha256_bench: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    unsigned char digest[HAZ_SHA256_DIGEST_LEN];
    char hex[2 * HAZ_SHA256_DIGEST_LEN + 1];
    unsigned long mib = 256;
    unsigned char *buf;
    size_t len;
    double best = 0, t0, t;
    int i;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: sha256_bench FILE [MIB]\n");
        return 2;
    }
    if (argc == 3) {
        char *end;

        errno = 0;
        mib = strtoul(argv[2], &end, 10);
        if (errno != 0 || *end != '\0' || mib == 0 || mib > 65536 ||
            mib > (unsigned long)(SIZE_MAX >> 20)) {
            fprintf(stderr, "sha256_bench: bad size '%s' (MiB, 1..65536)\n",
                    argv[2]);
            return 2;
        }
    }
    len = (size_t)mib << 20;
    buf = malloc(len);
    if (buf == NULL) {
        fprintf(stderr, "sha256_bench: cannot allocate %lu MiB\n", mib);
        return 1;
    }
    fill(buf, len);
    if (write_file(argv[1], buf, len) != 0) {
        free(buf);
        return 1;
    }

    for (i = 0; i < RUNS; i++) {
        t0 = now_seconds();
        haz_sha256(buf, len, digest);
        t = now_seconds() - t0;
        if (i == 0 || t < best)
            best = t;
    }
    haz_hash_hex(digest, sizeof digest, hex);
    printf("bytes: %lu\n", (unsigned long)len);
    printf("digest: %s\n", hex);
    printf("hazexec sha256: %.1f MB/s\n",
           best > 0 ? (double)len / best / 1e6 : 0.0);
    free(buf);
    return 0;
}
