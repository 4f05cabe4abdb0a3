"""A pasted service account key, read and checked in plain words; and the answers that carry whole
videos as base64, read as they arrive (generation/providers/json_stream.py)."""

from __future__ import annotations

import base64
import io
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from generation.providers.google_auth import KeyProblem, service_account_from_json
from generation.providers.json_stream import InlineFiles, Unreadable


def problem_with(text: str) -> str:
    with pytest.raises(KeyProblem) as refused:
        service_account_from_json(text)
    return refused.value.message


def test_a_key_file_as_google_hands_it_out_is_read(vertex_server):
    account = service_account_from_json(vertex_server.key_json())

    assert account.client_email == vertex_server.client_email
    assert (account.project_id, account.token_uri) == (vertex_server.project, vertex_server.token_uri)
    assert "PRIVATE KEY" not in repr(account)


@pytest.mark.parametrize("text, words", [
    ("", "Paste the service account's JSON key"),
    ("AIzaSyA-0123456789abcdefghijklmnopqrstu", "That is an API key (AIza…)"),
    ('{"type": "service_account", "client_email": ', "That is not JSON: paste the whole key file"),
    ('["service_account"]', "is not a key file"),
    ('{"type": "authorized_user", "client_id": "x", "refresh_token": "y"}', "a person's sign-in"),
    ('{"type": "external_account", "audience": "x"}', "workload identity federation"),
    ('{"client_email": "a@b.iam.gserviceaccount.com"}', "has no \"type\""),
])
def test_what_is_not_a_service_account_key_is_refused_saying_what_it_is(text, words):
    message = problem_with(text)

    assert words in message
    assert "Keys › Add key › Create new key › JSON" in message  # and where to get the right one


def test_a_key_missing_fields_names_them(vertex_server):
    info = vertex_server.service_account(private_key=None, token_uri=None)

    assert "The key lacks private_key, token_uri" in problem_with(json.dumps(info))


def test_a_private_key_that_is_not_pem_is_refused_without_quoting_it(vertex_server):
    info = vertex_server.service_account(private_key="-----BEGIN PRIVATE KEY-----\nnot-a-key-4242\n-----END")

    message = problem_with(json.dumps(info))

    assert "is not a PEM private key" in message and "not-a-key-4242" not in message


def test_a_key_that_is_not_rsa_is_refused(vertex_server):
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()

    assert "is not an RSA key" in problem_with(json.dumps(vertex_server.service_account(private_key=pem)))


# ---- inline files in a JSON answer --------------------------------------------------------

VIDEO = bytes(range(256)) * 40 + b"tail"  # every byte value, and a length that needs padding


def answer(*, escape: bool = False) -> bytes:
    encoded = base64.b64encode(VIDEO).decode()
    text = json.dumps({"name": "projects/p/operations/1", "done": True, "response": {
        "videos": [{"bytesBase64Encoded": encoded, "mimeType": "video/mp4"}]}}, indent=2)
    return (text.replace("/", "\\/") if escape else text).encode()


@pytest.mark.parametrize("chunk", [1, 3, 7, 4096])
@pytest.mark.parametrize("escape", [False, True])
def test_an_inline_video_is_decoded_into_its_file_whatever_the_chunks(chunk, escape):
    out = io.BytesIO()
    files = InlineFiles(open_file=lambda index: out)
    body = answer(escape=escape)

    for start in range(0, len(body), chunk):
        files.feed(body[start:start + chunk])

    assert out.getvalue() == VIDEO and files.sizes == [len(VIDEO)]
    assert files.finish()["response"]["videos"] == [{"bytesBase64Encoded": "", "mimeType": "video/mp4"}]


def test_an_answer_read_only_to_poll_keeps_the_size_and_not_the_bytes():
    files = InlineFiles()

    files.feed(answer())

    assert files.sizes == [len(VIDEO)] and len(json.dumps(files.finish())) < 300


def test_a_string_with_another_escape_is_refused_rather_than_decoded_into_a_corrupt_file():
    files = InlineFiles(open_file=lambda index: io.BytesIO())

    with pytest.raises(Unreadable):
        files.feed(b'{"videos": [{"bytesBase64Encoded": "QUJD\\u002FRA=="}]}')


def test_an_answer_cut_inside_a_video_is_unreadable():
    files = InlineFiles()
    files.feed(answer()[:500])

    with pytest.raises(Unreadable):
        files.finish()
