/* The kernel command line is split by the kernel's rules (lib/cmdline.c next_arg). */
#include "cmdline.h"
#include "tap.h"

typedef struct Seen {
        char buf[4096];
        int n;
} Seen;

static int collect(const char *key, const char *value, void *userdata) {
        Seen *s = userdata;
        size_t l = strlen(s->buf);
        snprintf(s->buf + l, sizeof s->buf - l, "%s[%s]=[%s]", s->n++ ? " " : "", key, value ? value : "(none)");
        return 0;
}

static const char *split(const char *line) {
        static Seen s;
        memset(&s, 0, sizeof s);
        int r = cmdline_parse(line, strlen(line), collect, &s);
        if (r < 0)
                snprintf(s.buf, sizeof s.buf, "error %d", r);
        return s.buf;
}

static int stop_at_second(const char *key, const char *value, void *userdata) {
        (void) key;
        (void) value;
        return ++*(int *) userdata == 2 ? -42 : 0;
}

int main(void) {
        CHECK_STREQ(split("quiet kubeboot.token=abc root=/dev/sda1"),
                    "[quiet]=[(none)] [kubeboot.token]=[abc] [root]=[/dev/sda1]", "plain parameters");
        CHECK_STREQ(split("kubeboot.node-labels=\"a=b,c=d\""), "[kubeboot.node-labels]=[a=b,c=d]",
                    "a quoted value loses its quotes");
        CHECK_STREQ(split("\"kubeboot.x=a b\" y"), "[kubeboot.x]=[a b] [y]=[(none)]",
                    "quotes around the whole parameter protect spaces");
        CHECK_STREQ(split("kubeboot.x=\"a b\"c next"), "[kubeboot.x]=[a b\"c] [next]=[(none)]",
                    "only a closing quote at the very end is removed, as the kernel does");
        CHECK_STREQ(split("kubeboot.x=a\"b c\"d"), "[kubeboot.x]=[a\"b c\"d]",
                    "quotes inside a value protect spaces and stay");
        CHECK_STREQ(split("kubeboot.x=\"abc def"), "[kubeboot.x]=[abc def]", "an unterminated quote runs to the end");
        CHECK_STREQ(split("  \tkubeboot.a=1\t\tkubeboot.b=2  \n"), "[kubeboot.a]=[1] [kubeboot.b]=[2]",
                    "tabs, runs of spaces and the trailing newline separate");
        CHECK_STREQ(split("a=1 -- kubeboot.token=x"), "[a]=[1]", "\"--\" ends the kernel's parameters");
        CHECK_STREQ(split("a=b=c"), "[a]=[b=c]", "the first = splits");
        CHECK_STREQ(split("k="), "[k]=[]", "an empty value is not a bare word");
        CHECK_STREQ(split(""), "", "an empty line has no parameters");
        CHECK_STREQ(split("\"\""), "[\"]=[(none)]", "a lone pair of quotes leaves the closing quote, as in the kernel");

        static const char nul[] = "a=1\0kubeboot.token=secret";
        Seen s = {};
        CHECK(cmdline_parse(nul, sizeof nul - 1, collect, &s) == 0 && strcmp(s.buf, "[a]=[1]") == 0,
              "an embedded NUL ends the line");

        int calls = 0;
        CHECK(cmdline_parse("a b c", 5, stop_at_second, &calls) == -42 && calls == 2,
              "a callback's error stops the walk and is returned");

        /* 4 KiB of junk, quotes and control characters: split without crashing */
        char junk[4097];
        unsigned x = 12345;
        for (size_t i = 0; i < sizeof junk - 1; i++) {
                x = x * 1103515245u + 12345u;
                junk[i] = (char) (1 + (x >> 16) % 127);
        }
        junk[sizeof junk - 1] = 0;
        s = (Seen){};
        CHECK(cmdline_parse(junk, sizeof junk - 1, collect, &s) == 0, "4 KiB of junk is split without error");
        return tap_done();
}
