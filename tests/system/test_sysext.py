"""Issue 6, the Flatcar route: kubeboot's systemd-sysext image (image/flatcar/mksysext, the
portable build) merged at boot by systemd-sysext.service into a Debian 12 root that has
none of the libraries the portable build links statically (libcurl, mbedTLS, inih,
json-c, libyaml are deleted from it; libssl and libcrypto, which the root's systemd and
the Python stand-in kubelet need, are made inaccessible to kubeboot.service), placed and enabled exactly as image/flatcar/kubeboot.ign does
(Ignition's files and links applied to the root, the download replaced by the local
image, the ini by this cluster's), with Flatcar's ensure-sysext.service loading the
extension's units. The test variant of the image says ID=debian VERSION_ID=12, which
this root matches. The container gets the host's loop devices so that systemd-sysext
can attach the image."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import systest
from systest import Machine, Tap, secret_of

systest.need_root("sysext system test")
for tool in ("mksquashfs", "meson", "ninja", "losetup"):
    if not shutil.which(tool):
        print("1..0 # SKIP sysext system test needs %s (scripts/install-deps)" % tool)
        sys.exit(77)
with open("/proc/filesystems") as f:
    if "squashfs" not in f.read():
        print("1..0 # SKIP sysext system test: this kernel has no squashfs")
        sys.exit(77)
netns = systest.in_netns("kbsx-%d" % os.getpid())
sys.path.insert(0, os.path.join(systest.SRC, "tests", "images"))
from double import ClusterDouble  # noqa: E402
import imgbuild  # noqa: E402

tap = Tap()
lower = systest.cached_root()
INI = "/etc/kubeboot/kubeboot.ini"
WANTS = "/etc/systemd/system/multi-user.target.wants/kubeboot.service"

with open(imgbuild.IGNITION) as f:
    ign = json.load(f)
url = [x["contents"]["source"] for x in ign["storage"]["files"] if x["path"].endswith(".raw")][0]

with imgbuild.Builder() as b:
    r, raw = b.mksysext("--id", "debian", "--version-id", "12")
    tap.ok(raw is not None, "image/flatcar/mksysext builds the test variant (ID=debian VERSION_ID=12)",
           r.stderr[-3000:])
    if raw is None:
        tap.done()

    with tempfile.TemporaryDirectory(prefix="kb-double-") as ddir, ClusterDouble(ddir, port=6443) as c:
        c.install_seed_rbac()
        c.publish_cluster_info()
        token = c.add_bootstrap_token(description="sysext")
        secret = secret_of(token)
        m = Machine(lower, name="kb-sysext")
        try:
            gone = m.remove_libraries(imgbuild.STATIC_LIBS)
            kinds = {g.split(".so")[0] for g in gone}
            tap.ok({"libcurl", "libmbedtls", "libmbedx509", "libmbedcrypto", "libinih", "libjson-c", "libyaml-0"} <= kinds
                   and not m.exists("/usr/bin/kubeboot"),
                   "the root has no libcurl, mbedTLS, inih, json-c, libyaml (and no kubeboot)", sorted(gone))
            # OpenSSL stays for the root's own users; kubeboot's unit does not see it
            m.write("/etc/systemd/system/kubeboot.service.d/50-no-openssl.conf",
                    "[Service]\nInaccessiblePaths=-/usr/lib/x86_64-linux-gnu/libssl.so.3 "
                    "-/usr/lib/x86_64-linux-gnu/libcrypto.so.3\n", 0o644)

            # --- what Ignition does with kubeboot.ign on a Flatcar node's first boot ---
            m.apply_ignition(ign, {url: raw})
            st = os.stat(m.p(INI))
            tap.ok(st.st_mode & 0o777 == 0o600 and os.path.islink(m.p("/etc/extensions/kubeboot.raw"))
                   and os.path.islink(m.p(WANTS)),
                   "the Ignition config placed the image, linked it as /etc/extensions/kubeboot.raw, "
                   "enabled kubeboot.service and wrote the ini mode 0600")
            # the example's placeholder values: this cluster's instead
            m.write(INI, "[join]\ntoken=%s\nserver=%s\nca-cert-hash=%s\n[kubelet]\nnode-ip=127.0.0.1\n"
                    % (token, c.url, c.ca_pin), 0o600)
            # Flatcar ships these; a Debian root has to be told
            m.enable_sysext()
            m.install_kubelet()
            m.install_watcher(secret)

            r = m.boot(netns, nspawn_args=systest.loop_device_binds())
            tap.ok(r.returncode == 0, "the boot powers off cleanly (%.1f s)" % m.boots[-1], r.stderr[-2000:])
            entries = m.journal()
            sysext = [e.get("MESSAGE", "") for e in entries if e.get("SYSLOG_IDENTIFIER") in ("systemd-sysext", "(sd-sysext)")]
            tap.ok(any("Using extensions 'kubeboot'" in x for x in sysext) and
                   any("Merged extensions into '/usr'" in x for x in sysext),
                   "systemd-sysext merged the kubeboot extension into /usr", "\n".join(sysext))
            outcome = m.read("/var/log/kbtest/outcome").strip() if m.exists("/var/log/kbtest/outcome") else None
            tap.ok(outcome == "joined", "the observer saw kubeboot finish and kubelet run (%s)" % outcome,
                   "\n".join("%s %s" % (e.get("SYSLOG_IDENTIFIER"), e.get("MESSAGE", "")) for e in entries[-40:]))
            tap.ok(c.node("kb-sysext") is not None, "Node kb-sysext registered at the double")
            ours = [e for e in entries if e.get("SYSLOG_IDENTIFIER") == "kubeboot"]
            tap.ok(any("joined as Node kb-sysext" in e.get("MESSAGE", "") for e in ours) and
                   all(e.get("_SYSTEMD_UNIT") == "kubeboot.service" for e in ours),
                   "kubeboot.service from the extension (portable binary, no static libs on the root) joined",
                   "\n".join(e.get("MESSAGE", "") for e in ours[-15:]))
            tap.ok(not os.path.lexists(m.p(WANTS)) and m.read("/var/log/kbtest/is-enabled").strip() == "disabled",
                   "kubeboot.service disabled itself (the Ignition link is gone)")
            tap.ok(not m.exists("/usr/bin/kubeboot"), "the root's own /usr is untouched (the extension is unmerged)")
            tap.ok(not m.journal_raw_contains(secret) and not m.grep_tree(secret),
                   "the token secret is in no journal file and no file the boot wrote", m.grep_tree(secret))
        finally:
            m.cleanup()
        held = subprocess.run(["losetup", "-j", raw], capture_output=True, text=True).stdout
        tap.ok(not held.strip(), "no loop device is left attached to the image", held)
tap.done()
