"""The live picture of a site for the managers' overview: read from the server's memory
(the queue's state), so it is exact to the second and costs no database work."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from common.config import Config
from server.core.estimate import estimate_wait_minutes
from server.core.model import CounterStatus, SiteState, TicketState


def live(config: Config, state: SiteState, now: datetime) -> dict[str, Any]:
    """What is happening at a site now: queues per service, the longest wait, the counters."""
    site = state.rules.site
    waiting = [t for t in state.tickets.values() if t.state is TicketState.WAITING]
    services = []
    for service in site.services:
        mine = [t for t in waiting if t.service == service.code]
        oldest = min(mine, key=lambda t: t.issued_at, default=None)
        serving = [n for n in site.counters_serving(service.code)]
        services.append({
            "code": service.code, "name_vi": service.name_vi, "name_en": service.name_en,
            "waiting": len(mine),
            "longest_wait": _minutes(now, oldest.issued_at) if oldest else None,
            "longest_number": oldest.number if oldest else None,
            "estimate": estimate_wait_minutes(state, service.code, len(mine)),
            "issued": state.sequences.get(service.code, 0),
            "counters": serving,
            "counters_open": sum(
                1 for n in serving if state.counters[n].status is CounterStatus.OPEN),
            "target": service.wait_target_minutes,
        })
    oldest = min(waiting, key=lambda t: t.issued_at, default=None)
    counters = []
    for config_counter in site.counters:
        live_counter = state.counters[config_counter.number]
        active = state.tickets.get(live_counter.active_ticket) if live_counter.active_ticket else None
        user = config.user(live_counter.clerk) if live_counter.clerk else None
        counters.append({
            "number": config_counter.number, "name": config_counter.name,
            "name_en": config_counter.english_name,
            "services": list(config_counter.services), "status": live_counter.status.value,
            "clerk": live_counter.clerk, "clerk_name": user.full_name if user else live_counter.clerk,
            "pause_reason": live_counter.pause_reason,
            "active_number": active.number if active else None,
            "active_state": active.state.value if active else None,
            "active_minutes": _minutes(now, active.started_at or active.called_at)
            if active and (active.started_at or active.called_at) else None,
            "since": live_counter.since.isoformat() if live_counter.since else None,
            "since_minutes": _minutes(now, live_counter.since) if live_counter.since else None,
        })
    return {
        "site": site.code, "day": state.day.isoformat(), "at": now.isoformat(),
        "waiting": len(waiting),
        "longest": {
            "number": oldest.number, "service": oldest.service,
            "minutes": _minutes(now, oldest.issued_at),
        } if oldest else None,
        "held": sum(1 for t in state.tickets.values() if t.state is TicketState.HELD),
        "issued_today": len(state.tickets),
        "served_today": sum(1 for t in state.tickets.values() if t.state is TicketState.DONE),
        "services": services, "counters": counters,
        "counters_open": sum(1 for c in counters if c["status"] == "open"),
        "counters_paused": sum(1 for c in counters if c["status"] == "paused"),
    }


def _minutes(later: datetime, earlier: datetime) -> float:
    return max((later - earlier).total_seconds() / 60, 0.0)
