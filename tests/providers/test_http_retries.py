"""Retries, error mapping and downloads, against scripted answers from a real local server."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest

from generation.providers.base import ProviderError
from generation.providers.http import (
    UNCERTAIN,
    backoff_delay,
    error_from_response,
    make_client,
    retry_after_seconds,
    send_with_retries,
    stream_download,
)


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(provider_server):
    with make_client(base_url=provider_server.url, headers={}, read=2.0) as client:
        yield client


@pytest.fixture
def send(client, sleeps):
    def send(method="POST", *, idempotent=False, **kwargs):
        return send_with_retries(client, method, "/plumbing", idempotent=idempotent,
                                 provider_name="Acme", sleep=sleeps.append, **kwargs)

    return send


def test_it_waits_as_long_as_retry_after_says(provider_server, send, sleeps):
    provider_server.script = [(429, {"Retry-After": "3"}, {}), (200, {}, {"id": "a"})]

    response = send()

    assert response.json() == {"id": "a"}
    assert sleeps == [3.0]


def test_it_prefers_retry_after_ms(provider_server, send, sleeps):
    provider_server.script = [(429, {"retry-after-ms": "250", "Retry-After": "9"}, {}),
                              (200, {}, {})]

    send()

    assert sleeps == [0.25]


def test_it_reads_retry_after_as_an_http_date():
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=20), usegmt=True)

    assert 17 <= retry_after_seconds(httpx.Headers({"Retry-After": later})) <= 20
    assert retry_after_seconds(httpx.Headers({"Retry-After": "soon"})) is None
    assert retry_after_seconds(httpx.Headers({})) is None


def test_it_never_waits_longer_than_the_cap(provider_server, send, sleeps):
    provider_server.script = [(429, {"Retry-After": "3600"}, {}), (200, {}, {})]

    send()

    assert sleeps == [30.0]


def test_it_backs_off_exponentially_with_full_jitter(provider_server, send, sleeps):
    provider_server.script = [(500, {}, {})] * 5

    with pytest.raises(ProviderError) as error:
        send(idempotent=True)

    assert (error.value.code, error.value.retryable) == ("server", True)
    assert len(sleeps) == 4
    assert all(0 <= delay <= 0.5 * 2**attempt for attempt, delay in enumerate(sleeps))
    assert max(backoff_delay(20, base=0.5, cap=30.0) for _ in range(50)) <= 30.0


@pytest.mark.parametrize("status", [408, 409, 429])
def test_it_retries_refusals_even_for_a_create(provider_server, send, status):
    provider_server.script = [(status, {}, {}), (201, {}, {"id": "a"})]

    assert send().status_code == 201
    assert len(provider_server.seen("POST", "/plumbing")) == 2


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_it_never_resends_a_create_a_gateway_answered_with_a_server_error(provider_server, send, sleeps, status):
    # A gateway may have forwarded it before failing: the job may exist, and a resend would be a second one.
    provider_server.script = [(status, {}, {}), (201, {}, {"id": "a"})]

    with pytest.raises(ProviderError) as error:
        send()

    assert (error.value.code, error.value.retryable) == ("timeout", False)
    assert error.value.message == (f"Acme answered HTTP {status} after receiving the request; the job may or "
                                   "may not have been created. Check the provider before retrying.")
    assert len(provider_server.seen("POST", "/plumbing")) == 1
    assert sleeps == []


def test_it_still_retries_a_server_error_when_the_request_is_idempotent(provider_server, send, sleeps):
    provider_server.script = [(502, {}, {}), (200, {}, {"ok": True})]

    assert send("GET", idempotent=True).json() == {"ok": True}
    assert len(provider_server.seen("GET", "/plumbing")) == 2


def test_it_returns_client_errors_at_once_for_the_caller_to_map(provider_server, send, sleeps):
    provider_server.script = [(400, {}, {"error": {"message": "prompt is too long"}})]

    assert send().status_code == 400
    assert sleeps == []


def test_it_does_not_retry_a_quota_refusal(provider_server, send, sleeps):
    provider_server.script = [(429, {}, {"error": {"message": "You exceeded your current quota.",
                                                   "code": "insufficient_quota"}})]

    response = send()
    error = error_from_response(response, "Acme")

    assert (error.code, error.retryable) == ("quota", False)
    assert sleeps == []


def test_it_does_not_resend_a_create_whose_answer_timed_out(provider_server, client, sleeps):
    provider_server.script = [("sleep", 1.0), (200, {}, {})]

    with pytest.raises(ProviderError) as error:
        send_with_retries(client, "POST", "/plumbing", idempotent=False, sleep=sleeps.append,
                          timeout=httpx.Timeout(5.0, read=0.3))

    assert (error.value.code, error.value.message, error.value.retryable) == (
        "timeout", str(UNCERTAIN), False)
    assert len(provider_server.seen("POST", "/plumbing")) == 1


def test_it_does_not_resend_a_create_when_the_connection_drops(provider_server, send):
    provider_server.script = ["drop", (200, {}, {})]

    with pytest.raises(ProviderError) as error:
        send()

    assert error.value.code == "timeout" and not error.value.retryable
    assert len(provider_server.seen("POST", "/plumbing")) == 1


def test_it_retries_a_read_timeout_when_the_request_is_idempotent(provider_server, client, sleeps):
    provider_server.script = [("sleep", 1.0), (200, {}, {"ok": True})]

    response = send_with_retries(client, "GET", "/plumbing", idempotent=True,
                                 sleep=sleeps.append, timeout=httpx.Timeout(5.0, read=0.3))

    assert response.json() == {"ok": True}
    assert len(sleeps) == 1


def test_it_retries_a_create_that_never_reached_the_provider(sleeps):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with make_client(base_url=f"http://127.0.0.1:{port}", headers={}) as client:
        with pytest.raises(ProviderError) as error:
            send_with_retries(client, "POST", "/videos", idempotent=False, sleep=sleeps.append,
                              provider_name="Acme")

    assert (error.value.code, error.value.retryable) == ("network", True)
    assert error.value.message == "Could not reach Acme. Check its address and the network."
    assert len(sleeps) == 4


def response(status, payload, *, key="sk-secret-abcdef"):
    request = httpx.Request("POST", "https://acme.example/v1/videos",
                            headers={"Authorization": f"Bearer {key}"})
    return httpx.Response(status, json=payload, request=request)


def test_it_maps_errors_to_plain_words_that_never_hold_the_key():
    echo = response(400, {"error": {"message": "Key sk-secret-abcdef may not use seconds=5"}})
    assert error_from_response(echo, "Acme").message == (
        "Acme refused the request: Key [redacted] may not use seconds=5"
    )
    rejected = response(401, {"error": {"message": "bad key sk-secret-abcdef"}})
    auth = error_from_response(rejected, "Acme")
    assert auth.code == "auth"
    assert auth.message == "Authentication failed: check the API key for Acme."


def test_it_reads_replicates_problem_details():
    invalid = error_from_response(
        response(422, {"title": "Input validation failed", "detail": "- input.duration: too long",
                       "status": 422}), "Replicate")
    assert (invalid.code, invalid.message) == (
        "invalid_request", "Replicate refused the request: - input.duration: too long")


def test_it_tells_a_throttle_that_mentions_payment_from_an_empty_quota():
    throttle = error_from_response(response(429, {"detail": (
        "Request was throttled. Your rate limit for creating predictions is reduced until you "
        "add a payment method or credit."), "status": 429}), "Replicate")
    quota = error_from_response(response(402, {"detail": "Insufficient credit."}), "Replicate")

    assert (throttle.code, throttle.retryable) == ("rate_limited", True)
    assert (quota.code, quota.retryable) == ("quota", False)
    assert error_from_response(response(500, {}), "Acme").code == "server"


def test_it_downloads_into_place_only_when_complete(provider_server, client, tmp_path):
    provider_server.script = [(200, {"Content-Type": "video/mp4"}, b"x" * 5000)]

    written = stream_download(client, "/plumbing", tmp_path / "clip.mp4")

    assert written == 5000
    assert (tmp_path / "clip.mp4").read_bytes() == b"x" * 5000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]


def test_a_large_download_arrives_byte_for_byte_and_the_connection_stays_usable(
    provider_server, client, tmp_path
):
    body = bytes(range(256)) * (12 * 1024) + b"tail"  # 3 MiB and a bit: many reads
    provider_server.script = [(200, {"Content-Type": "video/mp4"}, body), (200, {}, {"next": True})]

    written = stream_download(client, "/plumbing", tmp_path / "clip.mp4")

    assert written == len(body)
    assert (tmp_path / "clip.mp4").read_bytes() == body
    assert client.get("/plumbing").json() == {"next": True}

@pytest.mark.parametrize("headers, body, limit", [
    ({"Content-Type": "text/html"}, b"<html>login</html>", 10_000),
    ({"Content-Type": "application/octet-stream"}, b"x" * 5000, 4000),  # too large
    ({"Content-Type": "video/mp4", "Content-Length": "9000"}, b"x" * 5000, 10_000),  # cut off
])
def test_it_refuses_a_download_that_is_not_what_was_asked(
    provider_server, client, tmp_path, headers, body, limit
):
    provider_server.script = [(200, headers, body)]

    with pytest.raises(ProviderError) as error:
        stream_download(client, "/plumbing", tmp_path / "clip.mp4", max_bytes=limit)

    assert error.value.code == "bad_download"
    assert list(tmp_path.iterdir()) == []
