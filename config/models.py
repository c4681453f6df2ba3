"""What the house itself records: the heartbeat of the scheduled work."""

from django.db import models


class Heartbeat(models.Model):
    """When a periodic job last ran, one row per job (`config.liveness`): the beat tick proves that beat
    schedules and a worker runs. Kept in the database, which every process shares and /healthz reads anyway,
    so it survives a cache outage and is the same for every web process on every machine."""

    name = models.CharField(max_length=40, primary_key=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"
