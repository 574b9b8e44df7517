/*
 * fuzz/fuzz.h: what the libFuzzer targets under fuzz/ share
 * (docs/FUZZING.md).
 *
 * Each target is one file, fuzz/fuzz_NAME.c, holding
 *
 *     int haz_fuzz_NAME(const uint8_t *data, size_t size);
 *
 * which runs one input and returns 0, and, unless HAZ_FUZZ_NO_ENTRY is
 * defined, the libFuzzer entry point LLVMFuzzerTestOneInput calling it.
 * The fuzz programs (configure --enable-fuzzing, `make fuzz`) are built
 * with the entry point; tests/test_fuzz_regress is built without it and
 * replays the committed corpus (tests/fuzz-corpus/NAME/) through the same
 * functions in every `make check`.
 *
 * A target checks its invariants with HAZ_FUZZ_CHECK, which prints the
 * failed condition (and the name of the input, when the replaying test set
 * one) and aborts, so that libFuzzer records the input as a crash.  Every
 * target allocates through the counting hooks below and checks that the
 * live count is back to zero once everything is freed: a leak is caught
 * even in a build without LeakSanitizer.  Targets use no clock, no random
 * numbers and no files: the same input always takes the same path.
 */
#ifndef HAZ_FUZZ_H
#define HAZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "hazexec.h"

/* The allocator hooks every target uses: libc plus a count of live
 * blocks. */
typedef struct haz_fuzz_mem {
    haz_mem mem;            /* pass &fm.mem to haz_ctx_new */
    long live;              /* blocks allocated and not yet freed */
} haz_fuzz_mem;

/* haz_fuzz_mem_init: zero the count and point the hooks at libc. */
void haz_fuzz_mem_init(haz_fuzz_mem *fm);

/* haz_fuzz_ctx: a context allocating through fm (initialised here);
 * aborts when it cannot be created. */
haz_ctx *haz_fuzz_ctx(haz_fuzz_mem *fm);

/* haz_fuzz_ctx_done: free ctx and check that nothing allocated through fm
 * is still live. */
void haz_fuzz_ctx_done(haz_ctx *ctx, haz_fuzz_mem *fm);

/* The name of the input being replayed, printed by a failed check; set by
 * tests/test_fuzz_regress, NULL under libFuzzer (which prints its own). */
extern const char *haz_fuzz_input_name;

/* haz_fuzz_fail: report a broken invariant and abort. */
void haz_fuzz_fail(const char *file, int line, const char *cond)
#if defined(__GNUC__)
    __attribute__((noreturn))
#endif
    ;

#define HAZ_FUZZ_CHECK(cond) \
    do { \
        if (!(cond)) \
            haz_fuzz_fail(__FILE__, __LINE__, #cond); \
    } while (0)

/* haz_fuzz_diags_ok: every entry of d has a non-empty message and text, the
 * text ends with the message, and with `file` not NULL, every entry that
 * has a line reads "FILE:LINE: ..."; with `ordered` set, those lines never
 * decrease. */
void haz_fuzz_diags_ok(const haz_diags *d, const char *file, int ordered);

/* haz_fuzz_diags_equal: the two lists hold the same texts in the same
 * order. */
int haz_fuzz_diags_equal(const haz_diags *a, const haz_diags *b);

/* The targets. */
int haz_fuzz_hazfile(const uint8_t *data, size_t size);
int haz_fuzz_manifest(const uint8_t *data, size_t size);
int haz_fuzz_mock_script(const uint8_t *data, size_t size);
int haz_fuzz_pattern(const uint8_t *data, size_t size);

/* libFuzzer's entry point, defined by each target file unless
 * HAZ_FUZZ_NO_ENTRY. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* HAZ_FUZZ_H */
