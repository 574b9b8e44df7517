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
    volatile sig_atomic_t requested;
    volatile sig_atomic_t signo;
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
    if (!c->requested) {
        c->signo = signo > 0 ? signo : 0;
        c->requested = 1;
    }
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

int haz_cancel_signal(const haz_cancel *c)
{
    return c != NULL && c->requested ? (int)c->signo : 0;
}

int haz_cancel_fd(const haz_cancel *c)
{
    return c != NULL ? c->fds[0] : -1;
}
