"""Sound: the offline speech engine, audio files by content, and the mix's arithmetic (a leaf: no domain)."""
