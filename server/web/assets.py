"""Static files of the web pages: scripts and styles from assets/web, the bundled font."""

from __future__ import annotations

from typing import TYPE_CHECKING

from websockets.http11 import Request, Response

from common.assets import ASSETS_DIR
from server.http import plain_text, text_response
from server.web.html import respond

if TYPE_CHECKING:
    from server.service import Service

TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
FONTS = {f"BeVietnamPro-{w}.ttf" for w in ("Regular", "Medium", "SemiBold", "Bold", "ExtraBold")}
CACHE = "public, max-age=3600"


def _file(folder: str, name: str, content_type: str) -> Response:
    path = ASSETS_DIR / folder / name
    try:
        data = path.read_bytes()
    except OSError:
        return text_response(404, plain_text("http_not_found"))
    return respond(200, data, content_type, cache=CACHE)


def web_asset(server: Service, request: Request, query: dict[str, str]) -> Response:
    name = request.path.split("?", 1)[0].rsplit("/", 1)[-1]
    suffix = name[name.rfind("."):] if "." in name else ""
    if suffix not in TYPES or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        return text_response(404, plain_text("http_not_found"))
    return _file("web", name, TYPES[suffix])


def font(server: Service, request: Request, query: dict[str, str]) -> Response:
    name = request.path.split("?", 1)[0].rsplit("/", 1)[-1]
    if name not in FONTS:
        return text_response(404, plain_text("http_not_found"))
    return _file("fonts", name, "font/ttf")
