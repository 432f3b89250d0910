/* `kubeboot reset [--force]`: undo a join on this node, as `kubeadm reset` does for its
 * part, so that the next boot joins again. The Node object stays in the cluster. */
#include <dirent.h>

#include "bus.h"
#include "fileio.h"
#include "log.h"
#include "paths.h"
#include "state.h"
#include "verbs.h"

static const char *const files[] = {
        PATH_BOOTSTRAP_KUBECONFIG, PATH_KUBELET_KUBECONFIG, PATH_CA_CERT,  PATH_KUBELET_CONFIG,
        PATH_KUBELET_FLAGS,        PATH_JOINED_STAMP,       PATH_LAST_FAILURE,
};

/* kubelet's bootstrap results: kubelet-client-*.pem and kubelet-server-*.pem, their
 * -current links, and a self-signed kubelet.crt/key. */
static bool kubelet_pki_file(const char *name) {
        return startswith(name, "kubelet-client-") || startswith(name, "kubelet-server-") ||
               streq(name, "kubelet.crt") || streq(name, "kubelet.key");
}

static int confirm(void) {
        if (!isatty(STDIN_FILENO))
                return log_error_errno(-KB_EUSAGE, "refusing to reset without --force (no terminal to ask)");
        fprintf(stderr,
                "This stops kubelet and removes its credentials and kubeboot's files, so that this node joins "
                "again at the next boot.\nContinue? [y/N] ");
        char answer[16] = "";
        if (!fgets(answer, sizeof answer, stdin) || (answer[0] != 'y' && answer[0] != 'Y'))
                return log_error_errno(-KB_EUSAGE, "reset cancelled");
        return 0;
}

int verb_reset(Kb *kb) {
        bool on_root = isempty(kb->opt->root) || streq(kb->opt->root, "/");
        json_object *stamp = NULL;
        sd_bus *bus = NULL;
        int r, ret = 0;

        if (!kb->opt->force && (r = confirm()) < 0)
                return r;
        (void) state_read_joined(kb, &stamp);

        if (on_root) {
                r = bus_connect(&bus);
                if (r >= 0)
                        r = bus_unit_job(bus, "StopUnit", "kubelet.service", 90000, NULL);
                if (r < 0)
                        log_warning("could not stop kubelet.service: %s", bus_strerror(r));
                else
                        log_info("stopped kubelet.service");
        }

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *p = NULL;
                r = kb_path(kb, files[i], &p);
                if (r < 0)
                        return r;
                r = shred_and_unlink(p);
                if (r < 0)
                        ret = log_error_errno(-EROFS, "Failed to remove %s: %s", p, strerror(-r));
        }
        _cleanup_free_ char *pki = NULL;
        r = kb_path(kb, PATH_KUBELET_PKI, &pki);
        if (r < 0)
                return r;
        DIR *d = opendir(pki);
        if (d) {
                struct dirent *de;
                while ((de = readdir(d)))
                        if (kubelet_pki_file(de->d_name)) {
                                _cleanup_free_ char *p = strdup_printf("%s/%s", pki, de->d_name);
                                if (p && (r = shred_and_unlink(p)) < 0)
                                        ret = log_error_errno(-EROFS, "Failed to remove %s: %s", p, strerror(-r));
                        }
                closedir(d);
        }

        if (bus) {
                r = bus_unit_file_set_enabled(bus, "kubeboot.service", true);
                if (r < 0)
                        log_warning("could not enable kubeboot.service: %s", strerror(-r));
                bus_close(bus);
        }
        if (ret < 0) {
                json_object_put(stamp);
                return ret;
        }
        json_object *node = NULL;
        if (stamp && json_object_object_get_ex(stamp, "node", &node))
                printf("reset done. Node %s still exists in the cluster: kubectl delete node %s\n",
                       json_object_get_string(node), json_object_get_string(node));
        else
                printf("reset done.\n");
        printf("The next boot (or systemctl start kubeboot) joins again; it needs a valid token, since finish "
               "removed the old one.\n");
        json_object_put(stamp);
        return 0;
}
