#include "cmdline.h"

#include <ctype.h>

#include "secret.h"

/* Mirrors next_arg() in the kernel's lib/cmdline.c: a parameter may start with a quote
 * (then the quotes wrap "key=value"), or its value may be quoted (key="a b"); quotes
 * toggle white-space protection anywhere; the opening quote and a closing quote at the
 * end of the parameter are removed, inner ones are kept, as the kernel does. */
static char *next_arg(char *args, char **param, char **val) {
        size_t i, equals = 0;
        bool in_quote = false, quoted = false;

        if (*args == '"') {
                args++;
                in_quote = quoted = true;
        }
        for (i = 0; args[i]; i++) {
                if (isspace((unsigned char) args[i]) && !in_quote)
                        break;
                if (equals == 0 && args[i] == '=')
                        equals = i;
                if (args[i] == '"')
                        in_quote = !in_quote;
        }

        *param = args;
        if (!equals)
                *val = NULL;
        else {
                args[equals] = 0;
                *val = args + equals + 1;
                if (**val == '"') {
                        (*val)++;
                        if (i > 0 && args[i - 1] == '"')
                                args[i - 1] = 0;
                }
                if (quoted && i > 0 && args[i - 1] == '"')
                        args[i - 1] = 0;
        }

        char *next = args + i;
        if (*next)
                *next++ = 0;
        while (*next && isspace((unsigned char) *next))
                next++;
        return next;
}

int cmdline_parse(const char *s, size_t n, cmdline_cb cb, void *userdata) {
        /* a copy that may hold the token; next_arg() cuts it with NULs, so it is wiped by
         * its length, not by strlen() */
        size_t len = strnlen(s, n); /* stops at an embedded NUL */
        char *buf = strndup(s, len);
        int r = 0;
        if (!buf)
                return -ENOMEM;

        char *p = buf;
        while (*p && isspace((unsigned char) *p))
                p++;
        while (*p) {
                char *key, *val;
                p = next_arg(p, &key, &val);
                if (!val && streq(key, "--"))
                        break;
                if (*key == 0)
                        continue;
                r = cb(key, val, userdata);
                if (r < 0)
                        break;
        }
        secret_free_n(buf, len + 1);
        return r < 0 ? r : 0;
}
