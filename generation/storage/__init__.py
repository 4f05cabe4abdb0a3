"""Storage: serving stored files safely (files.py), scratch space swept when stale
(scratch.py), repairing uploads stored under the name a user gave (upload_repair.py), reference images
checked and fitted (reference.py) and provider keys encrypted at rest (crypto.py)."""
