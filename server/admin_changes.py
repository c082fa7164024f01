"""One change to the centre's settings, applied to a configuration: pure, no I/O (issue 13).

``apply_change(config, change, base, by, hash_password)`` returns the new configuration and
its audit entries, or raises ``Rejected``:

- ``forbidden``: a site manager (a manager with ``sites``) changes only their sites'
  services, counters, devices and notices, and only clerks of their sites; everything else
  (managers, sites' hours and holidays, new sites) is the province administrator's (a
  manager with no sites). Clerks change nothing here (their own password has its message).
- ``stale_edit``: ``base`` is the fingerprint of the thing as the manager's page showed it;
  if it has changed since (another manager saved first), the change is refused and nothing
  is lost: the page reloads and shows the other edit. ``base`` null means "new": refused if
  it exists by now.
- ``invalid_settings``: the new configuration fails the same validation as the file
  (``common.config.validation_problems``); the first problem is named, where it is and what
  is wrong in each language (``common.config_places.explained``).

What a change does to a running day (a service with people waiting, an open counter) is
decided afterwards, per site, by the queue rules (server/core/changes.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import msgspec

from common import protocol as p
from common.config import Config, Display, Kiosk, Site, User, validation_problems
from common.config_places import explained
from common.errors import Rejected
from common.notify_config import masked_notifications
from server.api.key_changes import NewKey, apply_api_key_change
from server.notify_changes import apply_notifications_change, audited
from server.settings_store import AuditEntry
from server.webhook_changes import apply_webhook_change, masked

MASK = "•••"
ADMINISTRATOR_THINGS = ("api_key:",)  # things (beside the centre) only the administrator sees
MIN_PASSWORD = 8


def fingerprint(value: msgspec.Struct) -> str:
    return hashlib.sha256(msgspec.json.encode(value)).hexdigest()[:16]


def things(config: Config) -> Iterator[tuple[str, str | None, msgspec.Struct]]:
    """Every changeable thing: its key (as ``fingerprints`` names it), its site, itself."""
    yield "centre", None, _centre_own(config)
    for user in config.users:
        yield f"user:{user.username}", None, user
    for hook in config.webhooks:
        yield f"webhook:{hook.id}", None, hook
    for api_key in config.api_keys:
        yield f"api_key:{api_key.id}", None, api_key
    for site in config.sites:
        yield f"site:{site.code}", site.code, _site_own(site)
        for service in site.services:
            yield f"service:{site.code}:{service.code}", site.code, service
        for counter in site.counters:
            yield f"counter:{site.code}:{counter.number}", site.code, counter
        for device in site.devices():
            yield f"device:{site.code}:{device.id}", site.code, device


def fingerprints(config: Config, by: User | None = None) -> dict[str, str]:
    """The fingerprint of every thing (that ``by`` may see)."""
    users = None if by is None else {u.username for u in _visible_users(config, by)}
    webhooks = {f"webhook:{h.id}": fingerprint(h) for h in config.webhooks if by is None or by.administrator}
    if by is None or by.administrator:  # the notifications' settings: not one of things() (a
        webhooks["notifications"] = fingerprint(config.notifications)  # diff has them in the centre)
    return webhooks | {key: fingerprint(value) for key, site, value in things(config)
            if by is None or ((key == "centre" or key.startswith(ADMINISTRATOR_THINGS)) and by.administrator)
            or (site is None and users is not None and key[5:] in users)
            or (site is not None and (by.administrator or site in by.sites))}


def _visible_users(config: Config, by: User) -> list[User]:
    return [u for u in config.users
            if by.administrator or (u.role == "clerk" and bool(set(u.sites) & set(by.sites)))]


def public_view(config: Config, by: User) -> dict[str, Any]:
    """The settings as ``by`` may see them: their sites (all for the administrator), no
    password hash, no device token."""
    shown = [s for s in config.sites if by.administrator or s.code in by.sites]
    raw = msgspec.to_builtins(msgspec.structs.replace(config, sites=shown, users=_visible_users(config, by)))
    raw.pop("server", None)
    raw["notifications"] = masked_notifications(raw["notifications"], MASK)
    if not by.administrator:  # webhook subscriptions and their secrets: the administrator's
        raw.pop("webhooks", None)
    if not by.administrator:
        raw.pop("api_keys", None)
    for api_key in raw.get("api_keys", []):
        api_key.pop("key_hash", None)
    for user in raw["users"]:
        user.pop("password_hash", None)
    for site in raw["sites"]:
        for device in (*site["kiosks"], *site["displays"]):
            device.pop("token", None)
    return raw  # type: ignore[no-any-return]


def apply_change(config: Config, change: p.Change, base: str | None, by: User,
                 hash_password: Callable[[str], str],
                 approved: tuple[str, str] | None = None,
                 new_key: NewKey | None = None) -> tuple[Config, list[AuditEntry]]:
    """The configuration after ``change`` (see the module docstring); ``new_key``: the hash of
    the API key the server generated for an ``api_key`` change with ``base`` null."""
    if by.role != "manager" or by.disabled:
        raise Rejected("forbidden")
    site = getattr(change, "site", None)
    if isinstance(site, str):
        _site(config, site, by)  # an unknown site, or not theirs: before saying anything of it
    elif isinstance(change, p.SiteAddition | p.CentreChange) and not by.administrator:
        raise Rejected("forbidden")
    if isinstance(change, p.ApiKeyChange | p.ApiKeyRevocation) and not by.administrator:
        raise Rejected("forbidden")
    administrators = p.WebhookChange | p.WebhookRemoval | p.NotificationsChange
    if isinstance(change, administrators) and not by.administrator:
        raise Rejected("forbidden")
    key, before = _target(config, change)
    if isinstance(change, p.DeviceApproval) and before is not None:
        raise Rejected("device_id_taken", device=change.id)
    if before is None:  # removing what is not there (any more) changes nothing: say so
        if isinstance(change, p.ServiceRemoval):
            raise Rejected("unknown_service", service=change.code)
        if isinstance(change, p.CounterRemoval):
            raise Rejected("unknown_counter", counter=change.number)
        if isinstance(change, p.DeviceRevocation):
            raise Rejected("unknown_device", device=change.id)
    _check_base(key, before, base)
    if isinstance(change, p.DeviceApproval):
        new, entry = _approve(config, change, by, approved)
    elif isinstance(change, p.WebhookChange | p.WebhookRemoval):
        new, action, after = apply_webhook_change(config, change, before)
        entry = _entry(action, None, change.id, masked(before, MASK), masked(after, MASK))  # type: ignore[arg-type]
    elif isinstance(change, p.NotificationsChange):
        new, settings = apply_notifications_change(config, change, MASK)
        entry = _entry("notifications.update", None, None, audited(before, MASK),  # type: ignore[arg-type]
                       audited(settings, MASK))
    elif isinstance(change, p.ApiKeyChange | p.ApiKeyRevocation):
        new, action, key_after = apply_api_key_change(config, change, before, new_key)
        entry = _entry(action, None, change.id, before, key_after)
    else:
        new, entry = _apply(config, change, before, by, hash_password)
    entries = [entry]
    if isinstance(change, p.ServiceChange) and change.counters is not None:
        new, moved = _serving(new, change.site, change.service.code, change.counters)
        entries += moved
    if isinstance(change, p.ServiceRemoval):  # its counters and displays let it go with it
        new, moved = _serving(new, change.site, change.code, [])
        entries += moved
    problems = validation_problems(new)
    if problems:
        raise Rejected("invalid_settings", **explained(problems[0], new))
    return new, entries


# -- which thing a change is about -------------------------------------------------------------


def thing_key(change: p.Change) -> str:
    """The key (as ``fingerprints`` names it) of the thing ``change`` is about."""
    match change:
        case p.CentreChange():
            return "centre"
        case p.SiteAddition(site=site_value):
            return f"site:{site_value.code}"
        case p.UserChange(username=name):
            return f"user:{name}"
        case p.SiteChange(site=site) | p.NoticeChange(site=site):
            return f"site:{site}"
        case p.ServiceChange(site=site, service=service):
            return f"service:{site}:{service.code}"
        case p.ServiceRemoval(site=site, code=code):
            return f"service:{site}:{code}"
        case p.CounterChange(site=site, counter=counter):
            return f"counter:{site}:{counter.number}"
        case p.CounterRemoval(site=site, number=number):
            return f"counter:{site}:{number}"
        case p.WebhookChange(id=ident) | p.WebhookRemoval(id=ident):
            return f"webhook:{ident}"
        case p.ApiKeyChange(id=ident) | p.ApiKeyRevocation(id=ident):
            return f"api_key:{ident}"
        case p.NotificationsChange():
            return "notifications"
        case p.KioskChange(site=site, id=ident) | p.DisplayChange(site=site, id=ident) | \
                p.DeviceRevocation(site=site, id=ident) | p.DeviceApproval(site=site, id=ident):
            return f"device:{site}:{ident}"
    raise Rejected("bad_message", detail=f"unknown change {type(change).__name__}")


def _target(config: Config, change: p.Change) -> tuple[str, msgspec.Struct | None]:
    key = thing_key(change)
    if key == "notifications":
        return key, config.notifications
    return key, next((value for found, _, value in things(config) if found == key), None)


def _check_base(key: str, before: msgspec.Struct | None, base: str | None) -> None:
    if before is None and base is not None:
        raise Rejected("stale_edit", thing=key)  # removed since the page was loaded
    if before is not None and (base is None or fingerprint(before) != base):
        raise Rejected("stale_edit", thing=key)


# -- applying ---------------------------------------------------------------------------------------


def _site(config: Config, code: str, by: User) -> Site:
    site = config.site(code)
    if site is None:
        raise Rejected("unknown_site", site=code)
    if not by.administrator and code not in by.sites:
        raise Rejected("forbidden")
    return site


def _with_site(config: Config, site: Site) -> Config:
    return msgspec.structs.replace(config, sites=[site if s.code == site.code else s for s in config.sites])


def _upsert(items: list[Any], item: Any, key: Callable[[Any], object]) -> list[Any]:
    found = [i for i, old in enumerate(items) if key(old) == key(item)]
    return [*items[:found[0]], item, *items[found[0] + 1:]] if found else [*items, item]


def _centre_own(config: Config) -> msgspec.Struct:
    """The rules every site shares (what ``CentreChange`` edits)."""
    return p.CentreChange(queue=config.queue, announcement=config.announcement, rating=config.rating)


def _site_own(site: Site) -> msgspec.Struct:
    """A site's own settings (what ``SiteChange`` edits), without its services and devices."""
    return p.SiteChange(site=site.code, name=site.name, address=site.address, hours=site.hours,
                        holidays=site.holidays, notice=site.notice)


