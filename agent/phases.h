/* The phases of `kubeboot join` (DESIGN §1), each one function with one job. */
#pragma once

#include "kb.h"

typedef struct KbPhase {
        const char *name;
        int (*run)(Kb *kb);
        const char *description;
} KbPhase;

extern const KbPhase kb_phases[];
extern const size_t kb_phases_count;

/* Runs every phase not named in skip, in order; stops at the first failure, leaving
 * log_get_phase() naming the phase that failed. */
int phases_run(Kb *kb, char *const *skip);
/* Is name a phase? */
bool phase_exists(const char *name);

/* gather: every source merged into kb->cfg, validated; the explicit CA loaded. */
int phase_gather(Kb *kb);
/* discover: a trusted cluster CA in kb->ca (explicit, or token discovery + pin). */
int phase_discover(Kb *kb);
/* preflight: the apiserver accepts the token, RBAC allows node CSRs, clocks agree, the
 * node can run kubelet (node-checks.h). */
int phase_preflight(Kb *kb);
/* write: the kubelet's files in kubeadm's layout, atomically. */
int phase_write(Kb *kb);
/* start: kubelet.service (re)started through D-Bus. */
int phase_start(Kb *kb);
/* wait: the Node exists, read with kubelet's own credentials; CSR state reported. */
int phase_wait(Kb *kb);
/* finish: bootstrap credentials scrubbed, stamp written, unit disabled. */
int phase_finish(Kb *kb);
/* The local, idempotent part of finish, for a node whose kubelet holds a working
 * certificate for node: scrub, stamp (recording how), disable. */
int finish_commit(Kb *kb, const char *node, const char *how);

/* The sources of gather without its requirements (for `kubeboot config`): reads every
 * source into kb->cfg, fills derived defaults, loads and pins the explicit CA. */
int gather_sources(Kb *kb);
