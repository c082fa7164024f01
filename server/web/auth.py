"""The managers' login page, the exchange of a one-time code for a session cookie, logout.

See ``server.manager_sessions`` for the design (the password travels over the websocket).
The form's fields have no ``name`` and the form posts: should its script ever not run, a
native submission carries no credentials, and never in a URL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from websockets.http11 import Request, Response

from common.i18n import Translator
from server.admin_changes import MIN_PASSWORD
from server.manager_sessions import SESSION_HOURS
from server.web.html import (
    cookies,
    e,
    html_response,
    language,
    language_cookie,
    layout,
    redirect,
    script_data,
)
from server.web.manager_login import COOKIE, safe_next, secure_cookies

if TYPE_CHECKING:
    from server.service import Service


def login_page(server: Service, request: Request, query: dict[str, str]) -> Response:
    t = Translator("web", language(request, query))
    target = safe_next(query.get("next"))
    other = "en" if t.language == "vi" else "vi"
    body = f"""
<main class="login">
  <form class="card login-card" id="login-form" method="post" action="/manager/login" autocomplete="on"
        novalidate>
    <div class="brand"><span class="logo" aria-hidden="true">XP</span>
      <div><p class="eyebrow">{e(server.config.centre_name)}</p><h1>{e(t.text("login_title"))}</h1></div>
    </div>
    <p class="muted">{e(t.text("login_intro"))}</p>
    <div class="login-step" id="login-fields">
      <label for="username">{e(t.text("username"))}</label>
      <input id="username" autocomplete="username" autocapitalize="none" required>
      <label for="password">{e(t.text("password"))}</label>
      <input id="password" type="password" autocomplete="current-password" required>
    </div>
    <div class="login-step" id="must-change" hidden>
      <h2>{e(t.text("login_must_change_title"))}</h2>
      <p class="muted">{e(t.text("login_must_change_intro", minimum=MIN_PASSWORD))}</p>
      <label for="new-password">{e(t.text("login_new_password"))}</label>
      <input id="new-password" type="password" autocomplete="new-password">
      <label for="new-password-again">{e(t.text("login_new_password_again"))}</label>
      <input id="new-password-again" type="password" autocomplete="new-password">
    </div>
    <p class="form-error" id="login-error" role="alert"{"" if query.get("expired") else " hidden"}>{
        e(t.text("login_expired")) if query.get("expired") else ""}</p>
    <button type="submit" id="login-button">{e(t.text("login_button"))}</button>
    <noscript><p class="form-error">{e(t.text("needs_javascript"))}</p></noscript>
    <p class="login-foot"><a href="/manager/login?lang={other}&amp;next={e(quote(target, safe=""))}">{
        e(t.text("switch_language"))}</a></p>
  </form>
</main>
{script_data("login-data", {
    "next": target,
    "texts": {**{key: t.text(key) for key in (
        "login_busy", "login_missing", "login_unreachable", "login_not_manager", "login_button",
        "login_change_button", "adm_js_passwords_differ")},
        "password_short": t.text("adm_js_password_short", field=t.text("login_new_password"),
                                 minimum=MIN_PASSWORD)},
    "min_password": MIN_PASSWORD,
    "lang": t.language,
})}"""
    page = layout(t, title=t.text("login_title"), body=body, scripts=["login.js"], body_class="plain")
    return html_response(200, page, headers=language_cookie(query))


def open_session(server: Service, request: Request, query: dict[str, str]) -> Response:
    target = safe_next(query.get("next"))  # before the one-time code is spent
    token = server.manager_sessions.redeem(query.get("code", ""))
    if token is None:
        return redirect("/manager/login?expired=1")
    attributes = f"Path=/; HttpOnly; SameSite=Strict; Max-Age={SESSION_HOURS * 3600}"
    if secure_cookies(server):
        attributes += "; Secure"
    cookie = ("Set-Cookie", f"{COOKIE}={token}; {attributes}")
    return redirect(target, headers=[cookie])


def logout(server: Service, request: Request, query: dict[str, str]) -> Response:
    server.manager_sessions.end(cookies(request).get(COOKIE))
    expired = f"{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
    return redirect("/manager/login", headers=[("Set-Cookie", expired)])
