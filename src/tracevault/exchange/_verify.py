"""Opening a bundle: every digest, the signature and every record checked before use."""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import zstandard
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .._exceptions import InputError
from ..schema import SCHEMA_VERSION
from ._bundle import (
    FORMAT,
    FORMAT_VERSION,
    LOGS,
    MANIFEST,
    MEMBERS,
    SCORES,
    SIGNATURE,
    SPANS,
    TRACES,
    BundleInfo,
    file_sha256,
    signed_message,
)
from ._records import log_from_dict, span_from_dict

__all__ = ["OpenBundle", "check_records", "open_bundle"]

_CHUNK = 1 << 20
_COUNTED = {TRACES: "traces", SPANS: "spans", LOGS: "logs", SCORES: "scores"}


class OpenBundle:
    """A bundle whose manifest, member digests and signature were checked."""

    def __init__(self, path: Path, zf: zipfile.ZipFile, manifest: dict[str, Any],
                 signature: dict[str, Any] | None) -> None:
        self.path = path
        self.zip = zf
        self.manifest = manifest
        self.signature = signature

    def close(self) -> None:
        """Close the archive."""
        self.zip.close()

    def __enter__(self) -> OpenBundle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check(self) -> dict[tuple[str, str], int]:
        """Parse every record (see ``check_records``); returns spans per trace."""
        return check_records(self)

    def info(self) -> BundleInfo:
        """The bundle's description."""
        sig = self.signature
        return BundleInfo(str(self.path), file_sha256(self.path), self.manifest,
                          sig is not None, sig["public_key"] if sig else None)

    def records(self, name: str) -> Iterator[tuple[int, Any]]:
        """``(line number, JSON value)`` of a member, checking its digest again as read."""
        expected = self.manifest["members"][name]["sha256"]
        digest = hashlib.sha256()
        try:
            with self.zip.open(name) as raw:
                hashing = _Hashing(raw, digest)
                reader = zstandard.ZstdDecompressor().stream_reader(hashing,
                                                                    read_across_frames=True)
                pending = b""
                line_no = 0
                while chunk := reader.read(_CHUNK):
                    lines = (pending + chunk).split(b"\n")
                    pending = lines.pop()
                    for line in lines:
                        line_no += 1
                        yield line_no, _loads(line, name, line_no)
                if pending.strip():
                    line_no += 1
                    yield line_no, _loads(pending, name, line_no)
                while hashing.read(_CHUNK):  # hash any bytes after the last frame too
                    pass
        except (zstandard.ZstdError, zipfile.BadZipFile, OSError, EOFError) as exc:
            raise InputError(f"bundle member {name} is corrupt: {exc}") from None
        if digest.hexdigest() != expected:
            raise InputError(f"bundle member {name} changed while it was read")


class _Hashing:
    """A file wrapper hashing what is read through it."""

    def __init__(self, raw: Any, digest: Any) -> None:
        self.raw = raw
        self.digest = digest

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.digest.update(data)
        return data


def _loads(line: bytes, name: str, line_no: int) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"bundle member {name} line {line_no}: not JSON: {exc}") from None


def _json_member(zf: zipfile.ZipFile, name: str) -> tuple[bytes, dict[str, Any]]:
    try:
        data = zf.read(name)
    except KeyError:
        raise InputError(f"not a tracevault bundle: no {name}") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"bundle member {name} is corrupt: {exc}") from None
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"bundle {name} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InputError(f"bundle {name} is not a JSON object")
    return data, value


def _check_manifest(manifest: dict[str, Any], names: list[str]) -> None:
    if manifest.get("format") != FORMAT:
        raise InputError(f"not a tracevault bundle: manifest format is "
                         f"{manifest.get('format')!r}, expected {FORMAT!r}")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise InputError(f"bundle format version {version!r} is newer than this tracevault "
                         f"reads ({FORMAT_VERSION}); upgrade tracevault")
    schema = manifest.get("schema_version")
    if not isinstance(schema, int) or schema > SCHEMA_VERSION:
        raise InputError(f"bundle schema version {schema!r} is newer than this tracevault "
                         f"reads ({SCHEMA_VERSION}); upgrade tracevault")
    members = manifest.get("members")
    if not isinstance(members, dict) or set(members) != set(MEMBERS) or not all(
            isinstance(m, dict) and isinstance(m.get("sha256"), str)
            for m in members.values()):
        raise InputError(f"bundle manifest must list the members {', '.join(MEMBERS)} "
                         "with their SHA-256")
    if len(set(names)) != len(names):
        raise InputError("bundle holds a member twice")
    for name in names:
        if name not in members and name not in (MANIFEST, SIGNATURE):
            raise InputError(f"bundle member {name} is not listed in the manifest")
    for name in MEMBERS:
        if name not in names:
            raise InputError(f"bundle member {name} listed in the manifest is missing")
    counts = manifest.get("counts")
    if not isinstance(counts, dict):
        raise InputError("bundle manifest has no counts")
    for name, key in _COUNTED.items():
        if counts.get(key) != members[name].get("records"):
            raise InputError(f"bundle manifest counts {counts.get(key)!r} {key} but lists "
                             f"{members[name].get('records')!r} records in {name}")


