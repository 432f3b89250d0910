/* Node checks before anything is written: a node that cannot run kubelet (no container
 * runtime, swap on, no IP forwarding, port 10250 taken, a kubelet the apiserver does not
 * support) is told so now, with the fix, instead of crash-looping kubelet for the whole
 * wait-timeout. Modelled on kubeadm's RunJoinNodeChecks (cmd/kubeadm/app/preflight/
 * checks.go): the same names, so the same ignore-preflight-errors words; like kubeadm,
 * every check runs and all failures are reported before giving up.
 *
 * Node files are read under --root. A file missing there is "cannot tell": a warning,
 * as kubeadm's SwapCheck treats a missing /proc/swaps. Under --root (image baking, tests)
 * no runtime or kubelet needs to be installed yet, so their absence is "cannot tell" too;
 * on the running system (no --root) it is a failure. */
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "api.h"
#include "bus.h"
#include "fileio.h"
#include "log.h"
#include "node-checks.h"
#include "notify.h"

#define KUBELET_PORT 10250
#define KUBELET_UNIT "kubelet.service"
/* At first boot the runtime may still be starting (kubeboot.service is not ordered after
 * containerd.service, which an image may not have): wait for its socket this long. */
#define CRI_WAIT_MS 60000ULL
#define CRI_POLL_MS 1000L
#define KUBELET_VERSION_TIMEOUT_MS 10000
#define KUBELET_VERSION_MAX 4096
#define PROC_FILE_MAX (64U * 1024U)
#define RESOLVE_TIMEOUT_S 5
#define FAILED_MAX 512

static const char *const default_kubelets[] = {"/usr/bin/kubelet", "/opt/bin/kubelet" /* Flatcar's sysext */};

typedef struct NodeChecks {
        Kb *kb;
        bool running_system; /* no --root: the checks look at this machine itself */
        char *const *ignore;
        json_object *warnings; /* [{"check":..., "message":...}] for `kubeboot status` */
        char failed[FAILED_MAX];
        unsigned n_failed;
} NodeChecks;

bool node_check_ignored(char *const *ignore, const char *check) {
        for (char *const *i = ignore; i && *i; i++)
                if (strcasecmp(*i, "all") == 0 || strcasecmp(*i, check) == 0)
                        return true;
        return false;
}

/* One line per finding: "CHECK: what was found: the fix". fatal findings fail the join
 * unless ignored; everything else is a warning, kept for `kubeboot status`. */
_printf_(4, 5) static void report(NodeChecks *nc, const char *check, bool fatal, const char *fmt, ...) {
        char msg[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);

        if (fatal && !node_check_ignored(nc->ignore, check)) {
                log_error("[preflight] %s: %s", check, msg);
                size_t off = strlen(nc->failed);
                snprintf(nc->failed + off, sizeof nc->failed - off, "%s%s", off ? "," : "", check);
                nc->n_failed++;
                return;
        }
        log_warning("[preflight] %s: %s%s", check, msg, fatal ? " (ignored: ignore-preflight-errors)" : "");
        json_object *w = json_object_new_object();
        json_object_object_add(w, "check", json_object_new_string(check));
        json_object_object_add(w, "message", json_object_new_string(msg));
        json_object_object_add(w, "ignored", json_object_new_boolean(fatal));
        json_object_array_add(nc->warnings, w);
}

/* A small node file under the root, stripped; -ENOENT if missing. */
static int read_node_file(NodeChecks *nc, const char *path, char **ret) {
        _cleanup_free_ char *p = NULL;
        size_t len;
        int r = kb_path_target(nc->kb, path, &p);
        if (r < 0)
                return r;
        r = read_file_bounded(p, PROC_FILE_MAX, ret, &len);
        if (r >= 0)
                strstrip(*ret);
        return r;
}

