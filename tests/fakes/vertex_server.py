"""A strict local stand-in for Veo on Vertex AI, with Google's token service and Cloud Storage.

Three servers, three origins, as in production:
- the token endpoint (oauth2.googleapis.com/token): takes only the JWT bearer grant
  (`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<RS256 JWT>`), checks the JWT's
  signature against the service account's public key, its `kid`, `iss`, `aud`, `scope` and lifetime, and
  answers `{access_token, expires_in, token_type}`; OAuth2 errors `{error, error_description}` otherwise;
- Vertex AI (`{region}-aiplatform.googleapis.com/v1`): `…/publishers/google/models/{model}:predictLongRunning`,
  `…:fetchPredictOperation` (`{"operationName"}` only) and the endpoints list `Test connection` reads. 401
  without a bearer token it minted (or one expired), 403 for another project, 400 for any field
  google-genai's Vertex converter does not send (`_GenerateVideosParameters_to_vertex`), in Google's error
  shape `{"error": {code, message, status, details?}}`;
- Cloud Storage's JSON API (`storage.googleapis.com/storage/v1/b/{bucket}/o/{object}?alt=media`), where a
  prediction with `storageUri` leaves its video; bearer token required.

A finished operation answers as Vertex does: `response.videos[]` with `bytesBase64Encoded` (pretty-printed
JSON, as Google's servers send it) or `gcsUri`. Pick behaviour per test with `server.scenario`.
"""

from __future__ import annotations

import atexit
import base64
import binascii
import itertools
import json
import re
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.fakes.provider_server import _load_video
from tests.fakes.wire import Recorded, RecordingHandler

SCENARIOS = (
    "success",          # not done for `polls_to_finish` - 1 fetches, then one video
    "rai-filtered",     # done, no video, raiMediaFilteredCount / Reasons
    "failed",           # done with an operation error
    "throttled",        # first create: 429 RESOURCE_EXHAUSTED (per-minute quota), then accepted
    "throttled-always",  # every create: that 429
    "server-error",     # every create: 503
    "gone",             # the operation: 404
    "expired",          # the video's object was deleted from the bucket before the download
    "no-name",          # create accepted (billed) but the answer has no operation name
)
MODELS = {"veo-3.1-generate-001", "veo-3.1-fast-generate-001"}
REGIONS = {"us-central1"}
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# google-genai's Vertex converter: what it can put in a predictLongRunning body.
TOP_FIELDS = {"instances", "parameters", "labels"}
INSTANCE_FIELDS = {"prompt", "image", "lastFrame", "video", "referenceImages", "mask"}
PARAMETER_FIELDS = {"sampleCount", "storageUri", "fps", "durationSeconds", "seed", "aspectRatio", "resolution",
                    "personGeneration", "pubsubTopic", "negativePrompt", "enhancePrompt", "generateAudio",
                    "compressionQuality", "resizeMode"}
IMAGE_TYPES = {"image/png", "image/jpeg", "image/webp"}
RAI_REASON = ("Veo could not generate videos because the input image violates Vertex AI's usage guidelines. "
              "If you think this was an error, send feedback. Support codes: 15236754")
RESPONSE_TYPE = "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse"


@dataclass
class Operation:
    name: str
    model: str
    scenario: str
    body: dict
    polls: int = 0
    object_name: str = ""  # in the bucket, when storageUri was given


class GoogleError(Exception):
    def __init__(self, code: int, status: str, message: str, details: list | None = None):
        super().__init__(message)
        self.code, self.status, self.message, self.details = code, status, message, details


def invalid(message: str) -> GoogleError:
    return GoogleError(400, "INVALID_ARGUMENT", message)


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_KEY = None


def _private_key() -> rsa.RSAPrivateKey:
    global _KEY
    if _KEY is None:  # one RSA key per test process: generating one takes a moment
        _KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return _KEY


