"""The managers' web login on the HTTP side: the session cookie, who it belongs to, where
to go after logging in. The codes and sessions themselves: ``server.manager_sessions``."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import quote

from websockets.http11 import Request, Response

from common.config import User
from server.manager_sessions import COOKIE
from server.web.html import cookies, redirect

if TYPE_CHECKING:
    from server.service import Service



def current_manager(server: Service, request: Request) -> User | None:
    """The manager this request's cookie belongs to, or None."""
    username = server.manager_sessions.user(cookies(request).get(COOKIE))
    user = server.config.user(username) if username else None
    return user if user is not None and user.role == "manager" and not user.disabled else None


def allowed_sites(server: Service, user: User) -> list[str]:
    return [s.code for s in server.config.sites if not user.sites or s.code in user.sites]


def login_redirect(request: Request) -> Response:
    return redirect(f"/manager/login?next={quote(request.path, safe='')}")


# A page of this site's manager area, in printable ASCII (a Location header's characters).
_MANAGER_PATH = re.compile(r"/manager[!-~]*")


def safe_next(target: str | None) -> str:
    """Only pages of this site's manager area: no scheme, no host, no '//', no backslash, no
    control, space or non-ASCII character (anything else: the overview)."""
    if target and _MANAGER_PATH.fullmatch(target) and "//" not in target and "\\" not in target:
        return target
    return "/manager/"


def secure_cookies(server: Service) -> bool:
    return bool(server.config.server.tls_cert) or server.config.server.public_url.startswith("https:")
