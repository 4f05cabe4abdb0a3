"""Outbound requests with the production default: the studio calls nothing on this machine or its network.

Every other test allows loopback (tests/conftest.py), where the strict fakes listen. Here the allow-list
is what a fresh install has: nothing. A real listener on this machine plays an internal service (it
answers with a secret, as a metadata service or an admin API would) and counts every request that
reaches it: a connection test, a create, a poll, a provider's redirect and a provider's output URL must
all leave it at 0, and the take or the page says why in words that name the operator's setting.

Where a test needs a provider that *is* reachable, the provider is given a name of its own
(`gateway.test`, resolved here to the fakes' loopback address) and the operator allows that name, as
they would `comfy.lan`; its results on "localhost" (the fakes' CDN origin) stay refused.
"""

from __future__ import annotations

import ipaddress
import json
import runpy
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from generation.models import ProviderConnection, Render, Status
from generation.providers import connections, outbound
from generation.providers.base import ProviderError, RenderRequest
from generation.providers.fal import FalProvider, verify_fal_webhook
from generation.providers.http import make_client, stream_download
from generation.providers.replicate import ReplicateProvider
from generation.providers.runway import RunwayProvider
from generation.providers.veo import VeoProvider
from generation.providers.webhooks import WebhookError
from generation.renders import services
from generation.renders.pipeline import render_poll
from tests.conftest import LOOPBACK
from tests.providers.helpers import poll_until_done

SETTING = "OUTBOUND_ALLOWED_PRIVATE_ADDRESSES"
SECRET = "root-password=hunter2"
REFUSED = "the studio only calls public addresses unless the operator lists it in " + SETTING


