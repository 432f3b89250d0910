"""Issue 6, the Debian/Ubuntu route: kubeboot's .deb, built by image/debian/mkdeb, installed
with dpkg -i into the Debian 12 root the way an image build installs packages (in the
root, not booted: no systemd running), the token written into the conffile afterwards;
then the root boots under systemd-nspawn and joins the cluster double. The package's
maintainer scripts enable kubeboot.service and never start a join; reinstalling the
package after the join leaves the unit disabled and the admin's ini alone."""
import os
import shutil
import stat
import sys
import tempfile

import systest
from systest import Machine, Tap, secret_of

systest.need_root("deb system test")
for tool in ("dpkg-buildpackage", "dh", "scdoc"):
    if not shutil.which(tool):
        print("1..0 # SKIP deb system test needs %s (scripts/install-deps)" % tool)
        sys.exit(77)
netns = systest.in_netns("kbdeb-%d" % os.getpid())
sys.path.insert(0, os.path.join(systest.SRC, "tests", "images"))
from double import ClusterDouble  # noqa: E402
import imgbuild  # noqa: E402

tap = Tap()
lower = systest.cached_root()
INI = "/etc/kubeboot/kubeboot.ini"

with imgbuild.Builder() as b:
    # unit tests run in their own suite: the package build here skips them
    r, deb = b.mkdeb(env={"DEB_BUILD_OPTIONS": "nocheck"})
    tap.ok(deb is not None, "image/debian/mkdeb builds the .deb", r.stderr[-3000:])
    if deb is None:
        tap.done()
    print("# %s: %d bytes" % (os.path.basename(deb), os.path.getsize(deb)))

    with tempfile.TemporaryDirectory(prefix="kb-double-") as ddir, ClusterDouble(ddir, port=6443) as c:
        c.install_seed_rbac()
        c.publish_cluster_info()
        token = c.add_bootstrap_token(description="deb")
        secret = secret_of(token)
        m = Machine(lower, name="kb-deb")
        try:
            # --- the image build: dpkg -i in the root, nothing running ---
            r = m.install_deb(deb)
            tap.ok(r.returncode == 0, "dpkg -i in the (not booted) root succeeds", r.stdout + r.stderr)
            tap.ok(os.path.exists(m.p("/usr/bin/kubeboot")) and os.path.exists(m.p("/usr/share/man/man8/kubeboot.8.gz"))
                   and os.path.exists(m.p("/usr/share/man/man5/kubeboot.ini.5.gz")),
                   "the binary and both man pages are installed")
            tap.ok(m.systemctl("is-enabled", "kubeboot.service").stdout.strip() == "enabled"
                   and os.path.islink(m.p("/etc/systemd/system/multi-user.target.wants/kubeboot.service")),
                   "the package enabled kubeboot.service (multi-user.target.wants)")
            tap.ok(not m.exists("/var/lib/kubeboot/joined") and not m.exists("/var/lib/kubeboot/last-failure")
                   and not m.exists("/etc/kubernetes/bootstrap-kubelet.conf"),
                   "installing started no join (no stamp, no failure record, no kubelet files)")
            st = os.stat(m.p("/var/lib/kubelet"))
            tap.ok(stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o700 and
                   os.path.isdir(m.p("/etc/kubernetes/pki")),
                   "the postinst applied kubeboot's tmpfiles (/var/lib/kubelet 0700, /etc/kubernetes/pki)")
            st = os.stat(m.p(INI))
            q = m.run_in("dpkg-query", "-W", "-f=${Conffiles}", "kubeboot")
            tap.ok(stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == 0 and INI in q.stdout,
                   "%s is a conffile, mode 0600, owned by root" % INI, q.stdout + q.stderr)

            # --- the token arrives after the package (an image pipeline, cloud-init) ---
            m.write(INI, "[join]\ntoken = %s\nserver = %s\nca-cert-hash = %s\n[kubelet]\nnode-ip = 127.0.0.1\n"
                    % (token, c.url, c.ca_pin), 0o600)
            m.install_kubelet()
            m.install_watcher(secret)
            r = m.boot(netns)
            tap.ok(r.returncode == 0, "the first boot powers off cleanly (%.1f s)" % m.boots[-1], r.stderr[-2000:])
            outcome = m.read("/var/log/kbtest/outcome").strip() if m.exists("/var/log/kbtest/outcome") else None
            tap.ok(outcome == "joined", "the observer saw kubeboot finish and kubelet run (%s)" % outcome)
            tap.ok(c.node("kb-deb") is not None, "Node kb-deb registered at the double")
            entries = m.journal()
            ours = [e for e in entries if e.get("SYSLOG_IDENTIFIER") == "kubeboot"]
            tap.ok(any("joined as Node kb-deb" in e.get("MESSAGE", "") for e in ours) and
                   all(e.get("_EXE", "/usr/bin/kubeboot") == "/usr/bin/kubeboot" for e in ours),
                   "the packaged /usr/bin/kubeboot joined, from kubeboot.service",
                   "\n".join(e.get("MESSAGE", "") for e in ours[-15:]))
            tap.ok(m.read("/var/log/kbtest/is-enabled").strip() == "disabled", "kubeboot.service disabled itself")
            tap.ok(not m.journal_raw_contains(secret) and not m.grep_tree(secret),
                   "the token secret is in no journal file and no file the boot wrote", m.grep_tree(secret))

            # --- an upgrade after the join (same package again): nothing rejoins ---
            ini_after = m.read(INI)
            r = m.install_deb(deb)
            tap.ok(r.returncode == 0, "reinstalling the package after the join succeeds (no conffile prompt)",
                   r.stdout + r.stderr)
            tap.ok(m.systemctl("is-enabled", "kubeboot.service").stdout.strip() == "disabled",
                   "the reinstall leaves kubeboot.service disabled")
            tap.ok(m.read(INI) == ini_after and "token removed by kubeboot" in ini_after,
                   "the admin's ini (token scrubbed by kubeboot) is kept")

            # --- purge ---
            r = m.dpkg("--purge", "kubeboot")
            tap.ok(r.returncode == 0 and not m.exists("/usr/bin/kubeboot") and not m.exists(INI)
                   and not os.path.lexists(m.p("/etc/systemd/system/multi-user.target.wants/kubeboot.service")),
                   "dpkg --purge removes the binary, the conffile and the enablement", r.stdout + r.stderr)
        finally:
            m.cleanup()
tap.done()
