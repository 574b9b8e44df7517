/*
 * lib/cancel.c: the cancel token.  A flag plus a self-pipe: the request
 * call is async-signal-safe (a store to a volatile sig_atomic_t and one
 * write(2) that preserves errno), and a spawner can select() on the read end
 * to wake up the moment a request arrives (EXEC-012).
 */
#include "internal.h"
#include "fdutil.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

struct haz_cancel {
    haz_ctx *ctx;
    volatile sig_atomic_t requested;  /* requests made, saturating at 100 */
    volatile sig_atomic_t signo;
    int acked;                        /* requests acknowledged by the run */
    int fds[2];             /* [0] read end, [1] write end; non-blocking */
};

int haz_cancel_new(haz_ctx *ctx, haz_cancel **out)
{
    haz_cancel *c;

    if (ctx == NULL || out == NULL)
        return HAZ_EINVAL;
    *out = NULL;
    c = haz__calloc(ctx, 1, sizeof(*c));
    if (c == NULL)
        return HAZ_ENOMEM;
    c->ctx = ctx;
    if (haz__pipe_cloexec(c->fds, HAZ_PIPE_NONBLOCK) == -1) {
        int e = errno;

        haz__free(ctx, c);
        return haz__error_os(ctx, HAZ_EIO, e, "cancel token: pipe");
    }
    *out = c;
    return HAZ_OK;
}

void haz_cancel_free(haz_cancel *c)
{
    if (c == NULL)
        return;
    haz__close(c->fds[0]);
    haz__close(c->fds[1]);
    haz__free(c->ctx, c);
}

void haz_cancel_request(haz_cancel *c, int signo)
{
    int saved = errno;
    static const char byte = 'c';
    ssize_t w;

    if (c == NULL)
        return;
    if (!c->requested)
        c->signo = signo > 0 ? signo : 0;
    if (c->requested < 100)
        c->requested = c->requested + 1;
    /* One byte is enough to wake a select(); a full pipe (EAGAIN) already
     * holds one, so the result does not matter. */
    w = write(c->fds[1], &byte, 1);
    (void)w;
    errno = saved;
}

int haz_cancel_requested(const haz_cancel *c)
{
    return c != NULL && c->requested ? 1 : 0;
}

int haz_cancel_count(const haz_cancel *c)
{
    return c != NULL ? (int)c->requested : 0;
}

int haz_cancel_pending(const haz_cancel *c)
{
    return c != NULL && (int)c->requested > c->acked ? 1 : 0;
}

/* Take the count before emptying the pipe: a request that lands in between
 * leaves its count unacknowledged, so it is seen as pending by the next
 * check even if its byte was read here. */
void haz_cancel_ack(haz_cancel *c)
{
    char buf[64];
    int seen;

    if (c == NULL)
        return;
    seen = (int)c->requested;
    while (read(c->fds[0], buf, sizeof(buf)) > 0)
        ;
    c->acked = seen;
}

int haz_cancel_signal(const haz_cancel *c)
{
    return c != NULL && c->requested ? (int)c->signo : 0;
}

int haz_cancel_fd(const haz_cancel *c)
{
    return c != NULL ? c->fds[0] : -1;
}
