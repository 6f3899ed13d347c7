"""Rules: the signature language and its evaluator, and the facts-based checks.

Both produce hits of one shape that :mod:`logscan.diagnosis` ranks.
"""
