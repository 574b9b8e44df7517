/*
 * backends/clock_mock.c: the mock clock backend (haz_clock_mock) and its
 * control functions.
 *
 * Virtual time that moves only when told to (haz_clock_mock_set / advance,
 * typically called by the mock spawner), so grace periods and timeouts
 * elapse instantly and always by the same amount.  Monotonic time starts at
 * 0 ns.  Wall time starts at HAZ_CLOCK_MOCK_WALL_EPOCH and is the wall time
 * last set plus the whole seconds of monotonic time elapsed since it was
 * set.  A clock is recognised as a mock by its methods table.
 */
#include "internal.h"

#define NS_PER_SEC UINT64_C(1000000000)

typedef struct mock_clock {
    haz_clock base;
    uint64_t now;          /* monotonic time, ns */
    uint64_t wall_mono;    /* monotonic time of the last set_wall */
    int64_t wall_base;     /* wall seconds at wall_mono */
} mock_clock;

/* The mock state behind clk, or NULL when clk is not an open mock clock. */
static mock_clock *as_mock(haz_clock *clk)
{
    if (clk == NULL || clk->methods != &haz_clock_mock)
        return NULL;
    return (mock_clock *)clk;
}

static int mock_open(haz_clock *clk, const void *config)
{
    mock_clock *m = (mock_clock *)clk;

    HAZ_UNUSED(config);
    m->now = 0;
    m->wall_mono = 0;
    m->wall_base = HAZ_CLOCK_MOCK_WALL_EPOCH;
    clk->methods = &haz_clock_mock;
    return HAZ_OK;
}

static void mock_close(haz_clock *clk)
{
    HAZ_UNUSED(clk);   /* nothing acquired */
}

static uint64_t mock_now_ns(haz_clock *clk)
{
    return ((mock_clock *)clk)->now;
}

static int64_t mock_wall_seconds(haz_clock *clk)
{
    mock_clock *m = (mock_clock *)clk;
    /* At most UINT64_MAX / 1e9, about 1.8e10: fits an int64_t. */
    int64_t elapsed = (int64_t)((m->now - m->wall_mono) / NS_PER_SEC);

    if (m->wall_base > INT64_MAX - elapsed)
        return INT64_MAX;
    return m->wall_base + elapsed;
}

int haz_clock_mock_set(haz_clock *clk, uint64_t now_ns)
{
    mock_clock *m = as_mock(clk);

    if (m == NULL || now_ns < m->now)
        return HAZ_EINVAL;
    m->now = now_ns;
    return HAZ_OK;
}

int haz_clock_mock_advance(haz_clock *clk, uint64_t delta_ns)
{
    mock_clock *m = as_mock(clk);

    if (m == NULL)
        return HAZ_EINVAL;
    if (delta_ns > UINT64_MAX - m->now)
        return HAZ_ERANGE;
    m->now += delta_ns;
    return HAZ_OK;
}

int haz_clock_mock_set_wall(haz_clock *clk, int64_t wall_seconds)
{
    mock_clock *m = as_mock(clk);

    if (m == NULL)
        return HAZ_EINVAL;
    m->wall_base = wall_seconds;
    m->wall_mono = m->now;
    return HAZ_OK;
}

const haz_clock_methods haz_clock_mock = {
    HAZ_CLOCK_METHODS_VERSION,  /* version */
    "mock",                     /* name */
    sizeof(mock_clock),         /* state_size */
    mock_open,                  /* open */
    mock_close,                 /* close */
    mock_now_ns,                /* now_ns */
    mock_wall_seconds           /* wall_seconds */
};
