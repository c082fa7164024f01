"""The wire protocol, defined once: JSON objects over a websocket, tagged by ``type``.

Every message is a frozen msgspec struct; ``decode_client``/``decode_server`` validate
incoming JSON and raise ``ProtocolError`` (with a stable error code) on anything
malformed. ``encode`` is the only serializer. docs/protocol.md documents each type; a
test fails when one is missing there.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal, TypeVar

import msgspec

from common.config import Announcement, Counter, QueueRules, RatingLevel, Service, Site
from common.errors import CommonError
from common.notify_config import Notifications

PROTOCOL_VERSION = 1
MAX_MESSAGE_BYTES = 65536

RequestId = str | int | None
Role = Literal["kiosk", "display", "clerk", "manager", "watcher"]


class ProtocolError(CommonError):
    """A message that cannot be accepted; ``code`` is one of common.errors.CODES."""

    def __init__(self, code: str, detail: str = "", request_id: RequestId = None) -> None:
        self.code, self.detail, self.request_id = code, detail, request_id
        super().__init__(f"{code}: {detail}" if detail else code)


class _Message(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True,
               tag_field="type", omit_defaults=False):
    pass


class _Request(_Message, frozen=True, kw_only=True):
    id: RequestId = None


# -- values carried inside messages ----------------------------------------------------------


class _Value(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class TicketView(_Value, frozen=True, kw_only=True):
    id: str
    number: str
    service: str
    origin_service: str
    priority: str | None
    state: str
    order: int
    counter: int | None = None
    target_counter: int | None = None
    clerk: str | None = None
    issued_at: datetime
    called_at: datetime | None = None
    first_called_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    absent_at: datetime | None = None
    held_at: datetime | None = None
    recalls: int = 0
    transfers: int = 0
    outcome: str | None = None
    dossier_code: str | None = None
    rating: int | None = None
    note: str | None = None
    appointment_at: datetime | None = None  # an appointment's slot start (issue 14)
    citizen: str | None = None  # counter role only: the booking's name and masked CCCD


class CounterView(_Value, frozen=True, kw_only=True):
    number: int
    name: str
    services: list[str]
    status: Literal["open", "paused", "closed"]
    clerk: str | None = None
    clerk_name: str | None = None
    pause_reason: str | None = None
    active_ticket: str | None = None
    active_number: str | None = None
    since: datetime | None = None
    name_en: str = ""  # "": an older server that does not send it

    def name_in(self, language: str) -> str:
        """The name to show on a screen in ``language`` ("vi" or "en")."""
        return self.name_en or self.name if language == "en" else self.name


class ServiceView(_Value, frozen=True, kw_only=True):
    code: str
    name_vi: str
    name_en: str
    agency: str
    counters: list[int]
    issuing: bool
    closed_reason: Literal["service_closed", "holiday", "daily_cap_reached"] | None = None
    next_open: datetime | None = None
    issued: int = 0
    remaining: int | None = None
    waiting: int = 0
    estimated_wait_minutes: int | None = None
    online_only: bool = False  # the kiosk offers walk-in numbers to priority citizens only
    bookable: bool = False  # appointments are booked for it (the kiosk offers check-in)


class CallView(_Value, frozen=True, kw_only=True):
    """One announcement-worthy call; ``seq`` is unique and increasing (use it to dedupe)."""

    seq: int
    ticket_id: str
    number: str
    service: str
    counter: int
    counter_name: str
    reason: Literal["next", "number", "recall", "resume"]
    at: datetime
    counter_name_en: str = ""  # "": an older server that does not send it

    def counter_name_in(self, language: str) -> str:
        """The counter's name to show on a screen in ``language`` ("vi" or "en")."""
        return self.counter_name_en or self.counter_name if language == "en" else self.counter_name


class NamedOption(_Value, frozen=True, kw_only=True):
    code: str
    name_vi: str
    name_en: str


class RatingOption(_Value, frozen=True, kw_only=True):
    value: int
    name_vi: str
    name_en: str


class AnnouncementView(_Value, frozen=True, kw_only=True):
    template: str
    repeat: int
    number_style: str
    thousand: str
    zero_tens: str
    four: str = "tư"
    voice: str
    rate: int
    chime: bool


