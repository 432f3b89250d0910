/* Phase write: the kubelet's files in kubeadm's layout (DESIGN §3), each written
 * atomically with its mode; the token-bearing kubeconfig last and 0600. */
#include <sys/stat.h>

#include "fileio.h"
#include "kubeconfig-write.h"
#include "kubelet-config.h"
#include "log.h"
#include "notify.h"
#include "paths.h"
#include "phases.h"
#include "secret.h"

/* Every failure to create a node file is reported as EROFS-class, exit 73, whatever
 * errno the kernel gave (it is logged with the path first). */
static int fs_error(int r) {
        return r == -ENOMEM ? r : -EROFS;
}

static int write_node_file(Kb *kb, const char *file, const char *data, size_t len, mode_t mode, bool secret) {
        _cleanup_free_ char *path = NULL;
        int r = kb_path(kb, file, &path);
        if (r < 0)
                return fs_error(r);
        r = remove_stale_temp_files(path);
        if (r > 0)
                log_info("removed %d temporary file(s) an interrupted run left beside %s", r, path);
        /* a file that held the token (an earlier run's) is wiped, not just replaced */
        r = secret ? write_file_replacing_secret(path, data, len, mode) : write_file_atomic(path, data, len, mode);
        if (r < 0)
                return fs_error(log_error_errno(r, "Failed to write %s: %m", path));
        log_info("wrote %s (mode %04o)", path, (unsigned) mode);
        return 0;
}

/* The first ancestor of path (or path itself) that exists but is not a directory, as a
 * new string; NULL if none (or OOM). */
static char *in_the_way(const char *path) {
        _cleanup_free_ char *p = strdup(path);
        struct stat st;
        for (char *s = p ? p + 1 : NULL; s; s++) {
                if (*s != '/' && *s != 0)
                        continue;
                char c = *s;
                *s = 0;
                if (stat(p, &st) == 0 && !S_ISDIR(st.st_mode))
                        return TAKE_PTR(p);
                if (c == 0)
                        break;
                *s = c;
        }
        return NULL;
}

static int make_dir(Kb *kb, const char *dir, mode_t mode) {
        _cleanup_free_ char *path = NULL;
        int r = kb_path(kb, dir, &path);
        if (r < 0)
                return fs_error(r);
        r = mkdir_parents(path, mode);
        if (r == -ENOTDIR) {
                /* name what is in the way, not only the directory that cannot be made */
                _cleanup_free_ char *file = in_the_way(path);
                if (file)
                        return fs_error(log_error_errno(r, "Failed to create directory %s: %s is in the way (%m)",
                                                        path, file));
        }
        if (r < 0)
                return fs_error(log_error_errno(r, "Failed to create directory %s: %m", path));
        return 0;
}

int phase_write(Kb *kb) {
        _cleanup_free_ char *kubelet_cfg = NULL, *flags = NULL;
        char *kubeconfig = NULL;
        size_t len, kubeconfig_len = 0;
        int r;

        if (!kb->ca)
                return log_key_errno(LOG_ERR, -ENOKEY, "configuration", "ca-cert",
                                     "no cluster CA to write: set ca-cert, or let the discover phase run");

        r = make_dir(kb, "/etc/kubernetes/pki", 0755);
        if (r < 0)
                return r;
        r = make_dir(kb, PATH_KUBELET_DIR, 0700);
        if (r < 0)
                return r;

        r = write_node_file(kb, PATH_CA_CERT, kb->ca->pem, kb->ca->pem_len, 0644, false);
        if (r < 0)
                return r;

        r = kubelet_config_render(&kb->cfg, kb->kubelet_base, &kubelet_cfg, &len);
        if (r < 0)
                return log_error_errno(r, "Failed to render the KubeletConfiguration: %m");
        r = write_node_file(kb, PATH_KUBELET_CONFIG, kubelet_cfg, len, 0644, false);
        if (r < 0)
                return r;

        r = kubelet_flags_render(&kb->cfg, kb->cfg.v[KB_NODE_NAME].str, &flags, &len);
        if (r < 0)
                return log_error_errno(r, "Failed to render kubelet flags: %m");
        r = write_node_file(kb, PATH_KUBELET_FLAGS, flags, len, 0644, false);
        if (r < 0)
                return r;

        /* last: kubelet, if it is already crash-looping, starts bootstrapping only now */
        r = kubeconfig_bootstrap_render(kb_server(kb), kb->ca, kb->cfg.v[KB_TOKEN].str, &kubeconfig,
                                        &kubeconfig_len);
        if (r < 0)
                return log_error_errno(r, "Failed to render the bootstrap kubeconfig: %m");
        r = write_node_file(kb, PATH_BOOTSTRAP_KUBECONFIG, kubeconfig, kubeconfig_len, 0600, true);
        secret_free_n(kubeconfig, kubeconfig_len + 1);
        if (r < 0)
                return r;
        /* kubelet.service (ordered after us) may start now */
        notify_ready();
        return 0;
}
