/* Shared by the fuzz targets: with libFuzzer (built with -DKB_LIBFUZZER and
 * -fsanitize=fuzzer), libFuzzer drives LLVMFuzzerTestOneInput; otherwise this main()
 * replays the files and directories named on the command line (the seed corpus), so the
 * targets run as ordinary tests under any compiler. */
#pragma once

#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>

#include "ds-util.h"
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

/* Turns what a parser found into parts, as the provider would: exercises validation. */
static inline void fuzz_emit(const DsMeta *m, const char *source) {
        DsResult out = {};
        (void) ds_meta_emit(m, source, "fuzz:facts", "tag", "fuzz:user-data", &out);
        ds_result_done(&out);
}

#ifdef KB_LIBFUZZER
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
        (void) argc;
        (void) argv;
        log_setup(-1); /* the parsers' warnings would only slow the fuzzer down */
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
        log_setup(-1); /* the parsers' warnings are expected here */
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
        printf("ok 1 - replayed %u inputs without a crash\n1..1\n", n);
        return bad;
}
#endif
