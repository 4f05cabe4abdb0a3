"""The benchmarks' moving parts, run at tiny sizes through a real worker (see tests/worker.py)."""

from tests.worker import migrated_data, real_worker  # noqa: F401
