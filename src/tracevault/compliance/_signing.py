"""Ed25519 signatures over the ledger head, for handing a store (or export) to others.

A signed head states "this store's ledger had commit ``seq`` with ``chain_hash``". Anyone
holding the public key can check the signature and, with ``tracevault verify --head``,
that the store still carries that exact chain up to that commit.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from .._exceptions import ConfigError, InputError

__all__ = ["check_head_signature", "generate_key", "head_message", "sign_head"]


def generate_key(path: str | Path) -> str:
    """Write a new Ed25519 private key (PEM, mode 0600); returns the public key in hex."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    p = Path(path)
    p.write_bytes(pem)
    p.chmod(0o600)
    return key.public_key().public_bytes(serialization.Encoding.Raw,
                                         serialization.PublicFormat.Raw).hex()


def _load_private(path: str | Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"cannot read Ed25519 key {path}: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path} is not an Ed25519 private key")
    return key


def head_message(head: dict[str, Any]) -> bytes:
    """The exact bytes signed: store id, node, seq and chain hash."""
    return f"tracevault-ledger-head|{head['store_id']}|{head['node']}|{head['seq']}|" \
           f"{head['chain_hash']}".encode()


def sign_head(head: dict[str, Any], key_path: str | Path) -> dict[str, Any]:
    """Sign a ledger head ``{store_id, node, seq, chain_hash}``; returns the signed record."""
    key = _load_private(key_path)
    public = key.public_key().public_bytes(serialization.Encoding.Raw,
                                           serialization.PublicFormat.Raw).hex()
    return {**head, "signed_at_ns": time.time_ns(), "public_key": public,
            "signature": key.sign(head_message(head)).hex()}


def check_head_signature(signed: dict[str, Any], public_key: str | None = None) -> None:
    """Raise ``InputError`` unless the signature is valid (for ``public_key`` if given)."""
    try:
        pub_hex = public_key or signed["public_key"]
        if public_key and signed.get("public_key") not in (None, public_key):
            raise InputError("the head was signed with a different key")
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(pub_hex))
        key.verify(bytes.fromhex(signed["signature"]), head_message(signed))
    except InvalidSignature:
        raise InputError("the ledger head signature is not valid") from None
    except (KeyError, ValueError) as exc:
        raise InputError(f"not a signed ledger head: {exc}") from None


def load_head(path: str | Path) -> dict[str, Any]:
    """Read a signed head file."""
    try:
        data = orjson.loads(Path(path).read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise InputError(f"cannot read signed head {path}: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path} is not a signed ledger head")
    return data
