"""Standard Webhooks verification (OpenAI-format gateways, Replicate)."""

from __future__ import annotations

import pytest

from generation.providers.webhooks import (
    WebhookError,
    sign_standard_webhook,
    verify_standard_webhook,
)

# The Standard Webhooks specification's published test vector: matching it means
# any provider using that specification's libraries will verify here.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
WEBHOOK_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def headers(signature=SIGNATURE, timestamp=TIMESTAMP):
    return {"webhook-id": WEBHOOK_ID, "webhook-timestamp": str(timestamp),
            "webhook-signature": signature}


def verify(headers, body=BODY, now=TIMESTAMP + 10):
    return verify_standard_webhook(secret=SECRET, headers=headers, body=body, now=now)


def test_it_signs_like_the_specifications_test_vector():
    signature = sign_standard_webhook(
        secret=SECRET, webhook_id=WEBHOOK_ID, timestamp=TIMESTAMP, body=BODY
    )

    assert signature == SIGNATURE


def test_it_accepts_a_valid_webhook_and_returns_its_id_for_deduplication():
    assert verify(headers()) == WEBHOOK_ID


def test_it_reads_headers_whatever_their_case():
    assert verify({name.title(): value for name, value in headers().items()}) == WEBHOOK_ID


def test_it_rejects_a_wrong_signature():
    with pytest.raises(WebhookError, match="No webhook signature matches"):
        verify(headers(signature="v1,Zm9yZ2VkLXNpZ25hdHVyZS1mb3JnZWQtc2lnbmF0dXJlPQ=="))


def test_it_rejects_a_body_changed_in_transit():
    with pytest.raises(WebhookError):
        verify(headers(), body=b'{"test": 2432232315}')


def test_it_rejects_a_signature_made_with_another_secret():
    other = sign_standard_webhook(secret="whsec_c2VjcmV0LW9mLWFub3RoZXItZW5kcG9pbnQ=",
                                  webhook_id=WEBHOOK_ID, timestamp=TIMESTAMP, body=BODY)

    with pytest.raises(WebhookError):
        verify(headers(signature=other))


@pytest.mark.parametrize("offset", [301, -301])
def test_it_rejects_a_timestamp_more_than_five_minutes_off(offset):
    with pytest.raises(WebhookError, match="too far from now"):
        verify(headers(), now=TIMESTAMP + offset)


def test_it_accepts_a_timestamp_just_inside_the_tolerance():
    assert verify(headers(), now=TIMESTAMP + 300) == WEBHOOK_ID


def test_it_accepts_a_header_where_any_one_signature_matches():
    # Providers send several during secret rotation, and may add other versions.
    rotated = f"v1,b2xkLXNlY3JldC1zaWduYXR1cmU= v2,c29tZXRoaW5nLWVsc2U= {SIGNATURE}"

    assert verify(headers(signature=rotated)) == WEBHOOK_ID


def test_it_ignores_a_matching_signature_under_another_version():
    with pytest.raises(WebhookError):
        verify(headers(signature=SIGNATURE.replace("v1,", "v1a,")))


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_it_rejects_a_webhook_missing_a_header(missing):
    incomplete = {name: value for name, value in headers().items() if name != missing}

    with pytest.raises(WebhookError, match="Missing"):
        verify(incomplete)


def test_it_rejects_a_timestamp_that_is_not_a_number():
    with pytest.raises(WebhookError, match="not a number"):
        verify(headers(timestamp="yesterday"))


# --- secrets with or without the whsec_ prefix ---------------------------------------------------

def openai_sdk_signature(secret: str, body: bytes = BODY) -> str:
    """What OpenAI's SDK (openai/lib/_webhooks.py) computes: without the prefix, the secret's own bytes."""
    import base64
    import hashlib
    import hmac

    key = base64.b64decode(secret[6:]) if secret.startswith("whsec_") else secret.encode()
    content = f"{WEBHOOK_ID}.{TIMESTAMP}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()


@pytest.mark.parametrize("secret", ["a-gateway-secret-in-plain-text", "c2VjcmV0LW9mLWEtZ2F0ZXdheQ=="])
def test_it_accepts_a_secret_without_the_prefix_as_openais_sdk_uses_it(secret):
    signature = openai_sdk_signature(secret)
    assert verify_standard_webhook(secret=secret, headers=headers(signature=signature), body=BODY,
                                   now=TIMESTAMP) == WEBHOOK_ID


def test_it_accepts_a_standard_webhooks_secret_pasted_without_its_prefix():
    assert verify_standard_webhook(secret=SECRET.removeprefix("whsec_"), headers=headers(), body=BODY,
                                   now=TIMESTAMP) == WEBHOOK_ID


def test_a_secret_without_the_prefix_still_refuses_a_forged_signature():
    forged = openai_sdk_signature("another-secret-altogether")
    with pytest.raises(WebhookError, match="No webhook signature matches"):
        verify_standard_webhook(secret="a-gateway-secret-in-plain-text", headers=headers(signature=forged),
                                body=BODY, now=TIMESTAMP)
