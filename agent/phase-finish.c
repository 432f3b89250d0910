/* Phase finish: once the Node exists and kubelet's own credential works, the bootstrap
 * credentials go (kubeadm deletes bootstrap-kubelet.conf too), every file copy of the
 * token that can be scrubbed is, the joined stamp is written and the unit disabled.
 * Every step is idempotent, so an interrupted finish simply runs again. */
#include <ctype.h>
#include <sys/stat.h>

#include "backoff.h"
#include "bus.h"
#include "fileio.h"
#include "kubelet-creds.h"
#include "log.h"
#include "notify.h"
#include "paths.h"
#include "phases.h"
#include "secret.h"
#include "state.h"

#define KUBEBOOT_UNIT "kubeboot.service"
#define SCRUBBED_LINE "# token removed by kubeboot after the join\n"

/* Replaces line `line` of an ini file, if it still sets the token, by a comment. */
static int scrub_ini_line(const char *path, unsigned line) {
        _cleanup_secret_ char *buf = NULL;
        size_t len;
        struct stat st;
        /* gather names an ini by what it is beneath the root, links followed: a symlink
         * here is one made since, and replacing it would leave the token in its target */
        int r = read_file_flags(path, KB_INI_MAX, READ_NOFOLLOW, &buf, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (lstat(path, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -ELOOP;

        char *start = buf;
        for (unsigned i = 1; i < line && start; i++) {
                start = strchr(start, '\n');
                if (start)
                        start++;
        }
        if (!start || !*start)
                return 0;
        char *end = strchr(start, '\n');
        end = end ? end + 1 : buf + len;
        const char *p = start;
        while (*p != '\n' && isspace((unsigned char) *p)) /* inih's white space, within the line */
                p++;
        /* "token = ..." itself, or an indented line that inih read as a continuation of the
         * token's value (multi-line values): left alone, it would stay in the file and turn
         * into a continuation of the key before the scrubbed line */
        bool continuation = p > start && *p && !strchr("\n;#", *p);
        if (strncmp(p, "token", 5) != 0 && !continuation)
                return 0; /* already scrubbed or edited since */

        size_t head = (size_t) (start - buf), tail = (size_t) (buf + len - end);
        size_t nlen = head + strlen(SCRUBBED_LINE) + tail;
        char *out = malloc(nlen + 1);
        if (!out)
                return -ENOMEM;
        memcpy(out, buf, head);
        memcpy(out + head, SCRUBBED_LINE, strlen(SCRUBBED_LINE));
        memcpy(out + head + strlen(SCRUBBED_LINE), end, tail);
        r = write_file_replacing_secret(path, out, nlen, st.st_mode & 07777);
        secret_free_n(out, nlen);
        return r < 0 ? r : 1;
}

/* Every place gather read a token from: files are scrubbed, the rest is reported. */
static void scrub_token_sources(Kb *kb) {
        for (char **s = kb->cfg.token_sources; s && *s; s++) {
                const char *colon = strrchr(*s, ':');
                unsigned long line;
                if ((*s)[0] == '/' && colon && parse_uint(colon + 1, 1, 1000000, &line) == 0) {
                        _cleanup_free_ char *path = strndup(*s, (size_t) (colon - *s));
                        int r = path ? scrub_ini_line(path, (unsigned) line) : -ENOMEM;
                        if (r > 0)
                                log_info("removed the token from %s", *s);
                        else if (r == -ELOOP)
                                log_warning("could not remove the token from %s: it is a symbolic link now; "
                                            "remove the token from the file it points to",
                                            *s);
                        else if (r < 0)
                                log_warning("could not remove the token from %s: %s", *s, strerror(-r));
                } else if (streq(*s, "cmdline"))
                        log_notice("the token is on the kernel command line, which every user can read in "
                                   "/proc/cmdline: remove it from the boot configuration");
                else if (startswith(*s, "media:"))
                        log_notice("the token is on the KUBEBOOT config medium (%s): remove the medium, or the "
                                   "token from it",
                                   *s);
                else if (colon && strchr(*s, '/'))
                        /* a file all the same (a relative name): say so, it keeps the token */
                        log_warning("could not remove the token from %s: not an absolute path; remove it by hand",
                                    *s);
                else
                        log_debug("the token from %s is not a file kubeboot can scrub", *s);
        }
}

int finish_commit(Kb *kb, const char *node, const char *how) {
        _cleanup_free_ char *bootstrap = NULL;
        int r = kb_path(kb, PATH_BOOTSTRAP_KUBECONFIG, &bootstrap);
        if (r < 0)
                return r;
        progress("removing the bootstrap credentials");
        r = shred_and_unlink(bootstrap);
        if (r < 0)
                return log_error_errno(-EROFS, "Failed to remove %s: %s", bootstrap, strerror(-r));
        (void) remove_stale_temp_files(bootstrap);
        scrub_token_sources(kb);

        r = state_write_joined(kb, node, how);
        if (r < 0)
                return log_error_errno(-EROFS, "Failed to write the joined stamp: %s", strerror(-r));
        (void) state_clear_failure(kb);

        if (isempty(kb->opt->root) || streq(kb->opt->root, "/")) {
                sd_bus *bus = NULL;
                r = bus_connect(&bus);
                if (r >= 0)
                        r = bus_unit_file_set_enabled(bus, KUBEBOOT_UNIT, false);
                bus_close(bus);
                /* the stamp keeps the unit off anyway (ConditionPathExists=!) */
                if (r < 0)
                        log_warning("could not disable %s: %s", KUBEBOOT_UNIT, bus_strerror(r));
                else
                        log_info("disabled %s", KUBEBOOT_UNIT);
        }
        progress("joined as Node %s", node);
        return 0;
}

int phase_finish(Kb *kb) {
        _cleanup_kubelet_creds_ KubeletCreds *creds = NULL;
        char why[256], detail[600];
        HttpClient *http = kb_http(kb);
        if (!http)
                return -ENOMEM;

        /* the bootstrap token goes only once kubelet no longer needs it */
        int r = kubelet_creds_load(kb, &creds, why, sizeof why);
        if (r == -ENOENT)
                return log_error_errno(-EAGAIN, "kubelet has no credentials of its own yet; keeping the bootstrap token");
        if (r < 0)
                return log_error_errno(r, "kubelet's credentials are unusable (%s); keeping the bootstrap token", why);
        /* A 429/5xx or a dropped connection is asked again (Retry-After honoured, within
         * discovery-timeout): under load, one such answer must not fail a finished join. */
        Backoff b;
        backoff_init(&b, kb->cfg.v[KB_DISCOVERY_TIMEOUT].u, BACKOFF_BASE_MS, BACKOFF_CAP_MS);
        for (;;) {
                long retry_after_s = -1;
                r = kubelet_creds_get_node(http, creds, detail, sizeof detail, &retry_after_s);
                if (r == 1)
                        break;
                bool transient = r == -EAGAIN || r == -ECONNREFUSED || r == -ECONNRESET || r == -ETIMEDOUT ||
                                 r == -EHOSTUNREACH || r == -ENETUNREACH;
                if (!transient ||
                    backoff_wait(&b, retry_after_ms(retry_after_s)) < 0)
                        return log_error_errno(r < 0 ? r : -EAGAIN,
                                               "Node %s cannot be read with kubelet's credential (%s); keeping the "
                                               "bootstrap token",
                                               creds->node, detail);
                log_debug("Node %s: %s; asking again", creds->node, detail);
        }
        return finish_commit(kb, creds->node, "join");
}
