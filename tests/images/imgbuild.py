"""Builds kubeboot's images with the repository's own commands (image/flatcar/mksysext,
image/debian/mkdeb, image/media/mkmedia), as the README's "Baking images" section shows
them, into directories the caller owns. Shared by the images and the system test suites.

When the tests run as root, the builders can run as an unprivileged user (nobody): the
commands must not need root."""
import os
import pwd
import shutil
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
MKSYSEXT = os.path.join(SRC, "image", "flatcar", "mksysext")
MKDEB = os.path.join(SRC, "image", "debian", "mkdeb")
MKMEDIA = os.path.join(SRC, "image", "media", "mkmedia")
BUTANE = os.path.join(SRC, "image", "flatcar", "kubeboot.bu")
IGNITION = os.path.join(SRC, "image", "flatcar", "kubeboot.ign")

# what the portable build links statically, and so must not need at run time
STATIC_LIBS = ("libcurl", "libmbedtls", "libmbedx509", "libmbedcrypto", "libinih", "libINIReader", "libjson-c",
               "libyaml")
# what it may need: glibc's libc (and libm); not even glibc's loader (issue 14), nor
# libsystemd, which it loads with dlopen() on first use and declares in .note.dlopen
ALLOWED_NEEDED = {"libc.so.6", "libm.so.6"}
BUILD_STATIC_DEPS = os.path.join(SRC, "scripts", "build-static-deps")


def project_version():
    import re
    with open(os.path.join(SRC, "meson.build")) as f:
        return re.search(r"version\s*:\s*'([^']+)'", f.read()).group(1)


def needed(binary):
    """The DT_NEEDED entries of an ELF file, from readelf -d."""
    r = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True, check=True)
    out = []
    for line in r.stdout.splitlines():
        if "(NEEDED)" in line:
            out.append(line.split("[", 1)[1].rstrip("]"))
    return out


def real_root():
    """Root in the initial user namespace (not root mapped by unshare --map-root-user)."""
    if os.geteuid() != 0:
        return False
    try:
        with open("/proc/self/uid_map") as f:
            return f.read().split()[:3] == ["0", "0", "4294967295"]
    except OSError:
        return False


def is_glibc_loader(name):
    return name.startswith("ld-linux") and ".so." in name


class Builder:
    """Runs the image commands, as nobody when unprivileged is asked for and we are root."""

    def __init__(self, unprivileged=False):
        self.uid = self.gid = None
        self.home = tempfile.mkdtemp(prefix="kb-img-home-")
        if unprivileged and real_root():
            nobody = pwd.getpwnam("nobody")
            self.uid, self.gid = nobody.pw_uid, nobody.pw_gid
            os.chown(self.home, self.uid, self.gid)
        os.chmod(self.home, 0o700)

    @property
    def unprivileged(self):
        return self.uid is not None or not real_root()

    def mkdir(self, name, mode=0o700):
        """A directory the builder owns, inside its private home."""
        d = os.path.join(self.home, name)
        os.makedirs(d, exist_ok=True)
        os.chmod(d, mode)
        if self.uid is not None:
            os.chown(d, self.uid, self.gid)
        return d

    def give(self, path):
        """Hands a file the caller made to the builder."""
        if self.uid is not None:
            os.chown(path, self.uid, self.gid)

    def run(self, argv, env=None, timeout=900):
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.home, "TMPDIR": self.home,
             "LC_ALL": "C.UTF-8"}
        # a builder that is not the repository's owner: let git read it anyway
        e.update({"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "safe.directory", "GIT_CONFIG_VALUE_0": "*"})
        if os.environ.get("KUBEBOOT_DEPS_CACHE"):
            e["KUBEBOOT_DEPS_CACHE"] = os.environ["KUBEBOOT_DEPS_CACHE"]
        e.update(env or {})
        prefix = []
        if self.uid is not None:
            prefix = ["setpriv", "--reuid=%d" % self.uid, "--regid=%d" % self.gid, "--clear-groups", "--"]
        return subprocess.run(["timeout", "-k", "5", str(timeout)] + prefix + argv, env=e, capture_output=True,
                              text=True, cwd=self.home, stdin=subprocess.DEVNULL)

    def warm_static_deps(self):
        """The portable build's libcurl/mbedTLS/json-c cache (scripts/build-static-deps),
        filled by the caller (a no-op when a portable build made it already), so that a
        builder running as nobody reads it instead of fetching and building its own."""
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "KUBEBOOT_DEPS_CACHE", "TMPDIR")}
        r = subprocess.run(["timeout", "-k", "5", "900", BUILD_STATIC_DEPS], env=env, capture_output=True,
                           text=True, stdin=subprocess.DEVNULL)
        return r

    def mksysext(self, *args, outdir=None, builddir=None):
        """image/flatcar/mksysext; returns (CompletedProcess, image path or None)."""
        outdir = outdir or self.mkdir("sysext")
        builddir = builddir or self.mkdir("portable-build")
        if self.uid is not None:
            w = self.warm_static_deps()
            if w.returncode != 0:
                return w, None
        r = self.run([MKSYSEXT, "--builddir", builddir] + list(args) +
                     ([] if any(a in ("-o", "--output") for a in args) else
                      ["--output", os.path.join(outdir, "kubeboot.raw")]))
        path = r.stdout.strip().splitlines()[-1] if r.returncode == 0 and r.stdout.strip() else None
        return r, path

    def mkdeb(self, *args, env=None):
        """image/debian/mkdeb; returns (CompletedProcess, .deb path or None)."""
        outdir = self.mkdir("deb")
        r = self.run([MKDEB, "--outdir", outdir] + list(args), env=env)
        path = r.stdout.strip().splitlines()[-1] if r.returncode == 0 and r.stdout.strip() else None
        return r, path

    def mkmedia(self, *args):
        return self.run([MKMEDIA] + list(args), timeout=120)

    def cleanup(self):
        shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.cleanup()
