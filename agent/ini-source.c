#include "ini-source.h"

#include <dirent.h>
#include <ini.h>

#include "fileio.h"
#include "log.h"
#include "paths.h"
#include "secret.h"
#include "validate.h"

typedef struct Reader {
        const char *p, *end;
        unsigned line;
        bool too_long;
        KbEntries *es;
        int error;
} Reader;

/* inih's fgets-like reader over memory; it counts lines so that entries know theirs,
 * and refuses lines inih would silently split (longer than its INI_MAX_LINE). */
static char *reader(char *str, int num, void *stream) {
        Reader *r = stream;
        if (r->p >= r->end || r->too_long)
                return NULL;
        const char *nl = memchr(r->p, '\n', (size_t) (r->end - r->p));
        size_t len = nl ? (size_t) (nl - r->p) + 1 : (size_t) (r->end - r->p);
        r->line++;
        if (len > (size_t) num - 1) {
                r->too_long = true;
                return NULL;
        }
        memcpy(str, r->p, len);
        str[len] = 0;
        r->p += len;
        return str;
}

static int handler(void *user, const char *section, const char *name, const char *value) {
        Reader *r = user;
        /* accept one pair of double quotes around a value, as systemd's files do */
        size_t vl = strlen(value);
        _cleanup_secret_ char *v = (vl >= 2 && value[0] == '"' && value[vl - 1] == '"') ? strndup(value + 1, vl - 2)
                                                                                        : strdup(value);
        if (!v) {
                r->error = -ENOMEM;
                return 0;
        }
        int k = entries_add(r->es, section, name, v, r->line);
        if (k < 0) {
                r->error = k;
                return 0;
        }
        return 1;
}

int ini_parse_buffer(const char *buf, size_t len, KbEntries *es, char *why, size_t n) {
        Reader r = { .p = buf, .end = buf + len, .es = es };

        const char *nul = memchr(buf, 0, len);
        if (nul) {
                unsigned line = 1;
                for (const char *p = buf; p < nul; p++)
                        line += *p == '\n';
                snprintf(why, n, "line %u: contains a NUL byte (not a text file)", line);
                return -EINVAL;
        }
        int k = ini_parse_stream(reader, &r, handler, &r);
        if (r.error < 0)
                return r.error;
        if (r.too_long) {
                snprintf(why, n,
                         "line %u: longer than %d characters, which inih cannot read (put a CA in a file and "
                         "set ca-cert=/path/to/ca.crt)",
                         r.line, INI_MAX_LINE - 1);
                return -EINVAL;
        }
        if (k == -2)
                return -ENOMEM;
        if (k != 0) {
                snprintf(why, n, "line %d: not \"key = value\", a [section] or a comment", k);
                return -EINVAL;
        }
        return 0;
}

int ini_load_file(const char *path, KbEntries *es) {
        _cleanup_secret_ char *buf = NULL;
        size_t len;
        char why[WHY_MAX];

        int r = read_file_bounded(path, KB_INI_MAX, &buf, &len);
        if (r == -ENOENT)
                return r;
        if (r == -EFBIG)
                return log_key_errno(LOG_ERR, -EINVAL, path, NULL, "larger than %u bytes, refusing to read it",
                                     KB_INI_MAX);
        if (r < 0)
                return log_key_errno(LOG_ERR, r == -ENOMEM ? r : -EINVAL, path, NULL, "cannot read: %s",
                                     strerror(-r));
        r = entries_set_origin(es, path);
        if (r < 0)
                return r;
        r = ini_parse_buffer(buf, len, es, why, sizeof why);
        if (r == -EINVAL)
                return log_key_errno(LOG_ERR, r, path, NULL, "%s", why);
        return r;
}

static int cmpstringp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int ini_list_dir(const char *dir, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        DIR *d = opendir(dir);
        if (!d) {
                if (errno != ENOENT)
                        return log_key_errno(LOG_ERR, -EINVAL, dir, NULL, "cannot read directory: %m");
                *ret = TAKE_PTR(l);
                return 0;
        }
        struct dirent *de;
        int r = 0;
        while ((de = readdir(d))) {
                size_t nl = strlen(de->d_name);
                if (de->d_name[0] == '.' || nl < 5 || !streq(de->d_name + nl - 4, ".ini"))
                        continue;
                _cleanup_free_ char *full = strdup_printf("%s/%s", dir, de->d_name);
                if (!full || (r = strv_extend(&l, full)) < 0) {
                        r = -ENOMEM;
                        break;
                }
        }
        closedir(d);
        if (r < 0)
                return r;
        qsort(l, strv_length(l), sizeof(char *), cmpstringp);
        *ret = TAKE_PTR(l);
        return 0;
}