/* kubeadm's FileContentCheck for a forwarding sysctl: it must read "1". */
static void check_forwarding(NodeChecks *nc, const char *check, const char *path, const char *sysctl) {
        _cleanup_free_ char *v = NULL;
        int r = read_node_file(nc, path, &v);
        if (r < 0) {
                report(nc, check, false, "cannot read %s (%s): cannot tell whether %s is on", path, strerror(-r),
                       sysctl);
                return;
        }
        if (!streq(v, "1"))
                report(nc, check, true,
                       "%s is %s, not 1: pods' traffic would not be forwarded; run 'sysctl -w %s=1' and make it "
                       "last with a file in /etc/sysctl.d/ ('%s = 1')",
                       path, v, sysctl, sysctl);
}

/* kubelet refuses to start with swap on while failSwapOn is true (its default). */
static void check_swap(NodeChecks *nc) {
        _cleanup_free_ char *v = NULL;
        int r = read_node_file(nc, "/proc/swaps", &v);
        if (r < 0) {
                report(nc, CHECK_SWAP, false, "cannot read /proc/swaps (%s): cannot tell whether swap is on",
                       strerror(-r));
                return;
        }
        /* the first line is the header ("Filename Type Size Used Priority") */
        char *nl = strchr(v, '\n');
        if (!nl)
                return;
        char dev[256] = "";
        (void) sscanf(nl + 1, "%255s", dev);
        /* the cluster's KubeletConfiguration (kube-system/kubelet-config, read just before)
         * may allow swap, as kubeadm clusters set up for NodeSwap do */
        json_object *fail_swap_on;
        if (nc->kb->kubelet_base && json_object_object_get_ex(nc->kb->kubelet_base, "failSwapOn", &fail_swap_on) &&
            json_object_is_type(fail_swap_on, json_type_boolean) && !json_object_get_boolean(fail_swap_on)) {
                log_info("swap is on (%s), and the cluster's KubeletConfiguration allows it (failSwapOn: false)", dev);
                return;
        }
        report(nc, CHECK_SWAP, true,
               "swap is on (%s): kubelet will not start with swap on (failSwapOn); run 'swapoff -a' and remove the "
               "swap line from /etc/fstab (or mask the swap unit), or, where the cluster's KubeletConfiguration "
               "sets failSwapOn: false, set ignore-preflight-errors=Swap",
               dev);
}

static int unix_connect(const char *path) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path) + 1);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return negative_errno();
        return 0;
}

/* kubeadm asks the runtime over CRI; that the socket accepts a connection says what
 * matters here (something serves it) without a gRPC client. */
static void check_cri(NodeChecks *nc) {
        const char *endpoint = nc->kb->cfg.v[KB_CONTAINER_RUNTIME_ENDPOINT].str;
        const char *sock = startswith(endpoint, "unix://");
        if (!sock) {
                report(nc, CHECK_CRI, false, "%s is not a unix socket: cannot tell", endpoint);
                return;
        }
        _cleanup_free_ char *p = NULL;
        if (kb_path_target(nc->kb, sock, &p) < 0) {
                report(nc, CHECK_CRI, false, "%s cannot be resolved beneath the root: cannot tell", sock);
                return;
        }

        unsigned long long deadline = now_ms() + (nc->running_system ? CRI_WAIT_MS : 0);
        bool told = false;
        int r;
        for (;;) {
                r = unix_connect(p);
                if ((r != -ENOENT && r != -ECONNREFUSED) || now_ms() >= deadline)
                        break;
                if (!told) {
                        progress("waiting up to %llus for the container runtime's socket %s", CRI_WAIT_MS / 1000, sock);
                        told = true;
                }
                (void) poll(NULL, 0, CRI_POLL_MS);
        }
        if (r == 0)
                log_debug("[preflight] %s: %s accepts connections", CHECK_CRI, p);
        else if (r == -ENOENT && !nc->running_system)
                report(nc, CHECK_CRI, false, "no socket at %s (container-runtime-endpoint): cannot tell under --root",
                       p);
        else if (r == -ENOENT)
                report(nc, CHECK_CRI, true,
                       "no container runtime socket at %s (container-runtime-endpoint): install and start containerd "
                       "or CRI-O, or set container-runtime-endpoint to the runtime's socket",
                       p);
        else if (r == -ECONNREFUSED)
                report(nc, CHECK_CRI, true,
                       "nothing accepts connections on %s (container-runtime-endpoint): start the container "
                       "runtime (systemctl start containerd) and see its journal",
                       p);
        else if (r == -ENAMETOOLONG)
                report(nc, CHECK_CRI, false, "%s is too long a socket path: cannot tell", p);
        else
                report(nc, CHECK_CRI, true, "cannot connect to %s (container-runtime-endpoint): %s", p, strerror(-r));
}

