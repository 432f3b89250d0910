/* Writing YAML with libyaml's emitter, into memory: block style like kubeadm's files,
 * strings quoted whenever a YAML reader would take them for another type. */
#pragma once

#include <yaml.h>

#include "util.h"

typedef struct YamlOut {
        yaml_emitter_t emitter;
        char *buf;
        size_t len, cap;
        bool failed;
        bool secret; /* the buffer holds a secret: wipe on growth and at the end */
} YamlOut;

/* Starts a document; secret says whether the output must be wiped when released. */
int yo_begin(YamlOut *y, bool secret);
void yo_map_begin(YamlOut *y);
void yo_map_end(YamlOut *y);
void yo_seq_begin(YamlOut *y);
void yo_seq_end(YamlOut *y);
/* A string scalar, quoted if it would read as a bool, null or number. */
void yo_str(YamlOut *y, const char *s);
void yo_bool(YamlOut *y, bool b);
void yo_uint(YamlOut *y, unsigned long long u);
void yo_int(YamlOut *y, long long i);
/* A number already formatted (plain, untagged). */
void yo_number(YamlOut *y, const char *s);
void yo_null(YamlOut *y);
/* key: "value" and friends, inside a mapping */
void yo_kv_str(YamlOut *y, const char *k, const char *v);
void yo_kv_bool(YamlOut *y, const char *k, bool b);
void yo_kv_uint(YamlOut *y, const char *k, unsigned long long u);
/* Ends the document; on success hands the NUL-terminated text to the caller. */
int yo_end(YamlOut *y, char **ret, size_t *ret_len);
/* Releases everything (wiping if secret); safe after yo_end. */
void yo_done(YamlOut *y);
/* Would a YAML 1.1/1.2 reader resolve this plain scalar to a non-string? */
bool yaml_plain_is_ambiguous(const char *s);
