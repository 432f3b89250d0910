#include "util.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <time.h>

char **strv_free(char **l) {
        if (!l)
                return NULL;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
        return NULL;
}

size_t strv_length(char *const *l) {
        size_t n = 0;
        if (l)
                while (l[n])
                        n++;
        return n;
}

int strv_extend(char ***l, const char *s) {
        size_t n = strv_length(*l);
        char *c = strdup(s);
        if (!c)
                return -ENOMEM;
        char **nl = realloc(*l, (n + 2) * sizeof(char *));
        if (!nl) {
                free(c);
                return -ENOMEM;
        }
        nl[n] = c;
        nl[n + 1] = NULL;
        *l = nl;
        return 0;
}

int strv_split(const char *s, const char *sep, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        while (*s) {
                size_t n = strcspn(s, sep);
                if (n > 0) {
                        _cleanup_free_ char *w = strndup(s, n);
                        if (!w || strv_extend(&l, w) < 0)
                                return -ENOMEM;
                }
                s += n;
                if (*s)
                        s++;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

bool strv_contains(char *const *l, const char *s) {
        for (; l && *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

int why_errno(char *why, size_t n, int r, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, n, fmt, ap);
        va_end(ap);
        return r;
}

int why_invalid(char *why, size_t n, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, n, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

char *strdup_printf(const char *fmt, ...) {
        va_list ap;
        char *s;
        va_start(ap, fmt);
        int r = vasprintf(&s, fmt, ap);
        va_end(ap);
        return r < 0 ? NULL : s;
}

char *ascii_strlower(char *s) {
        for (char *p = s; *p; p++)
                *p = (char) tolower((unsigned char) *p);
        return s;
}

char *strstrip(char *s) {
        char *b = s;
        while (*b && isspace((unsigned char) *b))
                b++;
        size_t n = strlen(b);
        while (n > 0 && isspace((unsigned char) b[n - 1]))
                n--;
        memmove(s, b, n);
        s[n] = 0;
        return s;
}

int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *ret) {
        if (isempty(s) || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (*end)
                return -EINVAL;
        if (errno == ERANGE || v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

int parse_bool(const char *s) {
        static const char *const yes[] = { "1", "true", "yes", "on" };
        static const char *const no[] = { "0", "false", "no", "off" };
        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(s, yes[i]) == 0)
                        return 1;
                if (strcasecmp(s, no[i]) == 0)
                        return 0;
        }
        return -EINVAL;
}

int parse_duration_ms(const char *s, unsigned long long *ret) {
        static const struct {
                const char *suffix;
                unsigned long long ms;
        } units[] = {
                /* "ms" before "m", so that 500ms is not read as 500 minutes */
                { "ms", 1ULL }, { "h", 3600000ULL }, { "m", 60000ULL }, { "s", 1000ULL },
        };
        unsigned long long total = 0;
        bool bare;

        if (isempty(s))
                return -EINVAL;
        bare = s[strspn(s, "0123456789")] == 0; /* a plain number means seconds */
        while (*s) {
                if (!isdigit((unsigned char) *s))
                        return -EINVAL;
                char *end;
                errno = 0;
                unsigned long long v = strtoull(s, &end, 10);
                if (errno == ERANGE)
                        return -ERANGE;
                unsigned long long mult = bare ? 1000ULL : 0;
                size_t len = 0;
                for (size_t i = 0; !bare && i < ELEMENTSOF(units); i++)
                        if (startswith(end, units[i].suffix)) {
                                mult = units[i].ms;
                                len = strlen(units[i].suffix);
                                break;
                        }
                if (mult == 0)
                        return -EINVAL;
                if (v > ULLONG_MAX / mult || total > ULLONG_MAX - v * mult)
                        return -ERANGE;
                total += v * mult;
                s = end + len;
        }
        *ret = total;
        return 0;
}

void rfc3339_format(time_t t, char buf[32]) {
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

unsigned long long now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (unsigned long long) ts.tv_sec * 1000ULL + (unsigned long long) ts.tv_nsec / 1000000ULL;
}
