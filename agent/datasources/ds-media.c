#include "ds-media.h"

#include <fcntl.h>
#include <linux/loop.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "ds-util.h"
#include "log.h"
#include "notify.h"
#include "paths.h"
#include "secret.h"

#define SNIFF_SIZE (64U * 1024U)
#define FSTYPE_MAX 16

/* What the child tells the parent first; then, per file, an int32 error, a uint32 length
 * and the bytes. */
typedef enum Step {
        STEP_DONE,
        STEP_OPEN,
        STEP_LOOP,
        STEP_SNIFF,
        STEP_NAMESPACE,
        STEP_MOUNT,
} Step;

typedef struct Header {
        int32_t error;
        int32_t step;
        char fstype[FSTYPE_MAX];
} Header;

int ds_media_find(const char *root, const char *const *labels, char **ret, const char **ret_label) {
        struct stat st;
        *ret = NULL;
        for (const char *const *l = labels; *l; l++) {
                _cleanup_free_ char *rel = strdup_printf(DS_MEDIA_BY_LABEL "%s", *l);
                _cleanup_free_ char *p = rel ? root_path(root, rel) : NULL;
                if (!p)
                        return -ENOMEM;
                if (stat(p, &st) == 0) {
                        *ret = TAKE_PTR(p);
                        if (ret_label)
                                *ret_label = *l;
                        return 0;
                }
        }
        return 0;
}

void ds_media_files_done(DsMediaFile *files, size_t n) {
        for (size_t i = 0; i < n; i++) {
                secret_free_n(files[i].data, files[i].len + 1);
                files[i].data = NULL;
                files[i].len = 0;
        }
}

/* ---- the child ---- */

