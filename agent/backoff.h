/* The one retry policy: capped exponential backoff with full jitter under an overall
 * deadline, honouring a server's Retry-After. */
#pragma once

#include <stdint.h>

#include "util.h"

typedef struct Backoff {
        unsigned long long deadline_ms; /* monotonic */
        unsigned long base_ms, cap_ms;
        unsigned attempt;
        uint64_t rng;
} Backoff;

#define BACKOFF_BASE_MS 250UL
#define BACKOFF_CAP_MS 8000UL
/* What the last try before the deadline gets. */
#define BACKOFF_LAST_TRY_MS 250ULL

/* Starts a policy whose retries stop timeout_ms from now. */
void backoff_init(Backoff *b, unsigned long long timeout_ms, unsigned long base_ms, unsigned long cap_ms);
/* The next delay: uniform in [0, min(cap, base·2^attempt)]; when the server asked for
 * retry_after_ms, that plus uniform in [0, max(the same ceiling, retry_after_ms/2)], so that
 * clients told the same Retry-After do not return in step. */
unsigned long long backoff_next_delay(Backoff *b, unsigned long long retry_after_ms);
/* A server's Retry-After in seconds (<= 0: none) as the floor backoff_wait() takes. */
static inline unsigned long long retry_after_ms(long seconds) {
        return seconds > 0 ? (unsigned long long) seconds * 1000ULL : 0;
}
/* Sleeps the next delay, or, when that would pass the deadline, until just before it for a
 * last try; -ETIMEDOUT (without sleeping) once no try is left, or when the server's
 * Retry-After reaches past the deadline. */
int backoff_wait(Backoff *b, unsigned long long retry_after_ms);
/* Milliseconds left before the deadline (0 when passed). */
unsigned long long backoff_remaining_ms(const Backoff *b);
