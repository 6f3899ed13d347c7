"""The reading layer: bundles and archives opened safely, text decoded, secrets masked.

Nothing here knows about Azure; it imports only :mod:`logscan.errors`.
"""
