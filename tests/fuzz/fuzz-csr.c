/* The wait phase's view of the CSRs the apiserver lists (a bootstrap token may list
 * them): each item's state from its conditions (csr_state()), and whether its PEM
 * request, base64 in spec.request, is for this node (csr_is_for(): base64, then
 * mbedTLS's CSR parser, then the subject's CN). phase-wait.c is included to reach them;
 * the loop is find_csr()'s. The input is one CSR object or a CertificateSigningRequestList. */
#include "../../agent/phase-wait.c"
#include "fuzz-main.h"

static void one(json_object *csr) {
        char reason[256];
        (void) csr_state(csr, reason, sizeof reason);
        const char *request = json_get_string(csr, "spec", "request", NULL);
        if (request)
                (void) csr_is_for(request, "node-1");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *buf = fuzz_string(data, size);
        if (!buf)
                return 0;
        json_tokener *tok = json_tokener_new();
        json_object *o = NULL;
        if (tok) {
                json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
                o = json_tokener_parse_ex(tok, buf, (int) size);
                if (json_tokener_get_error(tok) != json_tokener_success) {
                        json_object_put(o);
                        o = NULL;
                }
                json_tokener_free(tok);
        }
        json_object *items = json_get(o, "items", NULL);
        if (items && json_object_is_type(items, json_type_array))
                for (size_t i = 0; i < json_object_array_length(items); i++)
                        one(json_object_array_get_idx(items, i));
        else if (o)
                one(o);
        json_object_put(o);
        free(buf);
        return 0;
}