/* 1 if something listens on the port (as kubeadm's PortOpenCheck: a listener on ":port",
 * both families), 0 if free, <0 if it cannot tell. */
static int port_in_use(uint16_t port) {
        int one = 1, zero = 0;
        _cleanup_close_ int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0) {
                struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = in6addr_any};
                (void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
                (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
                if (bind(fd, (struct sockaddr *) &sa, sizeof sa) == 0)
                        return 0;
                if (errno == EADDRINUSE)
                        return 1;
                if (errno != EADDRNOTAVAIL && errno != EAFNOSUPPORT)
                        return negative_errno();
        } else if (errno != EAFNOSUPPORT)
                return negative_errno();
        /* no IPv6 on this node */
        _cleanup_close_ int fd4 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd4 < 0)
                return negative_errno();
        struct sockaddr_in sa4 = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = INADDR_ANY};
        (void) setsockopt(fd4, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd4, (struct sockaddr *) &sa4, sizeof sa4) == 0)
                return 0;
        return errno == EADDRINUSE ? 1 : negative_errno();
}

static bool kubelet_unit_running(void) {
        sd_bus *bus = NULL;
        _cleanup_free_ char *active = NULL, *sub = NULL;
        bool running = false;
        if (bus_connect(&bus) < 0)
                return false;
        if (bus_unit_state(bus, KUBELET_UNIT, &active, &sub) >= 0)
                running = streq(active, "active") && streq(sub, "running");
        bus_close(bus);
        return running;
}

static void check_port(NodeChecks *nc) {
        int r = port_in_use(KUBELET_PORT);
        if (r < 0) {
                report(nc, CHECK_PORT_KUBELET, false, "cannot bind a test socket (%s): cannot tell", strerror(-r));
                return;
        }
        if (r == 0)
                return;
        /* a re-run after kubelet started (a crash between start and finish): its own port */
        if (nc->running_system && kubelet_unit_running()) {
                log_info("[preflight] %s: port %d is in use while %s runs: taken to be kubelet's own",
                         CHECK_PORT_KUBELET, KUBELET_PORT, KUBELET_UNIT);
                return;
        }
        report(nc, CHECK_PORT_KUBELET, true,
               "port %d is in use and kubelet.service is not running: kubelet could not listen there; find the "
               "listener with 'ss -ltnp sport = :%d' and stop it",
               KUBELET_PORT, KUBELET_PORT);
}

int kube_version_parse(const char *s, unsigned *ret_major, unsigned *ret_minor) {
        const char *p = s;
        /* "Kubernetes v1.32.0" (kubelet --version), "v1.32.0" (/version's gitVersion) */
        const char *k = strstr(s, "Kubernetes ");
        if (k)
                p = k + strlen("Kubernetes ");
        while (*p == ' ')
                p++;
        if (*p == 'v')
                p++;
        unsigned major, minor;
        int end = 0;
        if (sscanf(p, "%3u.%3u%n", &major, &minor, &end) != 2 || end == 0)
                return -EINVAL;
        *ret_major = major;
        *ret_minor = minor;
        return 0;
}

int kubelet_skew_check(unsigned kmaj, unsigned kmin, unsigned smaj, unsigned smin, char *why, size_t n) {
        if (kmaj != smaj)
                return why_errno(why, n, -ERANGE, "a different major version");
        if (kmin > smin)
                return why_errno(why, n, -ERANGE, "newer than the apiserver: kubelet must not be newer");
        /* three minors older from 1.28 on (KEP-3935), two before */
        unsigned allowed = smin >= 28 ? 3 : 2;
        if (smin - kmin > allowed)
                return why_errno(why, n, -ERANGE,
                                 "%u minor versions older than the apiserver: at most %u are supported", smin - kmin,
                                 allowed);
        return 0;
}

