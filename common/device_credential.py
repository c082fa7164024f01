"""A paired kiosk's or display's credential, in a file of its own (issue 13).

A device started with only the server's address pairs once (``common/device_enrollment.py``)
and keeps what it was given here: the server it paired with, what it is (kind, id, site) and
its secret token — nothing else, so the device's account holds no password hash and no other
device's token. The file is JSON::

    {"server": "ws://10.0.0.5:8765/ws", "kind": "kiosk", "device": "kiosk-tang-2",
     "site": "tinh", "token": "d3Jn6Qm0yXw0b1cK2tq9uA0f"}

It is written atomically (a temporary file beside it, flushed, then renamed over it) and
readable by its owner only: 0600, in a directory created 0700. By default it lives in
``$XDG_CONFIG_HOME/xephang/<kind>.json`` (``~/.config/xephang/kiosk.json``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import msgspec

from common.config import ConfigError

log = logging.getLogger(__name__)

Kind = Literal["kiosk", "display"]
FILE_MODE = 0o600
DIRECTORY_MODE = 0o700
MAX_BYTES = 4096  # a credential is ~200 bytes; anything much larger is not one


class DeviceCredential(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    server: str  # the websocket address it paired with
    kind: Kind
    device: str
    site: str
    token: str


_decoder = msgspec.json.Decoder(DeviceCredential)
_encoder = msgspec.json.Encoder()


def default_path(kind: Kind, environ: Mapping[str, str] = os.environ) -> Path:
    """``$XDG_CONFIG_HOME/xephang/<kind>.json``, else ``~/.config/xephang/<kind>.json``."""
    base = environ.get("XDG_CONFIG_HOME") or ""
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / "xephang" / f"{kind}.json"


def load(path: Path, kind: Kind) -> DeviceCredential | None:
    """The credential in ``path``; None when there is no such file. ConfigError (naming the
    file and the problem) when it cannot be read, is not a credential, or is another kind's."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
            mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(str(path), "", f"cannot read the device credential: {exc.strerror}") from None
    if len(data) > MAX_BYTES:
        raise ConfigError(str(path), "", f"not a device credential (more than {MAX_BYTES} bytes)")
    try:
        credential = _decoder.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ConfigError(str(path), "", f"not a device credential: {exc}") from None
    if credential.kind != kind:
        raise ConfigError(str(path), "kind", f"this is a {credential.kind}'s credential, not a {kind}'s")
    if not credential.token or not credential.device:
        raise ConfigError(str(path), "token", "empty")
    if mode & 0o077:
        log.warning("%s is readable by others (mode %o): made 0600", path, mode)
        with contextlib.suppress(OSError):
            os.chmod(path, FILE_MODE)
    return credential


def save(path: Path, credential: DeviceCredential) -> None:
    """Write ``credential`` to ``path`` atomically, 0600; missing directories are created
    0700 (an existing one is left as it is). OSError when it cannot be written."""
    _make_private_directories(path.parent)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), FILE_MODE)  # whatever the umask
            handle.write(_encoder.encode(credential) + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    _sync_directory(path.parent)


def remove(path: Path) -> None:
    """Forget the credential (revoked): the file goes; no error when it is already gone."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    _sync_directory(path.parent)


def _make_private_directories(directory: Path) -> None:
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for created in reversed(missing):
        with contextlib.suppress(FileExistsError):
            created.mkdir(mode=DIRECTORY_MODE)
        os.chmod(created, DIRECTORY_MODE)  # mkdir's mode is cut by the umask


def _sync_directory(directory: Path) -> None:
    """The rename or removal is durable once the directory is synced (best effort)."""
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
