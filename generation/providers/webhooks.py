"""Standard Webhooks signatures (OpenAI-format gateways, Replicate).

The signed content is "{webhook-id}.{webhook-timestamp}.{raw body}", HMAC-SHA256
with the key base64-encoded after "whsec_". Verify against the raw bytes as
received: re-serialised JSON would not match.

A secret is accepted with or without its "whsec_" prefix. Without it the clients
disagree on what the key is: OpenAI's SDK signs with the text's own bytes, the
Standard Webhooks libraries with the base64 it decodes to. Both are tried.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping

TOLERANCE_SECONDS = 300


class WebhookError(Exception):
    """The webhook cannot be trusted; `reason` says why (for logs, not users)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _keys(secret: str) -> list[bytes]:
    """The HMAC keys a secret may stand for, the one its senders most likely use first."""
    secret = secret.strip()
    if secret.startswith("whsec_"):
        try:
            return [base64.b64decode(secret.removeprefix("whsec_"), validate=True)]
        except (binascii.Error, ValueError):
            raise WebhookError("The webhook secret is not valid base64 after “whsec_”.") from None
    keys = [secret.encode()]  # OpenAI's SDK: a secret without the prefix is used as it is
    try:
        keys.append(base64.b64decode(secret, validate=True))  # Standard Webhooks: the prefix is optional
    except (binascii.Error, ValueError):
        pass
    return keys


def _signature(key: bytes, webhook_id: str, timestamp: int | str, body: bytes) -> str:
    content = f"{webhook_id}.{timestamp}.".encode() + body
    return base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


def sign_standard_webhook(*, secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value for this message (one `v1,` entry)."""
    return "v1," + _signature(_keys(secret)[0], webhook_id, timestamp, body)


def verify_standard_webhook(
    *,
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    tolerance: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> str:
    """Return the webhook-id (deduplicate on it) or raise WebhookError."""
    # Django's request.headers is case-insensitive; a plain dict may not be.
    lowered = {name.lower(): value for name, value in headers.items()}
    webhook_id = lowered.get("webhook-id", "")
    stamp = lowered.get("webhook-timestamp", "")
    signatures = lowered.get("webhook-signature", "")
    if not (webhook_id and stamp and signatures):
        raise WebhookError("Missing webhook-id, webhook-timestamp or webhook-signature header.")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise WebhookError("The webhook timestamp is not a number.") from None
    now = time.time() if now is None else now
    # A replayed old message must not pass, nor one dated in the future.
    if abs(now - timestamp) > tolerance:
        raise WebhookError("The webhook timestamp is too far from now.")
    expected = [_signature(key, webhook_id, stamp, body).encode() for key in _keys(secret)]
    for entry in signatures.split():
        version, _, value = entry.partition(",")
        if version == "v1" and any(hmac.compare_digest(value.encode(), e) for e in expected):
            return webhook_id
    raise WebhookError("No webhook signature matches.")
