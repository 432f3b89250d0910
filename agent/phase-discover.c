/* Phase discover: a cluster CA to trust. */
#include "log.h"
#include "phases.h"

int phase_discover(Kb *kb) {
        if (kb->ca) {
                log_info("trusting the cluster CA from %s", kb->ca_source);
                return 0;
        }
        return log_key_errno(LOG_ERR, -ENOKEY, "configuration", "ca-cert",
                             "not set, and token discovery is not available in this build");
}
