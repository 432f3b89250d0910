/* Where things live on a node (DESIGN §2, §3): kubeadm's layout, so that stock kubelet
 * packages and their 10-kubeadm.conf drop-in work unchanged. Every path is prefixed
 * with --root when one is given. */
#pragma once

#define PATH_VENDOR_INI "/usr/lib/kubeboot/kubeboot.ini"
#define PATH_VENDOR_INI_D "/usr/lib/kubeboot/kubeboot.ini.d"
#define PATH_ADMIN_INI "/etc/kubeboot/kubeboot.ini"
#define PATH_ADMIN_INI_D "/etc/kubeboot/kubeboot.ini.d"

#define PATH_BOOTSTRAP_KUBECONFIG "/etc/kubernetes/bootstrap-kubelet.conf"
#define PATH_KUBELET_KUBECONFIG "/etc/kubernetes/kubelet.conf"
#define PATH_CA_CERT "/etc/kubernetes/pki/ca.crt"
#define PATH_KUBELET_DIR "/var/lib/kubelet"
#define PATH_KUBELET_CONFIG "/var/lib/kubelet/config.yaml"
#define PATH_KUBELET_FLAGS "/var/lib/kubelet/kubeadm-flags.env"
#define PATH_KUBELET_PKI "/var/lib/kubelet/pki"
#define PATH_KUBELET_CLIENT_CERT "/var/lib/kubelet/pki/kubelet-client-current.pem"
#define PATH_STATE_DIR "/var/lib/kubeboot"
#define PATH_JOINED_STAMP "/var/lib/kubeboot/joined"
#define PATH_LAST_FAILURE "/var/lib/kubeboot/last-failure"

/* Size limits for what kubeboot reads. */
#define KB_INI_MAX (64U * 1024U)
#define KB_CMDLINE_MAX (64U * 1024U)
#define KB_CA_MAX (256U * 1024U)
#define KB_KUBECONFIG_MAX (256U * 1024U)

/* root + path, as a new string; NULL on OOM. root may be NULL or "". Lexical: for
 * what is not resolved beneath the root (see root_resolve()). */
char *root_path(const char *root, const char *path);

/* Flags of root_resolve(). */
#define ROOT_FOLLOW_LAST (1U << 0) /* a final symlink is followed (beneath the root), for reading */

/* The host path of node path `path` (absolute) resolved beneath root (NULL, "" or "/"
 * for this system) as if root were "/": symlinks, absolute ones too, and ".." never lead
 * out of it (openat2 RESOLVE_IN_ROOT). The directories that exist come out resolved; the
 * missing rest is appended as given, for the caller to create. A final symlink is kept
 * as a name unless ROOT_FOLLOW_LAST. -ENOLINK when a symlink on the way leads nowhere
 * inside the root (creating through it would leave the root); -ENOMEDIUM without /proc
 * (the resolved name is read from /proc/self/fd). Without openat2 (ENOSYS:
 * a kernel before 5.6, valgrind) the path is joined as root_path() does and 1 returned. */
int root_resolve(const char *root, const char *path, unsigned flags, char **ret);
