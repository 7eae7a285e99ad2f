"""Logon keys as the directory stores them: salted scrypt, or the older unsalted SHA-256.

New form: ``scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt hex>$<key hex>`` (``hashlib.scrypt``, in the
standard library: no dependency, memory-hard, and its cost is stored with each key).
``hash_key`` uses N = 2**14, r = 8, p = 1 (16 MiB: the scrypt paper's interactive-logon
setting; its time per check is in BENCHMARKS.md). A key is checked only at logon, and a
successful check is remembered in memory for the life of the process (by stored hash and a
digest of the key), so a terminal that reconnects does not pay it again. The older form, 64 hex
digits of SHA-256, is still accepted; ``nlets-sim directory check`` warns about it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re

KEY_LOG2_N = 14  # N = 16384
KEY_R = 8
KEY_P = 1
QUICK_LOG2_N = 10  # a check at or below this cost runs on the event loop (BENCHMARKS.md)
SALT_BYTES = 16
KEY_BYTES = 32
SCRYPT_FORM = re.compile(
    r"scrypt\$ln=(?P<ln>[0-9]{1,2}),r=(?P<r>[0-9]{1,2}),p=(?P<p>[0-9]{1,2})"
    r"\$(?P<salt>[0-9a-f]{32})\$(?P<key>[0-9a-f]{64})"
)
SHA256_FORM = re.compile(r"[0-9a-f]{64}")
_MAX_REMEMBERED = 65_536
_verified: set[tuple[str, bytes]] = set()  # (stored hash, SHA-256 of the key) checked good


def hash_key(secret: str, *, log2_n: int = KEY_LOG2_N, salt: bytes | None = None) -> str:
    """The stored form of a logon key; a random salt unless one is given."""
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    derived = _scrypt(secret, salt, log2_n, KEY_R, KEY_P)
    return f"scrypt$ln={log2_n},r={KEY_R},p={KEY_P}${salt.hex()}${derived.hex()}"


def sha256_key(secret: str) -> str:
    """The older, unsalted form (64 hex digits)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def is_stored_key(value: str) -> bool:
    """Either form, with scrypt costs a switch can afford (N up to 2**20)."""
    match = SCRYPT_FORM.fullmatch(value)
    if match is not None:
        return (
            1 <= int(match["ln"]) <= 20
            and 1 <= int(match["r"]) <= 32
            and 1 <= int(match["p"]) <= 16
        )
    return bool(SHA256_FORM.fullmatch(value))


def quick_to_verify(stored: str, secret: str) -> bool:
    """True when checking ``secret`` costs next to nothing: remembered, SHA-256, or a scrypt
    cost of N = 2**10 or less (the demo directory's). Others are checked off the event loop."""
    if (stored, hashlib.sha256(secret.encode("utf-8")).digest()) in _verified:
        return True
    match = SCRYPT_FORM.fullmatch(stored)
    return match is None or int(match["ln"]) <= QUICK_LOG2_N


def verify_key(stored: str, secret: str) -> bool:
    """Whether ``secret`` is the key ``stored`` was made from."""
    remembered = (stored, hashlib.sha256(secret.encode("utf-8")).digest())
    if remembered in _verified:
        return True
    match = SCRYPT_FORM.fullmatch(stored)
    if match is not None:
        derived = _scrypt(
            secret, bytes.fromhex(match["salt"]), int(match["ln"]), int(match["r"]), int(match["p"])
        )
        good = hmac.compare_digest(derived.hex(), match["key"])
    else:
        good = hmac.compare_digest(stored, sha256_key(secret))
    if good:
        if len(_verified) >= _MAX_REMEMBERED:
            _verified.clear()
        _verified.add(remembered)
    return good


def _scrypt(secret: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    n = 1 << log2_n
    return hashlib.scrypt(
        secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r, dklen=KEY_BYTES
    )
