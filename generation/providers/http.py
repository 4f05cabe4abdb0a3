"""Shared httpx plumbing for remote providers: clients, retries, errors, downloads.

Each provider module speaks its own wire format, but they all fail the same
ways: throttling, flaky networks, expired results. The rules live here once.
The rule that matters most is about money: a create whose answer got lost, or
that a gateway answered with a 5xx after forwarding it, may have been accepted
(and billed), so it is never sent again blindly. Only a refusal that certainly
created nothing (a connect error, 408/409, a throttling 429) is resent.

Every client made here connects through outbound.py, which refuses this machine's and its
network's addresses unless the operator allowed them: base URLs, redirect hops and result URLs alike.
"""

from __future__ import annotations

import email.utils
import functools
import os
import random
import re
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import certifi
import httpx

from generation.words import Said, said

from .base import ProviderError
from .outbound import GuardedTransport, OutboundRefused

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


# The request never reached the provider, so sending it again cannot double-bill.
NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
UNCERTAIN = said("provider.uncertain")
EXPIRED = said("provider.expired")
QUOTA_CODES = {"insufficient_quota", "billing_hard_limit_reached", "quota_exceeded"}
QUOTA_WORDS = re.compile(r"quota|billing|credit", re.IGNORECASE)
BINARY_TYPES = ("application/octet-stream", "binary/octet-stream")


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle takes ~0.1 s, and providers (so clients) are rebuilt
    # for every task: load it once per process.
    return ssl.create_default_context(cafile=certifi.where())


def _read_bigger_chunks() -> None:
    # httpcore reads HTTP/1.1 bodies 64 KiB at a time, and the per-read Python
    # work (h11 parsing, events) then dominates a large download: 1 MiB reads
    # took bench/download.py from 394 to 610 MiB/s (0.78x curl writing the same
    # file) with memory still bounded. Guarded: another httpcore keeps its own.
    try:
        from httpcore._sync.http11 import HTTP11Connection
    except ImportError:
        return
    if getattr(HTTP11Connection, "READ_NUM_BYTES", 0) < 1024 * 1024:
        HTTP11Connection.READ_NUM_BYTES = 1024 * 1024


def _extract_without_copying() -> None:
    # h11 hands each piece of a body over by slicing its receive buffer twice
    # (once to test for emptiness, once to extract): two copies of every byte,
    # a quarter of a large download's CPU time. When the body takes everything
    # buffered, which is every read of a long download, handing over the buffer
    # itself and starting a fresh one is the same result without the copies:
    # bench/download.py went from ~650 to ~900 MiB/s. Guarded like the above.
    try:
        from h11._receivebuffer import ReceiveBuffer
    except ImportError:
        return
    original = ReceiveBuffer.maybe_extract_at_most
    if getattr(original, "_studio_fast_path", False) or not hasattr(ReceiveBuffer(), "_data"):
        return

    @functools.wraps(original)
    def maybe_extract_at_most(self: ReceiveBuffer, count: int) -> bytearray | None:
        data = self._data
        if data and count >= len(data):
            self._data = bytearray()
            self._next_line_search = self._multiple_lines_search = 0
            return data
        return original(self, count)

    # Patching h11 is the point (tests/providers/test_http_patches.py checks it still takes): the type
    # checker is told so rather than shown a setattr.
    maybe_extract_at_most._studio_fast_path = True  # type: ignore[attr-defined]
    ReceiveBuffer.maybe_extract_at_most = maybe_extract_at_most  # type: ignore[method-assign]


_read_bigger_chunks()
_extract_without_copying()


def make_client(
    *, base_url: str, headers: dict[str, str], connect: float = 5.0, read: float = 30.0, write: float = 30.0,
    pool: float = 5.0,
) -> httpx.Client:
    timeout = httpx.Timeout(connect=connect, read=read, write=write, pool=pool)
    return _guarded_client(base_url=base_url, headers=headers, timeout=timeout)


