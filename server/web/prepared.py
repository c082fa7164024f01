"""Pages and files that can take longer than an HTTP request may: a year's report or its
Excel export.

The server answers HTTP inside the websocket handshake, which websockets cuts off after
10 s (``open_timeout``): a year's export under load was cut off with no response and
nothing logged (issue 15). So such work runs as a job of its own, keyed by who asked for
what; a request waits for it up to ``WAIT_SECONDS``. If it is not ready by then, the answer
is a short "being prepared" page that asks again every few seconds (a meta refresh: no
script needed) and gets the page or the file as soon as it is ready. A result nobody
collects is dropped after ``KEEP_SECONDS``; each manager has at most ``MAX_JOBS_PER_USER``
jobs at a time.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from websockets.http11 import Response

from server.report_process import ReportsBusy
from server.web.html import e, error_page, html_response, layout

if TYPE_CHECKING:
    from common.i18n import Translator
    from server.service import Service

log = logging.getLogger(__name__)

WAIT_SECONDS = 4.0  # well inside the handshake's 10 s
REFRESH_SECONDS = 2
KEEP_SECONDS = 600.0
MAX_JOBS_PER_USER = 4

Key = tuple[str, str, tuple[tuple[str, str], ...]]  # user, path, query


@dataclass
class _Job:
    task: asyncio.Task[Response]
    user: str
    finished_at: float | None = None


@dataclass
class Jobs:
    """The prepared work of one server."""

    jobs: dict[Key, _Job] = field(default_factory=dict)

    def drop_stale(self, now: float) -> None:
        for key, job in list(self.jobs.items()):
            if job.finished_at is not None and now - job.finished_at > KEEP_SECONDS:
                del self.jobs[key]

    def running(self, user: str) -> int:
        return sum(1 for job in self.jobs.values() if job.user == user and not job.task.done())


_jobs: weakref.WeakKeyDictionary[Service, Jobs] = weakref.WeakKeyDictionary()


async def prepared(server: Service, t: Translator, user: str, path: str, query: dict[str, str],
                   produce: Callable[[], Awaitable[Response]], *, back: str) -> Response:
    """``produce()``'s response if it is ready within WAIT_SECONDS, else the "being prepared"
    page; asking again (same user, path and query) collects it when it is done."""
    jobs = _jobs.setdefault(server, Jobs())
    jobs.drop_stale(time.monotonic())
    key: Key = (user, f"{path}:{t.language}", tuple(sorted(query.items())))
    job = jobs.jobs.get(key)
    if job is None:
        if jobs.running(user) >= MAX_JOBS_PER_USER:
            return error_page(429, t, t.text("prepare_too_many_title"), t.text("prepare_too_many"), back=back)
        job = jobs.jobs[key] = _Job(task=asyncio.create_task(produce(), name=f"prepare {path}"), user=user)
        job.task.add_done_callback(functools.partial(_finished, job))
    try:
        response = await asyncio.wait_for(asyncio.shield(job.task), WAIT_SECONDS)
    except TimeoutError:
        return _preparing_page(t, back)
    except ReportsBusy:
        jobs.jobs.pop(key, None)
        return error_page(503, t, t.text("reports_busy_title"), t.text("reports_busy"), back=back)
    except Exception:
        jobs.jobs.pop(key, None)
        log.exception("preparing %s failed", path)
        return error_page(500, t, t.text("server_error_title"), t.text("server_error"), back=back)
    jobs.jobs.pop(key, None)  # delivered: asking again computes it afresh
    return response


def _finished(job: _Job, task: asyncio.Task[Response]) -> None:
    job.finished_at = time.monotonic()
    if not task.cancelled():
        task.exception()  # retrieved here; whoever collects the job logs it


def _preparing_page(t: Translator, back: str) -> Response:
    body = (
        f'<main class="narrow"><section class="card preparing" id="preparing" aria-live="polite">'
        f'<div class="spinner" aria-hidden="true"></div><h1>{e(t.text("preparing_title"))}</h1>'
        f'<p>{e(t.text("preparing_text"))}</p>'
        f'<p><a class="button secondary" href="{e(back)}">{e(t.text("back"))}</a></p></section></main>'
    )
    head = f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">'
    page = layout(t, title=t.text("preparing_title"), body=body, head=head)
    return html_response(202, page, headers=[("Retry-After", str(REFRESH_SECONDS))])
