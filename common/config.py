"""The centre's configuration: one TOML file, decoded into frozen structs and validated.

Types are checked by msgspec while decoding; the cross-references (a counter naming an
unknown service, two kiosks sharing a token, ...) are checked by ``_validate``. Every
problem is reported as a ``ConfigError`` naming the file, the key and what is wrong.
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

from common.errors import CommonError
from common.passwords import is_password_hash
from common.printer_uri import PrinterConfigError, parse_printer_uri

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
PREFIX_PATTERN = re.compile(r"^[A-Z]{0,3}$")
HOURS_PATTERN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-(([01]\d|2[0-3]):([0-5]\d)|24:00)$")
TEMPLATE_FIELDS = {"number", "counter"}
COUNTER_NAME_EN_MAX = 40  # characters: what a board card and the counter display show unshrunk


class ConfigError(CommonError):
    """A configuration file that cannot be used; ``str()`` names the file, key and problem."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        self.file, self.key, self.problem = file, key, problem
        where = f"{file}: {key}" if key else file
        super().__init__(f"{where}: {problem}")


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


class Service(_Struct, kw_only=True):
    code: str
    name_vi: str
    name_en: str
    agency: str
    numbering: Numbering
    daily_cap: int | None = None
    hours: dict[str, list[str]] | None = None
    wait_target_minutes: int = 30


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
        raise ConfigError(str(path), "", f"cannot read file ({exc.strerror})") from exc
    return parse_config(raw, str(path))