def _serving(config: Config, code: str, service: str, numbers: list[int]) -> tuple[Config, list[AuditEntry]]:
    """A service's counters made exactly ``numbers`` (a counter that gains it serves it last),
    with a ``counter.update`` entry for each counter that changed. None of them (a removed
    service): displays that showed it stop showing it too (one that showed only it shows all)."""
    site = config.site(code)
    assert site is not None
    unknown = sorted(set(numbers) - {k.number for k in site.counters})
    if unknown:
        raise Rejected("unknown_counter", counter=unknown[0])
    counters, entries = [], []
    displays = [d if d.services is None or service not in d.services or numbers else
                msgspec.structs.replace(d, services=[c for c in d.services if c != service] or None)
                for d in site.displays]
    for counter in site.counters:
        wanted = counter.number in numbers
        if wanted == (service in counter.services):
            counters.append(counter)
            continue
        services = [*counter.services, service] if wanted else [s for s in counter.services if s != service]
        changed = msgspec.structs.replace(counter, services=services)
        counters.append(changed)
        entries.append(_entry("counter.update", code, str(counter.number), counter, changed))
    return _with_site(config, msgspec.structs.replace(site, counters=counters, displays=displays)), entries


def _approve(config: Config, change: p.DeviceApproval, by: User,
             approved: tuple[str, str] | None) -> tuple[Config, AuditEntry]:
    """A paired device joins the site with its new token (``approved``: its kind and token)."""
    site = _site(config, change.site, by)
    if approved is None:
        raise Rejected("unknown_pairing_code", pairing=change.code)
    kind, token = approved
    device: Kiosk | Display
    if kind == "kiosk":
        kiosk = Kiosk(id=change.id, name=change.name, token=token, printer=change.printer,
                      paper_width_mm=change.paper_width_mm, qr=change.qr)
        new, device = msgspec.structs.replace(site, kiosks=[*site.kiosks, kiosk]), kiosk
    else:
        display = Display(id=change.id, name=change.name, token=token, counters=change.counters,
                          services=change.services)
        new, device = msgspec.structs.replace(site, displays=[*site.displays, display]), display
    return _with_site(config, new), _entry("device.pair", site.code, change.id, None, device)


