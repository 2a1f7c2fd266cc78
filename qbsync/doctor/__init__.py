"""Diagnostics: `qbsync doctor`. Each check returns ok, warn or fail with the fix; the runner
(runner.py) runs them in the order a person would want to read them, one module per group.
"""
