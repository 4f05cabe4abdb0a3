"""An S3-compatible server on loopback for the storage tests: moto's standalone server.

CI (or a developer) may point S3_TEST_ENDPOINT_URL at a server it runs (MinIO, moto); else
the session starts `moto_server` from the virtualenv on a free port and stops it at the end.
Either way the tests run: a missing server is a failure, never a skip.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3
import pytest

REGION = "us-east-1"
# moto accepts any key; a real server given by S3_TEST_ENDPOINT_URL takes these from the env.
ACCESS_KEY = os.environ.get("S3_TEST_ACCESS_KEY_ID", "studio-test")
SECRET_KEY = os.environ.get("S3_TEST_SECRET_ACCESS_KEY", "studio-test-secret")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"moto_server exited with status {process.returncode} before answering")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"moto_server did not answer on 127.0.0.1:{port} within {timeout:.0f} s")


@pytest.fixture(scope="session")
def s3_endpoint():
    """The endpoint URL of an S3-compatible server for this test session."""
    given = os.environ.get("S3_TEST_ENDPOINT_URL")
    if given:
        yield given.rstrip("/")
        return
    server = Path(sys.executable).parent / "moto_server"
    if not server.exists():
        pytest.fail(f"{server} is missing: install moto[server] (requirements/test.txt) "
                    "or set S3_TEST_ENDPOINT_URL")
    port = _free_port()
    process = subprocess.Popen([str(server), "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def s3_bucket_name(s3_endpoint):
    """A bucket of its own per session (and per xdist worker), so runs never share objects."""
    name = f"studio-test-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION,
                          aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
    client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def bucket(s3_endpoint, s3_bucket_name):
    """The test bucket, to look at what the studio stored."""
    return boto3.resource("s3", endpoint_url=s3_endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY,
                          aws_secret_access_key=SECRET_KEY).Bucket(s3_bucket_name)


@pytest.fixture
def s3_media(settings, monkeypatch, s3_endpoint, s3_bucket_name):
    """Media go to the test bucket, configured the way a deployment does it: STORAGE_URL plus
    credentials in the environment."""
    from studio_site.settings import media_storage

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    storage = media_storage({"STORAGE_URL": f"s3://{s3_bucket_name}?endpoint_url={s3_endpoint}"
                                            f"&region={REGION}&addressing_style=path"})
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    settings.STORAGES = {**settings.STORAGES, "default": storage}
    return storage
