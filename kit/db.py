"""The database connection of a thread that is about to wait on something else."""

from django.db import connection


def release_connection() -> None:
    """Hand this thread's connection back to the pool while it waits on a provider: a worker with many
    threads then holds connections only for its queries, not for the providers' answers (hundreds of ms
    each), so a small pool serves many threads. Only with a pool (without one, a close is a reconnect
    later) and never inside a transaction (its work would be cut off)."""
    if connection.connection is None or connection.in_atomic_block:
        return
    if connection.settings_dict.get("OPTIONS", {}).get("pool"):
        connection.close()