class SiteInfo(_Value, frozen=True, kw_only=True):
    """What every client of a site needs to draw itself (names, options, settings)."""

    code: str
    name: str
    centre_name: str
    province: str
    address: str
    notice: str
    timezone: str
    public_url: str
    day: date
    priority_classes: list[NamedOption]
    outcomes: list[NamedOption]
    rating: list[RatingOption]
    pause_reasons: list[str]
    late_window_minutes: int
    transfer_position: Literal["front", "back"]
    announcement: AnnouncementView
    elderly_age: int = 60  # a scanned CCCD's holder this old is offered the priority path (kiosk)
    elderly_priority_class: str | None = None  # ... of this class (None: the site has no classes)


class UserView(_Value, frozen=True, kw_only=True):
    username: str
    full_name: str
    role: Literal["clerk", "manager"]


class CounterChoice(_Value, frozen=True, kw_only=True):
    site: str
    site_name: str
    number: int
    name: str
    status: Literal["open", "paused", "closed"]
    clerk: str | None = None
    name_en: str = ""  # "": an older server that does not send it

    def name_in(self, language: str) -> str:
        """The name to show on a screen in ``language`` ("vi" or "en")."""
        return self.name_en or self.name if language == "en" else self.name


class BookingServiceOption(_Value, frozen=True, kw_only=True):
    code: str
    name_vi: str
    name_en: str
    bookable: bool
    remote_today: bool
    days_ahead: int


class BookingSiteOption(_Value, frozen=True, kw_only=True):
    code: str
    name: str
    services: list[BookingServiceOption]


class SlotView(_Value, frozen=True, kw_only=True):
    """One appointment slot: local times with their offset; ``left``: bookable places left
    (0 when full or past)."""

    start: datetime
    end: datetime
    left: int


class DeviceView(_Value, frozen=True, kw_only=True):
    id: str
    name: str
    kind: Literal["kiosk", "display"]
    site: str
    printer: str | None = None
    paper_width_mm: int | None = None
    qr: str | None = None
    counters: list[int] | None = None
    services: list[str] | None = None


# -- administration: one change to the centre's settings (admin_change) ----------------------


class _Change(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, tag_field="kind"):
    pass


class UserChange(_Change, tag="user", frozen=True, kw_only=True):
    """Add or update a user. ``password`` is required for a new user and resets an existing
    one's: either way the user must choose their own at the next login."""

    username: str
    full_name: str
    role: Literal["clerk", "manager"]
    sites: list[str] = []
    counters: list[int] = []
    disabled: bool = False
    password: str | None = None


class SiteChange(_Change, tag="site", frozen=True, kw_only=True):
    """A site's name, address, opening hours, holidays and hall notice."""

    site: str
    name: str
    address: str = ""
    hours: dict[str, list[str]]
    holidays: list[date] = []
    notice: str = ""


class SiteAddition(_Change, tag="site_add", frozen=True, kw_only=True):
    """A new site, whole as in the configuration file, without devices (they pair)."""

    site: Site


class CentreChange(_Change, tag="centre", frozen=True, kw_only=True):
    """The rules every site shares: the queue rules (priority rule, late window, transfer
    position, priority classes, outcomes, pause reasons), the announcement and the rating
    scale; from the next command on."""

    queue: QueueRules
    announcement: Announcement
    rating: list[RatingLevel]


class NoticeChange(_Change, tag="notice", frozen=True, kw_only=True):
    """Only the notice that scrolls on the hall board."""

    site: str
    notice: str


class ServiceChange(_Change, tag="service", frozen=True, kw_only=True):
    site: str
    service: Service
    # The counters that serve it afterwards (None: as they are). A new service needs one:
    # the settings refuse a service no counter serves, and a counter naming an unknown one.
    counters: list[int] | None = None


class ServiceRemoval(_Change, tag="service_remove", frozen=True, kw_only=True):
    site: str
    code: str


class CounterChange(_Change, tag="counter", frozen=True, kw_only=True):
    site: str
    counter: Counter


class CounterRemoval(_Change, tag="counter_remove", frozen=True, kw_only=True):
    site: str
    number: int


class KioskChange(_Change, tag="kiosk", frozen=True, kw_only=True):
    """A paired kiosk's name and printer settings (its token never travels)."""

    site: str
    id: str
    name: str
    printer: str = "none"
    paper_width_mm: Literal[58, 80] = 80
    qr: Literal["native", "raster"] = "raster"


class DisplayChange(_Change, tag="display", frozen=True, kw_only=True):
    site: str
    id: str
    name: str
    counters: list[int] | None = None
    services: list[str] | None = None


