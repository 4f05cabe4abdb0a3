"""Encryption at rest for provider API keys and webhook secrets.

Fernet (AES-128-CBC + HMAC) with a key from settings.FIELD_ENCRYPTION_KEY.
Several keys may be given (comma-separated, newest first) so a key can be
rotated: new values use the first, old values still decrypt.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionError(Exception):
    pass


def _fernet() -> MultiFernet:
    keys = [k.strip() for k in settings.FIELD_ENCRYPTION_KEY.split(",") if k.strip()]
    if not keys:
        # Development fallback: derived from SECRET_KEY (changing SECRET_KEY
        # then makes stored provider keys unreadable; set FIELD_ENCRYPTION_KEY).
        digest = hashlib.sha256(b"storyboard-studio-fields:" + settings.SECRET_KEY.encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(k.encode()) for k in keys])


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode() if value else ""


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError("A stored secret cannot be decrypted: was FIELD_ENCRYPTION_KEY changed?")