def pem_of(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def form_key_json() -> str:
    """A well-formed service account key for forms that never call Google (the hostile-input sweep)."""
    return json.dumps({"type": "service_account", "project_id": "harbour-films-1", "private_key_id": "k1",
                       "private_key": pem_of(_private_key()),
                       "client_email": "studio-renders@harbour-films-1.iam.gserviceaccount.com",
                       "token_uri": "https://oauth2.googleapis.com/token"})


class VertexServer:
    def __init__(self):
        self.video = _load_video()
        self.lock = threading.Lock()
        self.ids = itertools.count(1)
        self.api = _serve(self, _ApiHandler)
        self.auth = _serve(self, _TokenHandler)
        self.storage = _serve(self, _StorageHandler)
        self.reset()

    def reset(self) -> None:
        self.scenario = "success"
        self.project = "harbour-films-1"
        self.client_email = "studio-renders@harbour-films-1.iam.gserviceaccount.com"
        # A new key id per test: a token minted for another test's key is not this one's (the studio caches
        # tokens per key, process-wide).
        self.private_key_id = uuid.uuid4().hex
        self.polls_to_finish = 3
        self.token_seconds = 3599
        self.clock = time.time
        self.escape_slashes = False  # write base64's "/" as "\/", as some JSON encoders do
        self.readable_buckets = {"harbour-renders"}
        self.requests: list[Recorded] = []
        self.token_requests: list[Recorded] = []
        self.storage_requests: list[Recorded] = []
        self.tokens: dict[str, float] = {}  # minted token -> when it expires (the fake's clock)
        self.operations: dict[str, Operation] = {}
        self.objects: dict[tuple[str, str], bytes] = {}
        self.accepted = Counter[str]()
        self.throttled = False

    @property
    def scenario(self) -> str:
        return self._scenario

    @scenario.setter
    def scenario(self, name: str) -> None:
        if name not in SCENARIOS:  # a typo must not quietly test the happy path
            raise ValueError(f"Unknown scenario {name!r}; pick one of {SCENARIOS}.")
        self._scenario = name

    url = property(lambda self: f"http://127.0.0.1:{self.api.server_address[1]}")
    # Other host names and ports: other origins, as Google's token service and storage are.
    token_uri = property(lambda self: f"http://localhost:{self.auth.server_address[1]}/token")
    storage_url = property(lambda self: f"http://localhost:{self.storage.server_address[1]}")

    def service_account(self, *, key: rsa.RSAPrivateKey | None = None, **changes) -> dict:
        """A service account key file as Google hands it out, for this server's token endpoint."""
        info = {
            "type": "service_account", "project_id": self.project, "private_key_id": self.private_key_id,
            "private_key": pem_of(key or _private_key()), "client_email": self.client_email,
            "client_id": "104242424242424242424", "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.token_uri, "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/studio-renders",
            "universe_domain": "googleapis.com",
        }
        info.update(changes)
        return {k: v for k, v in info.items() if v is not None}

    def key_json(self, **changes) -> str:
        return json.dumps(self.service_account(**changes), indent=2)

    def seen(self, method: str, pattern: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and re.fullmatch(pattern, r.path)]

    def close(self) -> None:
        for httpd in (self.api, self.auth, self.storage):
            httpd.shutdown()
            httpd.server_close()

    def resource(self, operation: Operation) -> dict:
        """The operation as fetchPredictOperation returns it at this fetch."""
        resource: dict[str, object] = {"name": operation.name}
        if operation.polls < self.polls_to_finish:
            return resource
        resource["done"] = True
        if operation.scenario == "failed":
            resource["error"] = {"code": 13, "message": "Video generation failed due to an internal error."}
            return resource
        if operation.scenario == "rai-filtered":
            resource["response"] = {"@type": RESPONSE_TYPE, "raiMediaFilteredCount": 1,
                                    "raiMediaFilteredReasons": [RAI_REASON]}
            return resource
        storage_uri = operation.body["parameters"].get("storageUri")
        if storage_uri:
            bucket, _, prefix = storage_uri.removeprefix("gs://").partition("/")
            if not operation.object_name:
                operation.object_name = f"{prefix}{next(self.ids)}0{operation.polls}/sample_0.mp4"
                if operation.scenario != "expired":
                    self.objects[(bucket, operation.object_name)] = self.video
            video = {"gcsUri": f"gs://{bucket}/{operation.object_name}", "mimeType": "video/mp4"}
        else:
            video = {"bytesBase64Encoded": base64.b64encode(self.video).decode(), "mimeType": "video/mp4"}
        resource["response"] = {"@type": RESPONSE_TYPE, "raiMediaFilteredCount": 0, "videos": [video]}
        return resource


def _serve(fake: VertexServer, handler) -> ThreadingHTTPServer:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    httpd.fake = fake  # type: ignore[attr-defined]  # the handlers read their fake off the server
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


class _GoogleHandler(RecordingHandler):
    def google_error(self, exc: GoogleError) -> None:
        error = {"code": exc.code, "message": exc.message, "status": exc.status}
        if exc.details:
            error["details"] = exc.details
        self.reply(exc.code, {"error": error}, content_type="application/json; charset=UTF-8")


class _TokenHandler(_GoogleHandler):
    def do_GET(self):
        fake: VertexServer = self.server.fake
        record = Recorded(method=self.command, path=self.path.split("?")[0],
                          headers={k.lower(): v for k, v in self.headers.items()},
                          body=self.rfile.read(int(self.headers.get("content-length") or 0)))
        with fake.lock:
            fake.token_requests.append(record)
        status, answer = mint(fake, record)
        self.reply(status, answer, content_type="application/json; charset=utf-8")

    do_POST = do_GET


def mint(fake: VertexServer, r: Recorded) -> tuple[int, dict]:
    def refused(error: str, description: str, status: int = 400):
        return status, {"error": error, "error_description": description}

    if r.method != "POST" or r.path != "/token":
        return refused("invalid_request", "Only POST /token.", 404)
    if not r.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return refused("invalid_request", "Bad Request")
    form = dict(parse_qsl(r.body.decode()))
    if set(form) != {"grant_type", "assertion"}:
        return refused("invalid_request", f"Unexpected parameters: {sorted(set(form) - {'grant_type', 'assertion'})}")
    if form["grant_type"] != GRANT_TYPE:
        return refused("unsupported_grant_type", "Invalid grant_type: " + form["grant_type"])
    try:
        header_b64, claims_b64, signature_b64 = form["assertion"].split(".")
        header, claims = json.loads(_b64url_decode(header_b64)), json.loads(_b64url_decode(claims_b64))
        signature = _b64url_decode(signature_b64)
    except (ValueError, binascii.Error):
        return refused("invalid_grant", "Invalid JWT: malformed.")
    if header.get("alg") != "RS256" or header.get("kid") != fake.private_key_id:
        return refused("invalid_grant", "Invalid JWT Signature.")
    try:
        _private_key().public_key().verify(signature, f"{header_b64}.{claims_b64}".encode(), padding.PKCS1v15(),
                                           hashes.SHA256())
    except InvalidSignature:
        return refused("invalid_grant", "Invalid JWT Signature.")
    if claims.get("iss") != fake.client_email:
        return refused("invalid_grant", "Invalid grant: account not found")
    if claims.get("aud") != fake.token_uri or SCOPE not in str(claims.get("scope", "")).split():
        return refused("invalid_grant", "Invalid JWT: aud or scope.")
    now, iat, exp = fake.clock(), claims.get("iat"), claims.get("exp")
    if not (type(iat) is int and type(exp) is int and 0 < exp - iat <= 3600 and abs(iat - now) < 300):
        return refused("invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
                                        "reasonable timeframe. Check your iat and exp values in the JWT claim.")
    token = f"ya29.fake-{uuid.uuid4().hex}"
    with fake.lock:
        fake.tokens[token] = now + fake.token_seconds
    return 200, {"access_token": token, "expires_in": fake.token_seconds, "token_type": "Bearer"}


def check_bearer(fake: VertexServer, r: Recorded) -> None:
    if "x-goog-api-key" in r.headers:
        raise GoogleError(401, "UNAUTHENTICATED", "API keys are not supported by this API. Expected OAuth2 access "
                          "token or other authentication credentials that assert a principal.")
    auth = r.headers.get("authorization", "")
    if not auth:
        raise GoogleError(401, "UNAUTHENTICATED", "Request is missing required authentication credential. "
                          "Expected OAuth 2 access token, login cookie or other valid authentication credential.")
    expires = fake.tokens.get(auth.removeprefix("Bearer "))
    if not auth.startswith("Bearer ") or expires is None or fake.clock() >= expires:
        raise GoogleError(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 "
                          "access token, login cookie or other valid authentication credential.")


class _ApiHandler(_GoogleHandler):
    def handle_request(self, fake: VertexServer, record: Recorded) -> None:
        try:
            route(fake, self, record)
        except GoogleError as exc:
            self.google_error(exc)


MODEL_PATH = r"/v1/projects/([^/]+)/locations/([^/]+)/publishers/google/models/([^/:]+)"


def route(fake: VertexServer, h: _ApiHandler, r: Recorded) -> None:
    check_bearer(fake, r)
    if match := re.fullmatch(MODEL_PATH + r":(predictLongRunning|fetchPredictOperation)", r.path):
        if r.method != "POST":
            raise GoogleError(404, "NOT_FOUND", f"Method not found: {r.method} {r.path}.")
        project, region, model, method = match.groups()
        check_resource(fake, project, region, model, "aiplatform.endpoints.predict")
        body = parse_json(r)
        return (create if method == "predictLongRunning" else fetch)(fake, h, r, body, match)
    if (match := re.fullmatch(r"/v1/projects/([^/]+)/locations/([^/]+)/endpoints", r.path)) and r.method == "GET":
        unknown = set(r.query) - {"pageSize", "pageToken", "filter", "readMask", "orderBy"}
        if unknown:
            raise invalid(f"Invalid JSON payload received. Unknown name \"{min(unknown)}\": Cannot bind query "
                          "parameter. Field not found.")
        check_resource(fake, match[1], match[2], "", "aiplatform.endpoints.list")
        return h.reply(200, {})
    raise GoogleError(404, "NOT_FOUND", f"Method not found: {r.method} {r.path}.")


def check_resource(fake: VertexServer, project: str, region: str, model: str, permission: str) -> None:
    resource = f"//aiplatform.googleapis.com/projects/{project}/locations/{region}"
    if project != fake.project:
        raise GoogleError(403, "PERMISSION_DENIED", f"Permission '{permission}' denied on resource '{resource}' (or it "
                          "may not exist).", details=[{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                                       "reason": "IAM_PERMISSION_DENIED",
                                                       "domain": "aiplatform.googleapis.com"}])
    if region not in REGIONS or (model and model not in MODELS):
        raise GoogleError(404, "NOT_FOUND", f"Publisher Model `projects/{project}/locations/{region}/publishers/"
                          f"google/models/{model}` was not found or your project does not have access to it.")


def parse_json(r: Recorded) -> dict:
    if not r.headers.get("content-type", "").startswith("application/json"):
        raise invalid("Invalid JSON payload received. Expected a JSON object.")
    try:
        r.json = json.loads(r.body)
    except ValueError:
        raise invalid("Invalid JSON payload received. Unexpected token.")
    if not isinstance(r.json, dict):
        raise invalid("Invalid JSON payload received. Expected an object.")
    return r.json


def create(fake: VertexServer, h: _ApiHandler, r: Recorded, body: dict, match) -> None:
    validate(body)
    if fake.scenario == "throttled-always" or (fake.scenario == "throttled" and not fake.throttled):
        fake.throttled = True
        raise GoogleError(429, "RESOURCE_EXHAUSTED", "Quota exceeded for aiplatform.googleapis.com/"
                          "online_prediction_requests_per_base_model with base model: veo-3.1. Please submit a quota "
                          "increase request.")
    if fake.scenario == "server-error":
        raise GoogleError(503, "UNAVAILABLE", "The service is currently unavailable.")
    project, region, model = match.groups()[:3]
    with fake.lock:
        name = f"projects/{project}/locations/{region}/publishers/google/models/{model}/operations/{uuid.uuid4()}"
        fake.operations[name] = Operation(name=name, model=model, scenario=fake.scenario, body=body)
        fake.accepted[fake.scenario] += 1
    h.reply(200, {} if fake.scenario == "no-name" else {"name": name})


def validate(body: dict) -> None:
    """The checks Vertex makes, worded roughly as Google words them."""
    for name in sorted(set(body) - TOP_FIELDS):
        raise invalid(f"Invalid JSON payload received. Unknown name \"{name}\": Cannot find field.")
    instances = body.get("instances")
    if not (isinstance(instances, list) and len(instances) == 1 and isinstance(instances[0], dict)):
        raise invalid("instances must hold exactly one instance.")
    instance = instances[0]
    for name in sorted(set(instance) - INSTANCE_FIELDS):
        raise invalid(f"Invalid JSON payload received. Unknown name \"{name}\" at 'instances[0]': Cannot find field.")
    if not (isinstance(instance.get("prompt"), str) and instance["prompt"].strip()):
        raise invalid("A prompt is required.")
    parameters = body.get("parameters")
    if not isinstance(parameters, dict):
        raise invalid("parameters must be an object.")
    for name in sorted(set(parameters) - PARAMETER_FIELDS):
        raise invalid(f"Invalid JSON payload received. Unknown name \"{name}\" at 'parameters': Cannot find field.")
    if type(parameters.get("generateAudio")) is not bool:
        raise invalid("generateAudio is required for Veo 3 models.")
    if parameters.get("sampleCount", 1) not in (1, 2, 3, 4):
        raise invalid("sampleCount must be between 1 and 4.")
    seed = parameters.get("seed", 0)
    if type(seed) is not int or not 0 <= seed <= 4294967295:
        raise invalid("seed must be an unsigned 32-bit integer.")
    if "storageUri" in parameters and not re.fullmatch(r"gs://[a-z0-9._-]+/.*", str(parameters["storageUri"])):
        raise invalid("storageUri must be a Cloud Storage URI (gs://bucket/folder/).")
    seconds = parameters.get("durationSeconds", 8)
    if type(seconds) is not int or seconds not in (4, 6, 8):
        raise invalid(f"The durationSeconds {seconds!r} is not supported. Supported values: 4, 6, 8.")
    aspect = parameters.get("aspectRatio", "16:9")
    if aspect not in ("16:9", "9:16"):
        raise invalid(f"Aspect ratio {aspect!r} is not supported. Supported values: 16:9, 9:16.")
    resolution = parameters.get("resolution", "720p")
    if resolution not in ("720p", "1080p"):
        raise invalid(f"Resolution {resolution!r} is not supported.")
    if resolution == "1080p" and seconds != 8:
        raise invalid("1080p resolution is only supported with a duration of 8 seconds.")
    if "image" in instance:
        check_image(instance["image"], "instances[0].image")
    if "lastFrame" in instance:
        if "image" not in instance:
            raise invalid("lastFrame requires image: interpolation needs a first frame.")
        check_image(instance["lastFrame"], "instances[0].lastFrame")
    references = instance.get("referenceImages")
    if references is not None:
        if "image" in instance or "lastFrame" in instance:
            raise invalid("referenceImages cannot be combined with image or lastFrame.")
        if not (isinstance(references, list) and 1 <= len(references) <= 3):
            raise invalid("referenceImages takes 1 to 3 images.")
        for index, reference in enumerate(references):
            where = f"instances[0].referenceImages[{index}]"
            if not isinstance(reference, dict) or set(reference) - {"image", "referenceType"}:
                raise invalid(f"Invalid JSON payload received. Unknown name at '{where}': Cannot find field.")
            if str(reference.get("referenceType", "")).upper() not in ("ASSET", "STYLE"):
                raise invalid(f"{where}.referenceType must be asset or style.")
            check_image(reference.get("image"), f"{where}.image")
        if seconds != 8 or aspect != "16:9":
            raise invalid("Reference images are only supported with 16:9 and a duration of 8 seconds.")


def check_image(image, where: str) -> None:
    if not isinstance(image, dict) or set(image) - {"bytesBase64Encoded", "gcsUri", "mimeType"}:
        raise invalid(f"Invalid JSON payload received. Unknown name at '{where}': Cannot find field.")
    if ("bytesBase64Encoded" in image) == ("gcsUri" in image):
        raise invalid(f"{where} takes one of bytesBase64Encoded or gcsUri.")
    if image.get("mimeType") not in IMAGE_TYPES:
        raise invalid(f"{where}.mimeType {image.get('mimeType')!r} is not supported.")
    if "bytesBase64Encoded" in image:
        try:
            raw = base64.b64decode(image["bytesBase64Encoded"], validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise invalid(f"Invalid value at '{where}.bytes_base64_encoded' (TYPE_BYTES), Base64 decoding failed.")
        if not raw:
            raise invalid(f"{where} is empty.")


def fetch(fake: VertexServer, h: _ApiHandler, r: Recorded, body: dict, match) -> None:
    if set(body) != {"operationName"} or not isinstance(body["operationName"], str):
        raise invalid("Invalid JSON payload received. fetchPredictOperation takes operationName only.")
    name = body["operationName"]
    resource = r.path.removeprefix("/v1/").removesuffix(":fetchPredictOperation")
    if name.rpartition("/operations/")[0] != resource:
        raise invalid(f"The operation {name} does not belong to {resource}.")
    operation = fake.operations.get(name)
    if operation is None or operation.scenario == "gone":
        raise GoogleError(404, "NOT_FOUND", "Operation not found.")
    operation.polls += 1
    text = json.dumps(fake.resource(operation), indent=2)
    if fake.escape_slashes:
        text = text.replace("/", "\\/")
    h.reply(200, body=text.encode(), content_type="application/json; charset=UTF-8")


class _StorageHandler(_GoogleHandler):
    """Cloud Storage's JSON API: an object's media, for a bearer token the token endpoint minted."""

    def handle_request(self, fake: VertexServer, r: Recorded) -> None:
        with fake.lock:  # recorded apart from the API's
            fake.requests.remove(r)
            fake.storage_requests.append(r)
        try:
            check_bearer(fake, r)
            match = re.fullmatch(r"/storage/v1/b/([^/]+)/o/([^/]+)", r.path)
            if r.method != "GET" or match is None:
                raise GoogleError(404, "NOT_FOUND", "Not Found")
            if set(r.query) != {"alt"} or r.query["alt"] != "media":
                raise invalid("Only alt=media downloads are served here.")
            bucket, name = unquote(match[1]), unquote(match[2])
            if bucket not in fake.readable_buckets:
                raise GoogleError(403, "PERMISSION_DENIED", f"{fake.client_email} does not have storage.objects.get "
                                  "access to the Google Cloud Storage object. Permission 'storage.objects.get' "
                                  "denied on resource (or it may not exist).")
            data = fake.objects.get((bucket, name))
            if data is None:
                raise GoogleError(404, "NOT_FOUND", f"No such object: {bucket}/{name}")
        except GoogleError as exc:
            return self.google_error(exc)
        self.reply(200, body=data, content_type="video/mp4")


_server: VertexServer | None = None


def shared_server() -> VertexServer:
    global _server
    if _server is None:
        _server = VertexServer()
        atexit.register(_server.close)
    return _server


@pytest.fixture
def vertex_server() -> VertexServer:
    """One server trio per test process, reset for each test."""
    server = shared_server()
    with server.lock:
        server.reset()
    return server


@pytest.fixture
def vertex_connect(vertex_server, settings):
    """Connect a team to this fake Vertex AI (its API, token service and Cloud Storage), as an owner would."""
    settings.GOOGLE_STORAGE_URL = vertex_server.storage_url

    def connect(team, user, *, label: str = "Google Vertex AI", output_uri: str = ""):
        from generation.providers import connections

        return connections.connection_create(
            team=team, user=user, kind="vertex", label=label, base_url=vertex_server.url,
            service_account_key=vertex_server.key_json(), project=vertex_server.project, region="us-central1",
            output_uri=output_uri)

    return connect
