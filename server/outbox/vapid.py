"""The centre's VAPID key pair for Web Push (RFC 8292), generated once into the data
directory: ``vapid_private.pem`` (P-256, PKCS#8 PEM, mode 0600). The server hands the public
key to the ticket page (the browser's ``applicationServerKey``); the outbox process signs
each push's JWT with the private key (server/outbox/channels.py).

Both processes may be the first to need it: the key is written to a temporary file and
linked into place, so a reader never sees half a key and two writers never both win.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

PRIVATE_KEY_FILE = "vapid_private.pem"


def private_key(data_dir: Path) -> ec.EllipticCurvePrivateKey:
    """The data directory's key pair, made on the first call."""
    path = data_dir / PRIVATE_KEY_FILE
    if not path.exists():
        _create(path)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError(f"{path}: not a P-256 private key")
    return key


def public_key(data_dir: Path) -> str:
    """The public key as the browser's ``applicationServerKey`` wants it: the uncompressed
    point, base64url without padding."""
    return application_server_key(private_key(data_dir))


def application_server_key(key: ec.EllipticCurvePrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.X962,
                                        serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another process linked its key first: theirs wins
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