def _guarded_client(*, base_url: str, headers: dict[str, str], timeout: httpx.Timeout) -> httpx.Client:
    """Every client the studio calls out with: its connections go through the outbound check
    (outbound.py), and no proxy from the environment is used (it would connect for us, unchecked)."""
    return httpx.Client(base_url=base_url, headers=headers, timeout=timeout, trust_env=False,
                        transport=GuardedTransport(ssl_context=_ssl_context()))


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    """The wait a provider asked for: `retry-after-ms`, else `Retry-After` (seconds or date)."""
    try:
        return max(0.0, float(headers["retry-after-ms"]) / 1000)
    except (KeyError, ValueError):
        pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # HTTP dates are GMT
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - time.time())


def backoff_delay(attempt: int, *, base: float, cap: float, hint: float | None = None) -> float:
    """The provider's own hint when it gave one, else exponential backoff with full jitter."""
    if hint is not None:
        return min(hint, cap)
    return random.uniform(0, min(cap, base * 2**attempt))


def send_with_retries(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    idempotent: bool,
    provider_name: str = "The provider",
    max_retries: int = 4,
    backoff_base: float = 0.5,
    backoff_cap: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
    **kwargs: Any,
) -> httpx.Response:
    """Send, retrying only what is safe to retry. Returns any non-retryable response.

    Raises ProviderError when retries run out (retryable=True, so the task layer
    may try again later) or when a non-idempotent request's outcome is unknown.
    """
    for attempt in range(max_retries + 1):
        last = attempt == max_retries
        try:
            response = client.request(method, url, **kwargs)
        except OutboundRefused as exc:  # nothing was sent: a definite refusal, never retried
            raise ProviderError(
                said("provider.not_called", provider=provider_name, refusal=exc.message),
                code=exc.code,
            ) from exc
        except NEVER_SENT as exc:
            if last:
                raise ProviderError(
                    said("provider.unreachable", provider=provider_name),
                    code="network", retryable=True,
                ) from exc
            sleep(backoff_delay(attempt, base=backoff_base, cap=backoff_cap))
            continue
        except httpx.UnsupportedProtocol as exc:
            raise ProviderError(
                said("provider.not_http", provider=provider_name),
                code="network",
            ) from exc
        except httpx.TransportError as exc:
            # The request went out and the answer was lost: a create may exist.
            if not idempotent:
                raise ProviderError(UNCERTAIN, code="timeout") from exc
            if last:
                raise ProviderError(
                    said("provider.slow", provider=provider_name),
                    code="timeout", retryable=True,
                ) from exc
            sleep(backoff_delay(attempt, base=backoff_base, cap=backoff_cap))
            continue
        if not _should_retry(response):
            return response
        if not idempotent and response.status_code >= 500:
            # A gateway may have forwarded the create before it failed: the job may exist (and be
            # billed). Sending it again blindly could make a second one; the caller looks first.
            raise ProviderError(ambiguous(provider_name, response.status_code), code="timeout")
        if last:
            error = error_from_response(response, provider_name)
            error.retryable = True
            raise error
        hint = retry_after_seconds(response.headers)
        sleep(backoff_delay(attempt, base=backoff_base, cap=backoff_cap, hint=hint))
    raise AssertionError("unreachable")


def ambiguous(provider_name: str, status: int) -> Said:
    return said("provider.ambiguous", provider=provider_name, status=status)


def _should_retry(response: httpx.Response) -> bool:
    # 408/409/429 are refusals that created nothing, so even a create can be sent again;
    # 5xx is retried only where resending is harmless (send_with_retries); running out
    # of quota does not fix itself.
    status = response.status_code
    if status == 429:
        return not _is_quota(*provider_detail(response))
    return status in (408, 409) or status >= 500


def json_object(response: httpx.Response, provider_name: str) -> dict[str, Any]:
    """The response's JSON object; a retryable ProviderError when it is anything else."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ProviderError(
            said("provider.unreadable", provider=provider_name), code="server",
            retryable=True,
        )
    return body


def provider_detail(response: httpx.Response) -> tuple[str, str]:
    """(message, code) from OpenAI `{"error": {...}}` or RFC 7807 `{"detail", "title"}`."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError, httpx.ResponseNotRead):
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    error = body.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or ""), str(error.get("code") or error.get("type") or "")
    if isinstance(error, str):
        return error, ""
    return str(body.get("detail") or body.get("title") or ""), ""


