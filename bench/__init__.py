"""Measurement scripts behind ``make bench`` / ``make bench-memory``: throughput, scoring cost, memory.

Each module runs with ``python -m molpeg_bench.bench.<name>`` and prints its numbers; nothing in the suite imports them.
"""
