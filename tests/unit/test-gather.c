/* Configuration sources, their precedence and their errors (DESIGN §2), through the same
 * gather_sources() that `kubeboot join` and `kubeboot config` use, against fixture roots. */
#include <fcntl.h>
#include <sys/stat.h>

#include "fileio.h"
#include "log.h"
#include "phases.h"
#include "tap.h"

static char root[] = "/tmp/kubeboot-test-gather-XXXXXX";
static char logpath[256];

static void put(const char *rel, const char *content) {
        char path[512], dir[512];
        snprintf(path, sizeof path, "%s%s", root, rel);
        snprintf(dir, sizeof dir, "%s", path);
        *strrchr(dir, '/') = 0;
        mkdir_parents(dir, 0755);
        if (write_file_atomic(path, content, strlen(content), 0600) < 0)
                abort();
}

static void rm_rf(void) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
        if (system(cmd) != 0)
                abort();
        mkdir(root, 0755);
}

/* Runs gather_sources with stderr captured; returns its result; *log gets the messages. */
static int gather(Kb *kb, KbOptions *opt, char **log) {
        fflush(stderr);
        int saved = dup(2);
        int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, 2);
        close(fd);
        kb_init(kb, opt);
        int r = gather_sources(kb);
        fflush(stderr);
        dup2(saved, 2);
        close(saved);
        free(*log);
        *log = NULL;
        read_file_bounded(logpath, 1 << 20, log, NULL);
        return r;
}

static const char *src(Kb *kb, KbKey k) {
        return kb->cfg.v[k].source ? kb->cfg.v[k].source : "(unset)";
}

static char *path_in_root(const char *rel) {
        static char buf[4][512];
        static int i;
        i = (i + 1) % 4;
        snprintf(buf[i], sizeof buf[i], "%s%s", root, rel);
        return buf[i];
}

