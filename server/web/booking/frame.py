"""What the booking pages share: the Jinja2 environment (autoescaped templates from
assets/templates/booking/), the texts (assets/translations/booking.toml) and the page frame
with the data its script needs."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup
from websockets.http11 import Request, Response

from common.assets import ASSETS_DIR
from common.i18n import Translator
from server.web.html import (
    html_response,
    language,
    language_cookie,
    layout,
    script_data,
    template_environment,
)

TEMPLATES = ASSETS_DIR / "templates" / "booking"
ENV = template_environment(TEMPLATES)
DOMAIN = "booking"
SCRIPT_PREFIX = "js_"  # the texts the script shows


def translator(request: Request, query: dict[str, str]) -> Translator:
    return Translator(DOMAIN, language(request, query))


def script_texts(t: Translator) -> dict[str, str]:
    """The script's texts, in the page's language (the language link reloads the page)."""
    return {key: entry[t.language] for key, entry in t.entries.items() if key.startswith(SCRIPT_PREFIX)}


def render(t: Translator, query: dict[str, str], template: str, *, title: str, data: dict[str, Any],
           values: dict[str, Any], status: int = 200) -> Response:
    """A booking page: ``template`` with the texts, its script's data and the language link."""
    other = "en" if t.language == "vi" else "vi"

    def text(key: str, **params: object) -> str:
        return t.text(key, **params)

    body = ENV.get_template(template).render(
        t=text, lang=t.language, other_lang=other,
        script_data=Markup(script_data("booking-data", {"lang": t.language, "texts": script_texts(t),
                                                         **data})),
        **values)
    html = layout(t, title=title, body=body, stylesheet="booking.css", scripts=["booking.js"],
                  body_class="booking")
    return html_response(status, html, headers=language_cookie(query))
