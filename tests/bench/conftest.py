"""The benchmarks' moving parts, run at tiny sizes through a real worker (see tests/worker.py)."""

