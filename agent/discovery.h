/* Token discovery of the cluster CA (the core of phase discover, separate so that tests
 * and `kubeboot token` can drive it with their own client and deadline). */
#pragma once

#include "api.h"

typedef struct DiscoveryCtx {
        HttpClient *http;
        Backoff backoff; /* the overall deadline */
        const char *server;
        const char *token_id;
        const char *token_secret;
        char *const *pins; /* NULL: unsafe-skip-ca-verification */
        const char *pins_source;
        unsigned long long timeout_ms;
} DiscoveryCtx;

/* Discovers and verifies the cluster CA; ret_cluster_server (optional) gets the server
 * cluster-info names. Logs every failure with what to fix. */
int discovery_run(DiscoveryCtx *d, KbCA **ret_ca, char **ret_cluster_server);
