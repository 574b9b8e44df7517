/*
 * backends/clock_posix.c: the posix clock backend (haz_clock_posix).
 *
 * Monotonic time comes from clock_gettime(CLOCK_MONOTONIC) when configure
 * found it usable (HAVE_CLOCK_MONOTONIC; ./configure
 * hazexec_cv_clock_monotonic=no, or -DHAZ_NO_CLOCK_MONOTONIC, forces the
 * fallback).  Probing is only an optimisation: if the call fails at open or
 * at any later time (EINVAL on kernels without the clock), the backend
 * switches for good to the fallback, continuing from the last value it
 * returned.
 *
 * The fallback reads gettimeofday and makes it monotonic: it adds only the
 * forward steps between two readings to the last value returned.  A wall
 * clock set backwards therefore neither makes time go back nor freezes it
 * for the size of the step (which plain clamping would do); a step forward
 * is seen as elapsed time.
 *
 * Wall-clock seconds come from time(NULL).
 */
#if !defined(HAVE_CONFIG_H) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L   /* built without configure */
#endif

#include "internal.h"

#include <sys/time.h>
#include <time.h>

#if defined(HAVE_CONFIG_H)
#if defined(HAVE_CLOCK_MONOTONIC) && defined(CLOCK_MONOTONIC)
#define USE_MONOTONIC 1
#endif
#elif defined(CLOCK_MONOTONIC)
#define USE_MONOTONIC 1
#endif
#if defined(HAZ_NO_CLOCK_MONOTONIC)
#undef USE_MONOTONIC
#endif

#define NS_PER_SEC UINT64_C(1000000000)

typedef struct posix_clock {
    haz_clock base;
    int use_mono;          /* clock_gettime(CLOCK_MONOTONIC) works */
    int have_raw;          /* last_raw holds a fallback reading */
    uint64_t last;         /* the last value returned by now_ns */
    uint64_t last_raw;     /* the last fallback reading, in ns */
} posix_clock;

#ifdef USE_MONOTONIC
/* Read CLOCK_MONOTONIC into *ns.  Returns 0, or -1 when it failed. */
static int mono_ns(uint64_t *ns)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0 || ts.tv_sec < 0 ||
        ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000L)
        return -1;
    *ns = (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
    return 0;
}
#endif

/* The wall clock in ns since the epoch (0 before it, or on failure). */
static uint64_t wall_ns(void)
{
#if !defined(HAVE_CONFIG_H) || defined(HAVE_GETTIMEOFDAY)
    struct timeval tv;

    if (gettimeofday(&tv, NULL) != 0 || tv.tv_sec < 0)
        return 0;
    return (uint64_t)tv.tv_sec * NS_PER_SEC + (uint64_t)tv.tv_usec * 1000u;
#else
    time_t t = time(NULL);

    return t < 0 ? 0 : (uint64_t)t * NS_PER_SEC;
#endif
}

static uint64_t fallback_now(posix_clock *pc)
{
    uint64_t raw = wall_ns();

    if (!pc->have_raw) {
        /* First reading: start at the wall time, unless we are taking over
         * from the monotonic clock, whose last value we continue from. */
        pc->have_raw = 1;
        if (pc->last == 0)
            pc->last = raw;
    } else if (raw > pc->last_raw) {
        pc->last += raw - pc->last_raw;
    }
    pc->last_raw = raw;
    return pc->last;
}

static int posix_open(haz_clock *clk, const void *config)
{
#ifdef USE_MONOTONIC
    uint64_t ns;

    ((posix_clock *)clk)->use_mono = mono_ns(&ns) == 0;
#endif
    HAZ_UNUSED(config);
    clk->methods = &haz_clock_posix;
    return HAZ_OK;
}

static void posix_close(haz_clock *clk)
{
    HAZ_UNUSED(clk);   /* nothing acquired */
}

static uint64_t posix_now_ns(haz_clock *clk)
{
    posix_clock *pc = (posix_clock *)clk;
#ifdef USE_MONOTONIC
    uint64_t ns;

    if (pc->use_mono) {
        if (mono_ns(&ns) == 0) {
            if (ns > pc->last)
                pc->last = ns;
            return pc->last;
        }
        pc->use_mono = 0;   /* failed at run time: fall back for good */
    }
#endif
    return fallback_now(pc);
}

static int64_t posix_wall_seconds(haz_clock *clk)
{
    time_t t = time(NULL);

    HAZ_UNUSED(clk);
    if (t == (time_t)-1)
        return (int64_t)(wall_ns() / NS_PER_SEC);
    return (int64_t)t;
}

const haz_clock_methods haz_clock_posix = {
    HAZ_CLOCK_METHODS_VERSION,  /* version */
    "posix",                    /* name */
    sizeof(posix_clock),        /* state_size */
    posix_open,                 /* open */
    posix_close,                /* close */
    posix_now_ns,               /* now_ns */
    posix_wall_seconds          /* wall_seconds */
};