/* Runs child(arg, fd) in a forked process that writes what it has to say to fd, and reads
 * it into out (at most n - 1 bytes, NUL-terminated) until EOF; then reaps the child. All
 * within timeout_ms: a child that is late is killed. 0 with *ret_status its wait status,
 * -ETIMEDOUT, or another negative errno. Bounded whatever the child does (a resolver that
 * retries every nameserver, a binary that hangs), and nothing of it outlives the call. */
static int run_bounded(void (*child)(const void *arg, int fd), const void *arg, unsigned long long timeout_ms,
                       char *out, size_t n, int *ret_status) {
        int pipefd[2];
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return negative_errno();
        pid_t pid = fork();
        if (pid < 0) {
                close(pipefd[0]);
                close(pipefd[1]);
                return negative_errno();
        }
        if (pid == 0) {
                close(pipefd[0]);
                child(arg, pipefd[1]);
                _exit(127);
        }
        close(pipefd[1]);
        size_t len = 0;
        int r = 0;
        unsigned long long deadline = now_ms() + timeout_ms;
        for (;;) {
                unsigned long long now = now_ms();
                if (now >= deadline) {
                        r = -ETIMEDOUT;
                        break;
                }
                struct pollfd pfd = {.fd = pipefd[0], .events = POLLIN};
                int p = poll(&pfd, 1, (int) (deadline - now));
                if (p < 0 && errno == EINTR)
                        continue;
                if (p <= 0) {
                        r = p < 0 ? negative_errno() : -ETIMEDOUT;
                        break;
                }
                ssize_t got = read(pipefd[0], out + len, n - 1 - len);
                if (got < 0 && errno == EINTR)
                        continue;
                if (got <= 0)
                        break;
                len += (size_t) got;
                if (len >= n - 1)
                        break;
        }
        close(pipefd[0]);
        out[len] = 0;
        /* its output is done; its exit is awaited within the same deadline */
        int status = 0;
        pid_t w = -1;
        while (r == 0 && (w = waitpid(pid, &status, WNOHANG)) == 0 && now_ms() < deadline)
                (void) poll(NULL, 0, 20);
        if (r < 0 || w != pid) {
                (void) kill(pid, SIGKILL);
                while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                        ;
                r = r ?: -ETIMEDOUT;
        }
        *ret_status = status;
        return r;
}

/* In the child: exec `kubelet --version`, its stdout the pipe. */
static void exec_kubelet_version(const void *path, int fd) {
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null < 0 || dup2(null, 0) < 0 || dup2(fd, 1) < 0 || dup2(null, 2) < 0)
                return;
        /* a fixed environment: nothing of kubeboot's reaches it */
        char *const argv[] = {(char *) path, (char *) "--version", NULL};
        char *const envp[] = {(char *) "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                              (char *) "LANG=C.UTF-8", NULL};
        execve(path, argv, envp);
}

/* Runs `kubelet --version` (bounded in time and output) and reads what it says. */
static int kubelet_version(const char *path, char *out, size_t n) {
        int status;
        int r = run_bounded(exec_kubelet_version, path, KUBELET_VERSION_TIMEOUT_MS, out, n, &status);
        if (r < 0)
                return r;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return -EIO;
        strstrip(out);
        return 0;
}

/* The apiserver's gitVersion, asked with the token (/version is readable by every
 * authenticated user: ClusterRole system:public-info-viewer). */
static int server_version(Kb *kb, char *out, size_t n) {
        HttpClient *http = kb_http(kb);
        if (!http || !kb->ca || !kb_server(kb))
                return -ENOKEY;
        ApiAuth auth = {.ca = kb->ca, .bearer = kb->cfg.v[KB_TOKEN].str};
        ApiResult res = {.retry_after_s = -1};
        int r = api_request(http, kb_server(kb), &auth, "GET", "/version", NULL, &res);
        const char *v = r >= 0 && res.status == 200 ? json_get_string(res.json, "gitVersion", NULL) : NULL;
        if (v)
                snprintf(out, n, "%s", v);
        else
                api_describe(r, &res, out, n);
        api_result_clear(&res);
        return v ? 0 : -EPROTO;
}

