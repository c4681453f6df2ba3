"""The serverless broker never hands a worker a half-written message."""

import threading

from kombu import Connection
from kombu.transport import filesystem
from kombu.utils.json import dumps

from config import broker


def test_messages_written_while_a_worker_reads_are_always_whole(tmp_path, monkeypatch):
    sent, received, errors = 100, [], []
    # Each message stays half-written (its file open, nothing in it yet) until the reader has listed the
    # folder at least once: every message meets a reader in the window, none by luck of timing.
    listed = threading.Condition()
    listings = 0
    reading = threading.Event()
    met_a_reader = []

    def listing_get(self, queue):
        nonlocal listings
        try:
            return real_get(self, queue)
        finally:
            with listed:
                listings += 1
                listed.notify_all()

    def half_written_dumps(payload):
        if reading.is_set():
            with listed:
                before = listings
                # Two listings: one that began before this file existed may end just after it was made.
                met = listed.wait_for(lambda: listings > before + 1, timeout=2)
            met_a_reader.append(met)
            if not met:
                reading.clear()  # no reader: say so at the end instead of waiting on every message
        return dumps(payload)

    real_get = broker.Channel._get
    monkeypatch.setattr(broker.Channel, "_get", listing_get)
    # Kombu's own writer too: the test must fail if the broker's atomic write is ever lost.
    monkeypatch.setattr(filesystem, "dumps", half_written_dumps)
    monkeypatch.setattr(broker, "dumps", half_written_dumps)
    broker.install()
    options = {
        "data_folder_in": str(tmp_path),
        "data_folder_out": str(tmp_path),
        "control_folder": str(tmp_path / "control"),
        "store_processed": False,
        "polling_interval": 0.0005,  # a worker that looks at the folder all the time
    }

    producer_conn = Connection("filesystem://", transport_options=options)
    consumer_conn = Connection("filesystem://", transport_options=options)
    # Both ends declare the queue first, as a worker does when it starts: the race here is the messages'.
    outbox, inbox = producer_conn.SimpleQueue("race"), consumer_conn.SimpleQueue("race")

    def consume() -> None:
        try:
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
        finally:
            reading.clear()

    consumer = threading.Thread(target=consume)
    reading.set()
    consumer.start()
    for n in range(sent):
        outbox.put({"n": n, "padding": "x" * 4000})
    consumer.join(timeout=60)
    producer_conn.release()
    consumer_conn.release()
    assert errors == []
    assert sorted(received) == list(range(sent))
    assert len(met_a_reader) >= sent and all(met_a_reader), "some messages were written with no reader around"