static int write_all(int fd, const void *p, size_t n) {
        const char *c = p;
        while (n > 0) {
                ssize_t k = write(fd, c, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return -EPIPE;
                c += k;
                n -= (size_t) k;
        }
        return 0;
}

/* An image file on a fresh loop device, read-only, cleared when its last user goes. */
static int loop_attach(int image_fd) {
        _cleanup_close_ int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        if (ctl < 0)
                return negative_errno();
        for (int i = 0; i < DS_MEDIA_LOOP_TRIES; i++) {
                int nr = ioctl(ctl, LOOP_CTL_GET_FREE);
                if (nr < 0)
                        return negative_errno();
                char dev[32];
                snprintf(dev, sizeof dev, "/dev/loop%d", nr);
                int fd = open(dev, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return negative_errno();
                struct loop_config cfg = {
                        .fd = (uint32_t) image_fd,
                        .info = { .lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR },
                };
                if (ioctl(fd, LOOP_CONFIGURE, &cfg) == 0)
                        return fd;
                int e = errno;
                if (e == EINVAL || e == ENOTTY) { /* before Linux 5.8 */
                        struct loop_info64 info = { .lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR };
                        if (ioctl(fd, LOOP_SET_FD, image_fd) == 0) {
                                if (ioctl(fd, LOOP_SET_STATUS64, &info) == 0)
                                        return fd;
                                e = errno;
                                ioctl(fd, LOOP_CLR_FD, 0);
                        } else
                                e = errno;
                }
                close(fd);
                if (e != EBUSY) /* EBUSY: another process took this one first */
                        return -e;
        }
        return -EBUSY;
}

/* The filesystem type, from its magic numbers: mount(2) needs one. */
static int sniff(int fd, char fstype[FSTYPE_MAX]) {
        unsigned char *b = calloc(1, SNIFF_SIZE);
        if (!b)
                return -ENOMEM;
        ssize_t n = pread(fd, b, SNIFF_SIZE, 0);
        int r = -EMEDIUMTYPE;
        if (n < 0)
                r = negative_errno();
        else if (n >= 0x8006 && memcmp(b + 0x8001, "CD001", 5) == 0)
                r = 0, snprintf(fstype, FSTYPE_MAX, "iso9660");
        else if (n >= 0x43a && b[0x438] == 0x53 && b[0x439] == 0xef)
                r = 0, snprintf(fstype, FSTYPE_MAX, "ext4"); /* ext4 mounts ext2 and ext3 too */
        else if (n >= 512 && b[510] == 0x55 && b[511] == 0xaa &&
                 (memcmp(b + 0x36, "FAT", 3) == 0 || memcmp(b + 0x52, "FAT32", 5) == 0))
                r = 0, snprintf(fstype, FSTYPE_MAX, "vfat");
        free(b);
        return r;
}

/* Opens a file strictly inside the mount: no symlinks, no other mounts, no "..". */
static int open_beneath(int dfd, const char *name) {
        struct open_how how = {
                .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS,
        };
        long fd = syscall(SYS_openat2, dfd, name, &how, sizeof how);
        if (fd >= 0 || errno != ENOSYS)
                return fd >= 0 ? (int) fd : negative_errno();
        /* before Linux 5.6: no "..", and the last component not a symlink */
        if (strstr(name, "..") || name[0] == '/')
                return -EACCES;
        fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
        return fd >= 0 ? (int) fd : negative_errno();
}

static int send_file(int out, int dfd, const char *name, size_t max) {
        _cleanup_close_ int fd = open_beneath(dfd, name);
        struct stat st;
        char *buf = NULL;
        int32_t err = 0;
        uint32_t len = 0;

        if (fd < 0)
                err = fd;
        else if (fstat(fd, &st) < 0)
                err = negative_errno();
        else if (!S_ISREG(st.st_mode))
                err = -EINVAL;
        else if ((uint64_t) st.st_size > max)
                err = -EFBIG;
        else if (!(buf = malloc(max + 1)))
                err = -ENOMEM;
        else {
                size_t n = 0;
                for (;;) {
                        ssize_t k = read(fd, buf + n, max + 1 - n);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k < 0) {
                                err = negative_errno();
                                break;
                        }
                        if (k == 0)
                                break;
                        n += (size_t) k;
                        if (n > max) {
                                err = -EFBIG;
                                break;
                        }
                }
                len = err ? 0 : (uint32_t) n;
        }
        int r = write_all(out, &err, sizeof err);
        if (r >= 0)
                r = write_all(out, &len, sizeof len);
        if (r >= 0 && len)
                r = write_all(out, buf, len);
        secret_free_n(buf, max + 1);
        return r;
}

static const char *mountpoint(void) {
        /* any directory will do: the mount over it is seen by this child alone */
        static const char *const dirs[] = { "/tmp", "/mnt", "/run", "/media", "/var/tmp" };
        struct stat st;
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
                if (lstat(dirs[i], &st) == 0 && S_ISDIR(st.st_mode))
                        return dirs[i];
        return NULL;
}

_Noreturn static void child(int out, const char *device, const DsMediaFile *files, size_t n, size_t max) {
        Header h = {};
        int dev = -1, src = -1;

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dev = open(device, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        struct stat st;
        if (dev < 0 || fstat(dev, &st) < 0) {
                h = (Header){ .error = negative_errno(), .step = STEP_OPEN };
                goto fail;
        }
        if (S_ISREG(st.st_mode)) {
                src = loop_attach(dev);
                if (src < 0) {
                        h = (Header){ .error = src, .step = STEP_LOOP };
                        goto fail;
                }
        } else if (S_ISBLK(st.st_mode))
                src = dev;
        else {
                h = (Header){ .error = -ENOTBLK, .step = STEP_OPEN };
                goto fail;
        }
        int r = sniff(src, h.fstype);
        if (r < 0) {
                h.error = r;
                h.step = STEP_SNIFF;
                goto fail;
        }
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                h.error = negative_errno();
                h.step = STEP_NAMESPACE;
                goto fail;
        }
        const char *mp = mountpoint();
        char source[64];
        snprintf(source, sizeof source, "/proc/self/fd/%d", src);
        if (!mp || mount(source, mp, h.fstype, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                         streq(h.fstype, "ext4") ? "noload" : NULL) < 0) {
                h.error = mp ? negative_errno() : -ENOENT;
                h.step = STEP_MOUNT;
                goto fail;
        }
        int dfd = open(mp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
                h.error = negative_errno();
                h.step = STEP_MOUNT;
                goto fail;
        }
        if (write_all(out, &h, sizeof h) < 0)
                _exit(1);
        for (size_t i = 0; i < n; i++)
                if (send_file(out, dfd, files[i].name, max) < 0)
                        _exit(1);
        close(dfd);
        umount2(mp, MNT_DETACH);
        _exit(0);
fail:
        write_all(out, &h, sizeof h);
        _exit(1);
}

/* ---- the parent ---- */

static int read_full(int fd, void *p, size_t n, unsigned long long deadline) {
        char *c = p;
        while (n > 0) {
                unsigned long long now = now_ms();
                if (now >= deadline)
                        return -ETIMEDOUT;
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                int k = poll(&pfd, 1, (int) (deadline - now));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return negative_errno();
                if (k == 0)
                        return -ETIMEDOUT;
                ssize_t m = read(fd, c, n);
                if (m < 0 && errno == EINTR)
                        continue;
                if (m < 0)
                        return negative_errno();
                if (m == 0)
                        return -EPIPE;
                c += m;
                n -= (size_t) m;
        }
        return 0;
}

static int read_frames(int fd, Header *h, DsMediaFile *files, size_t n, size_t max, unsigned long long deadline) {
        int r = read_full(fd, h, sizeof *h, deadline);
        if (r < 0 || h->error < 0)
                return r;
        h->fstype[FSTYPE_MAX - 1] = 0;
        for (size_t i = 0; i < n; i++) {
                int32_t err;
                uint32_t len;
                if ((r = read_full(fd, &err, sizeof err, deadline)) < 0 ||
                    (r = read_full(fd, &len, sizeof len, deadline)) < 0)
                        return r;
                if (len > max || (err < 0 && len > 0) || err > 0)
                        return -EPROTO;
                files[i].error = err;
                if (err < 0)
                        continue;
                files[i].data = malloc((size_t) len + 1);
                if (!files[i].data)
                        return -ENOMEM;
                files[i].len = len;
                r = read_full(fd, files[i].data, len, deadline);
                files[i].data[r < 0 ? 0 : len] = 0;
                if (r < 0)
                        return r;
        }
        return 0;
}

static const char *step_name(int32_t step) {
        switch (step) {
        case STEP_OPEN:
                return "cannot open it";
        case STEP_LOOP:
                return "cannot attach the image to a loop device";
        case STEP_SNIFF:
                return "no FAT, ISO 9660 or ext2/3/4 filesystem found on it";
        case STEP_NAMESPACE:
                return "cannot make a private mount namespace (kubeboot needs CAP_SYS_ADMIN for media)";
        case STEP_MOUNT:
                return "cannot mount it";
        default:
                return "cannot read it";
        }
}

int ds_media_fetch(const char *source, const char *device, DsMediaFile *files, size_t n, size_t max) {
        int p[2];
        Header h = { .step = STEP_DONE };

        for (size_t i = 0; i < n; i++)
                files[i] = (DsMediaFile){ .name = files[i].name, .error = -EIO };
        if (pipe2(p, O_CLOEXEC) < 0)
                return log_key_errno(LOG_WARNING, negative_errno(), source, NULL, "cannot make a pipe: %m");
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
                close(p[0]);
                close(p[1]);
                return log_key_errno(LOG_WARNING, negative_errno(), source, NULL, "cannot fork: %m");
        }
        if (pid == 0) {
                close(p[0]);
                child(p[1], device, files, n, max);
        }
        close(p[1]);
        int r = read_frames(p[0], &h, files, n, max, now_ms() + DS_MEDIA_TIMEOUT_MS);
        close(p[0]);
        if (r == -ETIMEDOUT)
                kill(pid, SIGKILL); /* its mount namespace, and the mount in it, go with it */
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (r == -ENOMEM) {
                ds_media_files_done(files, n);
                return r;
        }
        if (r == -ETIMEDOUT) {
                ds_media_files_done(files, n);
                return log_key_errno(LOG_WARNING, r, source, NULL, "reading it took longer than %llu s: given up",
                                     DS_MEDIA_TIMEOUT_MS / 1000);
        }
        if (r >= 0 && h.error < 0) {
                ds_media_files_done(files, n);
                if (h.step == STEP_MOUNT && h.error == -ENODEV)
                        return log_key_errno(LOG_WARNING, h.error, source, NULL,
                                             "cannot mount it: this kernel has no %s filesystem", h.fstype);
                return log_key_errno(LOG_WARNING, h.error, source, NULL, "%s%s%s%s: %m", step_name(h.step),
                                     h.fstype[0] ? " (" : "", h.fstype, h.fstype[0] ? ")" : "");
        }
        if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                ds_media_files_done(files, n);
                return log_key_errno(LOG_WARNING, r < 0 ? r : -EIO, source, NULL,
                                     "the reader process failed before it was done");
        }
        log_debug("%s: read %zu file(s) from a %s filesystem", source, n, h.fstype);
        return 0;
}

