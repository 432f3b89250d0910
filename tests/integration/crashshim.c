/* LD_PRELOAD shim for crash tests: kills the process with SIGKILL in the middle of its
 * Nth write(2) to a regular file (after writing half of it), or just before its Nth
 * rename(2). Test-only; never linked into kubeboot.
 *   KB_CRASH_AT_WRITE=N   KB_CRASH_AT_RENAME=N */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int countdown(const char *var, int *state) {
        if (*state == 0) {
                const char *v = getenv(var);
                *state = v ? atoi(v) : -1;
        }
        return *state > 0 && --*state == 0;
}

ssize_t write(int fd, const void *buf, size_t n) {
        static ssize_t (*real)(int, const void *, size_t);
        static int state;
        struct stat st;
        if (!real)
                real = (ssize_t (*)(int, const void *, size_t)) dlsym(RTLD_NEXT, "write");
        if (fd > 2 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && countdown("KB_CRASH_AT_WRITE", &state)) {
                real(fd, buf, n / 2);
                raise(SIGKILL);
        }
        return real(fd, buf, n);
}

int rename(const char *from, const char *to) {
        static int (*real)(const char *, const char *);
        static int state;
        if (!real)
                real = (int (*)(const char *, const char *)) dlsym(RTLD_NEXT, "rename");
        if (countdown("KB_CRASH_AT_RENAME", &state))
                raise(SIGKILL);
        return real(from, to);
}
