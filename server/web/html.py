"""HTTP and HTML helpers shared by the web pages: responses with strict security headers,
cookies, the language choice, the page layout, error pages and number formatting.

Pages load nothing from outside the server: the Content-Security-Policy allows only the
server's own scripts, styles, fonts and websocket. Inline SVG charts use presentation
attributes (no inline style), so no ``unsafe-inline`` is needed.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import math
from collections.abc import Callable, Iterable
from datetime import date
from html import escape
from http import HTTPStatus
from pathlib import Path
from typing import Any

import jinja2
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from common.i18n import Language, Translator
from server.http import Handler

log = logging.getLogger(__name__)

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
LANGUAGE_COOKIE = "xephang_lang"


def guarded(handler: Callable[..., Any]) -> Handler:
    """A web page's handler whose failure is logged and answered with a plain 500 page (in
    the visitor's language), never a traceback."""

    @functools.wraps(handler)
    async def page(server: Any, request: Request, query: dict[str, str]) -> Response:
        try:
            result = handler(server, request, query)
            return await result if inspect.isawaitable(result) else result
        except Exception:
            log.exception("web page %s failed", _loggable(request.path))
            t = Translator("web", language(request, query))
            return error_page(500, t, t.text("server_error_title"), t.text("server_error"))

    return page


def _loggable(path: str) -> str:
    """A page's path for the log: no query (a login code may be in it), and no ticket token
    (``/t/TOKEN`` is the ticket's page: whoever reads the log could follow the ticket)."""
    path = path.split("?", 1)[0]
    return "/t/…" if path.startswith("/t/") else path


def e(value: object) -> str:
    """HTML-escape any value for text or a quoted attribute."""
    return escape("" if value is None else str(value), quote=True)


def current(on: bool, value: str = "page") -> str:
    """The ``aria-current`` attribute of the link to where the user is."""
    return f' aria-current="{value}"' if on else ""


def respond(status: int, body: bytes | str, content_type: str, *, cache: str = "no-store",
            headers: Iterable[tuple[str, str]] = ()) -> Response:
    data = body.encode("utf-8") if isinstance(body, str) else body
    pairs = [
        ("Content-Type", content_type), ("Content-Length", str(len(data))), ("Cache-Control", cache),
        ("Content-Security-Policy", CSP), ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"), ("X-Frame-Options", "DENY"), ("Connection", "close"),
        *headers,
    ]
    return Response(status, HTTPStatus(status).phrase, Headers(pairs), data)


CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(data: bytes, content_type: str, name: str) -> Response:
    """A file the browser saves as ``name`` (an export)."""
    disposition = ("Content-Disposition", f'attachment; filename="{name}"')
    return respond(200, data, content_type, headers=[disposition])


def html_response(status: int, page: str, headers: Iterable[tuple[str, str]] = ()) -> Response:
    return respond(status, page, "text/html; charset=utf-8", headers=headers)


def json_body(status: int, payload: Any) -> Response:
    return respond(status, json.dumps(payload, ensure_ascii=False), "application/json; charset=utf-8")


def redirect(location: str, headers: Iterable[tuple[str, str]] = ()) -> Response:
    return respond(303, "", "text/plain; charset=utf-8", headers=[("Location", location), *headers])


def cookies(request: Request) -> dict[str, str]:
    found: dict[str, str] = {}
    for header in request.headers.get_all("Cookie"):
        for part in header.split(";"):
            name, sep, value = part.strip().partition("=")
            if sep and name not in found:
                found[name] = value
    return found


def language(request: Request, query: dict[str, str]) -> Language:
    """``?lang=`` when given (and remembered in a cookie), else the cookie, else Vietnamese."""
    chosen = query.get("lang") or cookies(request).get(LANGUAGE_COOKIE)
    return "en" if chosen == "en" else "vi"


def language_cookie(query: dict[str, str]) -> list[tuple[str, str]]:
    if query.get("lang") in ("vi", "en"):
        return [("Set-Cookie", f"{LANGUAGE_COOKIE}={query['lang']}; Path=/; Max-Age=31536000; SameSite=Lax")]
    return []


# Inside <script> the HTML parser looks for "</script" and "<!--" whatever JSON means; JSON
# strings may spell any character as \uXXXX, so none of these can end or comment the block.
_SCRIPT_SAFE = str.maketrans({
    "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029",
})


def script_data(element_id: str, payload: Any) -> str:
    """Data for a page script, in a non-executable JSON block (CSP-safe): ``<``, ``>``, ``&``,
    U+2028 and U+2029 are written as JSON escapes, so no value can break out of the block."""
    text = json.dumps(payload, ensure_ascii=False).translate(_SCRIPT_SAFE)
    return f'<script type="application/json" id="{e(element_id)}">{text}</script>'


def template_environment(folder: Path) -> jinja2.Environment:
    """The Jinja2 templates of a group of pages (administration, booking)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=True,  # every value is escaped unless a template says otherwise
        undefined=jinja2.StrictUndefined,  # a misspelt name fails the test, not the page silently
        trim_blocks=True,
        lstrip_blocks=True,
    )


def layout(t: Translator, *, title: str, body: str, scripts: Iterable[str] = (),
           stylesheet: str = "app.css", body_class: str = "", head: str = "") -> str:
    tags = "".join(f'<script src="/web/{e(s)}" defer></script>' for s in scripts)
    return (
        f'<!DOCTYPE html><html lang="{t.language}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="color-scheme" content="light"><link rel="icon" href="data:,"><title>{e(title)}</title>'
        f'<link rel="stylesheet" href="/web/{e(stylesheet)}">{head}{tags}</head>'
        f'<body class="{e(body_class)}">{body}</body></html>'
    )


def error_page(status: int, t: Translator, title: str, message: str, *, back: str | None = None,
               back_label: str | None = None) -> Response:
    link = f'<p><a class="button" href="{e(back)}">{e(back_label or t.text("back"))}</a></p>' if back else ""
    body = (
        f'<main class="narrow"><section class="card error-card"><p class="error-code">{status}</p>'
        f"<h1>{e(title)}</h1><p>{e(message)}</p>{link}</section></main>"
    )
    return html_response(status, layout(t, title=title, body=body))


def kpi_cards(cards: list[tuple[str, str | tuple[str, str], str]], t: Translator) -> str:
    """Figure cards: (text key, value or (value, unit), detail line)."""
    out = []
    for key, value, detail in cards:
        shown = (f'{e(value[0])}<span class="unit">{e(value[1])}</span>' if isinstance(value, tuple)
                 else e(value))
        out.append(f'<article class="kpi" data-kpi="{key}"><h3>{e(t.text(key))}</h3>'
                   f'<p class="kpi-value">{shown}</p><p class="kpi-detail">{e(detail)}</p></article>')
    return '<section class="kpis">' + "".join(out) + "</section>"


# -- numbers ---------------------------------------------------------------------------------


def _group(text: str, lang: Language) -> str:
    whole, _, fraction = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    digits = whole.lstrip("-")
    groups = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    thousands, decimal = (".", ",") if lang == "vi" else (",", ".")
    return sign + thousands.join(groups) + (decimal + fraction if fraction else "")


def fmt_int(value: float | None, lang: Language) -> str:
    return "–" if value is None else _group(str(round(value)), lang)


def fmt_number(value: float | None, lang: Language, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return _group(f"{value:.{digits}f}", lang)


def fmt_pct(share: float | None, lang: Language) -> str:
    return "–" if share is None else fmt_number(share * 100, lang) + "%"


def fmt_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")