def _check_digests(zf: zipfile.ZipFile, manifest: dict[str, Any]) -> None:
    for name in MEMBERS:
        digest = hashlib.sha256()
        try:
            with zf.open(name) as f:
                while chunk := f.read(_CHUNK):
                    digest.update(chunk)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise InputError(f"bundle member {name} is corrupt: {exc}") from None
        expected = manifest["members"][name]["sha256"]
        if digest.hexdigest() != expected:
            raise InputError(f"bundle member {name} was altered: its SHA-256 is "
                             f"{digest.hexdigest()[:16]}…, the manifest says {expected[:16]}…")


def _check_signature(zf: zipfile.ZipFile, manifest_bytes: bytes,
                     public_key: str | None) -> dict[str, Any] | None:
    if SIGNATURE not in zf.namelist():
        if public_key:
            raise InputError("bundle is not signed, but a public key was given")
        return None
    _, sig = _json_member(zf, SIGNATURE)
    digest = hashlib.sha256(manifest_bytes).hexdigest()
    try:
        if sig.get("algorithm") != "ed25519":
            raise InputError(f"bundle signature algorithm {sig.get('algorithm')!r} "
                             "is not ed25519")
        if public_key and public_key.lower() != str(sig.get("public_key")).lower():
            raise InputError(f"bundle was signed with key {str(sig.get('public_key'))[:16]}…, "
                             f"not with {public_key[:16]}…")
        if sig.get("manifest_sha256") != digest:
            raise InputError("bundle manifest was altered after signing: its SHA-256 differs "
                             "from the signed one")
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(sig["public_key"]))
        key.verify(bytes.fromhex(sig["signature"]), signed_message(digest))
    except InvalidSignature:
        raise InputError("bundle signature is not valid for its manifest") from None
    except (KeyError, ValueError, TypeError) as exc:
        raise InputError(f"bundle signature is malformed: {exc}") from None
    return sig


def is_bundle(path: str | Path) -> bool:
    """Whether ``path`` is a zip holding a tracevault bundle manifest."""
    try:
        with zipfile.ZipFile(path) as zf:
            return MANIFEST in zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def open_bundle(path: str | Path, public_key: str | None = None) -> OpenBundle:
    """Open a bundle and check its manifest, every member's SHA-256 and the signature.

    With ``public_key`` (hex Ed25519), the bundle must be signed by that key; without,
    a signature present must still be valid. Raises ``InputError`` naming what differs.
    """
    p = Path(path)
    try:
        zf = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{p} is not a tracevault bundle: {exc}") from None
    try:
        manifest_bytes, manifest = _json_member(zf, MANIFEST)
        signature = _check_signature(zf, manifest_bytes, public_key)
        _check_manifest(manifest, zf.namelist())
        _check_digests(zf, manifest)
    except BaseException:
        zf.close()
        raise
    return OpenBundle(p, zf, manifest, signature)


def check_records(bundle: OpenBundle) -> dict[tuple[str, str], int]:
    """Parse every record of the bundle; returns spans per ``(project, trace_id)``.

    Raises ``InputError`` at the first malformed record or inconsistency.
    """
    from ..evals import Score

    spans: dict[tuple[str, str], int] = {}
    for line, rec in bundle.records(SPANS):
        if not isinstance(rec, dict) or not isinstance(rec.get("commit"), int):
            raise InputError(f"bundle {SPANS} line {line}: span record has no commit number")
        span = span_from_dict({k: v for k, v in rec.items() if k != "commit"},
                              f"bundle {SPANS} line {line}")
        key = (span.project or "", span.trace_id)
        spans[key] = spans.get(key, 0) + 1
    traced: dict[tuple[str, str], int] = {}
    for line, rec in bundle.records(TRACES):
        try:
            summary = rec["summary"]
            key = (summary["project"], summary["trace_id"])
            traced[key] = len(rec["spans"])
        except (KeyError, TypeError):
            raise InputError(f"bundle {TRACES} line {line}: not a trace record") from None
    if traced != spans:
        raise InputError(f"bundle {TRACES} and {SPANS} disagree on the traces or their spans")
    for line, rec in bundle.records(LOGS):
        log = log_from_dict(rec, f"bundle {LOGS} line {line}")
        if (log.project, log.trace_id) not in spans:
            raise InputError(f"bundle {LOGS} line {line}: log record of a trace not in the "
                             "bundle")
    for line, rec in bundle.records(SCORES):
        if not isinstance(rec, dict):
            raise InputError(f"bundle {SCORES} line {line}: not a score")
        try:
            score = Score.from_dict(rec)
        except (TypeError, ValueError) as exc:
            raise InputError(f"bundle {SCORES} line {line}: malformed score: {exc}") from None
        if (score.project, score.trace_id) not in spans:
            raise InputError(f"bundle {SCORES} line {line}: score of a trace not in the bundle")
    return spans
