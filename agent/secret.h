/* Secrets in memory: copies that are wiped before their memory is released. */
#pragma once

#include "util.h"

/* Overwrites n bytes at p in a way the compiler may not elide. */
void secret_wipe(void *p, size_t n);
/* A copy of s for holding a secret; NULL on OOM. */
char *secret_strdup(const char *s);
/* Wipes and frees a secret string; accepts NULL; returns NULL. */
char *secret_free(char *s);
static inline void secret_freep(char **s) {
        secret_free(*s);
}
#define _cleanup_secret_ _cleanup_(secret_freep)
/* Wipes and frees a buffer of n bytes; accepts NULL. */
void secret_free_n(void *p, size_t n);
