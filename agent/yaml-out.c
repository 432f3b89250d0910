#include "yaml-out.h"

#include <ctype.h>
#include <strings.h>

#include "secret.h"

static int write_handler(void *data, unsigned char *buffer, size_t size) {
        YamlOut *y = data;
        if (y->len + size + 1 > y->cap) {
                size_t ncap = (y->cap ? y->cap * 2 : 1024) + size;
                char *n = malloc(ncap);
                if (!n)
                        return 0;
                if (y->buf)
                        memcpy(n, y->buf, y->len);
                if (y->secret)
                        secret_free_n(y->buf, y->cap);
                else
                        free(y->buf);
                y->buf = n;
                y->cap = ncap;
        }
        memcpy(y->buf + y->len, buffer, size);
        y->len += size;
        y->buf[y->len] = 0;
        return 1;
}

static void emit(YamlOut *y, yaml_event_t *ev, int ok) {
        if (!ok || y->failed) {
                if (ok)
                        yaml_event_delete(ev);
                y->failed = true;
                return;
        }
        if (!yaml_emitter_emit(&y->emitter, ev))
                y->failed = true;
}

int yo_begin(YamlOut *y, bool secret) {
        yaml_event_t ev;
        *y = (YamlOut){ .secret = secret };
        if (!yaml_emitter_initialize(&y->emitter))
                return -ENOMEM;
        yaml_emitter_set_output(&y->emitter, write_handler, y);
        yaml_emitter_set_unicode(&y->emitter, 1);
        yaml_emitter_set_width(&y->emitter, -1); /* never fold long values (base64) */
        yaml_emitter_set_indent(&y->emitter, 2);
        emit(y, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
        emit(y, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1));
        return y->failed ? -ENOMEM : 0;
}

void yo_map_begin(YamlOut *y) {
        yaml_event_t ev;
        emit(y, &ev,
             yaml_mapping_start_event_initialize(&ev, NULL, (yaml_char_t *) YAML_MAP_TAG, 1, YAML_BLOCK_MAPPING_STYLE));
}

void yo_map_end(YamlOut *y) {
        yaml_event_t ev;
        emit(y, &ev, yaml_mapping_end_event_initialize(&ev));
}

void yo_seq_begin(YamlOut *y) {
        yaml_event_t ev;
        emit(y, &ev,
             yaml_sequence_start_event_initialize(&ev, NULL, (yaml_char_t *) YAML_SEQ_TAG, 1,
                                                  YAML_BLOCK_SEQUENCE_STYLE));
}

void yo_seq_end(YamlOut *y) {
        yaml_event_t ev;
        emit(y, &ev, yaml_sequence_end_event_initialize(&ev));
}

static void scalar(YamlOut *y, const char *s, bool plain_ok) {
        yaml_event_t ev;
        emit(y, &ev,
             yaml_scalar_event_initialize(&ev, NULL, (yaml_char_t *) YAML_STR_TAG, (yaml_char_t *) s, (int) strlen(s),
                                          plain_ok, 1,
                                          plain_ok ? YAML_ANY_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE));
}

static bool is_number(const char *s) {
        const char *p = s;
        if (*p == '+' || *p == '-')
                p++;
        if (strcasecmp(p, ".inf") == 0 || strcasecmp(s, ".nan") == 0)
                return true;
        if (!*p)
                return false;
        /* ints (incl. 0x/0o/0b, YAML 1.1 '_' separators) and floats */
        bool digit = false;
        for (const char *q = p; *q; q++) {
                if (isdigit((unsigned char) *q))
                        digit = true;
                else if (!strchr("._eE+-xXoObBaAcCdDfF", *q))
                        return false;
        }
        if (!digit)
                return false;
        char *end;
        (void) strtod(p, &end);
        if (*end == 0)
                return true;
        (void) strtoll(p, &end, 0);
        if (*end == 0)
                return true;
        return strchr(p, '_') != NULL || startswith(p, "0o") || startswith(p, "0b");
}

