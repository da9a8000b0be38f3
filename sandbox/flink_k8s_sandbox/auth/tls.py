"""A throwaway CA and serving certificate for 127.0.0.1, for the sandbox's HTTPS.

kubectl (client-go's ``clientcmd``) only reads a kubeconfig user's credentials -- token,
impersonation -- when the cluster is served over TLS, so a sandbox with access control
on serves HTTPS: :func:`serving_certificate` makes a CA and a certificate for
``127.0.0.1``/``localhost`` signed by it, valid for a day, and the kubeconfig carries the
CA as ``certificate-authority-data``. Uses ``cryptography`` (an Airflow dependency).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import tempfile
from dataclasses import dataclass

__all__ = ["ServingCertificate", "serving_certificate"]


@dataclass(frozen=True)
class ServingCertificate:
    """PEM texts: the CA certificate clients trust, the server's certificate and key."""

    ca_pem: str
    cert_pem: str
    key_pem: str

    def server_context(self) -> ssl.SSLContext:
        """An SSL context serving this certificate."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        handle, path = tempfile.mkstemp(suffix=".pem")
        try:
            with os.fdopen(handle, "w", encoding="ascii") as pem:
                pem.write(self.cert_pem + self.key_pem)
            context.load_cert_chain(path)
        finally:
            os.unlink(path)
        return context

    def client_context(self) -> ssl.SSLContext:
        """An SSL context trusting the CA (for tests and probes)."""
        return ssl.create_default_context(cadata=self.ca_pem)


def serving_certificate(hours: int = 24) -> ServingCertificate:
    """A fresh CA and a certificate for ``127.0.0.1`` and ``localhost`` it signed."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    until = now + datetime.timedelta(hours=hours)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "flink-k8s-sandbox-ca")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(until)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.IPv4Address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(until)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return ServingCertificate(
        ca.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        key_pem.decode("ascii"),
    )