static void check_kubelet_version(NodeChecks *nc) {
        const KbConfig *c = &nc->kb->cfg;
        _cleanup_free_ char *bin = NULL;
        const char *shown = NULL;

        if (config_has(c, KB_KUBELET_PATH)) {
                shown = c->v[KB_KUBELET_PATH].str;
                (void) kb_path_target(nc->kb, shown, &bin); /* NULL: handled as missing below */
        } else
                for (size_t i = 0; i < ELEMENTSOF(default_kubelets) && !shown; i++) {
                        _cleanup_free_ char *p = NULL;
                        if (kb_path_target(nc->kb, default_kubelets[i], &p) >= 0 && access(p, X_OK) == 0) {
                                shown = default_kubelets[i];
                                bin = TAKE_PTR(p);
                        }
                }
        if (!shown || !bin || access(bin, X_OK) < 0) {
                const char *where = shown ?: "/usr/bin/kubelet or /opt/bin/kubelet";
                if (!nc->running_system)
                        report(nc, CHECK_KUBELET_VERSION, false, "no kubelet at %s under --root: cannot tell", where);
                else
                        report(nc, CHECK_KUBELET_VERSION, true,
                               "no kubelet binary at %s: install the kubelet package (or, where it lives elsewhere, "
                               "set kubelet-path)",
                               where);
                return;
        }

        char out[KUBELET_VERSION_MAX], srv[600];
        unsigned kmaj, kmin, smaj, smin;
        int r = kubelet_version(bin, out, sizeof out);
        if (r < 0) {
                report(nc, CHECK_KUBELET_VERSION, true, "'%s --version' %s: is it a kubelet for this machine?", shown,
                       r == -ETIMEDOUT ? "did not answer within 10 s" : "failed");
                return;
        }
        if (kube_version_parse(out, &kmaj, &kmin) < 0) {
                report(nc, CHECK_KUBELET_VERSION, true, "'%s --version' said \"%.80s\", not a Kubernetes version",
                       shown, out);
                return;
        }
        if (server_version(nc->kb, srv, sizeof srv) < 0) {
                report(nc, CHECK_KUBELET_VERSION, false,
                       "kubelet is %s, but the apiserver's version is unknown (%s): cannot check the skew", out, srv);
                return;
        }
        if (kube_version_parse(srv, &smaj, &smin) < 0) {
                report(nc, CHECK_KUBELET_VERSION, false,
                       "the apiserver's version \"%.80s\" is not a Kubernetes version: cannot check the skew", srv);
                return;
        }
        char why[200];
        if (kubelet_skew_check(kmaj, kmin, smaj, smin, why, sizeof why) < 0) {
                report(nc, CHECK_KUBELET_VERSION, true,
                       "kubelet %s (%s) against apiserver %s: %s; install a kubelet of v%u.%u or up to %u minors "
                       "older (https://kubernetes.io/releases/version-skew-policy/#kubelet)",
                       out, shown, srv, why, smaj, smin, smin >= 28 ? 3 : 2);
                return;
        }
        log_info("[preflight] %s: kubelet %s, apiserver %s", CHECK_KUBELET_VERSION, out, srv);
}

/* In the child: getaddrinfo(name), its EAI_* code (0: resolved) written as one byte. */
static void resolve_child(const void *name, int fd) {
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
        int e = getaddrinfo(name, NULL, &hints, &res);
        if (e == 0)
                freeaddrinfo(res);
        signed char c = (signed char) e;
        _exit(write(fd, &c, 1) == 1 ? 0 : 1);
}

/* Resolves name in a child process, so that the deadline holds whatever the resolver does
 * (glibc retries each nameserver for timeout x attempts) and no resolver thread outlives
 * the check. 0 resolved, an EAI_* code (EAI_SYSTEM if it could not try), or -ETIMEDOUT. */
