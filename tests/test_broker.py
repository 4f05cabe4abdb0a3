"""The embedded broker never hands out a half-written message, nor one message twice."""

import os
import threading

import pytest
from kombu import Connection


@pytest.fixture
def broker_dir(tmp_path):
    return tmp_path


def connect(folder):
    return Connection("studiofs://", transport_options={
        "data_folder_in": str(folder), "data_folder_out": str(folder), "control_folder": str(folder / "control"),
        "polling_interval": 0.01})


def test_messages_cross_the_embedded_broker(broker_dir):
    with connect(broker_dir) as conn:
        queue = conn.SimpleQueue("studio-test")
        queue.put({"render": 1})
        assert queue.get(timeout=2).payload == {"render": 1}
        queue.close()


def test_a_reader_never_sees_a_partial_file_and_two_readers_never_share_one(broker_dir):
    sent = 300
    with connect(broker_dir) as producer:
        queue = producer.SimpleQueue("race")
        received, errors = [], []

        def consume():
            with connect(broker_dir) as conn:
                q = conn.SimpleQueue("race")
                while True:
                    try:
                        message = q.get(timeout=1.0)
                    except Exception as exc:  # Empty ends the reader; anything else is a bug
                        if type(exc).__name__ != "Empty":
                            errors.append(exc)
                        return
                    received.append(message.payload["n"])
                    message.ack()

        readers = [threading.Thread(target=consume) for _ in range(3)]
        for reader in readers:
            reader.start()
        for n in range(sent):
            queue.put({"n": n, "padding": "x" * 20_000})  # big enough to be caught mid-write
        for reader in readers:
            reader.join(timeout=30)
    assert errors == []
    assert sorted(received) == list(range(sent))
    assert not [f for f in os.listdir(broker_dir) if f.endswith(".part")]
