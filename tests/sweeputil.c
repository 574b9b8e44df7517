/*
 * tests/sweeputil.c: helpers shared by the failure sweeps
 * (tests/sweeputil.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "testutil.h"
#include "sweeputil.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int haz_sweep_fd_count(void)
{
    int fd, n = 0;

    for (fd = 0; fd < 1024; fd++)
        if (fcntl(fd, F_GETFD) != -1)
            n++;
    return n;
}

char *haz_sweep_mkdtemp(char *buf, size_t n, const char *prefix)
{
    const char *base = getenv("HAZ_SWEEP_TMPDIR");
    struct stat st;

    if (base == NULL && stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
        access("/dev/shm", W_OK | X_OK) == 0)
        base = "/dev/shm";
    if (base != NULL && base[0] != '\0') {
        (void)snprintf(buf, n, "%s/hazexec-%s-XXXXXX", base, prefix);
        if (mkdtemp(buf) != NULL)
            return buf;
    }
    return haz_test_mkdtemp(buf, n, prefix);
}

void haz_sweep_write_text(const char *dir, const char *rel, const char *text)
{
    char path[4096];

    (void)snprintf(path, sizeof path, "%s/%s", dir, rel);
    CU_ASSERT_EQUAL_FATAL(haz_test_write_file(path, text, strlen(text)), 0);
}

void haz_sweep_copy_tree(const char *src, const char *dst)
{
    struct stat st;
    struct dirent *de;
    DIR *d;

    CU_ASSERT_EQUAL_FATAL(lstat(src, &st), 0);
    if (S_ISREG(st.st_mode)) {
        char buf[8192];
        int in = open(src, O_RDONLY), out;
        ssize_t r;

        CU_ASSERT_FATAL(in >= 0);
        out = open(dst, O_WRONLY | O_CREAT | O_EXCL, 0600);
        CU_ASSERT_FATAL(out >= 0);
        while ((r = read(in, buf, sizeof buf)) > 0)
            CU_ASSERT_EQUAL_FATAL(write(out, buf, (size_t)r), r);
        CU_ASSERT_EQUAL_FATAL(r, 0);
        close(in);
        CU_ASSERT_EQUAL_FATAL(fchmod(out, st.st_mode & 07777), 0);
        close(out);
        return;
    }
    CU_ASSERT_FATAL(S_ISDIR(st.st_mode));
    CU_ASSERT_EQUAL_FATAL(mkdir(dst, 0777), 0);
    d = opendir(src);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    while ((de = readdir(d)) != NULL) {
        char s[4096], t[4096];

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        (void)snprintf(s, sizeof s, "%s/%s", src, de->d_name);
        (void)snprintf(t, sizeof t, "%s/%s", dst, de->d_name);
        haz_sweep_copy_tree(s, t);
    }
    closedir(d);
}
