#include "phases.h"

#include "log.h"
#include "notify.h"

const KbPhase kb_phases[] = {
        { "gather", phase_gather, "reading the configuration" },
        { "discover", phase_discover, "finding the cluster CA" },
        { "preflight", phase_preflight, "checking the token, RBAC and the clock with the apiserver, and the node" },
        { "write", phase_write, "writing the kubelet's files" },
        { "start", phase_start, "starting kubelet" },
        { "wait", phase_wait, "waiting for the Node to register" },
        { "finish", phase_finish, "removing the bootstrap token and switching kubeboot off" },
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
                progress("%s", p->description);
                int r = p->run(kb);
                if (r < 0)
                        return r; /* the phase stays set: the caller reports where it failed */
                log_debug("done in %llu ms", now_ms() - t0);
        }
        log_set_phase(NULL);
        return 0;
}
