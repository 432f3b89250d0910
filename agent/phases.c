#include "phases.h"

#include "log.h"

const KbPhase kb_phases[] = {
        { "gather", phase_gather, "read and merge every configuration source" },
        { "discover", phase_discover, "find and pin the cluster CA" },
        { "preflight", phase_preflight, "check the token, RBAC and the clock with the apiserver" },
        { "write", phase_write, "write the kubelet's files in kubeadm's layout" },
};
const size_t kb_phases_count = ELEMENTSOF(kb_phases);

bool phase_exists(const char *name) {
        for (size_t i = 0; i < kb_phases_count; i++)
                if (streq(kb_phases[i].name, name))
                        return true;
        return false;
}

int phases_run(Kb *kb, char *const *skip) {
        for (size_t i = 0; i < kb_phases_count; i++) {
                const KbPhase *p = &kb_phases[i];
                log_set_phase(p->name);
                if (strv_contains(skip, p->name)) {
                        log_debug("skipped (--skip-phases)");
                        continue;
                }
                unsigned long long t0 = now_ms();
                int r = p->run(kb);
                if (r < 0) {
                        log_set_phase(NULL);
                        return r;
                }
                log_debug("done in %llu ms", now_ms() - t0);
        }
        log_set_phase(NULL);
        return 0;
}
