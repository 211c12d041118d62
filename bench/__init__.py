"""Benchmark harness of the portal: `make bench` / `python -m bench --scale tiny|small|full`."""