def own_password(config: Config, username: str, password_hash: str) -> tuple[Config, list[AuditEntry]]:
    """A user's own new password (``change_password``): the reset flag goes."""
    user = config.user(username)
    if user is None or user.disabled:
        raise Rejected("forbidden")
    changed = msgspec.structs.replace(user, password_hash=password_hash, must_change_password=False)
    users = _upsert(config.users, changed, lambda u: u.username)
    entry = _entry("user.password_change", None, username, None, None)
    return msgspec.structs.replace(config, users=users), [entry]


def _apply(config: Config, change: p.Change, before: msgspec.Struct | None, by: User,
           hash_password: Callable[[str], str]) -> tuple[Config, AuditEntry]:
    match change:
        case p.UserChange():
            return _user(config, change, before, by, hash_password)
        case p.CentreChange():
            new_config = msgspec.structs.replace(config, queue=change.queue, announcement=change.announcement,
                                                 rating=change.rating)
            return new_config, _entry("centre.update", None, None, before, _centre_own(new_config))
        case p.SiteAddition():
            added = msgspec.structs.replace(change.site, kiosks=[], displays=[])
            return (msgspec.structs.replace(config, sites=[*config.sites, added]),
                    _entry("site.add", added.code, added.code, None, added))
        case p.SiteChange():
            if not by.administrator:
                raise Rejected("forbidden")
            site = _site(config, change.site, by)
            new = msgspec.structs.replace(site, name=change.name, address=change.address, hours=change.hours,
                                          holidays=sorted(set(change.holidays)), notice=change.notice)
            entry = _entry("site.update", site.code, site.code, before, _site_own(new))
            return _with_site(config, new), entry
        case p.NoticeChange():
            site = _site(config, change.site, by)
            new = msgspec.structs.replace(site, notice=change.notice.strip())
            return _with_site(config, new), _entry("site.notice", site.code, site.code,
                                                   {"notice": site.notice}, {"notice": new.notice})
        case p.ServiceChange():
            site = _site(config, change.site, by)
            services = _upsert(site.services, change.service, lambda s: s.code)
            new = msgspec.structs.replace(site, services=services)
            action = "service.update" if before is not None else "service.add"
            entry = _entry(action, site.code, change.service.code, before, change.service)
            return _with_site(config, new), entry
        case p.ServiceRemoval():
            site = _site(config, change.site, by)
            new = msgspec.structs.replace(site, services=[s for s in site.services if s.code != change.code])
            return _with_site(config, new), _entry("service.remove", site.code, change.code, before, None)
        case p.CounterChange():
            site = _site(config, change.site, by)
            new = msgspec.structs.replace(site, counters=sorted(
                _upsert(site.counters, change.counter, lambda c: c.number), key=lambda c: c.number))
            action = "counter.update" if before is not None else "counter.add"
            return _with_site(config, new), _entry(action, site.code, str(change.counter.number), before,
                                                   change.counter)
        case p.CounterRemoval():
            site = _site(config, change.site, by)
            counters = [k for k in site.counters if k.number != change.number]
            new = msgspec.structs.replace(site, counters=counters)
            entry = _entry("counter.remove", site.code, str(change.number), before, None)
            return _with_site(config, new), entry
        case p.KioskChange():
            site = _site(config, change.site, by)
            if not isinstance(before, Kiosk):
                raise Rejected("unknown_device", device=change.id)
            kiosk = msgspec.structs.replace(before, name=change.name, printer=change.printer,
                                            paper_width_mm=change.paper_width_mm, qr=change.qr)
            new = msgspec.structs.replace(site, kiosks=_upsert(site.kiosks, kiosk, lambda d: d.id))
            return _with_site(config, new), _entry("device.update", site.code, change.id, before, kiosk)
        case p.DisplayChange():
            site = _site(config, change.site, by)
            if not isinstance(before, Display):
                raise Rejected("unknown_device", device=change.id)
            display = msgspec.structs.replace(before, name=change.name, counters=change.counters,
                                              services=change.services)
            new = msgspec.structs.replace(site, displays=_upsert(site.displays, display, lambda d: d.id))
            return _with_site(config, new), _entry("device.update", site.code, change.id, before, display)
        case p.DeviceRevocation():
            site = _site(config, change.site, by)
            if before is None:
                raise Rejected("unknown_device", device=change.id)
            new = msgspec.structs.replace(site, kiosks=[k for k in site.kiosks if k.id != change.id],
                                          displays=[d for d in site.displays if d.id != change.id])
            return _with_site(config, new), _entry("device.revoke", site.code, change.id, before, None)
    raise Rejected("bad_message", detail=f"unknown change {type(change).__name__}")


