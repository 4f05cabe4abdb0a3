"""Provenance: C2PA content credentials (credentials.py), the studio signing every take it keeps,
takes prepared as ingredients of the cut, and rechecking verdicts when the trust set changes."""
