"""The broker of the serverless default: kombu's filesystem transport, made safe for concurrent processes.

Kombu's own `_put` creates the message file and then writes it, so a worker listing the folder in
between takes an empty file and dies on the JSON. Writing under a temporary name and renaming it
into place (atomic on one filesystem) means a reader only ever sees whole messages. Exchange tables
had the same gap when first created: they are created whole too, and a read that still finds one
empty waits for its writer.
"""

import os
import time
import uuid
from time import monotonic

from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        folder = self.data_folder_out
        final = os.path.join(folder, f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg")
        # The reader only takes names ending in ".<queue>.msg"; this one ends in ".partial".
        partial = os.path.join(folder, f".{uuid.uuid4()}.partial")
        with open(partial, "wb") as handle:
            handle.write(str_to_bytes(dumps(payload)))
        os.replace(partial, final)

    def get_table(self, exchange):
        return _while_being_written(lambda: super(Channel, self).get_table(exchange))

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        return _while_being_written(
            lambda: super(Channel, self)._queue_bind(exchange, routing_key, pattern, queue)
        )


def _while_being_written(read, attempts: int = 100):
    """Retry a read that found a just-created, still empty file (invalid JSON) for up to about a second."""
    for _ in range(attempts - 1):
        try:
            return read()
        except ValueError:
            time.sleep(0.01)
    return read()


class Transport(filesystem.Transport):
    Channel = Channel


def install() -> None:
    """Make `filesystem://` broker URLs use this transport."""
    TRANSPORT_ALIASES["filesystem"] = "config.broker:Transport"