/* YAML 1.1 sexagesimal numbers: [-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)? */
static bool is_sexagesimal(const char *s) {
        const char *p = s;
        if (*p == '+' || *p == '-')
                p++;
        if (!isdigit((unsigned char) *p))
                return false;
        while (isdigit((unsigned char) *p) || *p == '_')
                p++;
        bool groups = false;
        while (*p == ':') {
                p++;
                int d = 0;
                while (isdigit((unsigned char) *p) && d < 3)
                        p++, d++;
                if (d == 0 || d > 2)
                        return false;
                groups = true;
        }
        if (*p == '.')
                for (p++; isdigit((unsigned char) *p) || *p == '_'; p++)
                        ;
        return groups && *p == 0;
}

bool yaml_plain_is_ambiguous(const char *s) {
        static const char *const words[] = { "",   "~",  "null", "true", "false", "yes", "no",
                                             "on", "off", "y",   "n",    "<<",    "=" };
        for (size_t i = 0; i < ELEMENTSOF(words); i++)
                if (strcasecmp(s, words[i]) == 0)
                        return true;
        return is_number(s) || is_sexagesimal(s);
}

void yo_str(YamlOut *y, const char *s) {
        scalar(y, s, !yaml_plain_is_ambiguous(s));
}

void yo_bool(YamlOut *y, bool b) {
        yaml_event_t ev;
        const char *s = b ? "true" : "false";
        emit(y, &ev,
             yaml_scalar_event_initialize(&ev, NULL, (yaml_char_t *) YAML_BOOL_TAG, (yaml_char_t *) s, (int) strlen(s),
                                          1, 0, YAML_PLAIN_SCALAR_STYLE));
}

void yo_uint(YamlOut *y, unsigned long long u) {
        yaml_event_t ev;
        char s[32];
        snprintf(s, sizeof s, "%llu", u);
        emit(y, &ev,
             yaml_scalar_event_initialize(&ev, NULL, (yaml_char_t *) YAML_INT_TAG, (yaml_char_t *) s, (int) strlen(s),
                                          1, 0, YAML_PLAIN_SCALAR_STYLE));
}

void yo_int(YamlOut *y, long long i) {
        char s[32];
        snprintf(s, sizeof s, "%lld", i);
        yo_number(y, s);
}

void yo_number(YamlOut *y, const char *s) {
        yaml_event_t ev;
        emit(y, &ev,
             yaml_scalar_event_initialize(&ev, NULL, (yaml_char_t *) YAML_INT_TAG, (yaml_char_t *) s, (int) strlen(s),
                                          1, 0, YAML_PLAIN_SCALAR_STYLE));
}

void yo_null(YamlOut *y) {
        yaml_event_t ev;
        emit(y, &ev,
             yaml_scalar_event_initialize(&ev, NULL, (yaml_char_t *) YAML_NULL_TAG, (yaml_char_t *) "null", 4, 1, 0,
                                          YAML_PLAIN_SCALAR_STYLE));
}

void yo_kv_str(YamlOut *y, const char *k, const char *v) {
        yo_str(y, k);
        yo_str(y, v);
}

void yo_kv_bool(YamlOut *y, const char *k, bool b) {
        yo_str(y, k);
        yo_bool(y, b);
}

void yo_kv_uint(YamlOut *y, const char *k, unsigned long long u) {
        yo_str(y, k);
        yo_uint(y, u);
}

int yo_end(YamlOut *y, char **ret, size_t *ret_len) {
        yaml_event_t ev;
        emit(y, &ev, yaml_document_end_event_initialize(&ev, 1));
        emit(y, &ev, yaml_stream_end_event_initialize(&ev));
        if (!y->failed && !yaml_emitter_flush(&y->emitter))
                y->failed = true;
        if (y->failed || !y->buf)
                return -EIO;
        *ret = TAKE_PTR(y->buf);
        if (ret_len)
                *ret_len = y->len;
        y->len = y->cap = 0;
        return 0;
}

void yo_done(YamlOut *y) {
        /* libyaml keeps a copy of recent output in its own buffer */
        if (y->secret && y->emitter.buffer.start)
                secret_wipe(y->emitter.buffer.start, (size_t) (y->emitter.buffer.end - y->emitter.buffer.start));
        yaml_emitter_delete(&y->emitter);
        if (y->secret)
                secret_free_n(y->buf, y->cap);
        else
                free(y->buf);
        y->buf = NULL;
}