class DeviceApproval(_Change, tag="device_approve", frozen=True, kw_only=True):
    """A new device showing pairing ``code`` becomes kiosk or display ``id`` of ``site`` (its
    kind is the one it asked for); a kiosk's printer settings, or what a display shows."""

    code: str
    site: str
    id: str
    name: str
    printer: str = "none"
    paper_width_mm: Literal[58, 80] = 80
    qr: Literal["native", "raster"] = "raster"
    counters: list[int] | None = None
    services: list[str] | None = None


class DeviceRevocation(_Change, tag="device_revoke", frozen=True, kw_only=True):
    """The device's credential stops working at once; its connection is closed."""

    site: str
    id: str


class ApiKeyChange(_Change, tag="api_key", frozen=True, kw_only=True):
    """Create an integration API key (``base`` null: the server generates the key and
    returns it once, in ``result.api_key``) or change one's name, scopes, sites and rate
    (administrator only; docs/integration.md)."""

    id: str
    name: str
    scopes: list[str]
    sites: list[str] = []
    rate_per_second: float = 10.0
    burst: int = 30


class ApiKeyRevocation(_Change, tag="api_key_revoke", frozen=True, kw_only=True):
    """The key stops working at once; it is kept, disabled, for what it did."""

    id: str


class WebhookChange(_Change, tag="webhook", frozen=True, kw_only=True):
    """Add (``base`` null) or edit a webhook subscription (the administrator's; issue 16).
    The server generates its signing secret when it is new, and a new one with
    ``rotate_secret``; the settings show it to the administrator."""

    id: str
    url: str
    events: list[str]
    sites: list[str] = []
    disabled: bool = False
    description: str = ""
    rotate_secret: bool = False


class WebhookRemoval(_Change, tag="webhook_remove", frozen=True, kw_only=True):
    id: str


class NotificationsChange(_Change, tag="notifications", frozen=True, kw_only=True):
    """The citizen notifications' settings, all at once (the administrator's; issue 16). The
    Zalo token and a gateway header's value sent as ``•••`` (as ``settings`` shows them) keep
    the value they had."""

    notifications: Notifications


Change = (
    UserChange | SiteChange | SiteAddition | CentreChange | NoticeChange | ServiceChange
    | ServiceRemoval | CounterChange | CounterRemoval | KioskChange | DisplayChange | DeviceApproval
    | WebhookChange | WebhookRemoval | NotificationsChange
    | DeviceRevocation | ApiKeyChange | ApiKeyRevocation
)
CHANGE_KINDS: dict[str, type] = {cls.__struct_config__.tag: cls for cls in Change.__args__}


# -- client → server -------------------------------------------------------------------------


class LoginDevice(_Request, tag="login_device", frozen=True, kw_only=True):
    v: int
    token: str


class Login(_Request, tag="login", frozen=True, kw_only=True):
    v: int
    username: str
    password: str
    web_session: bool = False  # the manager web pages' login: the welcome carries web_code


class WatchTicket(_Request, tag="watch_ticket", frozen=True, kw_only=True):
    v: int
    token: str


class SelectCounter(_Request, tag="select_counter", frozen=True, kw_only=True):
    site: str
    counter: int


class Logout(_Request, tag="logout", frozen=True, kw_only=True):
    pass


class Ping(_Request, tag="ping", frozen=True, kw_only=True):
    pass


class IssueTicket(_Request, tag="issue_ticket", frozen=True, kw_only=True):
    service: str
    priority: str | None = None
    idempotency_key: str


class ReportPrinter(_Request, tag="printer_status", frozen=True, kw_only=True):
    state: Literal["ok", "offline", "paper_out", "paper_low", "error", "disabled", "unknown"]
    detail: str = ""


class CallNext(_Request, tag="call_next", frozen=True, kw_only=True):
    pass


class CallNumber(_Request, tag="call_number", frozen=True, kw_only=True):
    number: str


class Recall(_Request, tag="recall", frozen=True, kw_only=True):
    pass


class StartService(_Request, tag="start_service", frozen=True, kw_only=True):
    pass


class MarkAbsent(_Request, tag="mark_absent", frozen=True, kw_only=True):
    pass


class Hold(_Request, tag="hold", frozen=True, kw_only=True):
    note: str | None = None


class ResumeHeld(_Request, tag="resume_held", frozen=True, kw_only=True):
    number: str


class Transfer(_Request, tag="transfer", frozen=True, kw_only=True):
    service: str | None = None
    counter: int | None = None
    position: Literal["front", "back"] | None = None


