"""A scene's sound: its lines' voices (voices.py), recordings that replace them (recordings.py), its
length following its lines (timing.py), the project's sound bed (bed.py) and the mix (mix.py)."""