def _is_quota(detail: str, code: str) -> bool:
    # Replicate's throttle message mentions a payment method; it is still a throttle.
    if code in QUOTA_CODES:
        return True
    return bool(QUOTA_WORDS.search(detail)) and "throttl" not in detail.lower()


def _clean(detail: str, request: httpx.Request | None) -> str:
    """One short line, without any credential the request carried."""
    detail = " ".join(detail.split())[:300]
    if request is not None:
        for name in ("authorization", "api-key", "x-goog-api-key"):
            secret = request.headers.get(name, "").removeprefix("Bearer ").strip()
            if len(secret) >= 6:
                detail = detail.replace(secret, "[redacted]")
    return detail


def _request_of(response: httpx.Response) -> httpx.Request | None:
    try:
        return response.request
    except RuntimeError:  # a Response built by hand has no request
        return None


def error_from_response(
    response: httpx.Response, provider_name: str, *, model: str = ""
) -> ProviderError:
    """Map an error response to a ProviderError whose message an end user can act on."""
    status = response.status_code
    raw, code = provider_detail(response)
    detail = _clean(raw, _request_of(response))
    hint = retry_after_seconds(response.headers)
    if status == 401:
        return ProviderError(
            said("provider.auth", provider=provider_name), code="auth"
        )
    if status == 403:  # also unverified organisations and regions: keep the reason
        return ProviderError(
            said("provider.auth_said", provider=provider_name, said=detail) if detail
            else said("provider.auth", provider=provider_name), code="auth"
        )
    if status == 404 and model:
        return ProviderError(
            said("provider.model_unknown", model=model), code="model_unknown"
        )
    if status == 402 or (status == 429 and _is_quota(raw, code)):
        return ProviderError(
            said("provider.quota_said", provider=provider_name, said=detail) if detail
            else said("provider.quota", provider=provider_name),
            code="quota",
        )
    if status == 429:
        return ProviderError(
            said("provider.rate_limited", provider=provider_name),
            code="rate_limited", retryable=True, retry_after=hint,
        )
    if status >= 500 or status in (408, 409):
        return ProviderError(
            said("provider.server", provider=provider_name, status=status),
            code="server", retryable=True, retry_after=hint,
        )
    return ProviderError(
        said("provider.refused", provider=provider_name, detail=detail) if detail
        else said("provider.refused_status", provider=provider_name, status=status),
        code="invalid_request",
    )


def _same_origin(url: httpx.URL, base: httpx.URL) -> bool:
    return (url.scheme, url.host, url.port) == (base.scheme, base.host, base.port)


@contextmanager
def _open_stream(
    client: httpx.Client, url: str, headers: dict[str, str] | None, follow_redirects: bool, max_hops: int = 5
) -> Iterator[httpx.Response]:
    """GET `url`, following redirects by hand so credentials never leave the client's origin.

    httpx only strips `Authorization` on a cross-origin redirect; custom headers
    such as Azure's `api-key` would follow the file to a CDN.
    """
    with ExitStack() as stack:
        bare = None
        target = httpx.URL(url)
        for _ in range(max_hops + 1):
            own = not target.is_absolute_url or _same_origin(target, client.base_url)
            if own:
                session = client
            else:
                if bare is None:
                    bare = stack.enter_context(_guarded_client(
                        base_url="", timeout=client.timeout,
                        headers={"User-Agent": client.headers.get("user-agent", "")},
                    ))
                session = bare
            response = stack.enter_context(
                session.stream("GET", target, headers=headers if own else None)
            )
            if not (follow_redirects and response.is_redirect):
                yield response
                return
            target = response.url.join(response.headers["location"])
            response.close()
        raise ProviderError(said("provider.too_many_redirects"),
                            code="bad_download")


