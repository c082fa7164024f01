"""The centre's configuration: one TOML file, decoded into frozen structs and validated.

Types are checked by msgspec while decoding; the cross-references (a counter naming an
unknown service, two kiosks sharing a token, ...) are checked by ``_validate``. Every
problem is a ``ConfigProblem`` (common/config_problem.py): its key, the stable code of the
check and its values, said in Vietnamese or English from assets/translations/config.toml. A
file that cannot be used raises a ``ConfigError`` naming the file, the key and what is wrong.
"""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from collections.abc import Iterator
from datetime import date, time
from pathlib import Path
from typing import Literal

import msgspec

from common.api_key_config import ApiKey, api_key_problems
from common.config_problem import ConfigProblem, decoding_problem, problem
from common.errors import CommonError
from common.notify_config import Notifications, notification_problems
from common.passwords import is_password_hash
from common.printer_uri import PrinterConfigError, parse_printer_uri
from common.webhook_config import Webhook, webhook_problems

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
PREFIX_PATTERN = re.compile(r"^[A-Z]{0,3}$")
HOURS_PATTERN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-(([01]\d|2[0-3]):([0-5]\d)|24:00)$")
TEMPLATE_FIELDS = {"number", "counter"}
COUNTER_NAME_EN_MAX = 40  # characters: what a board card and the counter display show unshrunk


class ConfigError(CommonError):
    """A configuration file that cannot be used; ``str()`` names the file, key and problem
    (in English); ``found`` is the problem as data, when the validation found it."""

    def __init__(self, file: str, key: str, problem: str, found: ConfigProblem | None = None) -> None:
        self.file, self.key, self.problem, self.found = file, key, problem, found
        where = f"{file}: {key}" if key else file
        super().__init__(f"{where}: {problem}")

    @classmethod
    def of(cls, file: str, found: ConfigProblem) -> ConfigError:
        return cls(file, found.key, found.text("en"), found)


