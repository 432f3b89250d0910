/* Small helpers shared by every module: scope-based cleanup, string utilities. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _warn_unused_ __attribute__((warn_unused_result))
#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Returns the pointer and leaves NULL behind: hands ownership out of a _cleanup_ variable. */
#define TAKE_PTR(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })

/* A negative errno from the current errno, never 0 (for callers that must fail). */
static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}

static inline bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}

static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

static inline bool isempty(const char *s) {
        return !s || !*s;
}

/* Returns the rest of s after prefix, or NULL when s does not start with it. */
static inline const char *startswith(const char *s, const char *prefix) {
        size_t l = strlen(prefix);
        return strncmp(s, prefix, l) == 0 ? s + l : NULL;
}

/* Frees a NULL-terminated string vector; returns NULL. */
char **strv_free(char **l);
static inline void strv_freep(char ***l) {
        strv_free(*l);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)
size_t strv_length(char *const *l);
/* Appends a copy of s; returns 0 or -ENOMEM. */
int strv_extend(char ***l, const char *s);
/* Splits s at every sep character, keeping empty fields out; returns 0 or -ENOMEM. */
int strv_split(const char *s, const char *sep, char ***ret);
bool strv_contains(char *const *l, const char *s);

/* Writes why a value is refused into why (n bytes) and returns -EINVAL: for checks that
 * leave logging to a caller who knows the source and key. */
int why_invalid(char *why, size_t n, const char *fmt, ...) _printf_(3, 4);
/* The same, returning r. */
int why_errno(char *why, size_t n, int r, const char *fmt, ...) _printf_(4, 5);

/* printf into a fresh string; NULL on OOM. */
char *strdup_printf(const char *fmt, ...) _printf_(1, 2);
/* Lowercases s in place and returns it. */
char *ascii_strlower(char *s);
/* Removes leading and trailing ASCII white space in place; returns s. */
char *strstrip(char *s);

/* Copies at most max bytes of s into buf (n bytes, always NUL-terminated), writing each
 * control character (C0, DEL, C1) and each byte of invalid UTF-8 as \xNN and marking a
 * cut with "...": text from outside, made safe for a log line, STATUS= or a terminal.
 * Returns buf. */
char *text_escape(const char *s, size_t max, char *buf, size_t n);

/* Parses an unsigned decimal in [min, max]; -EINVAL/-ERANGE otherwise. */
int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *ret);
/* Parses true/false/yes/no/1/0/on/off; -EINVAL otherwise. */
int parse_bool(const char *s);
/* Parses a duration: plain seconds, or a sequence like 1h30m, 90s, 500ms; ret in milliseconds. */
int parse_duration_ms(const char *s, unsigned long long *ret);

/* t as RFC 3339 in UTC, "2006-01-02T15:04:05Z" (Go's time.RFC3339). */
void rfc3339_format(time_t t, char buf[32]);

/* Monotonic clock in milliseconds. */
unsigned long long now_ms(void);
