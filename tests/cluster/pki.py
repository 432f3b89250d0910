"""PKI for the cluster double: a per-run cluster CA and leaf certificates.

CA, serving and client certificates are minted with the real `openssl` CLI
(like kubeadm's certs phase would give an operator); CSRs submitted through
the API are signed in-process with python3-cryptography, following the
kube-controller-manager signer:
  pkg/controller/certificates/authority/authority.go   (template from the CSR)
  pkg/controller/certificates/authority/policies.go    (PermissiveSigningPolicy:
      5 min backdate, TTL, NotAfter capped at the CA's NotAfter, key usages)
"""

import datetime
import hashlib
import ipaddress
import os
import secrets
import subprocess
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

OPENSSL = "openssl"
OPENSSL_TIMEOUT = 30


class PkiError(Exception):
    pass


def _run(args, cwd):
    try:
        proc = subprocess.run([OPENSSL] + args, cwd=cwd, capture_output=True,
                              timeout=OPENSSL_TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        raise PkiError("openssl %s timed out" % args[0]) from exc
    if proc.returncode != 0:
        raise PkiError("openssl %s failed: %s" % (" ".join(args),
                                                 proc.stderr.decode(errors="replace")))
    return proc.stdout


def _newkey_args(key_type):
    if key_type == "ec":
        return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    if key_type == "rsa":
        return ["-newkey", "rsa:2048"]
    raise PkiError("unknown key type %r" % key_type)


def _subject(cn, orgs=()):
    # openssl -subj syntax; escape the separators it knows about.
    def esc(v):
        return v.replace("\\", "\\\\").replace("/", "\\/").replace("+", "\\+")
    parts = ["/O=%s" % esc(o) for o in orgs]
    parts.append("/CN=%s" % esc(cn))
    return "".join(parts)


def mint_ca(directory, name="ca", cn="kubernetes", key_type="rsa", days=3650):
    """Self-signed cluster CA like kubeadm's (CN=kubernetes, CA:TRUE, keyCertSign).

    Returns (cert_path, key_path)."""
    os.makedirs(directory, exist_ok=True)
    cnf = os.path.join(directory, name + ".cnf")
    with open(cnf, "w") as f:
        f.write("[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = %s\n"
                "[v3_ca]\nbasicConstraints = critical,CA:TRUE\n"
                "keyUsage = critical,digitalSignature,keyEncipherment,keyCertSign\n"
                "subjectKeyIdentifier = hash\n" % cn)
    crt = os.path.join(directory, name + ".crt")
    key = os.path.join(directory, name + ".key")
    _run(["req", "-x509"] + _newkey_args(key_type) +
         ["-nodes", "-keyout", key, "-out", crt, "-days", str(days),
          "-config", cnf, "-extensions", "v3_ca"], cwd=directory)
    os.chmod(key, 0o600)
    return crt, key


def _sign_leaf(directory, name, ca_crt, ca_key, subj, ext_lines, key_type, days):
    os.makedirs(directory, exist_ok=True)
    key = os.path.join(directory, name + ".key")
    csr = os.path.join(directory, name + ".csr")
    crt = os.path.join(directory, name + ".crt")
    ext = os.path.join(directory, name + ".ext")
    with open(ext, "w") as f:
        f.write("\n".join(ext_lines) + "\n")
    _run(["req", "-new"] + _newkey_args(key_type) +
         ["-nodes", "-keyout", key, "-out", csr, "-subj", subj], cwd=directory)
    serial = "0x" + secrets.token_hex(16)
    _run(["x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key,
          "-set_serial", serial, "-out", crt, "-days", str(days),
          "-extfile", ext, "-sha256"], cwd=directory)
    os.chmod(key, 0o600)
    os.unlink(csr)
    return crt, key


def mint_serving_cert(directory, ca_crt, ca_key, sans, key_type="rsa", days=365):
    """kube-apiserver serving certificate with the given SANs (IPs and DNS names)."""
    alt = []
    for s in sans:
        try:
            ipaddress.ip_address(s)
            alt.append("IP:" + s)
        except ValueError:
            alt.append("DNS:" + s)
    lines = ["basicConstraints = critical,CA:FALSE",
             "keyUsage = critical,digitalSignature,keyEncipherment",
             "extendedKeyUsage = serverAuth",
             "authorityKeyIdentifier = keyid",
             "subjectAltName = " + ",".join(alt)]
    return _sign_leaf(directory, "apiserver", ca_crt, ca_key, "/CN=kube-apiserver",
                      lines, key_type, days)


def mint_client_cert(directory, name, ca_crt, ca_key, cn, groups=(), key_type="ec", days=365):
    """Client certificate: CN = user name, O = groups (x509 authenticator rules)."""
    lines = ["basicConstraints = critical,CA:FALSE",
             "keyUsage = critical,digitalSignature,keyEncipherment",
             "extendedKeyUsage = clientAuth",
             "authorityKeyIdentifier = keyid"]
    return _sign_leaf(directory, name, ca_crt, ca_key, _subject(cn, groups), lines,
                      key_type, days)


def load_cert(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def load_key(path):
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), password=None)