class Finish(_Request, tag="finish", frozen=True, kw_only=True):
    outcome: str
    dossier_code: str | None = None


class PauseCounter(_Request, tag="pause_counter", frozen=True, kw_only=True):
    reason: str


class ResumeCounter(_Request, tag="resume_counter", frozen=True, kw_only=True):
    pass


class CloseCounter(_Request, tag="close_counter", frozen=True, kw_only=True):
    pass


class CancelTicket(_Request, tag="cancel_ticket", frozen=True, kw_only=True):
    number: str
    site: str | None = None
    reason: str | None = None


class Rate(_Request, tag="rate", frozen=True, kw_only=True):
    value: int
    ticket_id: str | None = None


class PushKeys(_Value, frozen=True, kw_only=True):
    p256dh: str  # the browser's P-256 public key, base64url
    auth: str  # its 16-byte authentication secret, base64url


class PushSubscription(_Value, frozen=True, kw_only=True):
    """A browser's push subscription (``PushSubscription.toJSON()`` without its expiry)."""

    endpoint: str
    keys: PushKeys


class NotifySubscribe(_Request, tag="notify_subscribe", frozen=True, kw_only=True):
    """The ticket page (a watcher) asks to be told when its turn is near and when it is
    called (issue 16): by Web Push (``subscription``) or by Zalo or SMS (``phone``). Reply
    ``result``."""

    channel: Literal["webpush", "zalo", "sms"]
    subscription: PushSubscription | None = None
    phone: str | None = None
    language: Literal["vi", "en"] = "vi"


class NotifyUnsubscribe(_Request, tag="notify_unsubscribe", frozen=True, kw_only=True):
    """Stop one channel's notifications (null: every channel) of the watched ticket."""

    channel: Literal["webpush", "zalo", "sms"] | None = None


class WebLogin(_Request, tag="web_login", frozen=True, kw_only=True):
    """A manager page's script logs its websocket in with the page's session cookie (sent
    with the websocket's handshake). Reply ``welcome`` (no snapshots, no code)."""

    v: int


class PairRequest(_Request, tag="pair_request", frozen=True, kw_only=True):
    """A new device with no credential asks to be paired (reply ``pairing``)."""

    v: int
    kind: Literal["kiosk", "display"]


class ReadSettings(_Request, tag="read_settings", frozen=True, kw_only=True):
    """A manager's administration pages: the settings they may change (reply ``settings``)."""


class AdminChange(_Request, tag="admin_change", frozen=True, kw_only=True):
    """One change to the settings, made against the thing as the page showed it: ``base`` is
    its fingerprint from ``settings`` (null: it must not exist yet). Reply ``result`` with
    ``version``; ``stale_edit`` if someone changed it since."""

    change: Change
    base: str | None = None


class ChangePassword(_Request, tag="change_password", frozen=True, kw_only=True):
    """A user's own password (after a reset, the only thing a login allows)."""

    old_password: str
    new_password: str


# -- appointments and remote numbers (issue 14; docs/booking.md) --------------------------------
# Public (anonymous, on /ws/public) except checkin (kiosk); managers and clerks of the site may
# also send book, take_remote and checkin on /ws (a reception desk: channel "desk").


class BookingOptionsRequest(_Request, tag="booking_options", frozen=True, kw_only=True):
    """The sites and services that take appointments or remote numbers (reply ``booking_options``)."""

    site: str | None = None


class BookingSlotsRequest(_Request, tag="booking_slots", frozen=True, kw_only=True):
    """A service's slots on ``day`` with the places left (reply ``booking_slots``)."""

    site: str
    service: str
    day: date


class Book(_Request, tag="book", frozen=True, kw_only=True):
    """Book the slot starting at ``start`` (reply ``booking``)."""

    site: str
    service: str
    start: datetime
    name: str
    phone: str
    cccd: str
    lang: Literal["vi", "en"] = "vi"


class BookingLookup(_Request, tag="booking_lookup", frozen=True, kw_only=True):
    code: str


class BookingCancel(_Request, tag="booking_cancel", frozen=True, kw_only=True):
    code: str


class BookingMove(_Request, tag="booking_move", frozen=True, kw_only=True):
    """Move a booking to another slot of the same service (any allowed day)."""

    code: str
    start: datetime


class TakeRemote(_Request, tag="take_remote", frozen=True, kw_only=True):
    """A real number for today, taken from the phone (reply ``remote_ticket``)."""

    site: str
    service: str
    name: str
    phone: str
    cccd: str


