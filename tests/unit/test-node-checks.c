/* The pure parts of the node checks and the kubelet watch: version parsing, the skew
 * policy, kubeadm's ignore list, and how a kubelet.service state is judged. */
#include <signal.h>
#include <sys/wait.h>

#include "kubelet-watch.h"
#include "node-checks.h"
#include "tap.h"

int main(void) {
        unsigned maj, min;
        char why[200], msg[512];

        CHECK(kube_version_parse("Kubernetes v1.32.0", &maj, &min) == 0 && maj == 1 && min == 32,
              "kubelet --version's output");
        CHECK(kube_version_parse("v1.31.4-eks-1-31-3", &maj, &min) == 0 && maj == 1 && min == 31,
              "a vendor's gitVersion");
        CHECK(kube_version_parse("v1.32.0-clusterdouble", &maj, &min) == 0 && min == 32, "a pre-release suffix");
        CHECK(kube_version_parse("Kubernetes", &maj, &min) == -EINVAL, "no version");
        CHECK(kube_version_parse("vx.y", &maj, &min) == -EINVAL, "not numbers");

        /* https://kubernetes.io/releases/version-skew-policy/#kubelet */
        CHECK(kubelet_skew_check(1, 32, 1, 32, why, sizeof why) == 0, "same minor");
        CHECK(kubelet_skew_check(1, 29, 1, 32, why, sizeof why) == 0, "three older from 1.28 on");
        CHECK(kubelet_skew_check(1, 28, 1, 32, why, sizeof why) == -ERANGE && strstr(why, "4 minor versions older"),
              "four older is refused: %s", why);
        CHECK(kubelet_skew_check(1, 25, 1, 27, why, sizeof why) == 0, "two older before 1.28");
        CHECK(kubelet_skew_check(1, 24, 1, 27, why, sizeof why) == -ERANGE, "three older before 1.28 is refused");
        CHECK(kubelet_skew_check(1, 33, 1, 32, why, sizeof why) == -ERANGE && strstr(why, "newer"),
              "newer than the apiserver is refused");

        char *ignore[] = { (char *) "swap", (char *) "PORT-10250", NULL }, *all[] = { (char *) "ALL", NULL };
        CHECK(node_check_ignored(ignore, CHECK_SWAP) && node_check_ignored(ignore, CHECK_PORT_KUBELET),
              "names are case-insensitive");
        CHECK(!node_check_ignored(ignore, CHECK_CRI) && !node_check_ignored(NULL, CHECK_CRI), "others are not ignored");
        CHECK(node_check_ignored(all, CHECK_KUBELET_VERSION), "all ignores everything");

        BusServiceState running = { .active = "active", .sub = "running", .result = "success" };
        CHECK(kubelet_health_judge(&running, 0, msg, sizeof msg) == KUBELET_FINE, "a running kubelet is fine");
        BusServiceState looping = { .active = "activating",
                                    .sub = "auto-restart",
                                    .result = "exit-code",
                                    .exec_main_code = CLD_EXITED,
                                    .exec_main_status = 1 };
        CHECK(kubelet_health_judge(&looping, 0, msg, sizeof msg) == KUBELET_FINE, "no restart during the wait: fine");
        CHECK(kubelet_health_judge(&looping, 2, msg, sizeof msg) == KUBELET_FLAPPING, "two restarts: flapping");
        CHECK_STREQ(msg, "kubelet keeps exiting (status 1, 2 restarts): journalctl -u kubelet", "the message");
        CHECK(kubelet_health_judge(&looping, KUBELET_RESTARTS_MAX, msg, sizeof msg) == KUBELET_GAVE_UP,
              "%d restarts: give up", KUBELET_RESTARTS_MAX);
        BusServiceState killed = { .active = "activating", .sub = "auto-restart", .result = "signal",
                                   .exec_main_code = CLD_KILLED, .exec_main_status = SIGSEGV };
        CHECK(kubelet_health_judge(&killed, 1, msg, sizeof msg) == KUBELET_FLAPPING && strstr(msg, "signal SEGV"),
              "a signal is named: %s", msg);
        BusServiceState failed = { .active = "failed", .sub = "failed", .result = "start-limit-hit",
                                   .exec_main_code = CLD_EXITED, .exec_main_status = 1 };
        CHECK(kubelet_health_judge(&failed, 1, msg, sizeof msg) == KUBELET_GAVE_UP && strstr(msg, "start-limit-hit"),
              "failed for good: give up at once: %s", msg);
        return tap_done();
}
