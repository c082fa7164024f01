"""The rules every site shares (``/manager/admin/rules``), the province administrator's alone:
the queue rules (priority rule, late window, transfer position), the appointment rules
(appointments in a row, the walk-ins' wait limit, the elderly age and its priority class,
how long bookings' names and phones are kept; docs/booking.md), the priority classes, the
outcomes, the pause reasons, the announcement and the rating scale. One form sends them all
as one ``centre`` change (``base``: the ``centre`` fingerprint); a site manager gets the 403
page. The lists are edited as rows (add, remove); a row's code, once stored with tickets,
is shown but not changed (remove the row and add another instead)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, get_args, get_type_hints

from websockets.http11 import Request, Response

from common.config import CODE_PATTERN, TEMPLATE_FIELDS, Announcement, QueueRules
from server.web.admin.frame import admin_view, render
from server.web.html import error_page

if TYPE_CHECKING:
    from server.service import Service

# The announcement's word choices: the configuration's own values (Vietnamese words, so
# they are read from the type and shown as they are), explained by a hint in web.toml.
WORD_CHOICES = ("thousand", "zero_tens", "four")
# Choices shown with a text of their own (web.toml ``adm_<field>_<value>``).
NAMED_CHOICES = {"priority_rule": QueueRules, "transfer_position": QueueRules, "number_style": Announcement}
CODE = CODE_PATTERN.pattern.removeprefix("^").removesuffix("$")  # for the form's data-pattern


def choices(owner: type, name: str) -> tuple[str, ...]:
    """The values a ``Literal`` field of ``owner`` takes, in the type's order."""
    return get_args(get_type_hints(owner)[name])


def rules_page(server: Service, request: Request, query: dict[str, str]) -> Response:
    view = admin_view(server, request, query, "rules", needs_site=False)
    if isinstance(view, Response):
        return view
    t = view.t
    if not view.user.administrator:
        return error_page(403, t, t.text("forbidden_title"), t.text("adm_rules_admin_only"),
                          back="/manager/admin/users")
    seen = view.seen
    centre: dict[str, Any] = {"kind": "centre", "queue": seen["queue"], "announcement": seen["announcement"],
                              "rating": seen["rating"]}
    named = {name: [(value, t.text(f"adm_{name}_{value}")) for value in choices(owner, name)]
             for name, owner in NAMED_CHOICES.items()}
    words = {name: [(value, value) for value in choices(Announcement, name)] for name in WORD_CHOICES}
    return render(view, "rules.html", page="rules", title=t.text("adm_rules_title"), values={
        "centre": centre, "key": "centre", "named": named, "words": words, "code_pattern": CODE,
        "placeholders": " ".join(sorted(TEMPLATE_FIELDS)),
        "elderly_classes": [(c["code"], f"{c['code']} · {c['name_vi' if t.language == 'vi' else 'name_en']}")
                            for c in seen["queue"]["priority_classes"]],
    })
