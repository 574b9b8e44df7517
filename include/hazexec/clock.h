/*
 * hazexec/clock.h: the clock backend interface and the built-in clocks.
 *
 * The core never calls clock_gettime or time(): it asks a clock object.
 * Backends: posix (CLOCK_MONOTONIC, falling back to gettimeofday where the
 * monotonic clock is missing) and mock (virtual time that only moves when
 * told to, so grace periods and timeouts elapse instantly and exactly).
 *
 * Subclassing follows SQLite's sqlite3_file: the core allocates
 * methods->state_size bytes, whose first member is a struct haz_clock, and
 * calls open to fill them.  open must leave `methods` NULL on failure.
 */
#ifndef HAZEXEC_CLOCK_H
#define HAZEXEC_CLOCK_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HAZ_CLOCK_METHODS_VERSION 1

typedef struct haz_clock haz_clock;
typedef struct haz_clock_methods haz_clock_methods;

/* The base object; a backend's state begins with it. */
struct haz_clock {
    const haz_clock_methods *methods;  /* NULL until open succeeds */
    haz_ctx *ctx;                      /* set by haz_clock_open */
};

struct haz_clock_methods {
    int version;          /* HAZ_CLOCK_METHODS_VERSION */
    const char *name;     /* "posix", "mock", ... */
    size_t state_size;    /* bytes allocated by haz_clock_open, >= sizeof(haz_clock) */
    /* open: initialise the zeroed state.  `config` is backend-specific
     * (NULL for the built-ins).  Returns 0 or a HAZ_E* code. */
    int (*open)(haz_clock *clk, const void *config);
    /* close: release what open acquired (not the state memory). */
    void (*close)(haz_clock *clk);
    /* now_ns: monotonic time in nanoseconds; never decreases. */
    uint64_t (*now_ns)(haz_clock *clk);
    /* wall_seconds: wall-clock time in seconds since the Unix epoch (used
     * for cache entry timestamps). */
    int64_t (*wall_seconds)(haz_clock *clk);
};

/* Built-in backends. */
HAZ_API extern const haz_clock_methods haz_clock_posix;
HAZ_API extern const haz_clock_methods haz_clock_mock;

/*
 * haz_clock_open: allocate methods->state_size bytes through the context's
 * allocator, zero them and call methods->open(clk, config).  On success *out
 * receives the clock, owned by the caller.
 * Returns 0 or one of: HAZ_EINVAL (NULL argument, version < 1, state_size
 * too small, or the open, now_ns or wall_seconds slot NULL), HAZ_ENOMEM, or
 * the code open returned (then nothing is kept).
 */
HAZ_API int haz_clock_open(haz_ctx *ctx, const haz_clock_methods *methods,
                           const void *config, haz_clock **out);

/* haz_clock_close: close and free a clock.  NULL is ignored. */
HAZ_API void haz_clock_close(haz_clock *clk);

/* haz_clock_now_ns, haz_clock_wall_seconds: call the backend (0 for a
 * NULL clock). */
HAZ_API uint64_t haz_clock_now_ns(haz_clock *clk);
HAZ_API int64_t haz_clock_wall_seconds(haz_clock *clk);

/*
 * Mock clock control.  These accept only a clock opened with
 * haz_clock_mock; on any other clock they do nothing and return HAZ_EINVAL.
 * The mock starts at monotonic time 0 and wall time
 * HAZ_CLOCK_MOCK_WALL_EPOCH; wall time advances with monotonic time
 * (whole seconds elapsed are added).
 */
#define HAZ_CLOCK_MOCK_WALL_EPOCH INT64_C(1700000000)

/* haz_clock_mock_set: jump to `now_ns`.  Returns 0, or HAZ_EINVAL when
 * now_ns is earlier than the current time (time never goes back). */
HAZ_API int haz_clock_mock_set(haz_clock *clk, uint64_t now_ns);

/* haz_clock_mock_advance: move forward by `delta_ns`.  Returns 0, or
 * HAZ_ERANGE when the time would overflow. */
HAZ_API int haz_clock_mock_advance(haz_clock *clk, uint64_t delta_ns);

/* haz_clock_mock_set_wall: set the wall time that corresponds to the
 * current monotonic time.  Returns 0 or HAZ_EINVAL. */
HAZ_API int haz_clock_mock_set_wall(haz_clock *clk, int64_t wall_seconds);

#ifdef __cplusplus
}
#endif
#endif /* HAZEXEC_CLOCK_H */
