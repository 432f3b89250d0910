/* Shared by every fuzz target (tests/fuzz and tests/datasources): with libFuzzer (built
 * with -DKB_LIBFUZZER and -fsanitize=fuzzer, see tests/fuzz/run), libFuzzer drives
 * LLVMFuzzerTestOneInput; otherwise this main() replays the files and directories named
 * on the command line (the seed corpus) and prints TAP, so that the targets run as
 * ordinary tests under any compiler (the `fuzz` meson suite).
 *
 * A target that needs one-time setup defines FUZZ_SETUP (a function name) before
 * including this header; it runs before the first input either way. */
#pragma once

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fileio.h"
#include "log.h"

#define FUZZ_INPUT_MAX (1024U * 1024U)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The parsers take (buffer, length): give them exactly that many bytes, so that ASan
 * sees any read past the end. */
static inline char *fuzz_copy(const uint8_t *data, size_t size) {
        char *p = malloc(size ? size : 1);
        if (p && size)
                memcpy(p, data, size);
        return p;
}

/* For the parsers that take a C string: the bytes and a NUL (an embedded NUL ends the
 * string early, as it would in the caller). */
static inline char *fuzz_string(const uint8_t *data, size_t size) {
        char *p = malloc(size + 1);
        if (p) {
                if (size)
                        memcpy(p, data, size);
                p[size] = 0;
        }
        return p;
}

/* An invariant of the code under test is broken: crash, so that libFuzzer keeps the
 * input and the replay fails. */
#define fuzz_assert(cond)                                                                            \
        do {                                                                                         \
                if (!(cond)) {                                                                       \
                        fprintf(stderr, "%s:%d: fuzz invariant broken: %s\n", __FILE__, __LINE__, #cond); \
                        abort();                                                                     \
                }                                                                                    \
        } while (0)

#ifdef FUZZ_SETUP
static void FUZZ_SETUP(void);
#endif

static inline void fuzz_setup_once(void) {
        log_setup(-1); /* the parsers' warnings are expected and would only slow things down */
#ifdef FUZZ_SETUP
        FUZZ_SETUP();
#endif
}

#ifdef KB_LIBFUZZER
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
        (void) argc;
        (void) argv;
        fuzz_setup_once();
        return 0;
}
#else
static int fuzz_replay_file(const char *path) {
        char *buf = NULL;
        size_t len = 0;
        int r = read_file_bounded(path, FUZZ_INPUT_MAX, &buf, &len);
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(-r));
                return 1;
        }
        LLVMFuzzerTestOneInput((const uint8_t *) buf, len);
        free(buf);
        return 0;
}

int main(int argc, char **argv) {
        unsigned n = 0;
        int bad = 0;
        fuzz_setup_once();
        for (int i = 1; i < argc; i++) {
                struct stat st;
                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "%s: %m\n", argv[i]);
                        return 1;
                }
                if (!S_ISDIR(st.st_mode)) {
                        bad |= fuzz_replay_file(argv[i]);
                        n++;
                        continue;
                }
                DIR *d = opendir(argv[i]);
                struct dirent *de;
                while (d && (de = readdir(d))) {
                        if (de->d_name[0] == '.')
                                continue;
                        char p[4096];
                        snprintf(p, sizeof p, "%s/%s", argv[i], de->d_name);
                        bad |= fuzz_replay_file(p);
                        n++;
                }
                if (d)
                        closedir(d);
        }
        /* an empty corpus proves nothing: a wrong path must not pass */
        printf("%s 1 - replayed %u inputs without a crash\n1..1\n", n > 0 && !bad ? "ok" : "not ok", n);
        return bad || n == 0;
}
#endif