def parse_config(raw: bytes | str, file: str = "<config>") -> Config:
    try:
        config = msgspec.toml.decode(raw, type=Config)
    except msgspec.ValidationError as exc:
        message = str(exc)
        key = ""
        if " - at `$" in message:
            message, _, where = message.rpartition(" - at `$")
            key = where.rstrip("`").lstrip(".")
        raise ConfigError(file, key, message) from exc
    except msgspec.DecodeError as exc:
        raise ConfigError(file, "", f"not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(file, "", f"not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None
    except (ValueError, RecursionError) as exc:  # tomllib: a 5000-digit number, [[[[...]]]]
        raise ConfigError(file, "", f"not valid TOML: {str(exc)[:120]}") from None
    problems = list(_validate(config))
    if problems:
        key, problem = problems[0]
        raise ConfigError(file, key, problem)
    return config


def config_problems(config: Config) -> list[tuple[str, str]]:
    """Every semantic problem as (key, problem); empty when the configuration is usable."""
    return list(_validate(config))


def _duplicates(values: list) -> set:
    seen, dup = set(), set()
    for v in values:
        (dup if v in seen else seen).add(v)
    return dup


def _validate(c: Config) -> Iterator[tuple[str, str]]:
    try:
        zoneinfo.ZoneInfo(c.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        yield "timezone", f"unknown time zone {c.timezone!r} (e.g. 'Asia/Ho_Chi_Minh')"
    if not c.sites:
        yield "sites", "at least one site is required"
    yield from _validate_server(c.server)
    yield from _validate_queue(c.queue)
    yield from _validate_announcement(c.announcement)
    for dup in _duplicates([r.value for r in c.rating]):
        yield "rating", f"rating value {dup} appears twice"
    for dup in _duplicates([s.code for s in c.sites]):
        yield "sites", f"site code {dup!r} appears twice"
    tokens = [d.token for s in c.sites for d in [*s.kiosks, *s.displays]]
    for dup in _duplicates(tokens):
        yield "sites", f"device token {dup[:4]}… is used by more than one device"
    for i, site in enumerate(c.sites):
        yield from _validate_site(f"sites[{i}]", site)
    site_codes = {s.code for s in c.sites}
    for dup in _duplicates([u.username for u in c.users]):
        yield "users", f"username {dup!r} appears twice"
    for i, user in enumerate(c.users):
        key = f"users[{i}]"
        if not re.fullmatch(r"[a-z0-9._-]{2,32}", user.username):
            yield f"{key}.username", "must be 2-32 characters of a-z, 0-9, '.', '_', '-'"
        if not is_password_hash(user.password_hash):
            yield f"{key}.password_hash", "not a password hash; create one with 'xephang user add'"
        for code in user.sites:
            if code not in site_codes:
                yield f"{key}.sites", f"unknown site {code!r}"
        if user.counters:
            sites = [s for s in c.sites if not user.sites or s.code in user.sites]
            numbers = {n.number for s in sites for n in s.counters}
            for number in user.counters:
                if number not in numbers:
                    yield f"{key}.counters", f"no counter {number} at the user's sites"


def _validate_server(s: ServerSettings) -> Iterator[tuple[str, str]]:
    if not 0 <= s.port <= 65535:
        yield "server.port", f"{s.port} is not a TCP port (0-65535)"
    if not re.match(r"^https?://[^/\s]+", s.public_url):
        yield "server.public_url", "must be an http:// or https:// address, e.g. http://10.0.0.5:8765"
    if (s.tls_cert is None) != (s.tls_key is None):
        yield "server.tls_cert", "tls_cert and tls_key must be given together"
    if not 1024 <= s.max_message_bytes <= 1 << 20:
        yield "server.max_message_bytes", "must be between 1024 and 1048576"
    for key, value in (("kiosk_issues_per_minute", s.kiosk_issues_per_minute),
                       ("kiosk_issue_burst", s.kiosk_issue_burst),
                       ("max_public_connections_per_address", s.max_public_connections_per_address)):
        if not 1 <= value <= 100_000:
            yield f"server.{key}", "must be between 1 and 100000"
    if not 2 <= s.keep_events_months <= 120:
        yield "server.keep_events_months", "must be between 2 and 120 (months of raw events kept)"
    if not s.keep_events_months <= s.keep_tickets_months <= 1200:
        yield "server.keep_tickets_months", "must be between keep_events_months and 1200"
    for j, address in enumerate(s.trusted_proxies):
        try:
            ipaddress.ip_address(address)
        except ValueError:
            yield f"server.trusted_proxies[{j}]", f"{address!r} is not an IP address"


def _validate_queue(q: QueueRules) -> Iterator[tuple[str, str]]:
    if not 1 <= q.normal_per_priority <= 20:
        yield "queue.normal_per_priority", "must be between 1 and 20"
    if not 0 <= q.late_window_minutes <= 240:
        yield "queue.late_window_minutes", "must be between 0 and 240"
    for field, items in (("priority_classes", q.priority_classes), ("outcomes", q.outcomes)):
        for j, item in enumerate(items):
            if not CODE_PATTERN.match(item.code):
                yield f"queue.{field}[{j}].code", "must be 1-16 letters, digits, '_' or '-'"
        for dup in _duplicates([i.code for i in items]):
            yield f"queue.{field}", f"code {dup!r} appears twice"
    if not q.outcomes:
        yield "queue.outcomes", "at least one outcome is required (e.g. 'received')"


def _validate_announcement(a: Announcement) -> Iterator[tuple[str, str]]:
    fields = set(re.findall(r"{(\w*)}", a.template))
    if "number" not in fields or "counter" not in fields:
        yield "announcement.template", "must contain both {number} and {counter}"
    if fields - TEMPLATE_FIELDS:
        yield "announcement.template", f"unknown placeholder(s) {sorted(fields - TEMPLATE_FIELDS)}"
    if not 1 <= a.repeat <= 5:
        yield "announcement.repeat", "must be between 1 and 5"
    if not 80 <= a.rate <= 400:
        yield "announcement.rate", "must be between 80 and 400 words per minute"


def _validate_hours(key: str, hours: dict[str, list[str]]) -> Iterator[tuple[str, str]]:
    for day, spans in hours.items():
        if day not in WEEKDAYS:
            yield f"{key}.{day}", f"unknown weekday; use {', '.join(WEEKDAYS)}"
            continue
        for span in spans:
            m = HOURS_PATTERN.match(span)
            if not m:
                yield f"{key}.{day}", f"{span!r} is not a span like '07:00-11:15'"
            elif span[:5] >= span[6:]:
                yield f"{key}.{day}", f"{span!r} ends before it starts"


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


def _validate_name_en(key: str, name_en: str | None) -> Iterator[tuple[str, str]]:
    if name_en is None:
        return
    if not name_en.strip():
        yield key, "must not be empty; leave the key out to show the Vietnamese name"
    elif len(name_en) > COUNTER_NAME_EN_MAX:
        yield key, (f"{len(name_en)} characters; at most {COUNTER_NAME_EN_MAX} fit on the displays "
                    "(e.g. 'Land registration desk')")


def _validate_site(key: str, site: Site) -> Iterator[tuple[str, str]]:
    if not CODE_PATTERN.match(site.code):
        yield f"{key}.code", "must be 1-16 letters, digits, '_' or '-'"
    yield from _validate_hours(f"{key}.hours", site.hours)
    codes = [s.code for s in site.services]
    for dup in _duplicates(codes):
        yield f"{key}.services", f"service code {dup!r} appears twice"
    # Only numbering with sane digits is formatted: digits = 10**9 would build a 1 GB string.
    printable = [s for s in site.services if 1 <= s.numbering.digits <= 6]
    # Not only the first numbers: ranges that meet later in the day clash too (on the unique
    # number index, which would stop the server the moment it happened).
    pairs = [(a, b) for i, a in enumerate(printable) for b in printable[i + 1:]]
    clashes = [(a.code, b.code, _shared_number(a, b)) for a, b in pairs]
    for first, second, number in [c for c in clashes if c[2] is not None]:
        yield f"{key}.services", f"services {first!r} and {second!r} would both print number {number!r}"
    if not site.services:
        yield f"{key}.services", "a site needs at least one service"
    for j, svc in enumerate(site.services):
        skey = f"{key}.services[{j}]"
        if not CODE_PATTERN.match(svc.code):
            yield f"{skey}.code", "must be 1-16 letters, digits, '_' or '-'"
        n = svc.numbering
        if n.style == "prefix" and not PREFIX_PATTERN.match(n.prefix):
            yield f"{skey}.numbering.prefix", "must be 0-3 capital letters A-Z"
        if not 1 <= n.digits <= 6:
            yield f"{skey}.numbering.digits", "must be between 1 and 6"
        if n.start < 0:
            yield f"{skey}.numbering.start", "must not be negative"
        if n.style == "block" and n.end is not None and n.end <= n.start:
            yield f"{skey}.numbering.end", "must be greater than start"
        if svc.daily_cap is not None and 1 <= n.digits <= 6 and not 1 <= svc.daily_cap <= n.capacity:
            yield f"{skey}.daily_cap", f"must be between 1 and {n.capacity} (what the numbering can print)"
        if svc.hours is not None:
            yield from _validate_hours(f"{skey}.hours", svc.hours)
        if not site.counters_serving(svc.code):
            yield f"{skey}", f"no counter serves service {svc.code!r}"
    numbers = [c.number for c in site.counters]
    for dup in _duplicates(numbers):
        yield f"{key}.counters", f"counter number {dup} appears twice"
    for j, counter in enumerate(site.counters):
        if not 1 <= counter.number <= 999:
            yield f"{key}.counters[{j}].number", "must be between 1 and 999"
        for code in counter.services:
            if code not in codes:
                yield f"{key}.counters[{j}].services", f"unknown service {code!r}"
        if not counter.services:
            yield f"{key}.counters[{j}].services", "a counter must serve at least one service"
        yield from _validate_name_en(f"{key}.counters[{j}].name_en", counter.name_en)
    ids = [d.id for d in [*site.kiosks, *site.displays]]
    for dup in _duplicates(ids):
        yield f"{key}", f"device id {dup!r} appears twice"
    for j, kiosk in enumerate(site.kiosks):
        try:
            parse_printer_uri(kiosk.printer)
        except PrinterConfigError as exc:
            yield f"{key}.kiosks[{j}].printer", str(exc)
    for kind, devices in (("kiosks", site.kiosks), ("displays", site.displays)):
        for j, dev in enumerate(devices):
            if len(dev.token) < 22:  # 22 URL-safe characters carry at least 128 random bits
                yield f"{key}.{kind}[{j}].token", "must be at least 22 characters (use 'xephang token')"
    for j, disp in enumerate(site.displays):
        for number in disp.counters or []:
            if number not in numbers:
                yield f"{key}.displays[{j}].counters", f"unknown counter {number}"
        for code in disp.services or []:
            if code not in codes:
                yield f"{key}.displays[{j}].services", f"unknown service {code!r}"
