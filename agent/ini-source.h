/* ini documents (files or buffers, e.g. user-data) read with inih into entries that
 * remember their line. */
#pragma once

#include "config.h"

/* Parses an ini document held in memory. On a syntax error returns -EINVAL with the
 * reason (naming the line) in why. */
int ini_parse_buffer(const char *buf, size_t len, KbEntries *es, char *why, size_t n);
/* Reads and parses one file (at most KB_INI_MAX bytes); the origin is its path.
 * -ENOENT if it does not exist (callers decide whether that matters); other errors
 * are logged here, naming the file. */
int ini_load_file(const char *path, KbEntries *es);
/* The *.ini files of a directory in lexical order; an empty list if it does not exist. */
int ini_list_dir(const char *dir, char ***ret);
