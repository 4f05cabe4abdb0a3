"""A Google Cloud service account, spoken on the wire: its JSON key read and checked, and OAuth2 bearer
tokens minted from it.

The flow is the one google-auth's `service_account.Credentials` runs (RFC 7523, "JWT bearer grant"):
a JWT `{iss: client_email, scope, aud: token_uri, iat, exp: iat + 1 h}` signed RS256 with the key's
private key (header `kid`: its private_key_id) is posted to the key's `token_uri` as
`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<jwt>`; Google answers
`{access_token, expires_in, token_type: "Bearer"}`. The studio signs the JWT itself with `cryptography`
(already a dependency) so the token request goes through the studio's own guarded client (http.py), whose
connections pass the private-address check like every other call: google-auth would open its own.

Tokens are kept until shortly before they expire (google-auth refreshes 3 min 45 s early), once per
process and service account, and minted again after an API call answered 401 with them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .base import ProviderError
from .http import provider_detail, send_with_retries

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
LIFETIME = 3600  # seconds a JWT grant may ask for: Google's maximum, google-auth's default
REFRESH_EARLY = 225  # google-auth's REFRESH_THRESHOLD: a token this close to its end is minted again
REQUIRED = ("client_email", "private_key", "token_uri")
CONSOLE_HINT = gettext_lazy("In the Google Cloud console: IAM & Admin › Service accounts › the account › Keys › "
                 "Add key › Create new key › JSON.")


class KeyProblem(ValueError):
    """What is wrong with a pasted key, in words for the form (never quoting the key)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ServiceAccount:
    client_email: str
    token_uri: str
    private_key_id: str = ""
    project_id: str = ""
    private_key: str = field(default="", repr=False)  # PEM; never in a repr, a log or a page

    @property
    def fingerprint(self) -> str:
        """Which key this is, without the key: tokens are cached per fingerprint."""
        digest = hashlib.sha256(
            f"{self.client_email}\n{self.token_uri}\n{self.private_key_id}\n{self.private_key}".encode())
        return digest.hexdigest()[:32]


def service_account_from_json(text: str) -> ServiceAccount:
    """The service account a pasted JSON key describes; KeyProblem saying what is wrong, plainly."""
    text = (text or "").strip()
    if not text:
        raise KeyProblem(_("Paste the service account's JSON key. %(hint)s") % {"hint": CONSOLE_HINT})
    try:
        info = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested past the parser
        if re.fullmatch(r"AIza[0-9A-Za-z_-]{20,}", text):
            raise KeyProblem(_("That is an API key (AIza…). Vertex AI takes a service account's JSON key "
                               "instead. %(hint)s") % {"hint": CONSOLE_HINT}) from None
        raise KeyProblem(_("That is not JSON: paste the whole key file, from the first { to the last }. "
                           "%(hint)s") % {"hint": CONSOLE_HINT}) from None
    if not isinstance(info, dict):
        raise KeyProblem(_("That JSON is not a key file: a service account key is one JSON object with "
                           "\"type\": \"service_account\". %(hint)s") % {"hint": CONSOLE_HINT})
    kind = info.get("type")
    if kind != "service_account":
        raise KeyProblem(_wrong_type(kind))
    missing = [name for name in REQUIRED if not (isinstance(info.get(name), str) and info[name].strip())]
    if missing:
        raise KeyProblem(_("The key lacks %(fields)s: paste the whole file as Google gave it, or create a new "
                           "key. %(hint)s") % {"fields": ", ".join(missing), "hint": CONSOLE_HINT})
    email = info["client_email"].strip()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise KeyProblem(_("The key's client_email is not an email address: paste the key again as Google "
                           "gave it."))
    token_uri = info["token_uri"].strip()
    if not re.fullmatch(r"https?://[^\s]+", token_uri):
        raise KeyProblem(_("The key's token_uri is not an http(s) address: paste the key again as Google "
                           "gave it."))
    _private_key(info["private_key"])  # refused here, in the form, rather than at the first take
    return ServiceAccount(client_email=email, token_uri=token_uri, private_key=info["private_key"],
                          private_key_id=str(info.get("private_key_id") or ""),
                          project_id=str(info.get("project_id") or ""))


def _wrong_type(kind: object) -> str:
    if kind == "authorized_user":
        return _("That is a person's sign-in (made by gcloud auth application-default login), not a service "
                 "account key: the studio needs a service account's key. %(hint)s") % {"hint": CONSOLE_HINT}
    if kind == "external_account":
        return _("That is a workload identity federation configuration, which holds no key the studio can sign "
                 "with: create a service account key instead. %(hint)s") % {"hint": CONSOLE_HINT}
    if kind == "impersonated_service_account":
        return _("That is an impersonation configuration, which needs another credential to work: paste the "
                 "service account's own JSON key instead. %(hint)s") % {"hint": CONSOLE_HINT}
    if kind is None:
        return _("That JSON has no \"type\": a service account key says \"type\": \"service_account\". "
                 "%(hint)s") % {"hint": CONSOLE_HINT}
    return _("That JSON is a “%(type)s” credential, not a service account key (\"type\": \"service_account\"). "
             "%(hint)s") % {"type": str(kind)[:40], "hint": CONSOLE_HINT}


