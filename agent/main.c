/* kubeboot: turns a bootstrap token and an apiserver address into a registered node. */
#include <getopt.h>
#include <stdarg.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sysexits.h>

#include "http.h"
#include "log.h"
#include "phases.h"
#include "verbs.h"

#ifndef KUBEBOOT_VERSION
#define KUBEBOOT_VERSION "0"
#endif

static int verb_version(Kb *kb);
static int verb_help(Kb *kb);

typedef struct Verb {
        const char *name;
        int (*run)(Kb *kb);
        const char *usage;
        const char *description;
} Verb;

static const Verb verbs[] = {
        { "join", verb_join, "join [--skip-phases=a,b]", "join this node to the cluster (what the unit runs)" },
        { "config", verb_config, "config [--json]", "print the merged configuration and each key's source" },
        { "status", verb_status, "status [--json]", "joined or not, as which node, since when, last failure" },
        { "reset", verb_reset, "reset [--force]", "undo the join on this node so that the next boot joins again" },
        { "token", verb_token, "token create|list|delete [ID]", "control plane: bootstrap tokens, their RBAC, cluster-info" },
        { "version", verb_version, "version", "print the version" },
        { "help", verb_help, "help", "print this help" },
};

/* Parsed options: set once here, read-only for the rest of the run. */
static KbOptions arg_options;
static const Verb *arg_verb;

static int verb_version(Kb *kb) {
        (void) kb;
        printf("kubeboot %s\n%s\n", KUBEBOOT_VERSION, http_library_version());
        return 0;
}