class Internal:
    """A real HTTP listener on this machine, as an internal service is: it counts what reaches it and
    answers with a secret (or, as a provider's trick, with a redirect to `redirect_to`)."""

    def __init__(self, host: str = "127.0.0.1", family=socket.AF_INET):
        server_class = type("Server", (ThreadingHTTPServer,), {"address_family": family})
        self.httpd = server_class((host, 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.service = self
        self.hits: list[str] = []
        self.redirect_to: str | None = None
        threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True).start()

    port = property(lambda self: self.httpd.server_address[1])

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        service = self.server.service
        service.hits.append(f"{self.command} {self.path}")
        self.rfile.read(int(self.headers.get("content-length") or 0))
        if service.redirect_to:
            self.send_response(302)
            self.send_header("Location", service.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = json.dumps({"error": {"message": f"internal admin API: {SECRET}"}}).encode()
        self.send_response(403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_PUT = do_DELETE = do_GET


@pytest.fixture(autouse=True)
def production_default(settings):
    settings.OUTBOUND_ALLOWED_PRIVATE_ADDRESSES = []  # what a fresh install has (test below)


@pytest.fixture
def internal():
    service = Internal()
    yield service
    service.close()


@pytest.fixture
def internal_v6():
    service = Internal("::1", socket.AF_INET6)
    yield service
    service.close()


class Names(dict):
    """Host names this test's resolver answers (others go to the real one); `asked`: every lookup."""

    def __init__(self):
        super().__init__()
        self.asked: list[str] = []


@pytest.fixture
def names(monkeypatch):
    known, real = Names(), outbound.resolve

    def resolve(host, port):
        known.asked.append(host)
        return list(known[host]) if host in known else real(host, port)

    monkeypatch.setattr(outbound, "resolve", resolve)
    return known


@pytest.fixture
def gateway_name(names, settings):
    """The fakes under a name the operator allowed: reachable, while "localhost" stays refused."""
    names["gateway.test"] = ["127.0.0.1"]
    settings.OUTBOUND_ALLOWED_PRIVATE_ADDRESSES = ["gateway.test"]
    return "gateway.test"


def named(url: str, name: str) -> str:
    return url.replace("127.0.0.1", name)


def add(client, team, base_url, **overrides):
    data = {"kind": "openai-videos", "label": "Internal", "base_url": base_url, "auth_style": "bearer",
            "api_key": "sk-1234567", "webhook_secret": "", **overrides}
    return client.post(reverse("generation:connection_list", args=[team.pk]), data)


# --- the operator's setting ----------------------------------------------------------------------

@pytest.fixture
def fresh_settings(monkeypatch):
    """settings.py as a process started with this environment reads it."""
    monkeypatch.setenv("SECRET_KEY", "not-written-to-data")
    return lambda: runpy.run_path(str(django_settings.BASE_DIR / "studio_site" / "settings.py"))


def test_a_fresh_install_allows_no_private_address_and_lets_anyone_create_a_team(monkeypatch, fresh_settings):
    monkeypatch.delenv(SETTING, raising=False)
    monkeypatch.delenv("TEAM_CREATION", raising=False)
    fresh = fresh_settings()
    assert fresh[SETTING] == [] and fresh["TEAM_CREATION"] == "anyone"


def test_the_operator_lists_addresses_ranges_and_names_and_a_malformed_one_stops_the_start(
        monkeypatch, fresh_settings):
    monkeypatch.setenv(SETTING, "192.168.1.20, 10.0.0.0/8,comfy.lan,fd00::/8")
    assert fresh_settings()[SETTING] == ["192.168.1.20", "10.0.0.0/8", "comfy.lan", "fd00::/8"]
    for bad in ("10.0.0.0/33", "0177.0.0.1", "comfy lan"):
        monkeypatch.setenv(SETTING, bad)
        with pytest.raises(ImproperlyConfigured, match=SETTING):
            fresh_settings()


# --- the connection form -------------------------------------------------------------------------

def test_it_refuses_a_base_url_on_this_machine_naming_the_setting(client_for, owner, team, internal):
    html = add(client_for(owner), team, f"http://127.0.0.1:{internal.port}/v1", label="Keep me").content.decode()
    assert f"127.0.0.1 is a loopback address; {REFUSED}." in html
    assert "needs the gateway" not in html  # refused for what it is, not also called missing
    assert 'value="Keep me"' in html and not ProviderConnection.objects.filter(label="Keep me").exists()
    assert internal.hits == []


@pytest.mark.parametrize("base_url, words", [
    ("http://169.254.169.254/latest/meta-data", "169.254.169.254 is a link-local address"),
    ("http://10.0.0.5:4000/v1", "10.0.0.5 is a private address"),
    ("http://172.16.9.1/v1", "172.16.9.1 is a private address"),
    ("http://192.168.1.20:8188", "192.168.1.20 is a private address"),
    ("http://100.64.0.1/v1", "100.64.0.1 is a shared (carrier-grade NAT) address"),
    ("http://0.0.0.0:8000/v1", "0.0.0.0 is an unspecified address"),
    ("http://[::1]:8000/v1", "::1 is a loopback address"),
    ("http://[::ffff:127.0.0.1]:8000/v1", "::ffff:127.0.0.1 is a loopback address"),
    ("http://[fd12:3456::1]/v1", "fd12:3456::1 is a private address"),
    ("http://[fe80::1]/v1", "fe80::1 is a link-local address"),
    ("http://localhost:8000/v1", "localhost resolves to 127.0.0.1, a loopback address"),
])
def test_it_refuses_every_kind_of_private_base_url(client_for, owner, team, base_url, words):
    html = add(client_for(owner), team, base_url).content.decode()
    assert f"{words}; {REFUSED}." in html
    assert not ProviderConnection.objects.filter(label="Internal").exists()


def test_it_refuses_a_host_name_that_resolves_to_a_refused_address(client_for, owner, team, names):
    names["metadata.example.com"] = ["169.254.169.254"]
    html = add(client_for(owner), team, "http://metadata.example.com/v1").content.decode()
    assert f"metadata.example.com resolves to 169.254.169.254, a link-local address; {REFUSED}." in html


def test_it_says_when_a_host_name_does_not_resolve(client_for, owner, team):
    html = add(client_for(owner), team, "https://no-such-gateway.invalid/v1").content.decode()
    assert "The studio could not find no-such-gateway.invalid: no address answers to that name." in html
    assert not ProviderConnection.objects.filter(label="Internal").exists()


def test_it_says_when_a_port_cannot_exist(client_for, owner, team):
    html = add(client_for(owner), team, "https://api.openai.com:99999/v1").content.decode()
    assert "https://api.openai.com:99999/v1 has a port no server can listen on (ports go from 1 to 65535)." in html


def test_editing_a_connection_to_a_private_address_is_refused_too(client_for, owner, team, names):
    names["gw.example.com"] = ["203.0.113.9", "198.51.100.2"]  # documentation ranges: reserved
    connection = connections.connection_create(team=team, user=owner, kind="openai-videos", label="GW",
                                               base_url="https://api.openai.com/v1", api_key="sk-1")
    html = client_for(owner).post(reverse("generation:connection_edit", args=[team.pk, connection.pk]), {
        "label": "GW", "base_url": "http://gw.example.com/v1", "auth_style": "bearer"}).content.decode()
    assert f"gw.example.com resolves to 203.0.113.9, a reserved address; {REFUSED}." in html
    connection.refresh_from_db()
    assert connection.base_url == "https://api.openai.com/v1"


def test_an_address_the_operator_allows_is_accepted_and_nothing_more(client_for, owner, team, settings, names):
    client = client_for(owner)
    comfy = {"kind": "comfyui", "api_key": ""}
    settings.OUTBOUND_ALLOWED_PRIVATE_ADDRESSES = ["192.168.1.20"]
    assert add(client, team, "http://192.168.1.20:8188", label="GPU", **comfy).status_code == 302
    assert "192.168.1.21 is a private address" in add(client, team, "http://192.168.1.21:8188",
                                                      label="GPU 2", **comfy).content.decode()
    settings.OUTBOUND_ALLOWED_PRIVATE_ADDRESSES = ["10.0.0.0/8", "comfy.lan"]
    names["comfy.lan"] = ["192.168.7.7"]
    assert add(client, team, "http://10.20.30.40:8188", label="Rack", **comfy).status_code == 302
    assert add(client, team, "http://comfy.lan:8188", label="By name", **comfy).status_code == 302
    assert "127.0.0.1 is a loopback address" in add(client, team, "http://127.0.0.1:8188", label="Self",
                                                    **comfy).content.decode()
    assert set(ProviderConnection.objects.filter(kind="comfyui").values_list("label", flat=True)) == {
        "GPU", "Rack", "By name"}


# --- the connection test, a create, a poll ---------------------------------------------------------

@pytest.fixture
def on_this_machine(team, owner, internal):
    """A connection saved before this check existed (or by the admin): its base URL is the internal service."""
    connection = connections.connection_create(team=team, user=owner, kind="openai-videos", label="Internal",
                                               base_url=f"http://127.0.0.1:{internal.port}/v1", api_key="sk-1234567")
    connections.catalog_register_model(connection=connection, model_id="wan-2.7", display_name="Wan 2.7",
                                       sizes=["1280x720"], durations=[4], price_per_second=0.5)
    return connection


def test_testing_a_connection_to_a_service_on_this_machine_never_reaches_it(
        client_for, owner, team, internal, on_this_machine, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).post(reverse("generation:connection_test", args=[team.pk, on_this_machine.pk]),
                                          HTTP_HX_REQUEST="true")
    on_this_machine.refresh_from_db()
    page = client_for(owner).get(reverse("generation:connection_status", args=[team.pk, on_this_machine.pk]))
    assert response.status_code == 200
    assert internal.hits == []
    assert on_this_machine.last_test_ok is False
    assert f"Internal was not called: 127.0.0.1 is a loopback address; {REFUSED}." in page.content.decode()
    assert SECRET not in page.content.decode()


def test_a_take_on_a_gateway_on_this_machine_fails_unsent_saying_why(
        make_scene, editor, internal, on_this_machine, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        take, _ = services.render_create(scene=make_scene(duration=4), user=editor, connection=on_this_machine,
                                         model_id="wan-2.7", idempotency_key=uuid.uuid4())
    take.refresh_from_db()
    assert internal.hits == []
    assert take.status == Status.FAILED and not take.billing_unconfirmed  # nothing was sent: nothing billed
    assert take.error_message == f"Internal was not called: 127.0.0.1 is a loopback address; {REFUSED}."


def test_a_running_take_whose_gateway_is_on_this_machine_is_never_polled_there(scene, internal, on_this_machine):
    take = Render.objects.create(scene=scene, connection=on_this_machine, provider="openai-videos", model="wan-2.7",
                                 recipe={}, status=Status.RUNNING, provider_job_id="video_123")
    render_poll(take.pk)
    take.refresh_from_db()
    assert internal.hits == []
    assert take.status == Status.FAILED and "127.0.0.1 is a loopback address" in take.error_message


def test_an_allowed_range_lets_the_connection_test_through(team, owner, provider_server, settings,
                                                           django_capture_on_commit_callbacks):
    settings.OUTBOUND_ALLOWED_PRIVATE_ADDRESSES = ["127.0.0.0/8"]
    connection = connections.connection_create(team=team, user=owner, kind="openai-videos", label="Gateway",
                                               base_url=provider_server.openai_base, api_key=provider_server.api_key)
    with django_capture_on_commit_callbacks(execute=True):
        connections.connection_request_test(connection=connection)
    connection.refresh_from_db()
    assert connection.last_test_ok is True, connection.last_test_message
    assert provider_server.seen("GET", "/openai/v1/videos")


def test_a_comfyui_box_on_the_lan_is_reached_once_the_operator_names_it(
        team, owner, comfy_server, settings, names, django_capture_on_commit_callbacks):
    names["comfy.lan"] = ["127.0.0.1"]  # where the fake listens: a box on the LAN in real life
    connection = connections.connection_create(team=team, user=owner, kind="comfyui", label="GPU",
                                               base_url=named(comfy_server.url, "comfy.lan"))
    for allowed, ok in (([], False), (["comfy.lan"], True)):
        settings.OUTBOUND_ALLOWED_PRIVATE_ADDRESSES = allowed
        with django_capture_on_commit_callbacks(execute=True):
            connections.connection_request_test(connection=connection)
        connection.refresh_from_db()
        assert connection.last_test_ok is ok, connection.last_test_message
    assert len(comfy_server.requests) == 1  # only the allowed test reached it


# --- downloads: redirect hops and output URLs -----------------------------------------------------

def test_a_take_whose_download_redirects_to_this_machine_fails_saying_so(
        team, owner, editor, make_scene, provider_server, gateway_name, django_capture_on_commit_callbacks):
    provider_server.scenario = "redirect"  # the content answers 302 to http://localhost:<port>/files/…
    connection = connections.connection_create(team=team, user=owner, kind="openai-videos", label="Gateway",
                                               base_url=named(provider_server.openai_base, gateway_name),
                                               api_key=provider_server.api_key)
    connections.catalog_register_model(connection=connection, model_id="veo-3.1", display_name="Veo",
                                       sizes=["1280x720"], durations=[4], price_per_second=0.4)
    with django_capture_on_commit_callbacks(execute=True):
        take, _ = services.render_create(scene=make_scene(duration=4), user=editor, connection=connection,
                                         model_id="veo-3.1", idempotency_key=uuid.uuid4())
    take.refresh_from_db()
    assert provider_server.seen("GET", r"/openai/v1/videos/.*/content")  # the gateway itself was reached
    assert provider_server.seen("GET", r"/files/.*") == []  # its redirect to this machine was not followed
    assert take.status == Status.FAILED
    assert take.error_message == (
        "Gateway pointed the download at an address the studio does not call: localhost resolves to "
        f"127.0.0.1, a loopback address; {REFUSED}.")


def test_a_replicate_output_url_on_this_machine_fails_the_take_saying_so(
        team, owner, editor, make_scene, provider_server, gateway_name, django_capture_on_commit_callbacks):
    connection = connections.connection_create(team=team, user=owner, kind="replicate", label="Replicate",
                                               base_url=named(provider_server.replicate_base, gateway_name),
                                               api_key=provider_server.api_key, webhook_secret="whsec_c2VjcmV0")
    with django_capture_on_commit_callbacks(execute=True):
        take, _ = services.render_create(scene=make_scene(duration=4), user=editor, connection=connection,
                                         model_id="google/veo-3.1", idempotency_key=uuid.uuid4())
    take.refresh_from_db()
    assert provider_server.accepted["success"] == 1
    assert provider_server.seen("GET", r"/files/.*") == []
    assert take.status == Status.FAILED
    assert f"Replicate pointed the download at an address the studio does not call: localhost resolves to " \
           f"127.0.0.1, a loopback address; {REFUSED}." == take.error_message


def _finished(provider, request: RenderRequest) -> str:
    job_id = provider.submit(request)
    assert poll_until_done(provider, job_id)[-1].status == "succeeded"
    return job_id


def test_runway_and_veo_output_urls_on_this_machine_are_refused(
        runway_server, veo_server, gateway_name, tmp_path):
    runway = RunwayProvider(base_url=named(runway_server.url, gateway_name), api_key=runway_server.api_key,
                            sleep=lambda s: None)
    job_id = _finished(runway, RenderRequest(prompt="Dawn.", model="gen4.5", seconds=5, size="1280x720"))
    with pytest.raises(ProviderError, match=f"localhost resolves to 127.0.0.1, a loopback address; {REFUSED}"):
        runway.download(job_id, "video", tmp_path / "runway.mp4")
    assert runway_server.seen("GET", r"/cdn/.*") == []

    # Google's video URI names the API's own address, and that address is not the allowed name.
    veo = VeoProvider(base_url=named(veo_server.url, gateway_name), api_key=veo_server.api_key, sleep=lambda s: None)
    job_id = _finished(veo, RenderRequest(prompt="Dawn.", model="veo-3.1-generate-preview", seconds=8,
                                          size="1280x720"))
    with pytest.raises(ProviderError, match=f"127.0.0.1 is a loopback address; {REFUSED}"):
        veo.download(job_id, "video", tmp_path / "veo.mp4")
    assert veo_server.seen("GET", r".*:download") == [] and veo_server.storage_requests == []
    assert not (tmp_path / "runway.mp4").exists() and not (tmp_path / "veo.mp4").exists()


def test_a_fal_result_url_on_this_machine_is_refused(fal_server, settings, gateway_name, tmp_path):
    settings.OUTBOUND_ALLOWED_PRIVATE_ADDRESSES = LOOPBACK  # fal answers with addresses on its own origin
    job_id = FalProvider(base_url=fal_server.url, api_key=fal_server.api_key, sleep=lambda s: None).submit(
        RenderRequest(prompt="Dawn.", model="fal-ai/veo3.1", seconds=8, size="1280x720"))
    settings.OUTBOUND_ALLOWED_PRIVATE_ADDRESSES = [gateway_name]  # …which the job id keeps as paths only
    fal = FalProvider(base_url=named(fal_server.url, gateway_name), api_key=fal_server.api_key, sleep=lambda s: None)
    assert poll_until_done(fal, job_id)[-1].status == "succeeded"
    with pytest.raises(ProviderError, match=f"localhost resolves to 127.0.0.1, a loopback address; {REFUSED}"):
        fal.download(job_id, "video", tmp_path / "fal.mp4")
    assert fal_server.seen("GET", r"/cdn/.*") == []


@pytest.mark.parametrize("target", [
    "http://127.0.0.1:{port}/admin",
    "http://localhost:{port}/admin",
    "http://2130706433:{port}/admin",  # 127.0.0.1 as one decimal number
    "http://0x7f.1:{port}/admin",  # …and in hex, abbreviated
    "http://127.1:{port}/admin",
    "http://0.0.0.0:{port}/admin",  # reaches this machine on Linux
    "http://[::ffff:127.0.0.1]:{port}/admin",
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
])
def test_every_redirect_hop_is_checked(internal, gateway_name, tmp_path, target):
    provider = Internal()  # "a provider" at gateway.test whose download answers 302 to `target`
    try:
        provider.redirect_to = target.format(port=internal.port)
        with make_client(base_url="", headers={}) as client, pytest.raises(ProviderError) as refused:
            stream_download(client, f"http://{gateway_name}:{provider.port}/result.mp4", tmp_path / "out.mp4",
                            provider_name="Gateway")
    finally:
        provider.close()
    assert provider.hits == ["GET /result.mp4"] and internal.hits == []
    assert refused.value.code == "blocked_address" and REFUSED in refused.value.message
    assert not (tmp_path / "out.mp4").exists()


@pytest.mark.parametrize("target", ["file:///etc/passwd", "gopher://127.0.0.1:25/", "http://0177.0.0.1/"])
def test_a_redirect_to_something_other_than_an_http_url_fails_saying_so(gateway_name, tmp_path, target):
    provider = Internal()
    try:
        provider.redirect_to = target
        with make_client(base_url="", headers={}) as client, pytest.raises(ProviderError) as refused:
            stream_download(client, f"http://{gateway_name}:{provider.port}/result.mp4", tmp_path / "out.mp4",
                            provider_name="Gateway")
    finally:
        provider.close()
    assert refused.value.message == "Gateway pointed the download at an address that is not an http(s) URL."
    assert not refused.value.retryable


# --- the one door: every spelling, the address connected to, proxies -------------------------------

@pytest.mark.parametrize("url, kind", [
    ("http://127.0.0.1:{port}/", "loopback"),
    ("http://127.0.0.2:{port}/", "loopback"),
    ("http://localhost:{port}/", "loopback"),
    ("http://2130706433:{port}/", "loopback"),
    ("http://0x7f.1:{port}/", "loopback"),
    ("http://0.0.0.0:{port}/", "unspecified"),
    ("http://[::ffff:127.0.0.1]:{port}/", "loopback"),
    ("http://[::ffff:7f00:1]:{port}/", "loopback"),
    ("http://[::1]:{port6}/", "loopback"),
    ("http://internal.example.com:{port}/", "loopback"),  # a public-looking name that resolves here
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[fe80::1]/", "link-local"),
    ("http://10.1.2.3/", "private"),
    ("http://172.31.0.1/", "private"),
    ("http://192.168.0.1/", "private"),
    ("http://[fc00::1]/", "private"),
    ("http://100.64.0.1/", "shared"),
    ("http://224.0.0.1/", "multicast"),
    ("http://[ff02::1]/", "multicast"),
    ("http://255.255.255.255/", "broadcast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://192.0.2.10/", "reserved"),
    ("http://[64:ff9b::7f00:1]/", "loopback"),  # NAT64 of 127.0.0.1
    ("http://[2002:a9fe:a9fe::]/", "link-local"),  # 6to4 of 169.254.169.254
])
def test_no_spelling_of_a_refused_address_is_connected_to(internal, internal_v6, names, url, kind):
    names["internal.example.com"] = ["127.0.0.1"]
    with make_client(base_url="", headers={}, connect=1.0) as client, pytest.raises(outbound.OutboundRefused) as exc:
        client.get(url.format(port=internal.port, port6=internal_v6.port))
    assert exc.value.kind == kind
    assert internal.hits == [] and internal_v6.hits == []


def test_a_public_address_is_not_refused():
    for address in ("8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "2002:808:808::", "64:ff9b::808:808"):
        assert outbound.address_kind(ipaddress.ip_address(address)) is None


def test_the_studio_connects_to_the_very_address_it_checked(internal, settings, names):
    # No DNS server knows gateway.test: the request can only have gone to the address the check saw.
    names["gateway.test"] = ["127.0.0.1"]
    settings.OUTBOUND_ALLOWED_PRIVATE_ADDRESSES = ["127.0.0.1"]
    with make_client(base_url="", headers={}) as client:
        assert client.get(f"http://gateway.test:{internal.port}/ping").status_code == 403
        assert client.get(f"http://gateway.test:{internal.port}/again").status_code == 403  # same connection
    assert internal.hits == ["GET /ping", "GET /again"]
    assert names.asked == ["gateway.test"]  # resolved once, never again behind the check's back


def test_a_name_that_also_answers_a_private_address_is_refused(internal, names):
    names["mixed.example.com"] = ["93.184.215.14", "127.0.0.1"]
    with make_client(base_url="", headers={}) as client, pytest.raises(outbound.OutboundRefused) as exc:
        client.get(f"http://mixed.example.com:{internal.port}/")
    assert "mixed.example.com resolves to 127.0.0.1, a loopback address" in exc.value.message
    assert internal.hits == []


def test_an_allowed_address_does_not_open_its_neighbours(internal, internal_v6, settings):
    settings.OUTBOUND_ALLOWED_PRIVATE_ADDRESSES = ["127.0.0.1"]
    with make_client(base_url="", headers={}) as client:
        assert client.get(f"http://127.0.0.1:{internal.port}/").status_code == 403
        for url in (f"http://[::1]:{internal_v6.port}/", f"http://127.0.0.2:{internal.port}/"):
            with pytest.raises(outbound.OutboundRefused):
                client.get(url)
    assert internal.hits == ["GET /"] and internal_v6.hits == []


def test_a_proxy_from_the_environment_is_not_used(internal, provider_server, gateway_name, monkeypatch):
    # A proxy would connect on the studio's behalf, where the check cannot see: it is ignored.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{internal.port}")
    with make_client(base_url="", headers={}) as client:
        assert client.get(named(provider_server.openai_base, gateway_name) + "/videos").status_code == 401
    assert internal.hits == [] and provider_server.seen("GET", "/openai/v1/videos")


def test_fals_key_set_is_not_fetched_from_this_machine(internal):
    stamp = str(int(time.time()))
    headers = {"X-Fal-Webhook-Request-Id": "req-1", "X-Fal-Webhook-User-Id": "u", "X-Fal-Webhook-Timestamp": stamp,
               "X-Fal-Webhook-Signature": "00" * 64}
    with pytest.raises(WebhookError, match="127.0.0.1 is a loopback address"):
        verify_fal_webhook(headers=headers, body=b"{}", jwks_url=f"http://127.0.0.1:{internal.port}/jwks.json",
                           cache=caches["default"])
    assert internal.hits == []


def test_an_adapter_built_as_the_studio_builds_it_refuses_the_metadata_address():
    provider = ReplicateProvider(api_key="r8_1234567", base_url="http://169.254.169.254/v1", sleep=lambda s: None)
    started = time.monotonic()
    with pytest.raises(ProviderError, match="169.254.169.254 is a link-local address") as refused:
        provider.test_connection()
    assert not refused.value.retryable and time.monotonic() - started < 1  # refused, not timed out
