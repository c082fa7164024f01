"""What each role may send: the single source of the access rules.

The access-control tests and docs/protocol.md are checked against ``PERMISSIONS``.
"""

from __future__ import annotations

from common import protocol as p

WEBSOCKET_PATH = "/ws"  # every role
PUBLIC_WEBSOCKET_PATH = "/ws/public"  # ticket watchers only: the one to expose to the internet
WEBSOCKET_PATHS = frozenset({WEBSOCKET_PATH, PUBLIC_WEBSOCKET_PATH})

UNAUTHENTICATED = "anonymous"
# A new device showing its pairing code (server/pairing.py): anonymous as far as PERMISSIONS
# go, but not closed by the login timeout, and counted as a public connection.
PAIRING = "pairing"

# Message type → roles that may send it. The single source of the access rules; the
# access-control tests and docs/protocol.md are checked against it.
PERMISSIONS: dict[str, frozenset[str]] = {
    "login_device": frozenset({UNAUTHENTICATED}),
    "login": frozenset({UNAUTHENTICATED}),
    "watch_ticket": frozenset({UNAUTHENTICATED}),
    "ping": frozenset({UNAUTHENTICATED, "kiosk", "display", "clerk", "manager", "watcher"}),
    "logout": frozenset({"kiosk", "display", "clerk", "manager", "watcher"}),
    "select_counter": frozenset({"clerk"}),
    "issue_ticket": frozenset({"kiosk"}),
    "printer_status": frozenset({"kiosk"}),
    "call_next": frozenset({"clerk"}),
    "call_number": frozenset({"clerk"}),
    "recall": frozenset({"clerk"}),
    "start_service": frozenset({"clerk"}),
    "mark_absent": frozenset({"clerk"}),
    "hold": frozenset({"clerk"}),
    "resume_held": frozenset({"clerk"}),
    "transfer": frozenset({"clerk"}),
    "finish": frozenset({"clerk"}),
    "pause_counter": frozenset({"clerk"}),
    "resume_counter": frozenset({"clerk"}),
    "close_counter": frozenset({"clerk"}),
    "cancel_ticket": frozenset({"clerk", "manager"}),
    "rate": frozenset({"clerk", "watcher"}),
    # administration (server/handlers/admin.py): what a manager may change is decided per
    # change (server/admin_changes.py: a site manager, their sites; the administrator, all)
    "web_login": frozenset({UNAUTHENTICATED}),
    "pair_request": frozenset({UNAUTHENTICATED}),
    "read_settings": frozenset({"manager"}),
    "admin_change": frozenset({"manager"}),
    "webhook_replay": frozenset({"manager"}),  # the administrator's (server/handlers/admin.py)
    "change_password": frozenset({"clerk", "manager"}),
    # citizen notifications (server/handlers/notify.py): the ticket page's phone
    "notify_subscribe": frozenset({"watcher"}),
    "notify_unsubscribe": frozenset({"watcher"}),
    # appointments and remote numbers (server/handlers/booking.py, docs/booking.md): the public
    # booking page (anonymous, /ws/public); a reception desk (clerk or manager of the site)
    "booking_options": frozenset({UNAUTHENTICATED, "clerk", "manager"}),
    "booking_slots": frozenset({UNAUTHENTICATED, "clerk", "manager"}),
    "book": frozenset({UNAUTHENTICATED, "clerk", "manager"}),
    "booking_lookup": frozenset({UNAUTHENTICATED}),
    "booking_cancel": frozenset({UNAUTHENTICATED}),
    "booking_move": frozenset({UNAUTHENTICATED}),
    "take_remote": frozenset({UNAUTHENTICATED, "clerk", "manager"}),
    "checkin": frozenset({"kiosk", "clerk", "manager"}),
}

# Clerk commands that act on the counter the session selected (never on another).
COUNTER_COMMANDS = frozenset({
    "call_next", "call_number", "recall", "start_service", "mark_absent", "hold",
    "resume_held", "transfer", "finish", "pause_counter", "resume_counter", "close_counter",
    "cancel_ticket", "rate",
})

assert set(PERMISSIONS) == set(p.CLIENT_TYPES), "every message type needs a permission entry"

# What a connection on the public websocket path (server.http.PUBLIC_WEBSOCKET_PATH) may send:
# a citizen's phone following and rating its ticket. Logins are refused there.
PUBLIC_TYPES = frozenset({"watch_ticket", "ping", "rate", "logout", "booking_options", "booking_slots",
                          "book", "booking_lookup", "booking_cancel", "booking_move", "take_remote"})
# ... and asking to be told when its turn is near (citizen notifications, issue 16).
PUBLIC_TYPES |= {"notify_subscribe", "notify_unsubscribe"}

# Roles whose connections count against an address's public-connection bound.
PUBLIC_ROLES = frozenset({UNAUTHENTICATED, PAIRING, "watcher"})