def spki_pin(cert):
    """kubeadm's --discovery-token-ca-cert-hash: sha256 over the DER SubjectPublicKeyInfo.
    (cmd/kubeadm/app/util/pubkeypin/pubkeypin.go)"""
    der = cert.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest()


# certificates.k8s.io KeyUsage strings -> x509 (pkg/controller/certificates/authority/policies.go
# keyUsageDict / extKeyUsageDict)
_KEY_USAGES = {
    "signing": "digital_signature", "digital signature": "digital_signature",
    "content commitment": "content_commitment", "key encipherment": "key_encipherment",
    "key agreement": "key_agreement", "data encipherment": "data_encipherment",
    "cert sign": "key_cert_sign", "crl sign": "crl_sign",
    "encipher only": "encipher_only", "decipher only": "decipher_only",
}
_EXT_KEY_USAGES = {
    "any": getattr(ExtendedKeyUsageOID, "ANY_EXTENDED_KEY_USAGE", None),
    "server auth": ExtendedKeyUsageOID.SERVER_AUTH,
    "client auth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "code signing": ExtendedKeyUsageOID.CODE_SIGNING,
    "email protection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "timestamping": ExtendedKeyUsageOID.TIME_STAMPING,
    "ocsp signing": ExtendedKeyUsageOID.OCSP_SIGNING,
}
KNOWN_USAGES = set(_KEY_USAGES) | set(_EXT_KEY_USAGES) | {
    "s/mime", "ipsec end system", "ipsec tunnel", "ipsec user", "microsoft sgc", "netscape sgc"}


def parse_csr_pem(pem_bytes):
    """pkg/apis/certificates/helpers.go ParseCSR: one PEM block of type CERTIFICATE REQUEST."""
    text = pem_bytes.decode("ascii", errors="replace") if isinstance(pem_bytes, bytes) else pem_bytes
    if "-----BEGIN CERTIFICATE REQUEST-----" not in text:
        raise ValueError("PEM block type must be CERTIFICATE REQUEST")
    return x509.load_pem_x509_csr(pem_bytes if isinstance(pem_bytes, bytes) else pem_bytes.encode())


def csr_subject(csr):
    cn = [a.value for a in csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    orgs = [a.value for a in csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    return (cn[0] if cn else ""), orgs


def csr_sans(csr):
    try:
        ext = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], [], [], []
    return (ext.get_values_for_type(x509.DNSName),
            [str(i) for i in ext.get_values_for_type(x509.IPAddress)],
            ext.get_values_for_type(x509.RFC822Name),
            ext.get_values_for_type(x509.UniformResourceIdentifier))


def sign_csr(csr, ca_cert, ca_key, usages, ttl_seconds, now):
    """Sign like authority.go + PermissiveSigningPolicy (Backdate 5m, Short 8h)."""
    if not csr.is_signature_valid:
        raise ValueError("unable to verify certificate request signature")
    backdate = datetime.timedelta(minutes=5)
    short = datetime.timedelta(hours=8)
    ttl = datetime.timedelta(seconds=ttl_seconds)
    now_dt = datetime.datetime.utcfromtimestamp(now)
    not_before = now_dt - backdate
    not_after = now_dt + ttl if ttl < short else not_before + ttl
    ca_not_after = ca_cert.not_valid_after
    if not not_after < ca_not_after:
        not_after = ca_not_after
    if not now_dt < ca_not_after:
        raise ValueError("refusing to sign a certificate that expired in the past: NotAfter=%s"
                         % ca_not_after)
    ku = {v: False for v in set(_KEY_USAGES.values())}
    ekus = []
    for u in usages:
        if u in _KEY_USAGES:
            ku[_KEY_USAGES[u]] = True
        elif u in _EXT_KEY_USAGES and _EXT_KEY_USAGES[u] is not None:
            ekus.append(_EXT_KEY_USAGES[u])
        else:
            raise ValueError("unrecognized usage: %s" % u)
    builder = (x509.CertificateBuilder()
               .subject_name(csr.subject)
               .issuer_name(ca_cert.subject)
               .public_key(csr.public_key())
               .serial_number(int.from_bytes(os.urandom(16), "big") >> 1 or 1)
               .not_valid_before(not_before)
               .not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True))
    if any(ku.values()):
        builder = builder.add_extension(x509.KeyUsage(**ku), critical=True)
    if ekus:
        builder = builder.add_extension(x509.ExtendedKeyUsage(ekus), critical=False)
    try:
        san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        builder = builder.add_extension(san, critical=False)
    except x509.ExtensionNotFound:
        pass
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    return cert.public_bytes(serialization.Encoding.PEM)


def generate_key(key_type="ec"):
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def tmpdir(prefix="cluster-double-"):
    return tempfile.mkdtemp(prefix=prefix)
