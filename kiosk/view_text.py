"""Words on the kiosk screens, from the state and the translation catalogue (no Qt).

Kept apart from the widgets so the wording rules (when a closed service reopens, how a
wait is phrased, which name a service goes by in English) are tested without a window.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from common import protocol as p
from common.i18n import Translator
from kiosk.state import KioskState

LOW_REMAINING = 20  # show "N left" (remaining_low) once a service is this close to its daily cap


class Texts:
    def __init__(self, state: KioskState) -> None:
        self.state = state
        self.tr = Translator("kiosk", "vi")

    def __call__(self, key: str, **params: object) -> str:
        self.tr.language = "en" if self.state.language == "en" else "vi"
        return self.tr.text(key, **params)

    @property
    def english(self) -> bool:
        return self.state.language == "en"

    # -- names ----------------------------------------------------------------------------

    def service_name(self, service: p.ServiceView | None, fallback: str = "") -> str:
        if service is None:
            return fallback
        return service.name_en if self.english else service.name_vi

    def option_name(self, option: p.NamedOption | None) -> str:
        if option is None:
            return ""
        return option.name_en if self.english else option.name_vi

    def title(self) -> str:
        """The centre's name; a commune site's own name when it differs from the centre."""
        site = self.state.site
        if site is None:
            return ""
        return site.centre_name if site.centre_name.startswith(site.name) else site.name

    def subtitle(self) -> str:
        site = self.state.site
        return (site.address or site.province) if site else ""

    # -- time -----------------------------------------------------------------------------

    def date_line(self, now: datetime) -> str:
        return self("date_line", weekday=self(f"weekday_{now.weekday()}"), date=f"{now:%d/%m/%Y}")

    def day_name(self, when: date) -> str:
        return f"{self(f'weekday_{when.weekday()}')} {when:%d/%m}"

    def wait(self, minutes: int | None) -> str:
        if minutes is None:
            return ""
        if minutes < 1:
            return self("wait_under_minute")
        if minutes < 60:
            return self("wait_minutes", m=minutes)
        hours, rest = divmod(minutes, 60)
        return self("wait_hours_minutes", h=hours, m=rest) if rest else self("wait_hours", h=hours)

    # -- tiles ----------------------------------------------------------------------------

    def tile_status(self, service: p.ServiceView) -> str:
        """The line under a tile: the queue, or why it cannot be chosen now."""
        if service.issuing and not self.state.offered(service):
            return self("online_only")
        if service.closed_reason == "daily_cap_reached":
            return self("cap_reached")
        if service.closed_reason in ("service_closed", "holiday"):
            return self.reopening(service)
        if service.waiting:
            return self("waiting", n=service.waiting)
        return self("waiting_none")

    def remaining(self, service: p.ServiceView) -> str:
        if service.issuing and service.remaining is not None and service.remaining <= LOW_REMAINING:
            return self("remaining_low", n=service.remaining)
        return ""

    def reopening(self, service: p.ServiceView) -> str:
        holiday = service.closed_reason == "holiday"
        if service.next_open is None:
            return self("holiday_plain" if holiday else "closed")
        opens = service.next_open.astimezone(self.state.timezone)
        today = self.state.local_now().date()
        time = f"{opens:%H:%M}"
        if holiday:
            return self("holiday", time=time, day=self.day_name(opens.date()))
        if opens.date() == today:
            return self("closed_today", time=time)
        if opens.date() == today + timedelta(days=1):
            return self("closed_tomorrow", time=time)
        return self("closed_later", time=time, day=self.day_name(opens.date()))

    def home_instruction(self, priority_mode: bool) -> str:
        """What to do; when nothing issues now, when it opens again instead."""
        services = self.state.services
        if services and not any(s.issuing for s in services):
            opening = [s for s in services if s.next_open is not None]
            first = min(opening, key=lambda s: s.next_open) if opening else services[0]  # type: ignore[arg-type, return-value]
            return self.tile_status(first)
        return self("priority_choose_service") if priority_mode else self("choose_service")

    def priority_hint(self) -> str:
        site = self.state.site
        names = [self.option_name(c) for c in site.priority_classes] if site else []
        return self("priority_entry_hint", classes=" · ".join(names))

    # -- the ticket and messages ------------------------------------------------------------

    def checkin_hint(self) -> str:
        return self("checkin_entry_hint")

    def message_title(self) -> str:
        """The message screen's title: a check-in's own (e.g. "come back at 09:30") or
        "no number issued"."""
        title = self.state.message_title
        if title is None:
            return self("message_title")
        return title[1] if self.english else title[0]

    def offer_title(self) -> str:
        return self("offer_title", name=self.option_name(self.state.offer))

    def offer_text(self) -> str:
        site = self.state.site
        return self("offer_text", age=site.elderly_age if site else "")

    def appointment(self, when: datetime | None, late: bool) -> str:
        """The ticket's appointment line: its time, or that it came late and is a walk-in."""
        if late:
            return self("appointment_late")
        return self("appointment", time=f"{when:%H:%M}") if when is not None else ""

    def counters(self, service: p.ServiceView | None) -> str:
        return ", ".join(str(n) for n in service.counters) if service else ""

    def notice(self) -> str:
        notice = self.state.notice
        if notice is None:
            return ""
        return notice.text(self.state.language)

    def printer_state(self, state: str) -> str:
        key = f"printer_{state}"
        return self(key) if key in self.tr.entries else state

    def staff_message(self) -> str:
        key = self.state.staff.message
        mapping = {"wrong_pin": "staff_wrong_pin", "locked": "staff_locked", "reprinting": "staff_reprinting",
                   "reprinted": "staff_reprinted", "reprint_failed": "staff_reprint_failed",
                   "no_printer": "staff_no_printer", "status": "staff_status"}
        return self(mapping[key]) if key in mapping else ""
