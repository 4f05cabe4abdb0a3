"""The two download speed-ups generation/providers/http.py applies to httpcore and h11 at import.

Both reach into private internals and step aside quietly when a release moves them, so a version
bump could drop them with no test failing and downloads ~2x slower. These tests pin that they still
take effect on the versions requirements/*.txt pin, at a real download from a loopback server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpcore._backends.sync
import httpx
import pytest
from h11._receivebuffer import ReceiveBuffer
from httpcore._sync.http11 import HTTP11Connection

from generation.providers import http as studio_http
from generation.providers.http import make_client, stream_download
from tests.fakes.provider_server import ProviderServer

MIB = 1024 * 1024
BODY = bytes(range(256)) * (16 * 1024) + b"tail"  # 4 MiB and a bit: many reads either way


@pytest.fixture
def client(provider_server: ProviderServer) -> Iterator[httpx.Client]:
    with make_client(base_url=provider_server.url, headers={}, read=5.0) as client:
        yield client


@pytest.fixture
def socket_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many bytes each read from a connection's socket asked for."""
    asked: list[int] = []
    read = httpcore._backends.sync.SyncStream.read

    def recording(self: httpcore._backends.sync.SyncStream, max_bytes: int, timeout: float | None = None) -> bytes:
        asked.append(max_bytes)
        return read(self, max_bytes, timeout)

    monkeypatch.setattr(httpcore._backends.sync.SyncStream, "read", recording)
    return asked


@pytest.fixture
def copied_by_h11(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The bytes h11 handed over by slicing (copying) its receive buffer."""
    copied: list[int] = []
    extract = ReceiveBuffer._extract

    def recording(self: ReceiveBuffer, count: int) -> bytearray:
        out = extract(self, count)
        copied.append(len(out))
        return out

    monkeypatch.setattr(ReceiveBuffer, "_extract", recording)
    return copied


def test_it_reads_a_download_from_the_socket_a_mebibyte_at_a_time(provider_server: ProviderServer,
                                                                 client: httpx.Client, tmp_path: Path,
                                                                 socket_reads: list[int]) -> None:
    provider_server.script = [(200, {"Content-Type": "video/mp4"}, BODY)]

    written = stream_download(client, "/plumbing", tmp_path / "clip.mp4")

    assert written == len(BODY) and (tmp_path / "clip.mp4").read_bytes() == BODY
    assert HTTP11Connection.READ_NUM_BYTES == MIB
    assert socket_reads and set(socket_reads) == {MIB}  # httpcore's own size is 64 KiB


def test_h11_hands_the_body_over_without_copying_it(provider_server: ProviderServer, client: httpx.Client,
                                                    tmp_path: Path, copied_by_h11: list[int]) -> None:
    provider_server.script = [(200, {"Content-Type": "video/mp4"}, BODY)]

    written = stream_download(client, "/plumbing", tmp_path / "clip.mp4")

    assert written == len(BODY) and (tmp_path / "clip.mp4").read_bytes() == BODY
    # Only the status line and headers are sliced out; without the studio's fast path every
    # piece of the body would be copied too (4 MiB).
    assert sum(copied_by_h11) < 2048
    assert getattr(ReceiveBuffer.maybe_extract_at_most, "_studio_fast_path", False)


def test_the_fast_path_gives_the_same_bytes_as_h11_when_the_buffer_holds_more(copied_by_h11: list[int]) -> None:
    # A chunked body or a pipelined answer leaves more buffered than one piece: h11's own slicing.
    buffer = ReceiveBuffer()
    buffer += b"0123456789"

    assert buffer.maybe_extract_at_most(4) == bytearray(b"0123")
    assert buffer.maybe_extract_at_most(100) == bytearray(b"456789")
    assert buffer.maybe_extract_at_most(100) is None
    assert copied_by_h11 == [4]


def test_applying_the_patches_twice_changes_nothing() -> None:
    # Django's autoreloader and the test runner may import the module again: no wrapper on a wrapper.
    fast_path = ReceiveBuffer.maybe_extract_at_most

    studio_http._read_bigger_chunks()
    studio_http._extract_without_copying()

    assert ReceiveBuffer.maybe_extract_at_most is fast_path
    assert HTTP11Connection.READ_NUM_BYTES == MIB
