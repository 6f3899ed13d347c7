"""logscan sets polars' allocator to return freed memory soon (peak RSS), unless the user chose.

polars puts its own defaults in front of whatever ``_RJEM_MALLOC_CONF`` holds when it loads
(jemalloc reads options left to right, the last one winning), so the tests read the tail."""

from __future__ import annotations

import os
import subprocess
import sys

import logscan

PROBE = "import os, logscan, polars; print(os.environ.get('_RJEM_MALLOC_CONF', ''))"


def _conf(env: dict[str, str]) -> str:
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_import_sets_a_short_decay_before_polars_loads() -> None:
    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    assert _conf(env).endswith(logscan.ALLOCATOR_CONF)


def test_a_users_allocator_setting_is_kept() -> None:
    env = {**os.environ, "_RJEM_MALLOC_CONF": "narenas:2"}
    conf = _conf(env)
    assert conf.endswith("narenas:2") and logscan.ALLOCATOR_CONF not in conf


def test_nothing_is_set_when_polars_was_loaded_first() -> None:
    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    probe = "import os, polars, logscan; print(os.environ.get('_RJEM_MALLOC_CONF', ''))"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert logscan.ALLOCATOR_CONF not in out.stdout