class CheckIn(_Request, tag="checkin", frozen=True, kw_only=True):
    """A kiosk (or a desk) checks a booking in by its code or its holder's CCCD number
    (exactly one); reply ``result`` with the issued ticket."""

    code: str | None = None
    cccd: str | None = None
    idempotency_key: str
    site: str | None = None  # a desk covering several sites: where; a kiosk: its own site


BookingRequest = (
    BookingOptionsRequest | BookingSlotsRequest | Book | BookingLookup | BookingCancel | BookingMove
    | TakeRemote | CheckIn
)

class WebhookReplay(_Request, tag="webhook_replay", frozen=True, kw_only=True):
    """The administrator's delivery-log page: deliver subscription ``webhook``'s events again
    from event ``seq`` on (its cursor goes back), or with ``single`` only that one event once
    more. Done by the outbox process within a second; reply ``result``."""

    webhook: str
    seq: int
    single: bool = False


ClientMessage = (
    LoginDevice | Login | WatchTicket | SelectCounter | Logout | Ping | IssueTicket
    | ReportPrinter | CallNext | CallNumber | Recall | StartService | MarkAbsent | Hold
    | ResumeHeld | Transfer | Finish | PauseCounter | ResumeCounter | CloseCounter
    | CancelTicket | Rate | WebLogin | PairRequest | ReadSettings | AdminChange | ChangePassword
    | NotifySubscribe | NotifyUnsubscribe
    | WebhookReplay
    | BookingRequest
)

# -- server → client -------------------------------------------------------------------------


class Welcome(_Message, tag="welcome", frozen=True, kw_only=True):
    re: RequestId = None
    protocol: int = PROTOCOL_VERSION
    role: Role
    server_time: datetime
    user: UserView | None = None
    device: DeviceView | None = None
    counters: list[CounterChoice] = []
    web_code: str | None = None  # one-time code for /manager/session (login with web_session)
    must_change_password: bool = False  # a reset password: send change_password, nothing else


class Snapshot(_Message, tag="snapshot", frozen=True, kw_only=True):
    """Everything a client's role sees at one site; replaces whatever it had."""

    site: SiteInfo
    services: list[ServiceView]
    counters: list[CounterView]
    tickets: list[TicketView]
    recent_calls: list[CallView]
    server_time: datetime
    counter: int | None = None


class Update(_Message, tag="update", frozen=True, kw_only=True):
    """Changes at a site since the last update: upsert tickets/counters/services by key."""

    site: str
    tickets: list[TicketView] = []
    counters: list[CounterView] = []
    services: list[ServiceView] = []
    calls: list[CallView] = []
    day: date | None = None


class TicketStatus(_Message, tag="ticket_status", frozen=True, kw_only=True):
    """A watcher's ticket: where it stands and, once called, where to go."""

    ticket: TicketView
    site_name: str
    service_name_vi: str
    service_name_en: str
    ahead: int
    estimated_wait_minutes: int | None
    counter_name: str | None = None
    rating: list[RatingOption] = []


class CounterTakenOver(_Message, tag="counter_taken_over", frozen=True, kw_only=True):
    """Pushed to a clerk's connection whose counter another clerk has just opened: this
    connection no longer works at it (counter commands get ``no_counter_selected``)."""

    site: str
    counter: int
    clerk: str
    clerk_name: str | None = None
    counters: list[CounterChoice] = []


class Result(_Message, tag="result", frozen=True, kw_only=True):
    """Success reply to a request. ``ticket``/``ahead``/``url`` are set for issuing."""

    re: RequestId = None
    details: dict[str, Any] = {}  # checkin: {"late": true} for a late arrival issued as a walk-in
    ticket: TicketView | None = None
    ahead: int | None = None
    estimated_wait_minutes: int | None = None
    url: str | None = None
    counter: CounterView | None = None
    version: int | None = None  # admin_change: the settings version it made
    api_key: str | None = None  # admin_change creating an API key: the key, shown this once


class Error(_Message, tag="error", frozen=True, kw_only=True):
    re: RequestId = None
    code: str
    message_vi: str
    message_en: str
    details: dict[str, Any] = {}


class Pong(_Message, tag="pong", frozen=True, kw_only=True):
    re: RequestId = None
    server_time: datetime


