/*
 * tests/t_pty.c: run a command on a pseudo-terminal, for the tests of
 * hazrun's terminal presentation (tests/test_hazrun_tty.sh).
 *
 *   t_pty [-w COLUMNS] COMMAND [ARG...]
 *
 * The command gets a new session whose controlling terminal is the slave
 * side of a fresh pty (posix_openpt, grantpt, unlockpt, ptsname) on its
 * stdin, stdout and stderr, a window COLUMNS wide (default 80) where
 * TIOCSWINSZ exists, and output post-processing and echo turned off, so
 * that what it writes arrives unchanged ("\n" is not turned into "\r\n").
 * Everything it writes to the terminal is copied to t_pty's stdout.  The
 * exit status is the command's, or 128+N when a signal N killed it; 126
 * when it could not be started, 2 on a usage or setup error.
 *
 * t_pty keeps a descriptor of the slave open itself, so the master never
 * reports end of file or EIO early; it reads while the command runs and,
 * once the command has exited, drains what is left.
 */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static int copy_out(int mfd)
{
    char buf[4096];
    ssize_t n = read(mfd, buf, sizeof buf);
    ssize_t off = 0;

    if (n <= 0)
        return n < 0 && errno == EINTR ? 1 : 0;
    while (off < n) {
        ssize_t w = write(1, buf + off, (size_t)(n - off));

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return 0;
        off += w;
    }
    return 1;
}

static void child(const char *name, int hold, int sync_w, unsigned cols,
                  char **argv)
{
    struct termios t;
    int sfd, e;

    (void)close(hold);
    if (setsid() < 0)
        goto fail;
    sfd = open(name, O_RDWR);
    if (sfd < 0)
        goto fail;
#ifdef TIOCSCTTY
    (void)ioctl(sfd, TIOCSCTTY, 0);
#endif
    if (tcgetattr(sfd, &t) == 0) {
        t.c_oflag &= ~(tcflag_t)OPOST;
        t.c_lflag &= ~(tcflag_t)(ECHO | ICANON);
        (void)tcsetattr(sfd, TCSANOW, &t);
    }
#ifdef TIOCSWINSZ
    {
        struct winsize ws;

        memset(&ws, 0, sizeof ws);
        ws.ws_col = (unsigned short)cols;
        ws.ws_row = 24;
        (void)ioctl(sfd, TIOCSWINSZ, &ws);
    }
#else
    (void)cols;
#endif
    if (dup2(sfd, 0) < 0 || dup2(sfd, 1) < 0 || dup2(sfd, 2) < 0)
        goto fail;
    if (sfd > 2)
        (void)close(sfd);
    execvp(argv[0], argv);
fail:
    e = errno;
    if (write(sync_w, &e, sizeof e) < 0)
        e = 0;
    _exit(126);
}

int main(int argc, char **argv)
{
    unsigned cols = 80;
    int mfd, hold, sync_fd[2], status, e = 0, argi = 1;
    char *name;
    pid_t pid;
    ssize_t n;

    if (argc > 2 && strcmp(argv[1], "-w") == 0) {
        cols = (unsigned)strtoul(argv[2], NULL, 10);
        argi = 3;
    }
    if (argi >= argc || cols == 0 || cols > 1000) {
        fprintf(stderr, "usage: t_pty [-w COLUMNS] COMMAND [ARG...]\n");
        return 2;
    }
    mfd = posix_openpt(O_RDWR | O_NOCTTY);
    if (mfd < 0 || grantpt(mfd) != 0 || unlockpt(mfd) != 0 ||
        (name = ptsname(mfd)) == NULL || (name = strdup(name)) == NULL) {
        perror("t_pty: cannot open a pseudo-terminal");
        return 2;
    }
    hold = open(name, O_RDWR | O_NOCTTY);
    if (hold < 0 || pipe(sync_fd) != 0 ||
        fcntl(sync_fd[1], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(mfd, F_SETFD, FD_CLOEXEC) != 0) {
        perror("t_pty: setup");
        return 2;
    }
    pid = fork();
    if (pid < 0) {
        perror("t_pty: fork");
        return 2;
    }
    if (pid == 0) {
        (void)close(sync_fd[0]);
        child(name, hold, sync_fd[1], cols, argv + argi);
    }
    (void)close(sync_fd[1]);
    do
        n = read(sync_fd[0], &e, sizeof e);
    while (n < 0 && errno == EINTR);
    (void)close(sync_fd[0]);
    if (n > 0) {
        fprintf(stderr, "t_pty: cannot run %s: %s\n", argv[argi],
                strerror(e));
        (void)waitpid(pid, &status, 0);
        return 126;
    }
    for (;;) {
        struct pollfd p;
        pid_t w;

        p.fd = mfd;
        p.events = POLLIN;
        p.revents = 0;
        if (poll(&p, 1, 50) > 0 && (p.revents & POLLIN)) {
            if (!copy_out(mfd))
                break;
            continue;
        }
        w = waitpid(pid, &status, WNOHANG);
        if (w == pid) {
            /* Drain what the command left in the terminal. */
            p.revents = 0;
            while (poll(&p, 1, 0) > 0 && (p.revents & POLLIN) &&
                   copy_out(mfd))
                p.revents = 0;
            free(name);
            if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
            return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
        }
    }
    (void)waitpid(pid, &status, 0);
    free(name);
    return 2;
}
