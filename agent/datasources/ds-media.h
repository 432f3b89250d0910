/* Config media (DESIGN §2 source 4) and config drives: a filesystem found by its label,
 * mounted read-only (nosuid, nodev, noexec) by a forked child in a private mount namespace,
 * its files read (bounded) and piped back. The mount never outlives the child, whatever
 * happens to it; nothing is left mounted or attached. */
#pragma once

#include "datasource.h"

#define DS_MEDIA_LABEL "KUBEBOOT"
#define DS_MEDIA_FILE "kubeboot.ini"
#define DS_MEDIA_BY_LABEL "/dev/disk/by-label/"
#define DS_MEDIA_TIMEOUT_MS 10000ULL /* a slow USB stick mounts in well under this */
#define DS_MEDIA_LOOP_TRIES 8
#define DS_MEDIA_POLL_MS 500 /* how often ds_media_wait() looks for the label */

typedef struct DsMediaFile {
        const char *name; /* in: the path on the medium, relative ("openstack/latest/user_data") */
        int error;        /* out: 0, -ENOENT, -EFBIG (over max), another negative errno */
        char *data;       /* out: NUL-terminated; a secret */
        size_t len;
} DsMediaFile;

/* The device labelled one of labels under root (/dev/disk/by-label/LABEL): its path in
 * *ret (NULL when there is none) and which label matched. 0 or -ENOMEM. */
int ds_media_find(const char *root, const char *const *labels, char **ret, const char **ret_label);
/* Mounts device (a block device, or a regular file: an image, attached to a loop device
 * that clears itself) and reads files[], each at most max bytes. Logs failures naming
 * source; returns 0 (see each file's error) or a negative errno. */
int ds_media_fetch(const char *source, const char *device, DsMediaFile *files, size_t n, size_t max);
void ds_media_files_done(DsMediaFile *files, size_t n);

/* Waits up to timeout_ms for a KUBEBOOT medium to appear under root (a USB stick or a BMC's
 * virtual media that enumerates after kubeboot started). 1 when one appeared within the
 * time, 0 when none came or one was there from the start (already read), -ENOMEM. */
int ds_media_wait(const char *root, unsigned long long timeout_ms);
/* The KUBEBOOT medium's kubeboot.ini as one part ("media:/dev/disk/by-label/KUBEBOOT:
 * kubeboot.ini"). No medium: nothing, at the cost of one stat(). A medium that cannot be
 * read, or whose file is malformed, is warned about and skipped. 0 or -ENOMEM. */
int ds_media_read(const char *root, DsResult *out);
