"""TLS for the servers the tests start on loopback: a certificate for 127.0.0.1 and
localhost, signed by a throwaway CA that trustme makes, written as PEM files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class Certificate:
    """`cert_file` holds the server's certificate then its CA's: what a server presents,
    and what a client trusts; `key_file` is the server's private key."""

    cert_file: Path
    key_file: Path


def write_certificate(folder: Path) -> Certificate:
    """A new certificate for 127.0.0.1 and localhost and its key, written into `folder`."""
    ca = trustme.CA(organization_name="sharepack tests")
    server = ca.issue_cert("127.0.0.1", "localhost")
    certificate = Certificate(folder / "cert.pem", folder / "key.pem")
    # trustme's chain stops below the CA; the CA is added so that clients may trust the file.
    chain = [*server.cert_chain_pems, ca.cert_pem]
    certificate.cert_file.write_bytes(b"".join(pem.bytes() for pem in chain))
    server.private_key_pem.write_to_path(certificate.key_file)
    return certificate
