"""Making a tampered take the way it happens for real: one byte of the stored video changes."""

import struct
from pathlib import Path

from generation.models import Render
from generation.provenance import credentials as provenance


def flip_a_byte_in_mdat(data: bytearray) -> bytearray:
    offset = 0
    while offset < len(data):
        size, kind = struct.unpack(">I4s", data[offset:offset + 8])
        if kind == b"mdat":
            data[offset + 8 + size // 2] ^= 0xFF  # inside the payload, past the box header
            return data
        offset += size
    raise AssertionError("no mdat box in this MP4")


def tamper(take: Render) -> Render:
    """Flip a byte in the take's stored MP4 and store the verdict a fresh read gives."""
    with take.video.open("rb") as fh:
        data = flip_a_byte_in_mdat(bytearray(fh.read()))
    with open(take.video.path, "wb") as fh:
        fh.write(data)
    report = provenance.read_with_settings(Path(take.video.path))
    Render.objects.filter(pk=take.pk).update(**provenance.take_fields(report))
    take.refresh_from_db()
    return take
