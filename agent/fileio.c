#include "fileio.h"

#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "secret.h"

/* Temporary files are ".#<name>.kubeboot-XXXXXX" beside their target. */
#define TEMP_MARK ".kubeboot-"

/* /dev/null, the one device that reads as an (empty) file: --cmdline=/dev/null. */
static bool is_dev_null(const struct stat *st) {
        return S_ISCHR(st->st_mode) && major(st->st_rdev) == 1 && minor(st->st_rdev) == 3;
}

int read_file_bounded(const char *path, size_t max, char **ret, size_t *ret_size) {
        return read_file_flags(path, max, 0, ret, ret_size);
}

int read_file_flags(const char *path, size_t max, unsigned flags, char **ret, size_t *ret_size) {
        /* O_NONBLOCK: opening a FIFO without a writer, or a tty, must not wait; what is
         * opened that way is refused below before any read */
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
                                                    (flags & READ_NOFOLLOW ? O_NOFOLLOW : 0));
        struct stat st;

        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode) && (!is_dev_null(&st) || (flags & READ_REGULAR_ONLY)))
                return -EINVAL;
        if (S_ISREG(st.st_mode) && (size_t) st.st_size > max)
                return -EFBIG;

        size_t cap = max + 1, n = 0;
        _cleanup_free_ char *buf = malloc(cap + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k = read(fd, buf + n, cap - n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0)
                        break;
                n += (size_t) k;
                if (n > max) /* procfs files report size 0: find out by reading */
                        return -EFBIG;
        }
        buf[n] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = n;
        return 0;
}

int fsync_parent(const char *path) {
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        _cleanup_close_ int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (fsync(fd) < 0)
                return negative_errno();
        return 0;
}

static char *temp_name_for(const char *path) {
        const char *slash = strrchr(path, '/');
        const char *base = slash ? slash + 1 : path;
        int dirlen = slash ? (int) (slash - path + 1) : 0;
        return strdup_printf("%.*s.#%s" TEMP_MARK "XXXXXX", dirlen, path, base);
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode) {
        _cleanup_free_ char *tmp = temp_name_for(path);
        int r;

        if (!tmp)
                return -ENOMEM;
        _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        /* the mode is set before any byte is written, so a secret is never exposed */
        if (fchmod(fd, mode) < 0)
                goto fail;
        for (size_t off = 0; off < len;) {
                ssize_t k = write(fd, (const char *) data + off, len - off);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        goto fail;
                }
                off += (size_t) k;
        }
        if (fsync(fd) < 0)
                goto fail;
        if (rename(tmp, path) < 0)
                goto fail;
        return fsync_parent(path);
fail:
        r = negative_errno();
        (void) unlink(tmp);
        return r;
}

int mkdir_parents(const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        for (char *s = p + 1;; s++) {
                if (*s != '/' && *s != 0)
                        continue;
                char c = *s;
                *s = 0;
                /* parents are traversed by everyone (kubelet's files under them are 0644) */
                if (mkdir(p, c == 0 ? mode : 0755) < 0) {
                        if (errno != EEXIST)
                                return negative_errno();
                        struct stat st;
                        if (stat(p, &st) < 0)
                                return negative_errno();
                        if (!S_ISDIR(st.st_mode))
                                return -ENOTDIR;
                }
                if (c == 0)
                        break;
                *s = c;
        }
        return 0;
}

int remove_stale_temp_files(const char *path) {
        _cleanup_free_ char *copy = strdup(path), *copy2 = strdup(path);
        if (!copy || !copy2)
                return -ENOMEM;
        const char *dir = dirname(copy), *base = basename(copy2);
        _cleanup_free_ char *prefix = strdup_printf(".#%s" TEMP_MARK, base);
        if (!prefix)
                return -ENOMEM;
        DIR *d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : negative_errno();
        int n = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!startswith(de->d_name, prefix))
                        continue;
                _cleanup_free_ char *full = strdup_printf("%s/%s", dir, de->d_name);
                if (full && shred_and_unlink(full) >= 0)
                        n++;
        }
        closedir(d);
        return n;
}

int unlink_durable(const char *path) {
        if (unlink(path) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        return fsync_parent(path);
}

/* Overwrites an open regular file's contents with zeros and syncs them. */
static void wipe_fd(int fd) {
        static const char zeros[4096];
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return;
        for (off_t off = 0; off < st.st_size;) {
                size_t chunk = (size_t) (st.st_size - off) < sizeof zeros ? (size_t) (st.st_size - off) : sizeof zeros;
                ssize_t k = pwrite(fd, zeros, chunk, off);
                if (k <= 0)
                        break;
                off += k;
        }
        (void) fdatasync(fd);
}

int shred_and_unlink(const char *path) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0;
                /* a symlink or unwritable file: still remove the name */
                return unlink_durable(path);
        }
        wipe_fd(fd);
        return unlink_durable(path);
}

int write_file_replacing_secret(const char *path, const void *data, size_t len, mode_t mode) {
        /* the old inode, held open across the rename: wiped once no name leads to it,
         * so that a crash at any point leaves either file whole */
        _cleanup_close_ int old = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        int r = write_file_atomic(path, data, len, mode);
        struct stat st;
        if (r < 0)
                return r;
        /* another hard link still shows it: its contents are not ours to destroy */
        if (old >= 0 && fstat(old, &st) == 0 && st.st_nlink == 0)
                wipe_fd(old);
        return 0;
}