/* ---- the KUBEBOOT medium ---- */

int ds_media_read(const char *root, DsResult *out) {
        static const char *const labels[] = { DS_MEDIA_LABEL, NULL };
        static const char source[] = "media:" DS_MEDIA_BY_LABEL DS_MEDIA_LABEL;
        _cleanup_free_ char *device = NULL;
        DsMediaFile f = { .name = DS_MEDIA_FILE };

        int r = ds_media_find(root, labels, &device, NULL);
        if (r < 0 || !device) {
                if (r >= 0)
                        log_debug("no config medium (%s)", DS_MEDIA_BY_LABEL DS_MEDIA_LABEL);
                return r;
        }
        unsigned long long t0 = now_ms();
        r = ds_media_fetch(source, device, &f, 1, KB_INI_MAX);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0; /* logged; the other sources may suffice */
        if (f.error == -ENOENT)
                log_key_errno(LOG_WARNING, 0, source, NULL, "the medium has no %s: ignored", DS_MEDIA_FILE);
        else if (f.error == -EFBIG)
                log_key_errno(LOG_WARNING, 0, source, DS_MEDIA_FILE, "larger than %u bytes: rejected", KB_INI_MAX);
        else if (f.error == -EINVAL)
                log_key_errno(LOG_WARNING, 0, source, DS_MEDIA_FILE, "not a regular file: ignored");
        else if (f.error == -ELOOP)
                log_key_errno(LOG_WARNING, 0, source, DS_MEDIA_FILE, "a symbolic link: refused");
        else if (f.error < 0)
                log_key_errno(LOG_WARNING, f.error, source, DS_MEDIA_FILE, "cannot read it: %m");
        else {
                log_info("reading the config medium %s (%llu ms)", DS_MEDIA_BY_LABEL DS_MEDIA_LABEL, now_ms() - t0);
                r = ds_add_ini(out, "media:" DS_MEDIA_BY_LABEL DS_MEDIA_LABEL ":" DS_MEDIA_FILE, f.data, f.len);
        }
        ds_media_files_done(&f, 1);
        return r;
}

int ds_media_wait(const char *root, unsigned long long timeout_ms) {
        static const char *const labels[] = { DS_MEDIA_LABEL, NULL };
        unsigned long long deadline = now_ms() + timeout_ms;
        bool told = false;
        for (;;) {
                _cleanup_free_ char *device = NULL;
                int r = ds_media_find(root, labels, &device, NULL);
                if (r < 0)
                        return r;
                if (device)
                        return told; /* there from the start: gather has read it already */
                if (now_ms() >= deadline)
                        return 0;
                if (!told) {
                        progress("no token from any source: waiting up to %llus for a medium labelled %s",
                                 timeout_ms / 1000, DS_MEDIA_LABEL);
                        told = true;
                }
                struct timespec ts = { .tv_nsec = DS_MEDIA_POLL_MS * 1000000L };
                nanosleep(&ts, NULL);
        }
}
