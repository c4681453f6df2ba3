"""Background work a member asked for, and how the page follows it (poll-and-204).

A web request never waits on a provider sweep: the view starts a job (a cache entry), enqueues the task
with the job's id and answers at once. The page then polls the job: 204 while it runs; when it ended, the
page reloads with fresh data and the outcome as a flash message. The cache is shared by every process (Redis in production, a file cache in development).
The outcome's wording is stored untranslated (a `kit.phrases` message and its parameters) and
translated for whoever reads it, in their language.
"""

import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import redis
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from django.utils.functional import Promise
from django.utils.translation import gettext_noop
from kombu.exceptions import OperationalError

from kit.degraded import live_updates_failed
from kit.phrases import Phrase, phrase, phrase_from, phrase_text

logger = logging.getLogger(__name__)

# What sending a task raises while the broker is unreachable (kombu wraps most, not all, of them).
BROKER_ERRORS = (OperationalError, redis.RedisError, OSError)

JOB_TTL = 60 * 60
# A job nobody finished after this long (a lost task, a dead worker) is shown as failed.
JOB_STALE_SECONDS = 5 * 60

RUNNING, DONE, FAILED = "running", "done", "failed"


@dataclass
class Job:
    id: str
    kind: str
    owner: str
    state: str = RUNNING
    started: float = field(default_factory=time.time)
    message: str = ""
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return self.state != RUNNING

    @property
    def ok(self) -> bool:
        return self.state == DONE

    def text(self) -> str:
        """The outcome in the reader's language (`kit.phrases`)."""
        # `message` holds the phrase's msgid, `params` the rest of it (its parameters, a plural).
        return phrase_text(phrase_from(self.message, self.params))


def _key(job_id: str) -> str:
    return f"simdesk:job:{job_id}"


def job_start(*, kind: str, owner: str) -> Job:
    """A new running job of `kind` that only `owner` (see `job_owner`) may read."""
    job = Job(id=uuid.uuid4().hex, kind=kind, owner=owner)
    cache.set(_key(job.id), job.__dict__, JOB_TTL)
    return job


def job_enqueue(task: Any, *args: Any, kind: str, owner: str) -> Job:
    """Start a job and enqueue `task(*args, job=<id>)` on the configured queue once the request's
    transaction commits. The request returns at once; the task records the outcome (`job_finish`)."""
    job = job_start(kind=kind, owner=owner)
    queue = settings.CELERY_TASK_DEFAULT_QUEUE

    def enqueue() -> None:
        try:
            task.apply_async(args=args, kwargs={"job": job.id}, queue=queue)
        except BROKER_ERRORS as exc:
            # The broker is down: the page must not fail for it. The job ends failed (the page says so if
            # the cache still holds it) and the base layout says live updates are delayed.
            logger.warning("could not enqueue %s: %s", kind, type(exc).__name__)
            live_updates_failed()
            job_finish(
                job.id, ok=False, message=gettext_noop("Live updates are delayed: try again in a minute.")
            )

    transaction.on_commit(enqueue)
    return job


def job_finish(job_id: str | None, *, ok: bool, message: str | Promise | Phrase, **params: Any) -> None:
    """Record the outcome: `message` (a `gettext_noop` msgid, an `ngettext_lazy` marker or a phrase) with
    `params`, kept untranslated (`kit.phrases.phrase`) and said in the reader's language."""
    if not job_id:
        return
    stored = cache.get(_key(job_id))
    if stored is None:
        return
    words = phrase(message, **params).data()
    stored.update(state=DONE if ok else FAILED, message=words.pop("m"), params=words)
    cache.set(_key(job_id), stored, JOB_TTL)


def job_get(job_id: str | None, *, owner: str, kind: str | None = None) -> Job | None:
    """The job if it exists and belongs to `owner` (and is of `kind`); a stale one reads as failed."""
    stored = cache.get(_key(job_id)) if job_id and len(job_id) <= 64 else None
    if stored is None or stored.get("owner") != owner or (kind and stored.get("kind") != kind):
        return None
    job = Job(**stored)
    if not job.finished and time.time() - job.started > JOB_STALE_SECONDS:
        job.state, job.message, job.params = FAILED, gettext_noop("No answer in time; try again later."), {}
    return job


def job_tell(request: HttpRequest, job: Job) -> None:
    """Put a finished job's outcome in the member's flash messages, once (a reload does not repeat it)."""
    if job.finished and cache.add(_key(job.id) + ":told", True, JOB_TTL):
        messages.add_message(request, messages.SUCCESS if job.ok else messages.ERROR, job.text())


def job_follow(request: HttpRequest, job_id: str | None, *, owner: str, kind: str) -> Job | None:
    """For a page named with `?job=`: the job while it runs (the page polls it); once it ended, None and
    its outcome among the flash messages."""
    job = job_get(job_id, owner=owner, kind=kind)
    if job is not None and job.finished:
        job_tell(request, job)
        return None
    return job


def job_owner(team: Any) -> str:
    """Jobs belong to a team: any of its members may follow one, nobody else."""
    return f"team:{team.pk}"
