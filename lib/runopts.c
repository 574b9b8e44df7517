/*
 * lib/runopts.c: run option defaults and the resolution of concurrency
 * "auto" to the number of online CPUs (EXEC-004).
 */
#include "internal.h"

#include <string.h>
#include <unistd.h>

void haz_run_options_init(haz_run_options *o)
{
    if (o == NULL)
        return;
    memset(o, 0, sizeof(*o));
    o->version = HAZ_RUN_OPTIONS_VERSION;
    o->concurrency = 0;
    o->cancel_grace_ns = HAZ_DEFAULT_CANCEL_GRACE_NS;
}

unsigned haz_online_cpus(void)
{
    long n = -1;

#if defined(_SC_NPROCESSORS_ONLN)
    n = sysconf(_SC_NPROCESSORS_ONLN);
#endif
    if (n < 1)
        return 1;
    if (n > 65535)
        return 65535;
    return (unsigned)n;
}
