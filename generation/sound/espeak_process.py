# SPDX-License-Identifier: GPL-3.0-or-later
"""The speech engine's own process: eSpeak NG (GPL-3.0) is loaded here and nowhere else.

The studio never imports this module or the library: generation/sound/speech.py runs this file as a
separate program (`python -I -S espeak_process.py LIBRARY DATA_DIR`) and talks to it over pipes, so
the GPL engine stays at arm's length from the studio's (differently licensed) process. It uses the
standard library only (-S: not even site-packages), which also keeps its start under 50 ms.

Protocol: it first writes the engine's sample rate (uint32, little-endian). Then, for each request
line on stdin (JSON: text, voice, rate, pitch) it answers status (int32, 0 = the voice was found),
a byte count (uint32) and that many bytes of mono signed 16-bit PCM.
"""

import ctypes
import json
import struct
import sys

AUDIO_OUTPUT_SYNCHRONOUS = 2
ESPEAK_INITIALIZE_DONT_EXIT = 0x8000
ESPEAK_RATE, ESPEAK_PITCH = 1, 3
POS_CHARACTER, ESPEAK_CHARS_UTF8 = 1, 1


def main(library: str, data_dir: str) -> None:
    lib = ctypes.CDLL(library)
    callback_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                 ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
    rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data_dir.encode(), ESPEAK_INITIALIZE_DONT_EXIT)
    if rate <= 0:
        sys.exit(f"eSpeak NG could not start with the data in {data_dir}")
    chunks = []

    @callback_type
    def collect(wav, count, _events):
        if count > 0:
            chunks.append(ctypes.string_at(wav, count * 2))
        return 0  # go on

    lib.espeak_SetSynthCallback(collect)
    out = sys.stdout.buffer
    out.write(struct.pack("<I", rate))
    out.flush()
    for raw in sys.stdin.buffer:
        request = json.loads(raw)
        chunks.clear()
        status = lib.espeak_SetVoiceByName(request["voice"].encode())
        lib.espeak_SetParameter(ESPEAK_RATE, int(request["rate"]), 0)
        lib.espeak_SetParameter(ESPEAK_PITCH, int(request["pitch"]), 0)
        text = request["text"].encode() + b"\0"
        if status == 0:
            lib.espeak_Synth(text, len(text), 0, POS_CHARACTER, 0, ESPEAK_CHARS_UTF8, None, None)
            lib.espeak_Synchronize()
        pcm = b"".join(chunks)
        out.write(struct.pack("<iI", status, len(pcm)))
        out.write(pcm)
        out.flush()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
