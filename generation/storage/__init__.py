"""Storage: serving stored files safely (files.py), scratch space swept when stale
(scratch.py), and repairing uploads stored under the name a user gave (upload_repair.py)."""
