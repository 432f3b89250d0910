/* The kubelet's client certificate as the wait phase and `kubeboot status` read it
 * (/var/lib/kubelet/pki/kubelet-client-current.pem: certificate and key in one PEM,
 * issued by the cluster's signer): parse_cert() finds the node name in
 * CN=system:node:<name> and the validity; kubelet-creds.c is included to reach it.
 * x509 parsing itself is Debian's mbedTLS, not instrumented for coverage. */
#include "../../agent/kubelet-creds.c"
#include "fuzz-main.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        KubeletCreds *c = calloc(1, sizeof *c);
        char why[WHY_MAX];
        if (!c)
                return 0;
        /* as read_file_bounded() leaves it: the bytes and a NUL */
        c->pem = fuzz_string(data, size);
        c->pem_len = size;
        if (c->pem && parse_cert(c, why, sizeof why) == 0) {
                fuzz_assert(c->node);
                (void) kubelet_creds_valid_now(c);
        }
        kubelet_creds_free(c);
        return 0;
}
