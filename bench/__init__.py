"""Benchmarks (not tests): run each as ``.venv/bin/python bench/<name>.py``; see docs/performance.md."""
