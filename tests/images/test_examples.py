"""Issue 6, the configuration examples users copy:

- image/flatcar/kubeboot.bu (Butane, variant flatcar) and image/flatcar/kubeboot.ign, the
  Ignition JSON it compiles to, written by hand (no butane binary here). Butane's
  translation of the features the example uses is re-done here and compared field by
  field; the data URL must be the one Butane picks (the shortest of URL-escaped, base64
  and gzip+base64, with vincent-petithory/dataurl's escaping), and the config must be
  Ignition 3.3.0 (what flatcar 1.0.0 targets) with only that spec's fields.
- image/debian/user-data.yaml: cloud-init user-data that only writes the ini, 0600.
Both inis must parse with kubeboot itself (kubeboot config, offline)."""
import base64
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "integration"))
import imgbuild  # noqa: E402
from kbtest import Tap  # noqa: E402

try:
    import yaml
except ImportError:
    print("1..0 # SKIP the examples need python3-yaml")
    sys.exit(77)

tap = Tap()
KUBEBOOT = os.environ.get("KUBEBOOT_BIN") or os.path.join(imgbuild.SRC, "build", "agent", "kubeboot")
USER_DATA = os.path.join(imgbuild.SRC, "image", "debian", "user-data.yaml")

# Butane variant/version -> Ignition spec (coreos.github.io/butane/specs)
FLATCAR_SPECS = {"1.0.0": "3.3.0", "1.1.0": "3.4.0"}
# the Ignition 3.3.0 fields (docs/configuration-v3_3.md) of the objects the example uses
IGN_FIELDS = {
    "": {"ignition", "kernelArguments", "passwd", "storage", "systemd"},
    "ignition": {"config", "proxy", "security", "timeouts", "version"},
    "storage": {"directories", "disks", "files", "filesystems", "links", "luks", "raid"},
    "file": {"group", "overwrite", "path", "user", "append", "contents", "mode"},
    "contents": {"compression", "httpHeaders", "source", "verification"},
    "link": {"group", "overwrite", "path", "user", "hard", "target"},
}


def dataurl_escape(data):
    """github.com/vincent-petithory/dataurl Escape(): all but [A-Za-z0-9-_.!~*'()] as %XX."""
    ok = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!~*'()")
    return "".join(chr(c) if c in ok else "%%%02X" % c for c in data)


def butane_data_url(data):
    """Butane's MakeDataURL (base/util/url.go): the shortest of three encodings. Python's
    gzip stands in for Go's; returns the URL and the margin by which it beats gzip."""
    opaque, compression = "," + dataurl_escape(data), ""
    b64 = ";base64," + base64.b64encode(data).decode()
    if len(b64) < len(opaque):
        opaque = b64
    gz = min(len(";base64," + base64.b64encode(gzip.compress(data, level, mtime=0)).decode()) for level in (6, 9))
    margin = gz + len("gzip") - len(opaque)
    return "data:" + opaque, compression, margin


def translate(bu):
    """Butane's translation of the features kubeboot.bu uses: storage.files (contents.source,
    contents.inline, mode, verification), storage.links, systemd.units."""
    ign = {"ignition": {"version": FLATCAR_SPECS[bu["version"]]}}
    storage, margins = {}, []
    for f in bu.get("storage", {}).get("files", []):
        out = {"path": f["path"]}
        c = f.get("contents", {})
        if "inline" in c:
            url, comp, margin = butane_data_url(c["inline"].encode())
            out["contents"] = {"compression": comp, "source": url}
            margins.append(margin)
        elif "source" in c:
            out["contents"] = {k: v for k, v in c.items() if k in ("source", "verification", "compression")}
        if "mode" in f:
            out["mode"] = f["mode"]
        storage.setdefault("files", []).append(out)
    for link in bu.get("storage", {}).get("links", []):
        storage.setdefault("links", []).append({k: link[k] for k in ("path", "hard", "target", "overwrite")
                                                if k in link})
    if storage:
        ign["storage"] = storage
    if "systemd" in bu:
        ign["systemd"] = bu["systemd"]
    return ign, margins


def unknown_fields(ign):
    bad = [k for k in ign if k not in IGN_FIELDS[""]]
    bad += [k for k in ign.get("ignition", {}) if k not in IGN_FIELDS["ignition"]]
    st = ign.get("storage", {})
    bad += [k for k in st if k not in IGN_FIELDS["storage"]]
    for f in st.get("files", []):
        bad += [k for k in f if k not in IGN_FIELDS["file"]]
        bad += [k for k in f.get("contents", {}) if k not in IGN_FIELDS["contents"]]
    for link in st.get("links", []):
        bad += [k for k in link if k not in IGN_FIELDS["link"]]
    return bad


def decode(url, compression):
    import urllib.parse
    head, _, data = url[len("data:"):].partition(",")
    raw = base64.b64decode(data) if head.endswith(";base64") else urllib.parse.unquote_to_bytes(data)
    return gzip.decompress(raw) if compression == "gzip" else raw


