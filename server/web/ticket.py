"""The public ticket page behind the ticket's QR code: ``/t/<token>``.

The page carries the ticket's current status; its script then follows the ticket over the
websocket (``watch_ticket``), so the citizen sees their turn coming without reloading, is
called with a vibration and a generated beep, and rates the service once afterwards
(``rate``). Texts in both languages travel with the page (Vietnamese first, EN toggle).
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import TYPE_CHECKING, Any

import msgspec
from websockets.http11 import Request, Response

from common import protocol as p
from common.config import Site
from common.i18n import Translator, catalogue
from server import past_tickets, wire
from server.core.model import Ticket
from server.outbox import notify_store, state, vapid
from server.outbox.notify_texts import TEXTS as NOTIFY_TEXTS
from server.web.assets import web_asset
from server.web.html import e, html_response, language, layout, script_data

if TYPE_CHECKING:
    from server.service import Service

SERVICE_WORKER = "notify-sw.js"  # assets/web/notify-sw.js, served as /t/notify-sw.js

def _texts() -> dict[str, dict[str, str]]:
    """The page's texts (keys starting with ``t_``) in both languages, for its script."""
    entries = catalogue("web")
    return {lang: {k: v[lang] for k, v in entries.items() if k.startswith("t_")} for lang in ("vi", "en")}


def _counter_names_en(site: Site | None) -> dict[str, str]:
    """Counter number → English name, for the page's EN toggle (``ticket_status`` carries only
    the Vietnamese ``counter_name``; the ticket may be transferred to any counter of the site)."""
    return {str(c.number): c.english_name for c in site.counters} if site else {}


def _not_found(t: Translator) -> Response:
    body = f"""
<main class="ticket-page">
  <section class="panel gone"><p class="big-icon" aria-hidden="true">?</p>
    <h1>{e(t.text("t_not_found"))}</h1><p>{e(t.text("t_not_found_help"))}</p></section>
</main>"""
    return html_response(404, layout(t, title=t.text("t_not_found"), body=body, stylesheet="ticket.css",
                                     body_class="ticket"))


def _past(t: Translator, row: dict[str, Any], server: Service) -> Response:
    """A ticket of an earlier day whose site or service is no longer configured."""
    site = server.config.site(row["site"])
    service = site.service(row["service"]) if site else None
    name = (service.name_vi if t.language == "vi" else service.name_en) if service else row["service"]
    day = date.fromisoformat(row["day"]).strftime("%d/%m/%Y")
    body = f"""
<main class="ticket-page">
  <header class="ticket-head"><p class="site">{e(site.name if site else "")}</p></header>
  <section class="panel past"><p class="label">{e(t.text("t_ticket"))}</p>
    <p class="number">{e(row["number"])}</p><p class="service">{e(name)}</p>
    <p class="state-line">{e(t.text("t_past_day", day=day))}</p></section>
</main>"""
    return html_response(200, layout(t, title=f"{row['number']} – {t.text('t_ticket')}", body=body,
                                     stylesheet="ticket.css", body_class="ticket"))


async def ticket_page(server: Service, request: Request, query: dict[str, str]) -> Response:
    t = Translator("web", language(request, query))
    token = request.path.split("?", 1)[0].rsplit("/", 1)[-1]
    if token == SERVICE_WORKER:  # under /t/, so that its scope covers every ticket page
        return web_asset(server, request, query)
    if not past_tickets.TOKEN.match(token):
        return _not_found(t)
    ticket = server.today_ticket(token)
    if ticket is not None:
        status = wire.ticket_status(server.config, server.states[ticket.site], ticket)
        notify = await _notify_data(server, ticket)
        return _live(t, server, token, ticket, status, notify=notify)
    past = await past_tickets.find(server, token, None)
    if past is not None:  # an earlier day's: as it ended, and rateable for a few days
        past_day = t.text("t_past_day", day=past.day.strftime("%d/%m/%Y"))
        return _live(t, server, token, past, past_tickets.status(server, past), past_day)
    row = await server.run_db(server.store.ticket_by_token, token)
    return _past(t, row, server) if row else _not_found(t)


def _live(t: Translator, server: Service, token: str, ticket: Ticket, status: p.TicketStatus,
          past_day: str | None = None, notify: dict[str, Any] | None = None) -> Response:
    """The page that follows the ticket over the websocket (``ticket.js``)."""
    initial = msgspec.json.decode(p.encode(status))
    config_site = server.config.site(ticket.site)
    service = config_site.service(ticket.service) if config_site else None
    name = (service.name_vi if t.language == "vi" else service.name_en) if service else ticket.service
    past_line = f'\n    <p class="state-line past-day">{e(past_day)}</p>' if past_day else ""
    body = f"""
<main class="ticket-page" id="ticket" data-token="{e(token)}" data-lang="{t.language}" aria-live="polite">
  <header class="ticket-head">
    <p class="site" id="site-name">{e(status.site_name)}</p>
    <button type="button" class="lang-toggle" id="lang-toggle">{e(t.text("t_language"))}</button>
  </header>
  <section class="panel" id="panel">
    <p class="label">{e(t.text("t_ticket"))}</p>
    <p class="number" id="number">{e(ticket.number)}</p>
    <p class="service" id="service">{e(name)}</p>
    <p class="issued" id="issued"></p>{past_line}
    <noscript><p class="state-line">{e(t.text("t_ahead", count=status.ahead))}</p>
      <p class="muted">{e(t.text("t_needs_javascript"))}</p></noscript>
  </section>
  <section id="status" class="status"></section>
  <section id="notify" class="notify" hidden></section>
  <footer class="ticket-foot">
    <button type="button" class="sound" id="sound-toggle">{e(t.text("t_sound_on"))}</button>
    <p class="conn" id="conn"><span class="dot" aria-hidden="true"></span><span id="conn-text"></span></p>
  </footer>
</main>
{script_data("ticket-data", {"status": initial, "texts": _texts(), "timezone": server.config.timezone,
                             "counter_names_en": _counter_names_en(config_site), "notify": notify})}"""
    title = f"{ticket.number} – {t.text('t_ticket')}"
    scripts = ["ticket.js", "ticket-notify.js"] if notify else ["ticket.js"]
    return html_response(200, layout(t, title=title, body=body, stylesheet="ticket.css",
                                     scripts=scripts, body_class="ticket"))


async def _notify_data(server: Service, ticket: Ticket) -> dict[str, Any] | None:
    """What the opt-in needs (ticket-notify.js): the channels the centre turned on, the
    VAPID public key, the texts, the channels this ticket already chose; None: no opt-in
    (no channel configured, or the ticket is over)."""
    settings = server.config.notifications
    channels = settings.channels()
    if not channels or ticket.state.is_final:
        return None
    outbox = state.path_beside(server.store.path)
    data_dir = outbox.parent

    def read() -> tuple[str, list[str]]:
        key = vapid.public_key(data_dir) if "webpush" in channels else ""
        if not outbox.exists():
            return key, []
        conn = notify_store.open_notify(outbox)
        try:
            return key, notify_store.channels_of(conn, ticket.id)
        finally:
            conn.close()

    key, chosen = await asyncio.to_thread(read)
    entries = catalogue(NOTIFY_TEXTS)
    texts = {lang: {k: v[lang] for k, v in entries.items() if k.startswith("page_")} for lang in ("vi", "en")}
    return {"channels": channels, "near_at": settings.near_at, "vapid_key": key, "texts": texts,
            "on": [c for c in chosen if c in channels]}
