#include "paths.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sys/syscall.h>

#include "util.h"

char *root_path(const char *root, const char *path) {
        if (isempty(root) || streq(root, "/"))
                return strdup(path);
        size_t rl = strlen(root);
        while (rl > 1 && root[rl - 1] == '/')
                rl--;
        return strdup_printf("%.*s%s", (int) rl, root, path);
}

/* An O_PATH descriptor of path resolved beneath rootfd, or a negative errno. */
static int open_in_root(int rootfd, const char *path, int flags) {
        struct open_how how = {
                .flags = (unsigned long long) (O_PATH | O_CLOEXEC | flags),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof how);
        return fd < 0 ? negative_errno() : (int) fd;
}

/* The host path an O_PATH descriptor stands for. */
static int fd_path(int fd, char **ret) {
        char link[64], target[PATH_MAX];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t l = readlink(link, target, sizeof target - 1);
        if (l < 0 && errno == ENOENT)
                return -ENOMEDIUM; /* no /proc: the fd is there, its name cannot be had */
        if (l < 0)
                return negative_errno();
        if ((size_t) l >= sizeof target - 1)
                return -ENAMETOOLONG;
        target[l] = 0;
        *ret = strdup(target);
        return *ret ? 0 : -ENOMEM;
}

int root_resolve(const char *root, const char *path, unsigned flags, char **ret) {
        _cleanup_free_ char *prefix = strdup(path), *base = NULL;
        _cleanup_close_ int rootfd = -EBADF, fd = -EBADF;
        size_t cut = strlen(path); /* path[cut..] is the part that does not exist yet */

        if (!prefix)
                return -ENOMEM;
        if (path[0] != '/')
                return -EINVAL;
        rootfd = open(isempty(root) ? "/" : root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return negative_errno();

        for (;;) {
                bool last = cut == strlen(path);
                fd = open_in_root(rootfd, prefix, last && !(flags & ROOT_FOLLOW_LAST) ? O_NOFOLLOW : 0);
                if (fd >= 0)
                        break;
                if (fd == -ENOSYS) {
                        /* no openat2 (a kernel before 5.6, or valgrind): joined, unconfined */
                        *ret = root_path(root, path);
                        return *ret ? 1 : -ENOMEM;
                }
                /* -ENOTDIR: a file in the way; resolved up to it, any use of the result fails
                 * the same way, and the caller names what is in the way */
                if (fd != -ENOENT && fd != -ENOTDIR)
                        return fd;
                /* missing: a dangling symlink, or really not there yet? */
                _cleanup_close_ int link = open_in_root(rootfd, prefix, O_NOFOLLOW);
                if (link >= 0)
                        return last ? -ENOENT : -ENOLINK; /* a final one: there is nothing to read */
                char *slash = strrchr(prefix, '/');
                if (slash == prefix && prefix[1] == 0)
                        return -ENOENT; /* the root itself is gone */
                cut = (size_t) (slash - prefix);
                if (slash == prefix)
                        slash[1] = 0; /* the parent is the root */
                else
                        *slash = 0;
        }

        int r = fd_path(fd, &base);
        if (r < 0)
                return r;
        const char *rest = path + cut;
        if (streq(base, "/") && *rest)
                base[0] = 0; /* "/" + "/etc/x" */
        *ret = strdup_printf("%s%s", base, rest);
        return *ret ? 0 : -ENOMEM;
}
