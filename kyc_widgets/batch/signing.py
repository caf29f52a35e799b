"""Signing an evidence record's chain head with a key the analyst keeps (Ed25519).

Why: the hash chain of :mod:`.evidence` shows that a record is consistent in
itself, and someone who rewrites the whole file can make a consistent one
too. Only something the rewriter cannot produce proves that the record is the
one the campaign wrote: the chain head kept elsewhere (the change ticket), or
a signature by a key the rewriter does not hold. This module is the second.

- ``kyc-widgets evidence-key FILE`` (:func:`generate_key`) writes a private
  key (PEM, PKCS #8, readable by its owner only: mode 0600, never
  overwritten) and its public key ``FILE.pub`` (PEM). The analyst keeps the
  private key; the auditor gets the public key (or its key id, printed, to
  compare) through another channel than the record.
- ``batch --evidence OUT.json --signing-key FILE`` signs (:func:`sign_record`):
  the record's ``chain`` gets ``signature`` = ``{"algorithm": "ed25519",
  "key_id", "value"}`` over :func:`signed_message` (the format, genesis, head
  and length of the chain).
- ``verify-evidence OUT.json --public-key FILE.pub`` checks it
  (:func:`signature_problems`). A record carries the key id, never the key:
  the key that proves something is the one the verifier brings.

The private key is not encrypted with a passphrase: it is protected as an SSH
key is, by its file mode, and :func:`load_signing_key` refuses a key file that
other users can read. Whoever can read it can sign, so keep it out of shared
folders and out of the campaign's folder.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

__all__ = [
    "SIGNATURE_ALGORITHM",
    "KeyFiles",
    "SigningKeyError",
    "generate_key",
    "key_id",
    "load_public_key",
    "load_signing_key",
    "public_key_path",
    "sign_record",
    "signature_problems",
    "signed_message",
]

SIGNATURE_ALGORITHM = "ed25519"
_DOMAIN = b"kyc-widgets campaign evidence chain head\n"
"""Prefix of every signed message: a signature over a chain head means nothing else."""


class SigningKeyError(ValueError):
    """A key file that cannot be used (missing, readable by others, not an Ed25519 key)."""


@dataclass(frozen=True)
class KeyFiles:
    """What :func:`generate_key` wrote: the private key, the public key and the key id."""

    private: Path
    public: Path
    key_id: str


def public_key_path(private: str | os.PathLike[str]) -> Path:
    """``FILE.pub`` beside the private key ``FILE`` (as ``ssh-keygen`` names them)."""
    path = Path(private)
    return path.with_name(path.name + ".pub")


def key_id(public_key: Ed25519PublicKey) -> str:
    """``sha256:<hex>`` of the raw public key: short enough to read out, compare and anchor."""
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def generate_key(path: str | os.PathLike[str]) -> KeyFiles:
    """Write a new Ed25519 key pair: ``path`` (private, mode 0600) and ``path.pub``.

    Never overwrites: ``FileExistsError`` when either file exists (a key that
    signed records must not be lost to a typo). Other ``OSError`` when the
    folder cannot be written.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private_path, public_path = Path(path), public_key_path(path)
    for existing in (private_path, public_path):
        if existing.exists():
            raise FileExistsError(f"{existing} exists; a key file is never overwritten")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _write_new(private_path, private_pem, 0o600)
    try:
        _write_new(public_path, public_pem, 0o644)
    except OSError:
        private_path.unlink(missing_ok=True)
        raise
    return KeyFiles(private_path, public_path, key_id(key.public_key()))


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` with ``mode`` from the start (no moment readable by others), or fail."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def load_signing_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    """The private key in ``path``; :class:`SigningKeyError` when it cannot be used.

    Refused when group or other users may read it (on POSIX): a key others
    can read proves nothing about who signed.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key_path = Path(path)
    data = _read_key_file(key_path, "signing key")
    if os.name == "posix" and stat.S_IMODE(key_path.stat().st_mode) & 0o077:
        raise SigningKeyError(
            f"the signing key {key_path} can be read by other users; "
            f"make it yours alone (chmod 600 {key_path})"
        )
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise SigningKeyError(
            f"{key_path} is not a private key written by 'kyc-widgets evidence-key'"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{key_path} is not an Ed25519 private key")
    return key


def load_public_key(path: str | os.PathLike[str]) -> Ed25519PublicKey:
    """The public key in ``path`` (the ``.pub`` file); :class:`SigningKeyError` when unusable."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    key_path = Path(path)
    data = _read_key_file(key_path, "public key")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise SigningKeyError(
            f"{key_path} is not a public key (the .pub file 'kyc-widgets evidence-key' wrote)"
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError(f"{key_path} is not an Ed25519 public key")
    return key


def _read_key_file(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SigningKeyError(f"no such {what} file: {path}") from None
    except OSError as exc:
        raise SigningKeyError(f"cannot read the {what} {path}: {exc.strerror or exc}") from None


def signed_message(record: dict[str, Any]) -> bytes:
    """The bytes signed: a fixed prefix and the record's format and chain facts, canonical JSON.

    The head covers the header (through the genesis) and every entry, so
    signing it signs the whole record.
    """
    chain = record.get("chain") or {}
    facts = {
        "format": record.get("format"),
        "algorithm": chain.get("algorithm"),
        "genesis": chain.get("genesis"),
        "head": chain.get("head"),
        "length": chain.get("length"),
    }
    return _DOMAIN + json.dumps(facts, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign_record(record: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """``record`` with ``chain.signature`` added (a copy; the record itself is not changed)."""
    value = base64.b64encode(key.sign(signed_message(record))).decode("ascii")
    chain = {
        **record["chain"],
        "signature": {
            "algorithm": SIGNATURE_ALGORITHM,
            "key_id": key_id(key.public_key()),
            "value": value,
        },
    }
    return {**record, "chain": chain}


def signature_problems(record: dict[str, Any], public_key: Ed25519PublicKey) -> list[str]:
    """What is wrong with the record's signature for ``public_key`` ([] when it verifies)."""
    from cryptography.exceptions import InvalidSignature

    signature = (record.get("chain") or {}).get("signature")
    if not isinstance(signature, dict):
        return ["the record is not signed, but a public key was given: it was not signed "
                "with that key, or its signature was removed"]
    expected = key_id(public_key)
    if signature.get("key_id") != expected:
        return [f"the record names signing key {signature.get('key_id')}, not the given key "
                f"{expected}: it was signed (or re-signed) with another key"]
    try:
        value = base64.b64decode(str(signature.get("value")), validate=True)
        public_key.verify(value, signed_message(record))
    except (InvalidSignature, ValueError):
        return ["the signature does not verify with the given public key: the chain was "
                "rewritten after signing, or the signature was edited"]
    return []