def kubeboot_config(ini_text):
    """kubeboot config --json on a root holding only this ini: (rc, keys, stderr)."""
    root = tempfile.mkdtemp(prefix="kb-example-")
    try:
        os.makedirs(os.path.join(root, "etc/kubeboot"))
        p = os.path.join(root, "etc/kubeboot/kubeboot.ini")
        with open(p, "w") as f:
            f.write(ini_text)
        os.chmod(p, 0o600)
        open(os.path.join(root, "cmdline"), "w").close()
        r = subprocess.run([KUBEBOOT, "--root=" + root, "--cmdline=" + os.path.join(root, "cmdline"), "config",
                            "--json"], capture_output=True, text=True, timeout=30)
        keys = json.loads(r.stdout)["keys"] if r.returncode == 0 else {}
        return r.returncode, keys, r.stderr
    finally:
        import shutil
        shutil.rmtree(root, ignore_errors=True)


# ---------------- Butane / Ignition ----------------
with open(imgbuild.BUTANE) as f:
    bu = yaml.safe_load(f)
with open(imgbuild.IGNITION) as f:
    text = f.read()
try:
    ign = json.loads(text)
    tap.ok(True, "kubeboot.ign is valid JSON")
except ValueError as e:
    tap.ok(False, "kubeboot.ign is valid JSON", e)
    tap.done()
tap.ok(bu.get("variant") == "flatcar" and bu.get("version") in FLATCAR_SPECS,
       "kubeboot.bu: variant flatcar, version %s" % bu.get("version"))
tap.ok(ign.get("ignition", {}).get("version") == FLATCAR_SPECS.get(bu.get("version")),
       "kubeboot.ign: ignition.version %s, the spec flatcar %s compiles to" % (ign["ignition"].get("version"),
                                                                              bu.get("version")))
tap.ok(not unknown_fields(ign), "kubeboot.ign uses only Ignition 3.3.0 fields", unknown_fields(ign))
want, margins = translate(bu)
tap.ok(want == ign, "kubeboot.ign is exactly Butane's translation of kubeboot.bu",
       json.dumps(want, indent=2, sort_keys=True))
tap.ok(all(m >= 16 for m in margins),
       "Butane would pick the URL-escaped data URL by a safe margin over gzip (%s chars)" % margins)
tap.ok(text == json.dumps(ign, indent=2) + "\n", "kubeboot.ign is laid out as butane --pretty writes it")

files = {f["path"]: f for f in ign["storage"]["files"]}
links = {link["path"]: link for link in ign["storage"]["links"]}
raws = [p for p in files if p.endswith(".raw")]
tap.ok(len(raws) == 1 and re.match(r"^/opt/extensions/kubeboot/kubeboot-\d+\.\d+\.\d+-(x86-64|arm64)\.raw$", raws[0])
       and files[raws[0]]["contents"]["source"].startswith("https://"),
       "the sysext is downloaded (https) to /opt/extensions/kubeboot/kubeboot-VERSION-ARCH.raw, "
       "mksysext's default name", raws)
ext = links.get("/etc/extensions/kubeboot.raw")
tap.ok(ext and raws and ext["target"] == raws[0] and not ext.get("hard"),
       "/etc/extensions/kubeboot.raw links to it (the name systemd-sysext merges it by: kubeboot)")
unit = links.get("/etc/systemd/system/multi-user.target.wants/kubeboot.service")
tap.ok(unit and unit["target"] == "/usr/lib/systemd/system/kubeboot.service" and not unit.get("hard"),
       "kubeboot.service is enabled: multi-user.target.wants links to the extension's unit")
ini = files.get("/etc/kubeboot/kubeboot.ini")
tap.ok(ini and ini.get("mode") == 0o600, "/etc/kubeboot/kubeboot.ini is written mode 0600 (384)")
ini_text = decode(ini["contents"]["source"], ini["contents"].get("compression", "")).decode() if ini else ""
inline = [f["contents"]["inline"] for f in bu["storage"]["files"] if f["path"] == "/etc/kubeboot/kubeboot.ini"]
tap.ok(inline and ini_text == inline[0], "the data URL decodes to the Butane inline text")
rc, keys, err = kubeboot_config(ini_text)
tap.ok(rc == 0 and all(keys.get(k, {}).get("source", "").endswith("kubeboot.ini:%d" % n)
                       for k, n in (("token", 2), ("server", 3), ("ca-cert-hash", 4))),
       "kubeboot reads token, server and CA pin from it", err)

# ---------------- cloud-init ----------------
with open(USER_DATA) as f:
    ud_text = f.read()
ud = yaml.safe_load(ud_text)
tap.ok(ud_text.startswith("#cloud-config\n"), "user-data.yaml starts with #cloud-config")
tap.ok(list(ud) == ["write_files"] and len(ud["write_files"]) == 1,
       "it does one thing: write_files with one file (no runcmd, no packages)", list(ud))
wf = ud["write_files"][0]
tap.ok(wf.get("path") == "/etc/kubeboot/kubeboot.ini" and wf.get("permissions") == "0600"
       and wf.get("owner") == "root:root" and not wf.get("defer") and "encoding" not in wf,
       "it writes /etc/kubeboot/kubeboot.ini, root:root, '0600', in the init stage (not deferred)", wf)
rc, keys, err = kubeboot_config(wf.get("content", ""))
tap.ok(rc == 0 and keys.get("token", {}).get("source", "").endswith("kubeboot.ini:2")
       and keys.get("cluster-dns", {}).get("value") == ["10.96.0.10"],
       "kubeboot reads token and cluster-dns from it", err)
tap.done()