static int resolve_bounded(const char *name) {
        char answer[2];
        int status;
        int r = run_bounded(resolve_child, name, RESOLVE_TIMEOUT_S * 1000ULL, answer, sizeof answer, &status);
        if (r == -ETIMEDOUT)
                return r;
        /* it exits 0 only once its byte is written */
        if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return EAI_SYSTEM;
        return (signed char) answer[0];
}

/* kubeadm's HostnameCheck: a warning only. */
static void check_hostname(NodeChecks *nc) {
        const char *node = nc->kb->cfg.v[KB_NODE_NAME].str;
        if (isempty(node))
                return;
        int r = resolve_bounded(node);
        if (r == 0)
                log_debug("[preflight] %s: %s resolves", CHECK_HOSTNAME, node);
        else if (r == -ETIMEDOUT)
                report(nc, CHECK_HOSTNAME, false,
                       "node name \"%s\" did not resolve within %d s: add it to DNS or /etc/hosts", node,
                       RESOLVE_TIMEOUT_S);
        else
                report(nc, CHECK_HOSTNAME, false,
                       "node name \"%s\" does not resolve (%s): add it to DNS or /etc/hosts, or the control plane "
                       "may not reach this node by name",
                       node, gai_strerror(r));
}

static bool has_ipv6(char *const *ips) {
        for (char *const *i = ips; i && *i; i++)
                if (strchr(*i, ':'))
                        return true;
        return false;
}

static void warn_unknown_names(NodeChecks *nc) {
        static const char *const known[] = {CHECK_CRI,          CHECK_SWAP,
                                            CHECK_IP_FORWARD,   CHECK_IP6_FORWARD,
                                            CHECK_PORT_KUBELET, CHECK_KUBELET_VERSION,
                                            CHECK_HOSTNAME,     "all"};
        for (char *const *i = nc->ignore; i && *i; i++) {
                bool found = false;
                for (size_t k = 0; k < ELEMENTSOF(known) && !found; k++)
                        found = strcasecmp(*i, known[k]) == 0;
                /* kubeadm accepts any name (its other commands have more checks): warn, for typos */
                if (!found)
                        log_key_errno(LOG_WARNING, 0, nc->kb->cfg.v[KB_IGNORE_PREFLIGHT_ERRORS].source,
                                      "ignore-preflight-errors", "\"%s\" names no check kubeboot runs", *i);
        }
}

int node_checks_run(Kb *kb) {
        NodeChecks nc = {
                .kb = kb,
                .running_system = isempty(kb->opt->root) || streq(kb->opt->root, "/"),
                .ignore = kb->cfg.v[KB_IGNORE_PREFLIGHT_ERRORS].list,
                .warnings = json_object_new_array(),
        };
        if (!nc.warnings)
                return -ENOMEM;
        warn_unknown_names(&nc);

        check_cri(&nc);
        check_swap(&nc);
        check_forwarding(&nc, CHECK_IP_FORWARD, "/proc/sys/net/ipv4/ip_forward", "net.ipv4.ip_forward");
        if (has_ipv6(kb->cfg.v[KB_NODE_IP].list))
                check_forwarding(&nc, CHECK_IP6_FORWARD, "/proc/sys/net/ipv6/conf/default/forwarding",
                                 "net.ipv6.conf.default.forwarding");
        check_port(&nc);
        check_kubelet_version(&nc);
        check_hostname(&nc);

        /* nothing is written before the write phase: the warnings go into the joined stamp or
         * the failure record */
        json_object_put(kb->preflight_warnings);
        kb->preflight_warnings = nc.warnings;
        if (nc.n_failed > 0)
                return log_error_errno(-EINVAL,
                                       "%u node check%s failed (%s): fix what is said above, or downgrade with "
                                       "ignore-preflight-errors=%s",
                                       nc.n_failed, nc.n_failed > 1 ? "s" : "", nc.failed, nc.failed);
        return 0;
}
