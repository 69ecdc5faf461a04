"""Benchmarks (``make bench``): each path measured against its raw baseline in one run."""
