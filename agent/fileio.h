/* Reading bounded files and writing files atomically (temp file, fsync, rename, fsync
 * the directory): a crash leaves the old file or the new one, never half of one. */
#pragma once

#include <sys/types.h>

#include "util.h"

/* Flags of read_file_flags(). */
#define READ_NOFOLLOW (1U << 0)     /* a final symlink is refused (-ELOOP): the path is resolved already */
#define READ_REGULAR_ONLY (1U << 1) /* not even /dev/null */

/* Reads at most max bytes of path into a NUL-terminated buffer, without ever blocking on
 * what is not a file (opened O_NONBLOCK). -EFBIG if larger, -EISDIR for a directory,
 * -EINVAL for what is neither a regular file (procfs files included) nor /dev/null (a
 * FIFO, a socket, any other device: their reads need not end). */
int read_file_flags(const char *path, size_t max, unsigned flags, char **ret, size_t *ret_size);
/* read_file_flags() with no flags. */
int read_file_bounded(const char *path, size_t max, char **ret, size_t *ret_size);
/* Writes len bytes atomically to path with mode; the parent directory must exist. */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* write_file_atomic() over a file that held a secret: the replaced file's contents are
 * overwritten with zeros once it is unlinked (its blocks would keep the secret), unless
 * another hard link still shows it. */
int write_file_replacing_secret(const char *path, const void *data, size_t len, mode_t mode);
/* Creates path with mode and its missing parents with 0755; 0 if it exists as a
 * directory, -ENOTDIR if something else is in the way. */
int mkdir_parents(const char *path, mode_t mode);
/* Removes leftover temporary files of write_file_atomic() next to path (a crash in the
 * middle of a write leaves one, and it may hold a secret). Returns how many. */
int remove_stale_temp_files(const char *path);
/* fsyncs the directory that holds path. */
int fsync_parent(const char *path);
/* unlink() that treats "already gone" as success, then fsyncs the directory. */
int unlink_durable(const char *path);
/* Overwrites a regular file's contents with zeros and syncs, then unlinks it: for files
 * that held a secret. 0 if it did not exist. */
int shred_and_unlink(const char *path);