def _user(config: Config, change: p.UserChange, before: msgspec.Struct | None, by: User,
          hash_password: Callable[[str], str]) -> tuple[Config, AuditEntry]:
    old = before if isinstance(before, User) else None
    if not by.administrator:  # a site manager: clerks of their own sites only
        mine = set(by.sites)
        if change.role != "clerk" or not change.sites or not set(change.sites) <= mine or (
                old is not None and (old.role != "clerk" or not set(old.sites) <= mine)):
            raise Rejected("forbidden")
    if old is not None and old.username == by.username and (change.disabled or change.role != old.role):
        raise Rejected("forbidden")  # nobody locks themselves out
    if old is None and change.password is None:
        raise Rejected("password_required")
    if change.password is not None and len(change.password) < MIN_PASSWORD:
        raise Rejected("password_too_short", minimum=MIN_PASSWORD)
    password_hash = hash_password(change.password) if change.password is not None else old.password_hash  # type: ignore[union-attr]
    user = User(username=change.username, full_name=change.full_name.strip(), role=change.role,
                password_hash=password_hash, sites=change.sites, counters=change.counters,
                disabled=change.disabled, must_change_password=change.password is not None or (
                    old is not None and old.must_change_password))
    users = _upsert(config.users, user, lambda u: u.username)
    action = ("user.add" if old is None
              else "user.password_reset" if change.password is not None else "user.update")
    return msgspec.structs.replace(config, users=users), _entry(
        action, None if by.administrator or not change.sites else change.sites[0], user.username, old, user)


def _entry(action: str, site: str | None, target: str | None, before: Any, after: Any) -> AuditEntry:
    return AuditEntry(action, site, target, _masked(before), _masked(after))


def _masked(value: Any) -> Any:
    """Plain JSON values for the audit log, without a password hash or a device token."""
    if value is None:
        return None
    raw = msgspec.to_builtins(value)
    if isinstance(raw, dict):
        for secret in ("password_hash", "token", "key_hash"):
            if secret in raw:
                raw[secret] = MASK
        if isinstance(raw.get("notifications"), dict):  # the centre's Zalo token, gateway keys
            raw["notifications"] = masked_notifications(raw["notifications"], MASK)
    return raw
