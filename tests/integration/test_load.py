"""Issue 8 (the CI-sized load test): many kubeboot agents released at the same instant
against ONE cluster double that rate-limits like API Priority & Fairness (429 +
Retry-After) and fails a fraction of requests (503s and connection resets). Every agent
must finish joined (a kubelet pool in this process plays each root's kubelet: CSR,
approval, certificate, kubelet.conf, Node registration), and the retries that follow a
wave of 429s must be spread, not synchronised. The full-size run (1000 agents) is
bench/load-test; numbers in docs/load-test.md.

No timed assertions: the run is bounded (it stops everything at its deadline and fails),
but how fast it goes is reported, not asserted."""
import os
import sys

from kbtest import Tap, assert_in_netns, SRC

sys.path.insert(0, os.path.join(SRC, "bench"))
import loadtest  # noqa: E402

AGENTS = int(os.environ.get("KB_LOAD_AGENTS", "50"))
FAULTS = {"rate_limit": 25, "retry_after_seconds": 1, "fail_fraction": 0.1, "fail_status": 503,
          "reset_fraction": 0.02, "seed": 8}

assert_in_netns()
tap = Tap()
res, text = loadtest.run(AGENTS, FAULTS, timeout=240, pool_workers=32, progress=False)
for line in text.splitlines():
    print("# " + line, flush=True)

tap.ok(not res["timed_out"], "all %d agents exited within the run's bound (%.1f s)" % (AGENTS, res["elapsed_s"]))
tap.ok(res["joined"] == AGENTS, "every agent exited 0 (%d of %d; exit codes %s)"
       % (res["joined"], AGENTS, res["exit_codes"]), "\n".join(res["failures"]))
tap.ok(not res["joined_stamps_missing"], "every root carries the joined stamp", res["joined_stamps_missing"])
tap.ok(not res["nodes_missing_at_double"] and res["kubelet_pool"]["done"] == AGENTS,
       "every Node is registered at the double (kubelet pool: %s)" % res["kubelet_pool"],
       res["nodes_missing_at_double"])
st = res["agent_status"]
tap.ok(int(st.get("429", 0)) > 0, "the rate limit answered 429 to agents (%s)" % st.get("429", 0))
tap.ok(int(st.get("503", 0)) > 0 and int(st.get("0", 0)) > 0,
       "injected 503s (%s) and connection resets (%s) reached agents, and they recovered"
       % (st.get("503", 0), st.get("0", 0)))
wave = res["largest_429_wave"]
tap.ok(wave is not None and wave["agents_429"] >= 5, "a wave of 429s happened (%s agents within 100 ms)"
       % (wave and wave["agents_429"]))
if wave:
    tap.ok(wave["buckets_used"] > 1 and wave["largest_bucket_share"] < 1.0,
           "after the largest 429 wave the agents came back spread over %d buckets of 100 ms, at most %.0f%% in one"
           % (wave["buckets_used"], 100 * wave["largest_bucket_share"]), "\n".join(wave["histogram"]))
a = res["after_429"]
tap.ok(a["n"] > 0 and a["min_s"] >= 0.9,
       "no agent came back sooner than Retry-After (1 s) after a 429 (earliest %.3f s)" % (a["min_s"] or 0),
       "\n".join(a["histogram"]))
tap.ok(res["retries_after_429_buckets"] > 1,
       "retries after 429s fall in %d distinct 100 ms buckets (at most %d in one)"
       % (res["retries_after_429_buckets"], res["retries_after_429_largest_100ms_bucket"]))
tap.done()
