"""Receivers of citizen notifications on 127.0.0.1, for the tests (issue 16):

- a Web Push service (``/push/<id>``) that checks the VAPID header (RFC 8292: the JWT's
  ES256 signature against the key in ``k=``, its audience and expiry) and decrypts the
  ``aes128gcm`` body (RFC 8291) with the subscriber's private key and auth secret, like a
  browser's push service and the browser together;
- a Zalo ZNS endpoint (``/zalo``) that checks the access token and answers as Zalo does;
- an SMS gateway (``/sms``).

``browser_subscription`` makes a subscriber's keys as a browser does (P-256 + 16-byte auth).
"""

from __future__ import annotations

import base64
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

import http_ece
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Subscriber:
    """A browser's push subscription: what the page sends (``subscription``) and what the
    browser keeps to decrypt (``key``, ``auth``)."""

    endpoint: str
    key: ec.EllipticCurvePrivateKey
    auth: bytes

    @property
    def subscription(self) -> dict[str, Any]:
        public = self.key.public_key().public_bytes(serialization.Encoding.X962,
                                                    serialization.PublicFormat.UncompressedPoint)
        return {"endpoint": self.endpoint, "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)}}


def browser_subscription(endpoint: str) -> Subscriber:
    return Subscriber(endpoint, ec.generate_private_key(ec.SECP256R1()), os.urandom(16))


def verify_vapid(authorization: str, origin: str, expected_key: str | None = None) -> dict[str, Any]:
    """The JWT's claims, after checking ``vapid t=<jwt>,k=<key>`` (RFC 8292); raises
    ValueError on anything wrong."""
    scheme, _, params = authorization.partition(" ")
    if scheme != "vapid":
        raise ValueError(f"scheme {scheme!r}")
    parts = dict(p.strip().split("=", 1) for p in params.split(","))
    token, key = parts["t"], parts["k"]
    if expected_key is not None and key != expected_key:
        raise ValueError("not the server's public key")
    header_b64, claims_b64, signature_b64 = token.split(".")
    header = json.loads(unb64url(header_b64))
    if header != {"typ": "JWT", "alg": "ES256"}:
        raise ValueError(f"header {header}")
    signature = unb64url(signature_b64)
    if len(signature) != 64:
        raise ValueError("ES256 signatures are r||s, 64 bytes")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        public.verify(der, f"{header_b64}.{claims_b64}".encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise ValueError("bad signature") from None
    claims: dict[str, Any] = json.loads(unb64url(claims_b64))
    if claims.get("aud") != origin:
        raise ValueError(f"audience {claims.get('aud')!r}, not {origin!r}")
    if not time.time() < claims["exp"] <= time.time() + 24 * 3600:
        raise ValueError("expiry not within 24 hours")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https://")):
        raise ValueError("no contact in sub")
    return claims


@dataclass
class Receivers:
    subscribers: dict[str, Subscriber] = field(default_factory=dict)
    pushes: list[dict[str, Any]] = field(default_factory=list)  # decrypted payloads, with "id"
    push_problems: list[str] = field(default_factory=list)
    push_status: dict[str, int] = field(default_factory=dict)  # subscriber id → status to answer
    zalo: list[dict[str, Any]] = field(default_factory=list)
    sms: list[dict[str, Any]] = field(default_factory=list)
    sms_status: int = 200
    zalo_token: str = "zalo-oa-token"
    server_key: str | None = None  # the VAPID public key the pushes must carry
    base: str = ""
    runner: web.AppRunner | None = None

    def subscriber(self, name: str) -> Subscriber:
        found = self.subscribers[name] = browser_subscription(f"{self.base}/push/{name}")
        return found

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/push/{id}", self._push)
        app.router.add_post("/zalo", self._zalo)
        app.router.add_route("*", "/sms", self._sms)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    async def _push(self, request: web.Request) -> web.Response:
        name = request.match_info["id"]
        status = self.push_status.get(name)
        if status is not None:
            return web.Response(status=status)
        subscriber = self.subscribers.get(name)
        body = await request.read()
        try:
            if subscriber is None:
                raise ValueError(f"no subscriber {name}")
            verify_vapid(request.headers.get("Authorization", ""), self.base, self.server_key)
            if request.headers.get("Content-Encoding") != "aes128gcm":
                raise ValueError(f"Content-Encoding {request.headers.get('Content-Encoding')}")
            if int(request.headers.get("TTL", "-1")) <= 0:
                raise ValueError("no TTL")
            plain = http_ece.decrypt(body, private_key=subscriber.key, auth_secret=subscriber.auth,
                                     version="aes128gcm")
        except Exception as exc:
            self.push_problems.append(f"{name}: {exc!r}")
            return web.Response(status=400, text=str(exc))
        self.pushes.append({"id": name, **json.loads(plain)})
        return web.Response(status=201)

    async def _zalo(self, request: web.Request) -> web.Response:
        if request.headers.get("access_token") != self.zalo_token:
            return web.json_response({"error": -124, "message": "Access token is invalid"})
        self.zalo.append(await request.json())
        return web.json_response({"error": 0, "message": "Success", "data": {"msg_id": str(len(self.zalo))}})

    async def _sms(self, request: web.Request) -> web.Response:
        self.sms.append({"method": request.method, "query": dict(request.query),
                         "content_type": request.headers.get("Content-Type"),
                         "api_key": request.headers.get("X-Api-Key"), "body": await request.text()})
        return web.Response(status=self.sms_status, text="ok")
