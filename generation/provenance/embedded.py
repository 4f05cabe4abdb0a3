"""What an MP4 or MOV carries for C2PA ingredients: its manifest store and XMP instance id.

C2PA embeds a file's manifest store in one top-level `uuid` box of ISO BMFF (C2PA 2.x,
"Embedding manifests into BMFF-based assets"): the box's extended type is C2PA's UUID, then a
version and flags, the purpose "manifest", an offset (for Merkle trees), and the store (JUMBF).
XMP sits in another top-level `uuid` box (Adobe's XMP UUID). Walking the top-level box headers
to them reads a few hundred bytes besides those boxes: signing a take makes the parent
ingredient of them, as c2pa-rs would, instead of having c2pa-rs read and validate the
provider's file a second time.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path

C2PA_UUID = bytes.fromhex("d8fec3d61b0e483c92975828877ec481")
XMP_UUID = bytes.fromhex("be7acfcb97a942e89c71999491e3afac")
PURPOSE = b"manifest"
_MAX_BOX = 64 * 1024 * 1024  # a manifest store or an XMP packet is kilobytes: bigger is neither
_INSTANCE_ID = re.compile(rb'xmpMM:InstanceID(?:="([^"]*)"|>([^<]*)<)')


@dataclass(frozen=True)
class Embedded:
    store: bytes  # the manifest store (JUMBF), as written
    instance_id: str | None  # xmpMM:InstanceID, when the file has XMP that names one


def find(path: Path) -> Embedded | None:
    """The file's embedded store and XMP instance id; None unless exactly one C2PA box holds a store."""
    uuids = [payload for kind, payload in _top_level_boxes(Path(path)) if kind == b"uuid"]
    stores = [payload[16:] for payload in uuids if payload[:16] == C2PA_UUID]
    store = _store(stores[0]) if len(stores) == 1 else None
    if store is None:
        return None
    xmp = next((payload[16:] for payload in uuids if payload[:16] == XMP_UUID), b"")
    found = _INSTANCE_ID.search(xmp)
    instance_id = (found[1] or found[2]).decode("utf-8", "replace").strip() if found else None
    return Embedded(store, instance_id or None)


def _top_level_boxes(path: Path):
    """(type, payload) of each top-level box; only `uuid` payloads are read, the rest skipped."""
    length = path.stat().st_size
    with path.open("rb") as f:
        while (start := f.tell()) + 8 <= length:
            size, kind = struct.unpack(">I4s", f.read(8))
            if size == 1:  # a 64-bit size follows the type
                size = struct.unpack(">Q", f.read(8))[0]
            elif size == 0:  # the box runs to the end of the file
                size = length - start
            body = start + size - f.tell()
            if body < 0 or start + size > length:
                return  # not a box: a truncated or foreign file
            if kind == b"uuid" and body <= _MAX_BOX:
                yield kind, f.read(body)
            else:
                f.seek(start + size)


def _store(payload: bytes) -> bytes | None:
    """The JUMBF store in a C2PA box's payload: version and flags, purpose, offset, store."""
    end = payload.find(b"\0", 4)
    if end < 0 or payload[4:end] != PURPOSE or len(payload) <= end + 1 + 8:
        return None
    return payload[end + 1 + 8:]