int main(void) {
        Kb kb;
        char *log = NULL;
        int r;

        log_setup(LOG_INFO);
        if (!mkdtemp(root))
                abort();
        snprintf(logpath, sizeof logpath, "%s.log", root);

        /* --- precedence: vendor < vendor.d < admin < admin.d < --config < cmdline --- */
        put("/usr/lib/kubeboot/kubeboot.ini", "[join]\nserver = https://vendor:6443\nnode-name = vendor\n"
                                              "[kubelet]\nmax-pods = 50\ncluster-dns = 10.0.0.10\n");
        put("/usr/lib/kubeboot/kubeboot.ini.d/10-a.ini", "[kubelet]\nmax-pods = 60\n");
        put("/etc/kubeboot/kubeboot.ini", "[join]\nserver = https://admin:6443\n");
        put("/etc/kubeboot/kubeboot.ini.d/20-b.ini", "[join]\nnode-name = admin-20\n");
        put("/etc/kubeboot/kubeboot.ini.d/10-a.ini", "[join]\nnode-name = admin-10\n");
        put("/etc/kubeboot/kubeboot.ini.d/ignored.conf", "[join]\nnode-name = not-an-ini\n");
        put("/extra.ini", "[kubelet]\ncluster-dns = 10.0.0.20\n");
        put("/cmdline", "ro quiet kubeboot.token=abcdef.0123456789abcdef kubeboot.cluster_dns=10.0.0.30\n");
        KbOptions opt = { .root = root, .cmdline_path = path_in_root("/cmdline"), .config_path = path_in_root("/extra.ini") };
        r = gather(&kb, &opt, &log);
        CHECK(r == 0, "a valid layered configuration gathers (%d)", r);
        CHECK_STREQ(kb.cfg.v[KB_SERVER].str, "https://admin:6443", "admin ini overrides vendor ini");
        CHECK(strstr(src(&kb, KB_SERVER), "/etc/kubeboot/kubeboot.ini:2") != NULL, "the source names file and line: %s",
              src(&kb, KB_SERVER));
        CHECK(kb.cfg.v[KB_MAX_PODS].u == 60, "a vendor drop-in overrides the vendor ini");
        CHECK_STREQ(kb.cfg.v[KB_NODE_NAME].str, "admin-20", "admin drop-ins apply in lexical order");
        CHECK_STREQ(kb.cfg.v[KB_CLUSTER_DNS].list[0], "10.0.0.30", "the cmdline overrides --config, '_' == '-'");
        CHECK(kb.cfg.v[KB_CLUSTER_DNS].list[1] == NULL, "a later source replaces a list");
        CHECK_STREQ(src(&kb, KB_CLUSTER_DNS), "cmdline", "cmdline values say so");
        CHECK_STREQ(src(&kb, KB_CGROUP_DRIVER), "default", "defaults say so");
        kb_done(&kb);

        opt.cmdline_path = "/dev/null";
        r = gather(&kb, &opt, &log);
        CHECK_STREQ(kb.cfg.v[KB_CLUSTER_DNS].list[0], "10.0.0.20", "--config overrides admin ini and drop-ins");
        CHECK(!config_has(&kb.cfg, KB_TOKEN), "no token when no source sets one");
        kb_done(&kb);

        /* --- lists accumulate within one source, comma-separated or repeated --- */
        rm_rf();
        put("/etc/kubeboot/kubeboot.ini",
            "[join]\nca-cert-hash = sha256:1111111111111111111111111111111111111111111111111111111111111111\n"
            "ca-cert-hash = sha256:2222222222222222222222222222222222222222222222222222222222222222, "
            "sha256:3333333333333333333333333333333333333333333333333333333333333333\nnode-name = n1\n"
            "[kubelet]\nnode-labels = a=b,c=d\n");
        opt = (KbOptions){ .root = root, .cmdline_path = "/dev/null" };
        r = gather(&kb, &opt, &log);
        CHECK(r == 0 && strv_length(kb.cfg.v[KB_CA_CERT_HASH].list) == 3, "repeated ca-cert-hash accumulates (%zu)",
              strv_length(kb.cfg.v[KB_CA_CERT_HASH].list));
        CHECK(strv_length(kb.cfg.v[KB_NODE_LABELS].list) == 2, "node-labels split at commas");
        kb_done(&kb);
        put("/cmdline", "kubeboot.ca-cert-hash=sha256:4444444444444444444444444444444444444444444444444444444444444444");
        opt.cmdline_path = path_in_root("/cmdline");
        r = gather(&kb, &opt, &log);
        CHECK(r == 0 && strv_length(kb.cfg.v[KB_CA_CERT_HASH].list) == 1 &&
                      kb.cfg.v[KB_CA_CERT_HASH].list[0][7] == '4',
              "a higher source replaces the whole pin list");
        kb_done(&kb);

        /* --- quoting, sections, unknown keys, bare booleans --- */
        rm_rf();
        put("/etc/kubeboot/kubeboot.ini", "[join]\nserver = \"https://quoted:6443\"\nmax-pods = 30\nfrobnicate = 1\n"
                                          "[weird]\nx = 1\n[kubelet]\nnode-name = n2 ; a comment\n");
        put("/cmdline", "kubeboot.unsafe-skip-ca-verification kubeboot.bogus=1 notours.token=zzz");
        opt = (KbOptions){ .root = root, .cmdline_path = path_in_root("/cmdline") };
        r = gather(&kb, &opt, &log);
        CHECK(r == 0, "warnings are not fatal (%d)", r);
        CHECK_STREQ(kb.cfg.v[KB_SERVER].str, "https://quoted:6443", "double quotes around an ini value are dropped");
        CHECK(kb.cfg.v[KB_MAX_PODS].u == 30, "a key in the wrong section is accepted");
        CHECK(strstr(log, "max-pods: belongs in section [kubelet]") != NULL, "... with a warning");
        CHECK(strstr(log, "frobnicate: unknown key, ignored") != NULL, "unknown ini keys are warned about");
        CHECK(strstr(log, "unknown section [weird]") != NULL, "unknown sections are warned about");
        CHECK(strstr(log, "cmdline: bogus: unknown key") != NULL, "unknown cmdline keys are warned about");
        CHECK(kb.cfg.v[KB_UNSAFE_SKIP_CA_VERIFICATION].b, "a bare boolean on the cmdline means true");
        CHECK_STREQ(kb.cfg.v[KB_NODE_NAME].str, "n2", "inline comments are dropped");
        kb_done(&kb);

        /* --- every malformed value: -EINVAL, one line naming source and key --- */
        static const struct {
                const char *ini, *cmdline, *expect;
        } bad[] = {
                { "[join]\ntoken = ABCDEF.0123456789abcdef\n", NULL, "kubeboot.ini:2: token: not a bootstrap token" },
                { "[join]\nserver = http://x:1\n", NULL, "kubeboot.ini:2: server: " },
                { "[join]\nca-cert-hash = sha256:12\n", NULL, "kubeboot.ini:2: ca-cert-hash: " },
                { "[join]\nnode-name = Bad_Name\n", NULL, "kubeboot.ini:2: node-name: " },
                { "[kubelet]\nnode-labels = a=b,node-role.kubernetes.io/x=\n", NULL, "kubeboot.ini:2: node-labels: " },
                { "[kubelet]\nregister-with-taints = a=b:Never\n", NULL, "kubeboot.ini:2: register-with-taints: " },
                { "[kubelet]\nmax-pods = -1\n", NULL, "kubeboot.ini:2: max-pods: " },
                { "[kubelet]\ncgroup-driver = docker\n", NULL, "kubeboot.ini:2: cgroup-driver: " },
                { "[join]\nunsafe-skip-ca-verification = maybe\n", NULL, "unsafe-skip-ca-verification: " },
                { "[join]\ndatasource = moon\n", NULL, "datasource: \"moon\" is not one of" },
                { "[join]\nwait-timeout = 5 minutes\n", NULL, "wait-timeout: " },
                { "[kubelet]\ncluster-dns = ,\n", NULL, "cluster-dns: empty list" },
                { "[join]\nthis line has no equals sign\n", NULL, "kubeboot.ini: line 2: not \"key = value\"" },
                { NULL, "kubeboot.token=abcdef.0123456789ABCDEF", "cmdline: token: not a bootstrap token" },
                { NULL, "kubeboot.node-ip=10.0.0.1,nothing", "cmdline: node-ip: \"nothing\" is not an IP" },
                { NULL, "kubeboot.server", "cmdline: server: " },
                { "[join]\nca-cert = /nonexistent/ca.crt\n", NULL, "kubeboot.ini:2: ca-cert: cannot read" },
                { "[join]\nca-cert = -----BEGIN CERTIFICATE----- AAAA -----END CERTIFICATE-----\n", NULL,
                  "kubeboot.ini:2: ca-cert: " },
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                rm_rf();
                if (bad[i].ini)
                        put("/etc/kubeboot/kubeboot.ini", bad[i].ini);
                put("/cmdline", bad[i].cmdline ? bad[i].cmdline : "");
                opt = (KbOptions){ .root = root, .cmdline_path = path_in_root("/cmdline") };
                r = gather(&kb, &opt, &log);
                CHECK(r == -EINVAL && log && strstr(log, bad[i].expect), "refused with \"%s\"", bad[i].expect);
                if (!(r == -EINVAL && log && strstr(log, bad[i].expect)))
                        printf("#   r=%d log: %s\n", r, log ? log : "");
                CHECK(!log || !strstr(log, "0123456789"), "... and the message quotes no token secret");
                kb_done(&kb);
        }

        /* --- files that cannot be read as ini --- */
        rm_rf();
        char longline[400] = "[join]\nnode-name = ";
        memset(longline + strlen(longline), 'a', 250);
        put("/etc/kubeboot/kubeboot.ini", longline);
        opt = (KbOptions){ .root = root, .cmdline_path = "/dev/null" };
        r = gather(&kb, &opt, &log);
        CHECK(r == -EINVAL && strstr(log, "line 2: longer than 199"), "a line longer than inih reads is refused");
        kb_done(&kb);

        rm_rf();
        char *big = malloc(70 * 1024);
        memset(big, '#', 70 * 1024 - 1);
        big[70 * 1024 - 1] = 0;
        put("/etc/kubeboot/kubeboot.ini", big);
        free(big);
        r = gather(&kb, &opt, &log);
        CHECK(r == -EINVAL && strstr(log, "larger than 65536 bytes"), "an oversized ini is refused");
        kb_done(&kb);

        rm_rf();
        mkdir_parents(path_in_root("/etc/kubeboot/kubeboot.ini"), 0755);
        r = gather(&kb, &opt, &log);
        CHECK(r == -EINVAL && strstr(log, "kubeboot.ini: cannot read"), "a directory in place of the ini is refused");
        kb_done(&kb);

        rm_rf();
        put("/etc/kubeboot/kubeboot.ini", "[join]\nnode-name = a\0b\n");
        opt.config_path = "/nonexistent.ini";
        r = gather(&kb, &opt, &log);
        CHECK(r == -EINVAL && strstr(log, "/nonexistent.ini: no such file"), "a missing --config file is an error");
        kb_done(&kb);

        /* --- derived: node-name from the hostname --- */
        rm_rf();
        opt = (KbOptions){ .root = root, .cmdline_path = "/dev/null" };
        r = gather(&kb, &opt, &log);
        CHECK(r == 0 && streq_ptr(src(&kb, KB_NODE_NAME), "hostname"), "node-name defaults to the hostname");
        kb_done(&kb);

        /* --- the token is redacted for display --- */
        put("/cmdline", "kubeboot.token=07401b.f395accd246ae52d");
        opt.cmdline_path = path_in_root("/cmdline");
        r = gather(&kb, &opt, &log);
        char *shown = config_format_value(&kb.cfg, KB_TOKEN, true);
        CHECK_STREQ(shown, "07401b.****************", "config shows the token id and hides the secret");
        free(shown);
        kb_done(&kb);

        rm_rf();
        rmdir(root);
        unlink(logpath);
        free(log);
        return tap_done();
}
