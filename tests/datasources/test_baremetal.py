"""Machines no DMI rule names (bare metal, local virtualisation, no DMI at all): with
datasource=auto not one request goes out, and gather is over at once. A fake answering
every cloud's paths at the real address counts what would have been asked."""
import time

import dsfixtures as fx
import fakes
import kbtest
from dsfixtures import SERVER, TOKEN

GATHER_ONLY = "--skip-phases=discover,preflight,write,start,wait,finish"
DECISION_BUDGET_S = 1.0  # a whole kubeboot process; the decision itself is a few file reads


def main():
    kbtest.assert_in_netns()
    tap = kbtest.Tap()
    cmdline = "kubeboot.token=%s kubeboot.server=%s" % (TOKEN, SERVER)
    with fakes.AllClouds() as f:
        for kind in fx.BARE_METAL + [None]:
            label = kind or "no DMI at all"
            with kbtest.Root() as root:
                if kind:
                    fx.write_dmi(root, kind)
                best = None
                for _ in range(3):
                    t0 = time.monotonic()
                    r = kbtest.kubeboot("-v", "join", GATHER_ONLY, root=root, cmdline=cmdline, timeout=30)
                    wall = time.monotonic() - t0
                    best = wall if best is None else min(best, wall)
                tap.ok(r.rc == 0 and "DMI names no known platform" in r.err,
                       "%s: gather succeeds, no platform identified" % label, r)
                tap.ok(f.total == 0, "%s: zero metadata requests (the fake counted %d)" % (label, f.total))
                tap.ok(best < DECISION_BUDGET_S, "%s: gather over in %.0f ms (whole process)" % (label, best * 1000))
                print("# %s: 0 requests, kubeboot join (gather only) %.1f ms" % (label, best * 1000), flush=True)
                r, keys = fx.config(root, cmdline=cmdline)
                tap.ok(r.rc == 0 and fx.source(keys, "token") == "cmdline" and fx.source(keys, "provider-id") is None
                       and f.total == 0, "%s: kubeboot config: values from the cmdline, still no request" % label, r)
        # a cloud DMI with datasource=none: no request either
        with kbtest.Root() as root:
            fx.write_dmi(root, "ec2")
            root.write("/usr/lib/kubeboot/kubeboot.ini", "[join]\ndatasource = none\n", 0o644)
            r = kbtest.kubeboot("join", GATHER_ONLY, root=root, cmdline=cmdline, timeout=30)
            tap.ok(r.rc == 0 and f.total == 0, "ec2 DMI with datasource=none in the image: zero requests", r)
        # an unknown datasource name is a configuration error, reported with its source
        with kbtest.Root() as root:
            r = kbtest.kubeboot("join", GATHER_ONLY, root=root, cmdline=cmdline + " kubeboot.datasource=nocloud",
                                timeout=30)
            tap.ok(r.rc == kbtest.EX_CONFIG and "cmdline: datasource:" in r.err and f.total == 0,
                   "datasource=nocloud (not supported): exit 78 naming cmdline and key, no request", r)
    tap.done()


if __name__ == "__main__":
    main()