class Settings(_Message, tag="settings", frozen=True, kw_only=True):
    """The settings a manager may see (reply to ``read_settings``): the configuration as the
    file format has it, password hashes and device tokens left out; ``fingerprints`` names
    each user, site, service, counter and device ("counter:SITE:N", "user:NAME", …) with the
    fingerprint a change to it must carry as ``base``."""

    re: RequestId = None
    version: int
    config: dict[str, Any]
    fingerprints: dict[str, str]


class Pairing(_Message, tag="pairing", frozen=True, kw_only=True):
    """The code a new device shows until a manager approves it (reply to ``pair_request``)."""

    re: RequestId = None
    code: str
    expires_at: datetime


class Paired(_Message, tag="paired", frozen=True, kw_only=True):
    """Pushed to a device whose code was approved: its credential (keep it secret; log in
    with ``login_device``) and what it is."""

    token: str
    device: DeviceView


class BookingOptions(_Message, tag="booking_options", frozen=True, kw_only=True):
    re: RequestId = None
    sites: list[BookingSiteOption]


class BookingSlots(_Message, tag="booking_slots", frozen=True, kw_only=True):
    re: RequestId = None
    site: str
    service: str
    day: date
    slots: list[SlotView]


class BookingView(_Message, tag="booking", frozen=True, kw_only=True):
    """A booking as its holder sees it (the reply to book, booking_lookup, booking_cancel,
    booking_move). ``code`` without the dash; times local with their offset."""

    re: RequestId = None
    code: str
    site: str
    service: str
    start: datetime
    end: datetime
    status: Literal["booked", "cancelled", "checked_in", "no_show"]
    checkin_opens: datetime
    checkin_closes: datetime
    name: str | None  # None once deleted after the retention period
    phone_masked: str | None
    cccd_last4: str


class RemoteTicket(_Message, tag="remote_ticket", frozen=True, kw_only=True):
    """A number for today taken from the phone: follow it at /t/<token>."""

    re: RequestId = None
    token: str
    number: str
    site: str
    service: str


BookingReply = BookingOptions | BookingSlots | BookingView | RemoteTicket

ServerMessage = (
    Welcome | Snapshot | Update | TicketStatus | CounterTakenOver | Result | Error | Pong | Settings
    | Pairing | Paired | BookingReply
)

CLIENT_TYPES: dict[str, type] = {cls.__struct_config__.tag: cls for cls in ClientMessage.__args__}
SERVER_TYPES: dict[str, type] = {cls.__struct_config__.tag: cls for cls in ServerMessage.__args__}

_client_decoder: msgspec.json.Decoder[ClientMessage] = msgspec.json.Decoder(ClientMessage)
_server_decoder: msgspec.json.Decoder[ServerMessage] = msgspec.json.Decoder(ServerMessage)
_encoder = msgspec.json.Encoder()
_Decoded = TypeVar("_Decoded")


def encode(message: msgspec.Struct) -> bytes:
    """The one serializer: a message struct → UTF-8 JSON bytes."""
    return _encoder.encode(message)


def _decode(data: bytes | str, decoder: msgspec.json.Decoder[_Decoded], limit: int) -> _Decoded:
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > limit:
        raise ProtocolError("too_large", f"{len(data)} bytes > {limit}")
    try:
        return decoder.decode(data)
    except msgspec.ValidationError as exc:
        text = str(exc)
        request_id = _peek_id(data)
        if text.endswith("- at `$.type`") or "Object missing required field `type`" in text:
            raise ProtocolError("unknown_type", text, request_id) from exc
        raise ProtocolError("bad_message", text, request_id) from exc
    except msgspec.DecodeError as exc:
        raise ProtocolError("bad_message", f"invalid JSON: {exc}") from exc
    except RecursionError:  # msgspec's guard against deeply nested input, e.g. [[[[...]]]]
        raise ProtocolError("bad_message", "nested too deeply", _peek_id(data)) from None


def _peek_id(data: bytes) -> RequestId:
    """Best effort: the request id of a message that failed validation, to echo it back."""
    try:
        raw = msgspec.json.decode(data)
    except (msgspec.DecodeError, RecursionError):
        return None
    if isinstance(raw, dict):
        value = raw.get("id")
        if isinstance(value, str) and len(value) <= 64:
            return value
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**53:
            return value
    return None


def decode_client(data: bytes | str, limit: int = MAX_MESSAGE_BYTES) -> ClientMessage:
    return _decode(data, _client_decoder, limit)


def decode_server(data: bytes | str, limit: int = 16 * MAX_MESSAGE_BYTES * 64) -> ServerMessage:
    return _decode(data, _server_decoder, limit)
