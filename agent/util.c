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

/* Length of the valid UTF-8 sequence at s (at most left bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t left) {
        size_t len;
        unsigned char lo = 0x80, hi = 0xbf; /* the second byte's range (overlongs, surrogates) */
        if (s[0] < 0x80)
                return 1;
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                len = 2;
        else if (s[0] >= 0xe0 && s[0] <= 0xef) {
                len = 3;
                lo = s[0] == 0xe0 ? 0xa0 : 0x80;
                hi = s[0] == 0xed ? 0x9f : 0xbf;
        } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
                len = 4;
                lo = s[0] == 0xf0 ? 0x90 : 0x80;
                hi = s[0] == 0xf4 ? 0x8f : 0xbf;
        } else
                return 0;
        if (left < len || s[1] < lo || s[1] > hi)
                return 0;
        for (size_t i = 2; i < len; i++)
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
        return len;
}

char *text_escape(const char *s, size_t max, char *buf, size_t n) {
        const unsigned char *p = (const unsigned char *) s;
        size_t in = strnlen(s, max + 1), out = 0;
        bool cut = in > max;

        if (n == 0)
                return buf;
        if (cut)
                in = max;
        for (size_t i = 0; i < in;) {
                size_t l = utf8_len(p + i, in - i);
                /* C0, DEL, C1 (U+0080..U+009F) and broken UTF-8: shown, never interpreted */
                bool escape = l == 0 || (l == 1 && (p[i] < 0x20 || p[i] == 0x7f)) ||
                              (l == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0);
                size_t need = escape ? 4 * (l ? l : 1) : l;
                if (out + need + 4 > n) { /* room for "..." and the NUL */
                        cut = true;
                        break;
                }
                if (escape)
                        for (size_t k = 0; k < (l ? l : 1); k++)
                                out += (size_t) snprintf(buf + out, n - out, "\\x%02x", p[i + k]);
                else {
                        memcpy(buf + out, p + i, l);
                        out += l;
                }
                i += l ? l : 1;
        }
        if (cut && out + 4 <= n) {
                memcpy(buf + out, "...", 3);
                out += 3;
        }
        buf[out] = 0;
        return buf;
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
