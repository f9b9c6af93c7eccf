"""Jobs: persisted state (``store``), the huey queue (``queue``), running one job (``runner``),
what each kind does (``handlers``) and needs from the assets folder (``needs``), device slots
(``devicelock``), restart recovery (``recovery``) and the worker process (``worker``)."""

from persona.jobs.queue import JobQueue
from persona.jobs.store import ACTIVE, STATUSES, TERMINAL, JobStore

__all__ = ["ACTIVE", "STATUSES", "TERMINAL", "JobQueue", "JobStore"]