class _Struct(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    pass


class Numbering(_Struct, kw_only=True):
    """``prefix``: letters + zero-padded digits (A001). ``block``: plain numbers start..end."""

    style: Literal["prefix", "block"] = "prefix"
    prefix: str = ""
    digits: int = 3
    start: int = 1
    end: int | None = None

    def format(self, sequence: int) -> str:
        """The printed number of the ``sequence``-th ticket of the day (1-based)."""
        value = self.start + sequence - 1
        if self.style == "block":
            return str(value)
        return f"{self.prefix}{value:0{self.digits}d}"

    @property
    def capacity(self) -> int:
        """How many numbers the style can print in one day."""
        if self.style == "block":
            return (self.end if self.end is not None else 10 ** len(str(self.start)) - 1) - self.start + 1
        return 10**self.digits - self.start


class Booking(_Struct, kw_only=True):
    """Appointments and remote numbers of one service (docs/booking.md)."""

    bookable: bool = False  # appointments can be booked for this service
    remote_today: bool = False  # a real number for today can be taken from the phone while it issues
    slot_minutes: int = 30  # the issuing hours divided into slots from each hours range's start
    places_per_slot: int = 4  # the slot's capacity, all channels
    walk_in_share: float = 0.5  # share of each slot's places kept for walk-ins
    days_ahead: int = 6  # today .. today + days_ahead
    per_person_per_day: int = 2  # bookings + remote numbers per CCCD per day (all services of the site)
    checkin_early_minutes: int = 30  # check-in opens this long before the slot's start
    checkin_late_minutes: int = 10  # and closes this long after it
    late_arrival: Literal["walk_in", "refuse"] = "walk_in"  # after the window: a walk-in, or refused
    online_only: bool = False  # the kiosk issues walk-in numbers to priority citizens only

    @property
    def bookable_places(self) -> int:
        """The places of one slot that can be booked: the rest are kept for walk-ins."""
        return int(self.places_per_slot * (1 - self.walk_in_share) + 1e-9)


class Service(_Struct, kw_only=True):
    code: str
    name_vi: str
    name_en: str
    agency: str
    numbering: Numbering
    daily_cap: int | None = None
    hours: dict[str, list[str]] | None = None
    wait_target_minutes: int = 30
    booking: Booking = Booking()


class Counter(_Struct, kw_only=True):
    number: int
    name: str
    services: list[str]
    service_order: Literal["preference", "arrival"] = "preference"
    name_en: str | None = None

    @property
    def english_name(self) -> str:
        """The name on screens switched to English: ``name_en``, else the Vietnamese ``name``
        (not "Counter N": every screen already shows the number beside the name)."""
        return self.name if self.name_en is None else self.name_en


class Kiosk(_Struct, kw_only=True):
    id: str
    name: str
    token: str
    printer: str = "none"
    paper_width_mm: Literal[58, 80] = 80
    qr: Literal["native", "raster"] = "raster"


class Display(_Struct, kw_only=True):
    id: str
    name: str
    token: str
    counters: list[int] | None = None
    services: list[str] | None = None


class Site(_Struct, kw_only=True):
    code: str
    name: str
    address: str = ""
    hours: dict[str, list[str]]
    holidays: list[date] = []
    notice: str = ""
    services: list[Service]
    counters: list[Counter]
    kiosks: list[Kiosk] = []
    displays: list[Display] = []

    def service(self, code: str) -> Service | None:
        return next((s for s in self.services if s.code == code), None)

    def counter(self, number: int) -> Counter | None:
        return next((c for c in self.counters if c.number == number), None)

    def devices(self) -> list[Kiosk | Display]:
        """The site's kiosks, then its displays."""
        return [*self.kiosks, *self.displays]

    def counters_serving(self, service_code: str) -> tuple[int, ...]:
        return tuple(c.number for c in self.counters if service_code in c.services)

    def hours_for(self, service: Service) -> dict[str, list[str]]:
        return service.hours if service.hours is not None else self.hours


class PriorityClass(_Struct, kw_only=True):
    code: str
    name_vi: str
    name_en: str


class Outcome(_Struct, kw_only=True):
    code: str
    name_vi: str
    name_en: str


class RatingLevel(_Struct, kw_only=True):
    value: int
    name_vi: str
    name_en: str


class QueueRules(_Struct, kw_only=True):
    priority_rule: Literal["strict", "interleave"] = "interleave"
    normal_per_priority: int = 2
    late_window_minutes: int = 15
    transfer_position: Literal["front", "back"] = "front"
    priority_classes: list[PriorityClass] = []
    outcomes: list[Outcome] = []
    pause_reasons: list[str] = []
    # Appointments (docs/booking.md): at most appointments_in_row appointment calls in a row
    # at a counter while a walk-in of the same service has waited over walk_in_wait_limit_minutes.
    appointments_in_row: int = 3
    walk_in_wait_limit_minutes: int = 20
    elderly_age: int = 60  # a CCCD holder this old or older is offered the priority path
    elderly_priority_class: str | None = None  # the class offered; None: the first class
    booking_personal_data_days: int = 30  # names and phones of bookings kept this long after the day


class Announcement(_Struct, kw_only=True):
    template: str = "Xin mời công dân có số thứ tự {number} đến quầy số {counter}"
    repeat: int = 2
    number_style: Literal["whole", "digits"] = "whole"
    thousand: Literal["nghìn", "ngàn"] = "nghìn"
    zero_tens: Literal["linh", "lẻ"] = "linh"
    four: Literal["tư", "bốn"] = "tư"
    voice: str = "vi"
    rate: int = 150
    chime: bool = True


class User(_Struct, kw_only=True):
    """A clerk or a manager. A manager with no ``sites`` covers every site: the province
    administrator, who alone changes users and settings beyond one site."""

    username: str
    full_name: str
    role: Literal["clerk", "manager"]
    password_hash: str
    sites: list[str] = []
    counters: list[int] = []
    disabled: bool = False  # may not log in; kept for the audit log and the reports
    must_change_password: bool = False  # set by a reset: the user chooses one at next login

    @property
    def administrator(self) -> bool:
        return self.role == "manager" and not self.sites


class ServerSettings(_Struct, kw_only=True):
    host: str = "0.0.0.0"
    port: int = 8765
    public_url: str = "http://127.0.0.1:8765"
    data_dir: str = "data"
    tls_cert: str | None = None
    tls_key: str | None = None
    max_message_bytes: int = 65536
    # A kiosk serves one person at a time: a burst beyond a human pace is refused.
    kiosk_issues_per_minute: int = 20
    kiosk_issue_burst: int = 6
    # Connections not logged in (or following a ticket) at once from one address.
    max_public_connections_per_address: int = 250
    # Reverse proxies whose X-Forwarded-For names the client (see docs/operations.md).
    trusted_proxies: list[str] = []
    # Retention (docs/operations.md, "History: archive and prune"): `xephang history prune`
    # keeps raw events this many months and tickets (which the reports read) this many.
    keep_events_months: int = 13
    keep_tickets_months: int = 60
    # The integration API's port (docs/integration.md), on the same host; None: no API.
    api_port: int | None = None


class Config(_Struct, kw_only=True):
    province: str
    centre_name: str
    timezone: str = "Asia/Ho_Chi_Minh"
    server: ServerSettings = ServerSettings()
    queue: QueueRules = QueueRules()
    announcement: Announcement = Announcement()
    rating: list[RatingLevel] = []
    sites: list[Site]
    users: list[User] = []
    webhooks: list[Webhook] = []  # issue 16: common/webhook_config.py
    notifications: Notifications = Notifications()  # issue 16: common/notify_config.py
    api_keys: list[ApiKey] = []  # issue 16: common/api_key_config.py

    def site(self, code: str) -> Site | None:
        return next((s for s in self.sites if s.code == code), None)

    def user(self, username: str) -> User | None:
        return next((u for u in self.users if u.username == username), None)

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


def parse_hours(spans: list[str]) -> list[tuple[time, time]]:
    """``["07:00-11:15", ...]`` → ``[(time(7), time(11, 15)), ...]``; "24:00" is the day's end."""
    out = []
    for span in spans:
        start, end = span.split("-")
        out.append((time.fromisoformat(start), time.max if end == "24:00" else time.fromisoformat(end)))
    return out


def load_config(path: str | Path) -> Config:
    """Read, decode and validate a configuration file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError.of(str(path), problem("", "cannot_read", reason=exc.strerror)) from exc
    return parse_config(raw, str(path))


def parse_config(raw: bytes | str, file: str = "<config>") -> Config:
    try:
        config = msgspec.toml.decode(raw, type=Config)
    except msgspec.ValidationError as exc:
        raise ConfigError.of(file, decoding_problem(str(exc))) from exc
    except msgspec.DecodeError as exc:
        text_error = exc.__context__  # msgspec's decoder wraps a file that is not UTF-8
        if isinstance(text_error, UnicodeDecodeError):
            raise ConfigError.of(file, problem("", "not_utf8", byte=text_error.start)) from None
        raise ConfigError.of(file, problem("", "not_toml", detail=str(exc))) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError.of(file, problem("", "not_utf8", byte=exc.start)) from None
    except (ValueError, RecursionError) as exc:  # tomllib: a 5000-digit number, [[[[...]]]]
        raise ConfigError.of(file, problem("", "not_toml", detail=str(exc)[:120])) from None
    found = next(_validate(config), None)
    if found is not None:
        raise ConfigError.of(file, found)
    return config


def config_problems(config: Config) -> list[tuple[str, str]]:
    """Every semantic problem as (key, problem in English); empty when the configuration is usable."""
    return [(found.key, found.text("en")) for found in _validate(config)]


def validation_problems(config: Config) -> list[ConfigProblem]:
    """Every semantic problem as data (key, code, values), to be said in either language
    (``ConfigProblem.text``; ``common.config_places`` names the key); empty when usable."""
    return list(_validate(config))


def _duplicates(values: list) -> set:
    seen, dup = set(), set()
    for v in values:
        (dup if v in seen else seen).add(v)
    return dup


def _validate(c: Config) -> Iterator[ConfigProblem]:
    try:
        zoneinfo.ZoneInfo(c.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        yield problem("timezone", "unknown_time_zone", zone=c.timezone)
    if not c.sites:
        yield problem("sites", "no_sites")
    yield from _validate_server(c.server)
    yield from _validate_queue(c.queue)
    yield from _validate_announcement(c.announcement)
    for dup in _duplicates([r.value for r in c.rating]):
        yield problem("rating", "duplicate_rating", value=dup)
    for dup in _duplicates([s.code for s in c.sites]):
        yield problem("sites", "duplicate_site", code=dup)
    tokens = [d.token for s in c.sites for d in [*s.kiosks, *s.displays]]
    for dup in _duplicates(tokens):
        yield problem("sites", "shared_token", start=dup[:4])
    for i, site in enumerate(c.sites):
        yield from _validate_site(f"sites[{i}]", site)
    site_codes = {s.code for s in c.sites}
    yield from webhook_problems(c.webhooks, site_codes)
    yield from notification_problems(c.notifications)
    yield from api_key_problems(c.api_keys, site_codes)
    for dup in _duplicates([u.username for u in c.users]):
        yield problem("users", "duplicate_username", username=dup)
    for i, user in enumerate(c.users):
        key = f"users[{i}]"
        if not re.fullmatch(r"[a-z0-9._-]{2,32}", user.username):
            yield problem(f"{key}.username", "bad_username")
        if not is_password_hash(user.password_hash):
            yield problem(f"{key}.password_hash", "not_password_hash")
        for code in user.sites:
            if code not in site_codes:
                yield problem(f"{key}.sites", "unknown_site", code=code)
        if user.counters:
            sites = [s for s in c.sites if not user.sites or s.code in user.sites]
            numbers = {n.number for s in sites for n in s.counters}
            for number in user.counters:
                if number not in numbers:
                    yield problem(f"{key}.counters", "user_counter_unknown", number=number)


def _validate_server(s: ServerSettings) -> Iterator[ConfigProblem]:
    if not 0 <= s.port <= 65535:
        yield problem("server.port", "not_a_port", port=s.port)
    if s.api_port is not None and not 0 <= s.api_port <= 65535:
        yield problem("server.api_port", "not_a_port", port=s.api_port)
    elif s.api_port is not None and s.api_port == s.port != 0:
        yield problem("server.api_port", "api_port_taken", port=s.port)
    if not re.match(r"^https?://[^/\s]+", s.public_url):
        yield problem("server.public_url", "bad_public_url")
    if (s.tls_cert is None) != (s.tls_key is None):
        yield problem("server.tls_cert", "tls_pair")
    if not 1024 <= s.max_message_bytes <= 1 << 20:
        yield problem("server.max_message_bytes", "not_between", low=1024, high=1 << 20)
    for key, value in (("kiosk_issues_per_minute", s.kiosk_issues_per_minute),
                       ("kiosk_issue_burst", s.kiosk_issue_burst),
                       ("max_public_connections_per_address", s.max_public_connections_per_address)):
        if not 1 <= value <= 100_000:
            yield problem(f"server.{key}", "not_between", low=1, high=100_000)
    if not 2 <= s.keep_events_months <= 120:
        yield problem("server.keep_events_months", "events_months_range", low=2, high=120)
    if not s.keep_events_months <= s.keep_tickets_months <= 1200:
        yield problem("server.keep_tickets_months", "tickets_months_range", high=1200)
    for j, address in enumerate(s.trusted_proxies):
        try:
            ipaddress.ip_address(address)
        except ValueError:
            yield problem(f"server.trusted_proxies[{j}]", "not_ip_address", address=address)


def _validate_queue(q: QueueRules) -> Iterator[ConfigProblem]:
    if not 1 <= q.normal_per_priority <= 20:
        yield problem("queue.normal_per_priority", "not_between", low=1, high=20)
    if not 0 <= q.late_window_minutes <= 240:
        yield problem("queue.late_window_minutes", "not_between", low=0, high=240)
    for field, items in (("priority_classes", q.priority_classes), ("outcomes", q.outcomes)):
        for j, item in enumerate(items):
            if not CODE_PATTERN.match(item.code):
                yield problem(f"queue.{field}[{j}].code", "bad_code")
        for dup in _duplicates([i.code for i in items]):
            yield problem(f"queue.{field}", "duplicate_code", code=dup)
    if not q.outcomes:
        yield problem("queue.outcomes", "no_outcomes")
    yield from _validate_booking_rules(q)


def _validate_booking_rules(q: QueueRules) -> Iterator[ConfigProblem]:
    for key, value, low, high in (("appointments_in_row", q.appointments_in_row, 1, 50),
                                  ("walk_in_wait_limit_minutes", q.walk_in_wait_limit_minutes, 1, 480),
                                  ("elderly_age", q.elderly_age, 40, 120),
                                  ("booking_personal_data_days", q.booking_personal_data_days, 1, 3650)):
        if not low <= value <= high:
            yield problem(f"queue.{key}", "not_between", low=low, high=high)
    codes = [c.code for c in q.priority_classes]
    if q.elderly_priority_class is not None and q.elderly_priority_class not in codes:
        yield problem("queue.elderly_priority_class", "unknown_priority_class",
                      code=q.elderly_priority_class)


def _validate_booking(key: str, b: Booking) -> Iterator[ConfigProblem]:
    for field, value, low, high in (("slot_minutes", b.slot_minutes, 5, 240),
                                    ("places_per_slot", b.places_per_slot, 1, 500),
                                    ("days_ahead", b.days_ahead, 0, 60),
                                    ("per_person_per_day", b.per_person_per_day, 1, 10),
                                    ("checkin_early_minutes", b.checkin_early_minutes, 0, 240),
                                    ("checkin_late_minutes", b.checkin_late_minutes, 0, 240)):
        if not low <= value <= high:
            yield problem(f"{key}.{field}", "not_between", low=low, high=high)
    if not 0 <= b.walk_in_share < 1:
        yield problem(f"{key}.walk_in_share", "share_range")


def _validate_announcement(a: Announcement) -> Iterator[ConfigProblem]:
    fields = set(re.findall(r"{(\w*)}", a.template))
    if "number" not in fields or "counter" not in fields:
        yield problem("announcement.template", "template_fields_missing")
    unknown = sorted(fields - TEMPLATE_FIELDS)
    if unknown:
        yield problem("announcement.template", "template_fields_unknown", fields=unknown)
    if not 1 <= a.repeat <= 5:
        yield problem("announcement.repeat", "not_between", low=1, high=5)
    if not 80 <= a.rate <= 400:
        yield problem("announcement.rate", "rate_range", low=80, high=400)


def _validate_hours(key: str, hours: dict[str, list[str]]) -> Iterator[ConfigProblem]:
    for day, spans in hours.items():
        if day not in WEEKDAYS:
            yield problem(f"{key}.{day}", "unknown_weekday", days=", ".join(WEEKDAYS))
            continue
        for span in spans:
            m = HOURS_PATTERN.match(span)
            if not m:
                yield problem(f"{key}.{day}", "bad_span", span=span)
            elif span[:5] >= span[6:]:
                yield problem(f"{key}.{day}", "span_backwards", span=span)


def _printed_values(service: Service) -> tuple[str, int | None, int, int]:
    """What a service can print in a day: (letters, zero-padded width or None, first, last)."""
    n = service.numbering
    cap = min(service.daily_cap or n.capacity, n.capacity)
    return ("" if n.style == "block" else n.prefix, None if n.style == "block" else n.digits,
            n.start, n.start + cap - 1)


def _shared_number(a: Service, b: Service) -> str | None:
    """A number both services could print on the same day (a unique-number clash that would
    stop the server when it happens), or None. Numbers are letters + digits, zero-padded to
    a width (prefix style) or plain (block style)."""
    letters_a, width_a, low_a, high_a = _printed_values(a)
    letters_b, width_b, low_b, high_b = _printed_values(b)
    if letters_a != letters_b or (width_a and width_b and width_a != width_b):
        return None
    if (width_a is None) != (width_b is None):  # padded meets plain only without leading zeros
        width = width_a or width_b or 1
        floor = 10 ** (width - 1) if width > 1 else 0
        low_a, low_b = (max(low_a, floor), low_b) if width_a else (low_a, max(low_b, floor))
    value = max(low_a, low_b)
    if value > min(high_a, high_b):
        return None
    return a.numbering.format(value - a.numbering.start + 1)


def _validate_name_en(key: str, name_en: str | None) -> Iterator[ConfigProblem]:
    if name_en is None:
        return
    if not name_en.strip():
        yield problem(key, "name_en_empty")
    elif len(name_en) > COUNTER_NAME_EN_MAX:
        yield problem(key, "name_en_too_long", length=len(name_en), limit=COUNTER_NAME_EN_MAX)


def _validate_site(key: str, site: Site) -> Iterator[ConfigProblem]:
    if not CODE_PATTERN.match(site.code):
        yield problem(f"{key}.code", "bad_code")
    yield from _validate_hours(f"{key}.hours", site.hours)
    codes = [s.code for s in site.services]
    for dup in _duplicates(codes):
        yield problem(f"{key}.services", "duplicate_service", code=dup)
    # Only numbering with sane digits is formatted: digits = 10**9 would build a 1 GB string.
    printable = [s for s in site.services if 1 <= s.numbering.digits <= 6]
    # Not only the first numbers: ranges that meet later in the day clash too (on the unique
    # number index, which would stop the server the moment it happened).
    pairs = [(a, b) for i, a in enumerate(printable) for b in printable[i + 1:]]
    clashes = [(a.code, b.code, _shared_number(a, b)) for a, b in pairs]
    for first, second, number in [c for c in clashes if c[2] is not None]:
        yield problem(f"{key}.services", "shared_number", first=first, second=second, number=number)
    if not site.services:
        yield problem(f"{key}.services", "no_services")
    for j, svc in enumerate(site.services):
        skey = f"{key}.services[{j}]"
        if not CODE_PATTERN.match(svc.code):
            yield problem(f"{skey}.code", "bad_code")
        n = svc.numbering
        if n.style == "prefix" and not PREFIX_PATTERN.match(n.prefix):
            yield problem(f"{skey}.numbering.prefix", "bad_prefix")
        if not 1 <= n.digits <= 6:
            yield problem(f"{skey}.numbering.digits", "not_between", low=1, high=6)
        if n.start < 0:
            yield problem(f"{skey}.numbering.start", "negative")
        if n.style == "block" and n.end is not None and n.end <= n.start:
            yield problem(f"{skey}.numbering.end", "end_not_after_start")
        if svc.daily_cap is not None and 1 <= n.digits <= 6 and not 1 <= svc.daily_cap <= n.capacity:
            yield problem(f"{skey}.daily_cap", "daily_cap_range", low=1, high=n.capacity)
        if svc.hours is not None:
            yield from _validate_hours(f"{skey}.hours", svc.hours)
        yield from _validate_booking(f"{skey}.booking", svc.booking)
        if not site.counters_serving(svc.code):
            yield problem(skey, "unserved_service", code=svc.code)
    numbers = [c.number for c in site.counters]
    for dup in _duplicates(numbers):
        yield problem(f"{key}.counters", "duplicate_counter", number=dup)
    for j, counter in enumerate(site.counters):
        if not 1 <= counter.number <= 999:
            yield problem(f"{key}.counters[{j}].number", "not_between", low=1, high=999)
        for code in counter.services:
            if code not in codes:
                yield problem(f"{key}.counters[{j}].services", "unknown_service", code=code)
        if not counter.services:
            yield problem(f"{key}.counters[{j}].services", "counter_without_services")
        yield from _validate_name_en(f"{key}.counters[{j}].name_en", counter.name_en)
    ids = [d.id for d in [*site.kiosks, *site.displays]]
    for dup in _duplicates(ids):
        yield problem(key, "duplicate_device", id=dup)
    for j, kiosk in enumerate(site.kiosks):
        try:
            parse_printer_uri(kiosk.printer)
        except PrinterConfigError as exc:
            yield problem(f"{key}.kiosks[{j}].printer", "bad_printer", detail=str(exc))
    for kind, devices in (("kiosks", site.kiosks), ("displays", site.displays)):
        for j, dev in enumerate(devices):
            if len(dev.token) < 22:  # 22 URL-safe characters carry at least 128 random bits
                yield problem(f"{key}.{kind}[{j}].token", "short_token", length=22)
    for j, disp in enumerate(site.displays):
        for number in disp.counters or []:
            if number not in numbers:
                yield problem(f"{key}.displays[{j}].counters", "unknown_counter", number=number)
        for code in disp.services or []:
            if code not in codes:
                yield problem(f"{key}.displays[{j}].services", "unknown_service", code=code)