static void print_usage(FILE *f) {
        fprintf(f, "Usage: kubeboot [OPTIONS] COMMAND\n\nCommands:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                fprintf(f, "  %-30s %s\n", verbs[i].usage, verbs[i].description);
        fprintf(f, "\nPhases of join, in order (for --skip-phases):\n");
        for (size_t i = 0; i < kb_phases_count; i++)
                fprintf(f, "  %-30s %s\n", kb_phases[i].name, kb_phases[i].description);
        fprintf(f, "\nOptions:\n"
                   "  --root=DIR              prefix every node path with DIR (image baking, tests)\n"
                   "  --cmdline=FILE          read the kernel command line from FILE (default /proc/cmdline)\n"
                   "  --config=FILE           one more ini, above /etc/kubeboot in precedence\n"
                   "  --skip-phases=LIST      join: skip these phases (comma-separated)\n"
                   "  --json                  config, status, token list: print JSON\n"
                   "  --force                 reset: do not ask for confirmation\n"
                   "  --kubeconfig=FILE       token: the admin kubeconfig (default $KUBECONFIG, else\n"
                   "                          /etc/kubernetes/admin.conf if readable, else ~/.kube/config)\n"
                   "  --context=NAME          token: the kubeconfig context (default its current-context)\n"
                   "  --ttl=DURATION          token create: lifetime, e.g. 24h (default), 0 never expires\n"
                   "  --description=TEXT      token create: shown by token list\n"
                   "  --groups=LIST           token create: extra groups, system:bootstrappers:... (default\n"
                   "                          system:bootstrappers:kubeadm:default-node-token, as kubeadm)\n"
                   "  --usages=LIST           token create: authentication,signing (default both)\n"
                   "  --print=FORMAT          token create: cmdline (default), ini, butane, cloud-init\n"
                   "  --wait=DURATION         token create: wait for the bootstrap signer (default 30s, 0 no)\n"
                   "  --server=URL            token create: the apiserver nodes are told (default: kubeconfig's)\n"
                   "  --ca-cert=FILE          token create: the cluster CA to publish (default: kubeconfig's)\n"
                   "  -v, --verbose           log debug messages too\n"
                   "  -h, --help              print this help\n"
                   "\nExit status:\n"
                   "  0   done: joined, or already joined, or nothing to do\n"
                   "  64  usage error on the command line\n"
                   "  69  a service (apiserver, metadata) stayed unavailable past its deadline\n"
                   "  70  internal error\n"
                   "  73  a node file could not be written (disk full, read-only, something in the way)\n"
                   "  78  configuration error: a bad or missing key, a rejected token, a CA pin mismatch\n");
}

static int verb_help(Kb *kb) {
        (void) kb;
        print_usage(stdout);
        return 0;
}

static int usage_error(const char *fmt, ...) _printf_(1, 2);
static int usage_error(const char *fmt, ...) {
        va_list ap;
        fprintf(stderr, "kubeboot: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\nTry 'kubeboot help'.\n");
        return EX_USAGE;
}

static bool token_options_given(const KbOptions *o) {
        return o->kubeconfig || o->context || o->ttl || o->description || o->groups || o->usages || o->print ||
               o->wait || o->server || o->ca_cert;
}

static char *arg_config_path;

/* path made absolute: its real path where it exists, else joined to the working
 * directory (a missing file is reported where it is read). NULL on OOM. */
static char *absolute_path(const char *path) {
        char *real = realpath(path, NULL);
        if (real || path[0] == '/')
                return real ?: strdup(path);
        _cleanup_free_ char *cwd = getcwd(NULL, 0);
        return cwd ? strdup_printf("%s/%s", cwd, path) : NULL;
}

/* Returns 0 to go on, or an exit status. */
static int parse_argv(int argc, char *argv[]) {
        enum {
                ARG_ROOT = 0x100,
                ARG_CMDLINE,
                ARG_CONFIG,
                ARG_SKIP,
                ARG_JSON,
                ARG_FORCE,
                ARG_VERSION,
                ARG_KUBECONFIG,
                ARG_CONTEXT,
                ARG_TTL,
                ARG_DESCRIPTION,
                ARG_GROUPS,
                ARG_USAGES,
                ARG_PRINT,
                ARG_WAIT,
                ARG_SERVER,
                ARG_CA_CERT,
        };
        static const struct option options[] = {
                { "root", required_argument, NULL, ARG_ROOT },
                { "cmdline", required_argument, NULL, ARG_CMDLINE },
                { "config", required_argument, NULL, ARG_CONFIG },
                { "skip-phases", required_argument, NULL, ARG_SKIP },
                { "json", no_argument, NULL, ARG_JSON },
                { "force", no_argument, NULL, ARG_FORCE },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "kubeconfig", required_argument, NULL, ARG_KUBECONFIG },
                { "context", required_argument, NULL, ARG_CONTEXT },
                { "ttl", required_argument, NULL, ARG_TTL },
                { "description", required_argument, NULL, ARG_DESCRIPTION },
                { "groups", required_argument, NULL, ARG_GROUPS },
                { "usages", required_argument, NULL, ARG_USAGES },
                { "print", required_argument, NULL, ARG_PRINT },
                { "wait", required_argument, NULL, ARG_WAIT },
                { "server", required_argument, NULL, ARG_SERVER },
                { "ca-cert", required_argument, NULL, ARG_CA_CERT },
                {},
        };
        int c;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":vh", options, NULL)) >= 0) {
                switch (c) {
                case ARG_ROOT:
                        if (optarg[0] != '/')
                                return usage_error("--root needs an absolute path, not \"%s\"", optarg);
                        arg_options.root = optarg;
                        break;
                case ARG_CMDLINE:
                        arg_options.cmdline_path = optarg;
                        break;
                case ARG_CONFIG:
                        /* absolute, so that finish can scrub the token from it (by then the
                         * working directory is not a name anyone should rely on) */
                        free(arg_config_path);
                        arg_config_path = absolute_path(optarg);
                        if (!arg_config_path)
                                return EX_OSERR;
                        arg_options.config_path = arg_config_path;
                        break;
                case ARG_SKIP:
                        strv_free(arg_options.skip_phases);
                        if (strv_split(optarg, ",", &arg_options.skip_phases) < 0)
                                return EX_OSERR;
                        for (char **p = arg_options.skip_phases; *p; p++)
                                if (!phase_exists(*p))
                                        return usage_error("--skip-phases: no phase \"%s\" (see 'kubeboot help')", *p);
                        break;
                case ARG_JSON:
                        arg_options.json = true;
                        break;
                case ARG_FORCE:
                        arg_options.force = true;
                        break;
                case ARG_KUBECONFIG:
                        arg_options.kubeconfig = optarg;
                        break;
                case ARG_CONTEXT:
                        arg_options.context = optarg;
                        break;
                case ARG_TTL:
                        arg_options.ttl = optarg;
                        break;
                case ARG_DESCRIPTION:
                        arg_options.description = optarg;
                        break;
                case ARG_GROUPS:
                        arg_options.groups = optarg;
                        break;
                case ARG_USAGES:
                        arg_options.usages = optarg;
                        break;
                case ARG_PRINT:
                        arg_options.print = optarg;
                        break;
                case ARG_WAIT:
                        arg_options.wait = optarg;
                        break;
                case ARG_SERVER:
                        arg_options.server = optarg;
                        break;
                case ARG_CA_CERT:
                        arg_options.ca_cert = optarg;
                        break;
                case 'v':
                        arg_options.verbosity++;
                        break;
                case 'h':
                        arg_verb = &verbs[ELEMENTSOF(verbs) - 1];
                        return 0;
                case ARG_VERSION:
                        arg_verb = &verbs[ELEMENTSOF(verbs) - 2];
                        return 0;
                case ':':
                        return usage_error("option %s needs a value", argv[optind - 1]);
                default:
                        return usage_error("unknown option %s", argv[optind - 1]);
                }
        }
        if (optind >= argc)
                return usage_error("%s", "no command given");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[optind], verbs[i].name))
                        arg_verb = &verbs[i];
        if (!arg_verb)
                return usage_error("unknown command \"%s\"", argv[optind]);
        arg_options.args = argv + optind + 1;
        if (arg_options.args[0] && arg_verb->run != verb_token)
                return usage_error("unexpected argument \"%s\"", arg_options.args[0]);
        if (arg_options.skip_phases && arg_verb->run != verb_join)
                return usage_error("%s", "--skip-phases is an option of join");
        if (arg_options.json && arg_verb->run != verb_config && arg_verb->run != verb_status &&
            arg_verb->run != verb_token)
                return usage_error("%s", "--json is an option of config, status and token list");
        if (arg_options.force && arg_verb->run != verb_reset)
                return usage_error("%s", "--force is an option of reset");
        if (token_options_given(&arg_options) && arg_verb->run != verb_token)
                return usage_error("%s", "--kubeconfig, --context and the options of token create are options of token");
        return 0;
}

int main(int argc, char *argv[]) {
        Kb kb;

        /* a core dump would carry the token */
        (void) prctl(PR_SET_DUMPABLE, 0);
        umask(0022);

        int status = parse_argv(argc, argv);
        if (status != 0) {
                strv_free(arg_options.skip_phases);
                free(arg_config_path);
                return status;
        }
        log_setup(arg_options.verbosity > 0 ? LOG_DEBUG : LOG_INFO);

        kb_init(&kb, &arg_options);
        int r = arg_verb->run(&kb);
        kb_done(&kb);
        strv_free(arg_options.skip_phases);
        free(arg_config_path);
        if (fflush(stdout) != 0 && r >= 0)
                r = log_error_errno(negative_errno(), "Failed to write to stdout: %m");
        return kb_exit_status(r);
}
