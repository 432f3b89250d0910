#include "backoff.h"

#include <sys/random.h>
#include <time.h>

/* splitmix64: jitter needs spread, not secrecy */
static uint64_t next_random(uint64_t *s) {
        uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

void backoff_init(Backoff *b, unsigned long long timeout_ms, unsigned long base_ms, unsigned long cap_ms) {
        *b = (Backoff){ .deadline_ms = now_ms() + timeout_ms, .base_ms = base_ms, .cap_ms = cap_ms };
        if (getrandom(&b->rng, sizeof b->rng, GRND_NONBLOCK) != sizeof b->rng)
                b->rng = now_ms() ^ ((uint64_t) getpid() << 32);
}

unsigned long long backoff_next_delay(Backoff *b, unsigned long long retry_after_ms) {
        unsigned long long ceiling = b->base_ms;
        for (unsigned i = 0; i < b->attempt && ceiling < b->cap_ms; i++)
                ceiling *= 2;
        if (ceiling > b->cap_ms)
                ceiling = b->cap_ms;
        b->attempt++;
        /* Clients throttled together are told the same Retry-After; a window of only the
         * early, small ceiling on top of it would bring them back nearly together. */
        if (ceiling < retry_after_ms / 2)
                ceiling = retry_after_ms / 2;
        return retry_after_ms + next_random(&b->rng) % (ceiling + 1);
}

unsigned long long backoff_remaining_ms(const Backoff *b) {
        unsigned long long now = now_ms();
        return now >= b->deadline_ms ? 0 : b->deadline_ms - now;
}

int backoff_wait(Backoff *b, unsigned long long retry_after_ms) {
        unsigned long long left = backoff_remaining_ms(b);
        unsigned long long d = backoff_next_delay(b, retry_after_ms);
        if (d >= left) {
                /* one last try just before the deadline rather than giving up early, unless
                 * the server asked to be left alone longer than that */
                if (retry_after_ms >= left || left <= BACKOFF_LAST_TRY_MS)
                        return -ETIMEDOUT;
                d = left - BACKOFF_LAST_TRY_MS;
        }
        struct timespec ts = { .tv_sec = (time_t) (d / 1000), .tv_nsec = (long) (d % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
        return 0;
}
