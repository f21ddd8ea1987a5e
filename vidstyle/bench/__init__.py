"""Benchmarks of the real pipeline per resolution, and the naive loop it is compared with (layer 4)."""
