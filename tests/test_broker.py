"""The serverless broker never hands a worker a half-written message."""

import threading
import time

from kombu import Connection
from kombu.transport import filesystem
from kombu.utils.json import dumps

from config import broker


def slow_dumps(payload):
    """Serialising takes a moment: long enough for a reader to list the folder meanwhile."""
    time.sleep(0.005)
    return dumps(payload)


def test_messages_written_while_a_worker_reads_are_always_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(filesystem, "dumps", slow_dumps)
    monkeypatch.setattr(broker, "dumps", slow_dumps)
    broker.install()
    options = {
        "data_folder_in": str(tmp_path),
        "data_folder_out": str(tmp_path),
        "control_folder": str(tmp_path / "control"),
        "store_processed": False,
        "polling_interval": 0.0005,  # a worker that looks at the folder all the time
    }
    sent, received, errors = 100, [], []

    producer_conn = Connection("filesystem://", transport_options=options)
    consumer_conn = Connection("filesystem://", transport_options=options)
    # Both ends declare the queue first, as a worker does when it starts: the race here is the messages'.
    outbox, inbox = producer_conn.SimpleQueue("race"), consumer_conn.SimpleQueue("race")

    def consume() -> None:
        while len(received) < sent:
            try:
                message = inbox.get(timeout=5)
            except inbox.Empty:
                return
            except Exception as exc:  # a torn message
                errors.append(exc)
                return
            received.append(message.payload["n"])
            message.ack()

    consumer = threading.Thread(target=consume)
    consumer.start()
    for n in range(sent):
        outbox.put({"n": n, "padding": "x" * 4000})
    consumer.join(timeout=60)
    producer_conn.release()
    consumer_conn.release()
    assert errors == []
    assert sorted(received) == list(range(sent))
