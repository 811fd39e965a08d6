"""HTTP Digest (RFC 7616, qop=auth) and Basic authentication, as strict as Axis firmware.

Each endpoint (a unit's Q6000-E, a unit's PTZ) is its own device with its own realm, accounts and
nonce table: a nonce issued by one device is unknown to every other. Which schemes a unit offers
and accepts is a setting (`auth_schemes`, `allow_basic`); answers computed with MD5, SHA-256 or
MD5-sess are accepted whatever algorithm the challenge offered.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import random
import secrets
import string
import time
from dataclasses import dataclass, field
from typing import Collection

ROLES = {"viewer": 1, "operator": 2, "admin": 3}
# Upper-case algorithm name -> (hash, session variant: HA1 = H(H(user:realm:password):nonce:cnonce)).
ALGORITHMS = {"MD5": (hashlib.md5, False), "SHA-256": (hashlib.sha256, False), "MD5-SESS": (hashlib.md5, True)}
MAX_NONCES = 512

PASSWORD_ALPHABET = string.ascii_letters + string.digits
PTZ_SPECIALS = "&=+#"


def generate_password(seed: str | int, index: int, account: str) -> str:
    """16 characters from the seed; deterministic so a restarted twin keeps its accounts."""
    rng = random.Random(f"password:{seed}:{index}:{account}")
    chars = [rng.choice(PASSWORD_ALPHABET) for _index in range(16)]
    chars[rng.randrange(1, 15)] = rng.choice("-_.")
    return "".join(chars)


def generate_ptz_password(seed: str | int, index: int) -> str:
    """Like generate_password, but with `& = + #` and a space inside, so that a client that does
    not form-encode its arguments gets the link wrong in a visible way."""
    rng = random.Random(f"password:{seed}:{index}:ptz-root")
    inner = [rng.choice(PASSWORD_ALPHABET) for _index in range(9)] + list(PTZ_SPECIALS) + [" "]
    rng.shuffle(inner)
    return rng.choice(string.ascii_letters) + "".join(inner) + rng.choice(string.digits)


def parse_auth_params(text: str) -> dict[str, str]:
    """Parse `k=v, k="quoted, with \\"escapes\\""` into a dict (keys lower case)."""
    params: dict[str, str] = {}
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t,":
            i += 1
        start = i
        while i < n and text[i] not in "= \t,":
            i += 1
        key = text[start:i].strip().lower()
        while i < n and text[i] in " \t":
            i += 1
        if i >= n or text[i] != "=":
            if key:
                params[key] = ""
            continue
        i += 1
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == '"':
            i += 1
            value = []
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                value.append(text[i])
                i += 1
            i += 1
            params[key] = "".join(value)
        else:
            start = i
            while i < n and text[i] != ",":
                i += 1
            params[key] = text[start:i].strip()
    return params


@dataclass
class Account:
    name: str
    password: str
    role: str


@dataclass
class Verdict:
    """Outcome of checking one request: who it is, or why it gets a 401."""

    user: str | None
    role: int
    reason: str = ""
    stale: bool = False
    nonce: str | None = None

    @property
    def ok(self) -> bool:
        return not self.reason


@dataclass
class Authenticator:
    """Accounts, realm and live nonces of one device endpoint."""

    realm: str
    accounts: dict[str, Account]
    nonces: dict[str, list] = field(default_factory=dict)

    def challenge(self, algorithm: str, stale: bool = False) -> str:
        """A Digest challenge with a fresh nonce; algorithm `none` leaves the token out (MD5 then)."""
        nonce = secrets.token_hex(16)
        if len(self.nonces) >= MAX_NONCES:
            for old in sorted(self.nonces, key=lambda k: self.nonces[k][0])[: MAX_NONCES // 2]:
                del self.nonces[old]
        self.nonces[nonce] = [time.monotonic(), 0]
        token = "" if algorithm == "none" else f" algorithm={algorithm},"
        header = f'Digest realm="{self.realm}", nonce="{nonce}",{token} qop="auth"'
        if stale:
            header += ", stale=true"
        return header

    def basic_challenge(self) -> str:
        return f'Basic realm="{self.realm}"'

    def forget_nonces(self) -> None:
        self.nonces.clear()

    def check(self, header: str | None, method: str, raw_target: str, *, schemes: Collection[str],
              nonce_lifetime: float) -> Verdict:
        """Verify an Authorization header. `raw_target` is the request target exactly as sent;
        `schemes` the ones this device accepts (`digest`, `basic`)."""
        if not header:
            return Verdict(None, 0, "no credentials")
        scheme, _sep, rest = header.strip().partition(" ")
        scheme = scheme.lower()
        if scheme not in ("basic", "digest"):
            return Verdict(None, 0, f"unsupported scheme {scheme!r}")
        if scheme not in schemes:
            return Verdict(None, 0, f"{scheme} authentication is disabled")
        if scheme == "basic":
            return self._check_basic(rest.strip())
        return self._check_digest(parse_auth_params(rest), method, raw_target, nonce_lifetime)

    def _check_basic(self, token: str) -> Verdict:
        try:
            user, sep, password = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return Verdict(None, 0, "malformed basic credentials")
        account = self.accounts.get(user)
        if not sep or account is None or not hmac.compare_digest(account.password.encode(), password.encode()):
            return Verdict(None, 0, "wrong user name or password")
        return Verdict(user, ROLES[account.role])

    def _check_digest(self, p: dict[str, str], method: str, raw_target: str, nonce_lifetime: float) -> Verdict:
        user, nonce = p.get("username"), p.get("nonce", "")
        for key in ("username", "realm", "nonce", "uri", "response", "qop", "nc", "cnonce"):
            if key not in p:
                return Verdict(user, 0, f"digest parameter {key} missing", nonce=nonce)
        algorithm = p.get("algorithm", "MD5")
        if algorithm.upper() not in ALGORITHMS:
            return Verdict(user, 0, f"unsupported algorithm {algorithm}", nonce=nonce)
        hasher, sess = ALGORITHMS[algorithm.upper()]
        if p["realm"] != self.realm:
            return Verdict(user, 0, "wrong realm", nonce=nonce)
        if p["qop"] != "auth":
            return Verdict(user, 0, "qop must be auth", nonce=nonce)
        if p["uri"] != raw_target:
            return Verdict(user, 0, "uri does not match the request target", nonce=nonce)
        try:
            nc = int(p["nc"], 16)
        except ValueError:
            return Verdict(user, 0, "malformed nc", nonce=nonce)
        if len(p["nc"]) != 8 or not p["cnonce"]:
            return Verdict(user, 0, "malformed nc or cnonce", nonce=nonce)
        record = self.nonces.get(nonce)
        if record is None:
            return Verdict(user, 0, "unknown nonce", nonce=nonce)
        account = self.accounts.get(user or "")
        if account is None:
            return Verdict(user, 0, "unknown user", nonce=nonce)

        def h(text: str) -> str:
            return hasher(text.encode("utf-8")).hexdigest()

        ha1 = h(f"{account.name}:{self.realm}:{account.password}")
        if sess:
            ha1 = h(f"{ha1}:{nonce}:{p['cnonce']}")
        ha2 = h(f"{method}:{p['uri']}")
        expected = h(f"{ha1}:{nonce}:{p['nc']}:{p['cnonce']}:auth:{ha2}")
        if not hmac.compare_digest(expected, p["response"].lower()):
            return Verdict(user, 0, "wrong password", nonce=nonce)
        if time.monotonic() - record[0] > nonce_lifetime:
            return Verdict(user, 0, "nonce expired", stale=True, nonce=nonce)
        if nc <= record[1]:
            return Verdict(user, 0, "nonce count replayed", nonce=nonce)
        record[1] = nc
        return Verdict(user, ROLES[account.role])
