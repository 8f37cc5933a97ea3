"""Webhook secrets at rest: what a reader of the database alone cannot use.

* An **HMAC signing secret** (HubSpot's client secret, Mautic's and the generic sender's secret) must be
  usable to check every request, so it is *sealed*: AES-256-GCM with a key derived from ``SECRET_KEY``
  (HMAC-SHA256 of ``SECRET_KEY`` and a fixed label: the key never lives in the database). Stored as
  ``v1:`` + base64(nonce ‖ ciphertext ‖ tag). A copy of the database without the settings' key opens
  none of them; a changed ``SECRET_KEY`` opens them while the old key is in ``SECRET_KEY_FALLBACKS``.
* A **basic-auth password** (Pipedrive) only has to be compared, so only its SHA-256 is kept, like an API
  token's: the password is generated (32 random bytes), so a fast hash is as strong as a slow one.

>>> sealed = seal("s3cret")
>>> sealed.startswith("v1:"), unseal(sealed)
(True, 's3cret')
>>> password_matches("hunter2", password_hash("hunter2")), password_matches("", password_hash("hunter2"))
(True, False)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

__all__ = [
    "SecretUnreadable",
    "generate_secret",
    "password_hash",
    "password_matches",
    "seal",
    "unseal",
]

_LABEL = b"leadpact webhook secrets v1"
_AAD = b"leadpact:webhook-integration"
_PREFIX = "v1:"


class SecretUnreadable(ValueError):  # noqa: N818 - a condition, named like the connectors' errors
    """A sealed secret that no key of the settings opens (``SECRET_KEY`` changed without a fallback)."""


def _keys() -> list[bytes]:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ())]
    return [hmac.new(str(k).encode(), _LABEL, hashlib.sha256).digest() for k in keys if k]


def generate_secret() -> str:
    """A fresh secret: 32 random bytes as URL-safe text (43 characters)."""
    return secrets.token_urlsafe(32)


def seal(secret: str) -> str:
    """The secret encrypted with the current key (a fresh nonce each time)."""
    nonce = os.urandom(12)
    sealed = AESGCM(_keys()[0]).encrypt(nonce, secret.encode(), _AAD)
    return _PREFIX + base64.b64encode(nonce + sealed).decode("ascii")


def unseal(text: str) -> str:
    """The secret :func:`seal` made; :class:`SecretUnreadable` when no key of the settings opens it."""
    if not text.startswith(_PREFIX):
        raise SecretUnreadable("the stored secret is not sealed: set a new one")
    try:
        raw = base64.b64decode(text[len(_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise SecretUnreadable("the stored secret is damaged: set a new one") from None
    for key in _keys():
        try:
            return AESGCM(key).decrypt(raw[:12], raw[12:], _AAD).decode()
        except (InvalidTag, ValueError):
            continue
    raise SecretUnreadable("the stored secret does not open with SECRET_KEY (was it changed?): set a new one")


def password_hash(password: str) -> str:
    """``sha256:<hex>`` of a password."""
    return "sha256:" + hashlib.sha256(password.encode()).hexdigest()


def password_matches(password: str, stored: str) -> bool:
    """Whether ``password`` is the one :func:`password_hash` made ``stored`` from (constant time)."""
    return bool(stored) and hmac.compare_digest(password_hash(password).encode(), stored.encode())
