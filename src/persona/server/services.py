"""What the blueprints share, built once per app: settings and the job queue. The libraries are
per person: routes reach them through ``persona.server.ownership``."""

from __future__ import annotations

import dataclasses
import shutil
import uuid
from pathlib import Path

from flask import current_app

from persona.disk import require_free
from persona.jobs import JobQueue
from persona.settings import Settings


@dataclasses.dataclass
class Services:
    settings: Settings
    queue: JobQueue

    @classmethod
    def build(cls, settings: Settings) -> Services:
        return cls(settings, JobQueue(settings))

    def staging(self) -> Path:
        """A fresh folder for uploads; renamed into the job folder once everything checks out.
        Refused (``disk_full``, 507) before any byte is read when the upload would leave less
        than ``min_free_mb`` free."""
        from flask import request

        require_free(self.settings.jobs_dir, self.settings.min_free_mb, request.content_length or 0)
        path = Path(self.settings.jobs_dir) / f".upload-{uuid.uuid4().hex}"
        path.mkdir(parents=True)
        return path

    @staticmethod
    def discard(path: Path) -> None:
        shutil.rmtree(path, ignore_errors=True)


def services() -> Services:
    return current_app.extensions["persona"]