def _private_key(pem: str) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError, UnicodeError, UnsupportedAlgorithm):
        raise KeyProblem(_("The key's private_key is not a PEM private key: paste the key file again as Google "
                           "gave it, or create a new key.")) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyProblem(_("The key's private_key is not an RSA key: Google signs service account tokens with "
                           "RSA (RS256). Create a new JSON key."))
    return key


def _b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def signed_grant(account: ServiceAccount, *, now: float, scope: str = SCOPE) -> str:
    """The JWT the token endpoint trades for a bearer token, as google-auth makes it."""
    header = {"typ": "JWT", "alg": "RS256", **({"kid": account.private_key_id} if account.private_key_id else {})}
    claims = {"iat": int(now), "exp": int(now) + LIFETIME, "iss": account.client_email,
              "aud": account.token_uri, "scope": scope}
    signing_input = b".".join(_b64url(json.dumps(part, separators=(",", ":")).encode())
                              for part in (header, claims))
    signature = _private_key(account.private_key).sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return (signing_input + b"." + _b64url(signature)).decode()


@dataclass
class _Token:
    value: str
    expires_at: float


# Minted tokens, once per process and service account (fingerprint → token): adapters are rebuilt when a
# connection changes, and a token is good for an hour whoever asked for it.
_TOKENS: dict[str, _Token] = {}
_LOCK = threading.Lock()


class TokenSource:
    """Bearer tokens for one service account, minted over `client` (the adapter's guarded client)."""

    def __init__(self, *, key_json: str, client: httpx.Client, provider_name: str,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time):
        self._key_json = key_json
        self._account: ServiceAccount | None = None
        self._client, self._name, self._sleep, self._clock = client, provider_name, sleep, clock

    @property
    def account(self) -> ServiceAccount:
        """The stored key, read once (a key the form took is good; one broken since says so)."""
        if self._account is None:
            try:
                self._account = service_account_from_json(self._key_json)
            except KeyProblem as exc:
                raise ProviderError(_("The service account key stored for %(provider)s cannot be used: "
                                      "%(problem)s") % {"provider": self._name, "problem": exc.message},
                                    code="auth") from exc
        return self._account

    def token(self) -> str:
        account = self.account
        with _LOCK:  # one mint at a time per process: two takes starting together share one token
            cached = _TOKENS.get(account.fingerprint)
            if cached is not None and self._clock() < cached.expires_at - REFRESH_EARLY:
                return cached.value
            minted = self._mint(account)
            _TOKENS[account.fingerprint] = minted
            return minted.value

    def forget(self, token: str) -> None:
        """The API refused `token` (revoked, or the clock lied): the next call mints another."""
        with _LOCK:
            cached = _TOKENS.get(self.account.fingerprint)
            if cached is not None and cached.value == token:
                del _TOKENS[self.account.fingerprint]

    def _mint(self, account: ServiceAccount) -> _Token:
        now = self._clock()
        # A token is an answer to a signature, not a job: asking again is harmless, so it is retried.
        response = send_with_retries(
            self._client, "POST", account.token_uri, idempotent=True, provider_name=self._name, sleep=self._sleep,
            data={"grant_type": GRANT_TYPE, "assertion": signed_grant(account, now=now)},
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        if response.status_code != 200:
            raise self._refused(response, account)
        try:
            body = response.json()
            value, lifetime = body["access_token"], float(body.get("expires_in") or LIFETIME)
        except (ValueError, KeyError, TypeError, AttributeError):
            body, value, lifetime = None, None, 0.0
        if not (isinstance(value, str) and value and not any(c.isspace() for c in value)):
            raise ProviderError(_("Google's token service sent an answer the studio cannot read."),
                                code="server", retryable=True)
        return _Token(value=value, expires_at=now + lifetime)

    def _refused(self, response: httpx.Response, account: ServiceAccount) -> ProviderError:
        if response.status_code >= 500 or response.status_code == 429:
            return ProviderError(_("Google's token service had a problem (HTTP %(status)s). The studio will try "
                                   "again.") % {"status": response.status_code}, code="server", retryable=True)
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("error"), str):  # OAuth2's {error, error_description}
            said = " ".join(f"{body['error']} {body.get('error_description') or ''}".split())[:200]
        else:
            said = provider_detail(response)[0][:200] or f"HTTP {response.status_code}"
        return ProviderError(
            _("Authentication failed: Google refused the service account key of %(provider)s (%(email)s). It may "
              "have been deleted or disabled: create a new JSON key and paste it on the connection. Google said: "
              "%(said)s") % {"provider": self._name, "email": account.client_email, "said": said},
            code="auth")


def forget_all_tokens() -> None:
    """Drop every cached token (tests, or an operator after rotating keys)."""
    with _LOCK:
        _TOKENS.clear()


__all__ = ["KeyProblem", "ServiceAccount", "TokenSource", "forget_all_tokens", "service_account_from_json",
           "signed_grant"]
