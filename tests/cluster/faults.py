"""Fault knobs of the cluster double, changeable at run time (c.faults / POST /faults).

All faults are off by default; the controllers are on by default.
"""

import random
import re
import threading

DEFAULTS = {
    # the double's whole clock is shifted: Date header, timestamps, token expiry, signed certs
    "clock_skew_seconds": 0,
    # bootstrap signer adds a token's JWS only this long after the token Secret appeared
    "signer_delay_seconds": 0,
    # API Priority&Fairness-like limit: above N requests/s or N in flight -> 429 + Retry-After
    "rate_limit": None,
    "retry_after_seconds": 1,
    # body of that 429: "text" (what maxinflight.go/APF really send) or "status" (a Status)
    "rate_limit_body": "text",
    # system:masters is exempt like the real max-in-flight filter / exempt flow schema
    "rate_limit_exempt_masters": True,
    # seeded random failures
    "fail_fraction": 0.0,
    "fail_status": 503,
    "reset_fraction": 0.0,          # close the connection without answering
    "stall_seconds": 0,             # sleep before answering
    "fault_paths": None,            # regex: only requests whose path matches get the 3 faults above
    # regex: answers to requests whose path matches end their connection (Connection: close)
    "close_paths": None,
    "seed": 0,
    # from the Nth GET of kube-public/cluster-info on, serve it with a different CA (MITM)
    "cluster_info_alt_ca_after": None,
    # the bootstrap-token authenticator reads Secrets through an informer
    # (plugin/pkg/auth/authenticator/token/bootstrap/bootstrap.go, a SecretLister): a token
    # Secret is unknown to it (401) until this many seconds after it was created, as right
    # after `token create` or behind another apiserver replica whose cache lags
    "token_auth_lag_seconds": 0,
    # answer 404 for selfsubjectreviews (a cluster older than 1.28)
    "disable_selfsubjectreview": False,
    # controllers
    "approver_enabled": True,
    "signer_enabled": True,
    "bootstrap_signer_enabled": True,
    "token_cleaner_enabled": True,
    # kube-controller-manager --cluster-signing-duration (default 8760h)
    "signing_duration_seconds": 365 * 24 * 3600,
}


class Faults:
    """Dict-like and attribute-like access; thread-safe; unknown keys are rejected."""

    def __init__(self, on_change=None, **overrides):
        object.__setattr__(self, "_lock", threading.RLock())
        object.__setattr__(self, "_values", dict(DEFAULTS))
        object.__setattr__(self, "_rng", random.Random(0))
        object.__setattr__(self, "_on_change", on_change)
        self.update(overrides)

    def update(self, values):
        with self._lock:
            for k, v in (values or {}).items():
                if k not in DEFAULTS:
                    raise KeyError("unknown fault knob %r (known: %s)" % (k, ", ".join(sorted(DEFAULTS))))
                self._values[k] = v
                if k == "seed":
                    self._rng.seed(v)
                if k == "fault_paths" and v:
                    re.compile(v)
        if self._on_change:
            self._on_change(set((values or {}).keys()))

    def reset(self):
        with self._lock:
            self._values = dict(DEFAULTS)
            self._rng.seed(0)

    def __getattr__(self, k):
        if k.startswith("_"):
            raise AttributeError(k)
        with self._lock:
            if k not in self._values:
                raise AttributeError(k)
            return self._values[k]

    def __setattr__(self, k, v):
        self.update({k: v})

    def __getitem__(self, k):
        with self._lock:
            return self._values[k]

    def __setitem__(self, k, v):
        self.update({k: v})

    def get(self, k, default=None):
        with self._lock:
            return self._values.get(k, default)

    def as_dict(self):
        with self._lock:
            return dict(self._values)

    def roll(self):
        """One seeded random number in [0, 1)."""
        with self._lock:
            return self._rng.random()

    def applies_to(self, path):
        with self._lock:
            pat = self._values.get("fault_paths")
        return not pat or re.search(pat, path) is not None
