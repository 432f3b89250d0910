/* A tiny TAP producer for the unit tests: one executable per module, one line per check. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n, tap_failed;

/* cond is evaluated exactly once: checks often call the code under test */
#define CHECK(cond, ...)                                                             \
        do {                                                                         \
                int _c = !!(cond);                                                   \
                tap_n++;                                                             \
                if (_c)                                                              \
                        printf("ok %d - ", tap_n);                                   \
                else {                                                               \
                        tap_failed++;                                                \
                        printf("not ok %d - ", tap_n);                               \
                }                                                                    \
                printf(__VA_ARGS__);                                                 \
                printf("\n");                                                        \
                if (!_c)                                                             \
                        printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
        } while (0)

#define CHECK_STREQ(a, b, ...)                                                                   \
        do {                                                                                     \
                const char *_a = (a), *_b = (b);                                                 \
                int _ok = _a && _b && strcmp(_a, _b) == 0;                                       \
                CHECK(_ok, __VA_ARGS__);                                                         \
                if (!_ok)                                                                        \
                        printf("#   got:      \"%s\"\n#   expected: \"%s\"\n", _a ? _a : "(null)", \
                               _b ? _b : "(null)");                                              \
        } while (0)

static inline int tap_done(void) {
        printf("1..%d\n", tap_n);
        return tap_failed ? 1 : 0;
}
