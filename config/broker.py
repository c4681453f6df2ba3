"""The broker of the serverless default: kombu's filesystem transport, with atomic message writes.

Kombu's own `_put` creates the message file and then writes it, so a worker listing the folder in
between takes an empty file and dies on the JSON. Writing under a temporary name and renaming it
into place (atomic on one filesystem) means a reader only ever sees whole messages.
"""

import os
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


class Transport(filesystem.Transport):
    Channel = Channel


def install() -> None:
    """Make `filesystem://` broker URLs use this transport."""
    TRANSPORT_ALIASES["filesystem"] = "config.broker:Transport"
