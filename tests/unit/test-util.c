/* Small helpers: durations, numbers, lists, the backoff policy, atomic files. */
#include <fcntl.h>
#include <sys/stat.h>

#include "backoff.h"
#include "fileio.h"
#include "paths.h"
#include "tap.h"

int main(void) {
        unsigned long long ms;
        CHECK(parse_duration_ms("90", &ms) == 0 && ms == 90000, "a bare number is seconds");
        CHECK(parse_duration_ms("1h30m", &ms) == 0 && ms == 5400000, "1h30m");
        CHECK(parse_duration_ms("500ms", &ms) == 0 && ms == 500, "500ms is not minutes");
        CHECK(parse_duration_ms("2m5s", &ms) == 0 && ms == 125000, "2m5s");
        CHECK(parse_duration_ms("5 minutes", &ms) == -EINVAL, "prose is refused");
        CHECK(parse_duration_ms("", &ms) == -EINVAL, "empty is refused");
        CHECK(parse_duration_ms("10x", &ms) == -EINVAL, "unknown units are refused");
        CHECK(parse_duration_ms("99999999999999999999h", &ms) < 0, "overflow is refused");

        unsigned long u;
        CHECK(parse_uint("110", 1, 200, &u) == 0 && u == 110, "a number in range");
        CHECK(parse_uint("0", 1, 200, &u) == -ERANGE, "below the range");
        CHECK(parse_uint("-1", 1, 200, &u) == -EINVAL, "negative");
        CHECK(parse_uint("12a", 1, 200, &u) == -EINVAL, "trailing junk");
        CHECK(parse_bool("TRUE") == 1 && parse_bool("off") == 0 && parse_bool("maybe") == -EINVAL, "booleans");

        char **l = NULL;
        CHECK(strv_split(",a,,b,", ",", &l) == 0 && strv_length(l) == 2 && streq(l[0], "a") && streq(l[1], "b"),
              "splitting drops empty fields");
        strv_free(l);

        /* full jitter under a growing, capped ceiling; Retry-After adds to it */
        Backoff b;
        backoff_init(&b, 60000, 100, 800);
        unsigned long long maxes[8] = {};
        for (int round = 0; round < 200; round++) {
                b.attempt = 0;
                for (int i = 0; i < 8; i++) {
                        unsigned long long d = backoff_next_delay(&b, 0);
                        if (d > maxes[i])
                                maxes[i] = d;
                }
        }
        CHECK(maxes[0] <= 100 && maxes[1] <= 200 && maxes[2] <= 400 && maxes[3] <= 800, "ceilings double");
        CHECK(maxes[7] <= 800 && maxes[7] > 400, "and stop at the cap (max seen %llu)", maxes[7]);
        unsigned long long lo = ~0ULL, hi = 0;
        for (int i = 0; i < 400; i++) {
                b.attempt = 0;
                unsigned long long d = backoff_next_delay(&b, 3000);
                lo = d < lo ? d : lo;
                hi = d > hi ? d : hi;
        }
        CHECK(lo >= 3000 && hi <= 4500, "Retry-After is a floor, jitter up to half of it on top (%llu..%llu)", lo, hi);
        CHECK(hi - lo > 1000, "and that jitter spreads clients told the same Retry-After (%llu ms wide)", hi - lo);
        unsigned long long first = backoff_next_delay(&b, 0);
        int same = 0;
        for (int i = 0; i < 20; i++)
                same += backoff_next_delay(&b, 0) == first;
        CHECK(same < 20, "delays are not all equal");
        backoff_init(&b, 50, 100, 800);
        b.attempt = 5;
        CHECK(backoff_wait(&b, 1000) == -ETIMEDOUT, "a wait past the deadline is refused at once");

        char dir[] = "/tmp/kubeboot-test-util-XXXXXX";
        if (!mkdtemp(dir))
                abort();
        char path[256], tmp[300];
        snprintf(path, sizeof path, "%s/sub/dir/file", dir);
        CHECK(mkdir_parents(strrchr(strcpy(tmp, path), '/') ? (*strrchr(tmp, '/') = 0, tmp) : tmp, 0755) == 0,
              "mkdir_parents makes the chain");
        CHECK(write_file_atomic(path, "secret\n", 7, 0600) == 0, "an atomic write");
        struct stat st;
        CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600 && st.st_size == 7, "with its mode and size");
        char *buf = NULL;
        size_t n;
        CHECK(read_file_bounded(path, 7, &buf, &n) == 0 && n == 7 && streq(buf, "secret\n"), "reads back");
        free(buf);
        CHECK(read_file_bounded(path, 6, &buf, &n) == -EFBIG, "over the bound is -EFBIG");
        CHECK(read_file_bounded(dir, 6, &buf, &n) == -EISDIR, "a directory is -EISDIR");
        snprintf(tmp, sizeof tmp, "%s/sub/dir/.#file.kubeboot-AbC123", dir);
        FILE *f = fopen(tmp, "w");
        fputs("stale secret", f);
        fclose(f);
        CHECK(remove_stale_temp_files(path) == 1 && access(tmp, F_OK) < 0, "an interrupted write's temp file is removed");
        CHECK(mkdir_parents(path, 0755) == -ENOTDIR, "a file in the way of a directory is -ENOTDIR");
        CHECK(shred_and_unlink(path) == 0 && access(path, F_OK) < 0, "shred_and_unlink removes");
        CHECK(shred_and_unlink(path) == 0, "and is idempotent");
        /* what cannot be read to its end in bounded time is refused at once, never waited on */
        snprintf(tmp, sizeof tmp, "%s/fifo", dir);
        CHECK(mkfifo(tmp, 0600) == 0 && read_file_bounded(tmp, 100, &buf, &n) == -EINVAL, "a FIFO is refused");
        CHECK(read_file_bounded("/dev/ptmx", 100, &buf, &n) == -EINVAL, "a character device (/dev/ptmx) is refused");
        CHECK(read_file_bounded("/dev/null", 100, &buf, &n) == 0 && n == 0, "/dev/null reads as empty");
        free(buf);
        snprintf(tmp, sizeof tmp, "%s/link", dir);
        CHECK(symlink("/dev/null", tmp) == 0 && read_file_flags(tmp, 100, READ_NOFOLLOW, &buf, &n) == -ELOOP,
              "READ_NOFOLLOW refuses a symlink");
        CHECK(read_file_flags("/dev/null", 100, READ_REGULAR_ONLY, &buf, &n) == -EINVAL,
              "READ_REGULAR_ONLY refuses /dev/null");
        /* node paths beneath a root: symlinks and ".." never lead out of it */
        char root[200], want[400], *res = NULL;
        snprintf(root, sizeof root, "%s/root", dir);
        snprintf(tmp, sizeof tmp, "%s/etc", root);
        CHECK(mkdir_parents(tmp, 0755) == 0 && symlink("/elsewhere", strcat(tmp, "/kubernetes")) == 0,
              "a root with etc/kubernetes -> /elsewhere");
        CHECK(root_resolve(root, "/etc/kubernetes/x.conf", 0, &res) == -ENOLINK,
              "a symlink to nothing inside the root: -ENOLINK");
        snprintf(tmp, sizeof tmp, "%s/elsewhere", root);
        CHECK(mkdir(tmp, 0755) == 0, "its target made inside the root");
        snprintf(want, sizeof want, "%s/elsewhere/x.conf", root);
        CHECK(root_resolve(root, "/etc/kubernetes/x.conf", 0, &res) == 0 && streq(res, want),
              "resolves inside the root: %s", res);
        free(res);
        snprintf(want, sizeof want, "%s/new/dir", root);
        CHECK(root_resolve(root, "/etc/../../../new/dir", 0, &res) == 0 && streq(res, want),
              "\"..\" stops at the root, the missing rest is appended: %s", res);
        free(res);
        snprintf(tmp, sizeof tmp, "%s/elsewhere/x.conf", root);
        CHECK(symlink("/etc/kubernetes/y.conf", tmp) == 0, "a final symlink x.conf -> /etc/kubernetes/y.conf");
        snprintf(want, sizeof want, "%s/elsewhere/x.conf", root);
        CHECK(root_resolve(root, "/etc/kubernetes/x.conf", 0, &res) == 0 && streq(res, want),
              "without ROOT_FOLLOW_LAST it stays a name");
        free(res);
        CHECK(root_resolve(root, "/etc/kubernetes/x.conf", ROOT_FOLLOW_LAST, &res) == -ENOENT,
              "with it, a final link to nothing reads as missing");
        snprintf(tmp, sizeof tmp, "%s/elsewhere/y.conf", root);
        close(creat(tmp, 0600));
        snprintf(want, sizeof want, "%s/elsewhere/y.conf", root);
        CHECK(root_resolve(root, "/etc/kubernetes/x.conf", ROOT_FOLLOW_LAST, &res) == 0 && streq(res, want),
              "and is followed inside the root: %s", res);
        free(res);
        CHECK(root_resolve("/", "/etc/../etc", 0, &res) == 0 && streq(res, "/etc"), "root / is this system");
        free(res);
        snprintf(tmp, sizeof tmp, "rm -rf %s", dir);
        CHECK(system(tmp) == 0, "cleanup");
        /* text from outside, made safe to show */
        char esc[64];
        CHECK_STREQ(text_escape("a\nREADY=1\x1b[2J", 100, esc, sizeof esc), "a\\x0aREADY=1\\x1b[2J",
                    "newlines and ESC are escaped");
        CHECK_STREQ(text_escape("caf\xc3\xa9 \xc2\x9b \xff", 100, esc, sizeof esc), "caf\xc3\xa9 \\xc2\\x9b \\xff",
                    "UTF-8 is kept, C1 controls and broken bytes are escaped");
        CHECK_STREQ(text_escape("abcdefgh", 4, esc, sizeof esc), "abcd...", "the input bound cuts, marked");
        CHECK(strlen(text_escape("\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01", 100,
                                 esc, sizeof esc)) < sizeof esc,
              "the output bound holds");
        return tap_done();
}