def stream_download(
    client: httpx.Client,
    url: str,
    dest: Path,
    *,
    expected_content_types: tuple[str, ...] = ("video/mp4",),
    max_bytes: int = 4 * 1024**3,
    headers: dict[str, str] | None = None,
    follow_redirects: bool = True,
    provider_name: str = "The provider",
) -> int:
    """Stream `url` into `dest` in constant memory; `dest` appears only when complete.

    Returns the number of bytes written. The caller validates the content (PyAV
    for videos); this only guarantees we got all of what the provider sent.
    """
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    try:
        with _open_stream(client, url, headers, follow_redirects) as response:
            _check_download(response, expected_content_types, max_bytes, provider_name)
            written = 0
            with part.open("wb") as out:
                # Chunks as they arrive: re-chunking to a fixed size copied every
                # byte again (2.4× slower in bench/download.py); memory stays bounded
                # by the transport's read size.
                for chunk in response.iter_bytes():
                    written += len(chunk)
                    if written > max_bytes:
                        raise _too_large(max_bytes)
                    out.write(chunk)
            announced = _content_length(response)
            if announced is not None and response.num_bytes_downloaded < announced:
                raise _truncated()
        os.replace(part, dest)
        return written
    except OutboundRefused as exc:  # a result URL or a redirect hop at an address the studio does not call
        raise ProviderError(
            said("provider.download_blocked", provider=provider_name, refusal=exc.message),
            code=exc.code,
        ) from exc
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:  # e.g. a redirect to file://
        raise _not_a_url(provider_name) from exc
    except NEVER_SENT as exc:
        raise ProviderError(
            said("provider.download_unreachable", provider=provider_name),
            code="network", retryable=True,
        ) from exc
    except httpx.TimeoutException as exc:
        raise ProviderError(
            said("provider.download_stopped", provider=provider_name),
            code="bad_download", retryable=True,
        ) from exc
    except httpx.TransportError as exc:  # h11 notices a short body before we do
        if "location header" in str(exc).lower():  # httpx's words for a redirect to no URL (0177.0.0.1)
            raise _not_a_url(provider_name) from exc
        raise _truncated() from exc
    finally:
        part.unlink(missing_ok=True)


def _check_download(response: httpx.Response, expected_content_types: tuple[str, ...], max_bytes: int,
                    provider_name: str) -> None:
    if response.status_code in (404, 410):
        raise ProviderError(EXPIRED, code="expired")
    if response.status_code != 200:
        response.read()
        raise error_from_response(response, provider_name)
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type and content_type not in (*expected_content_types, *BINARY_TYPES):
        raise ProviderError(
            said("provider.wrong_file_type", provider=provider_name, got=content_type,
                 expected=" or ".join(expected_content_types)),
            code="bad_download",
        )
    announced = _content_length(response)
    if announced is not None and announced > max_bytes:
        raise _too_large(max_bytes)


def _content_length(response: httpx.Response) -> int | None:
    try:
        return int(response.headers["content-length"])
    except (KeyError, ValueError):
        return None


def _not_a_url(provider_name: str) -> ProviderError:
    return ProviderError(
        said("provider.download_not_http", provider=provider_name),
        code="bad_download",
    )


def _truncated() -> ProviderError:
    return ProviderError(
        said("provider.download_cut"),
        code="bad_download", retryable=True,
    )


def _too_large(max_bytes: int) -> ProviderError:
    return ProviderError(
        said("provider.too_large", megabytes=max_bytes // 1024**2),
        code="bad_download",
    )


class HttpAdapter:
    """What every remote adapter does the same way: one client, auth per request, retries.

    Credentials go on each request, not on the client, so stream_download sends
    them only to the provider's own origin, never to a host a result redirects to.
    """

    name: str

    def _connect(self, *, base_url: str, auth: dict[str, str], client: httpx.Client | None, sleep: Callable[[float], None]) -> None:
        self._auth = auth
        self._sleep = sleep
        self._client = client or make_client(base_url=base_url, headers={"User-Agent": "storyboard-studio"})
        if not str(self._client.base_url):
            self._client.base_url = base_url

    def _send(self, method: str, path: str, *, idempotent: bool, headers: dict[str, str] | None = None,
              **kwargs: Any) -> httpx.Response:
        return send_with_retries(
            self._client, method, path, idempotent=idempotent, provider_name=self.name,
            sleep=self._sleep, headers={**self._auth, **(headers or {})}, **kwargs,
        )
