/* LD_PRELOAD shim for the secret-residue test: reports every heap block that is released
 * (free, or left behind by a moving realloc) while it still holds KB_FREESCAN_NEEDLE, i.e.
 * a copy of a secret freed without being wiped. Reports go to stderr as
 * "kb-freescan: freed unwiped (N bytes)", never with the secret itself.
 * Test-only; never linked into kubeboot. glibc's __libc_* entry points avoid dlsym(). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void __libc_free(void *p);
extern void *__libc_realloc(void *p, size_t n);

static void check(void *p) {
        static const char *needle;
        static size_t len;
        if (!p)
                return;
        if (!needle) {
                needle = getenv("KB_FREESCAN_NEEDLE");
                if (!needle || !*needle)
                        needle = "\x01";
                len = strlen(needle);
        }
        size_t n = malloc_usable_size(p);
        if (len > 1 && memmem(p, n, needle, len)) {
                char msg[64];
                int l = snprintf(msg, sizeof msg, "kb-freescan: freed unwiped (%zu bytes)\n", n);
                (void) !write(STDERR_FILENO, msg, (size_t) l);
        }
}

void free(void *p) {
        check(p);
        __libc_free(p);
}

void *realloc(void *p, size_t n) {
        /* a block that moves is freed inside glibc: look at it before */
        if (p && n > malloc_usable_size(p))
                check(p);
        return __libc_realloc(p, n);
}
