"""scipy.stats, imported on first use: importing it costs ~2 s of CPU, which the app's first page (and
any command that never tests anything) should not pay. `from analysis.lazy_stats import stats` and use
`stats.<name>` exactly as scipy.stats."""
from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _LazyStats:
    """Attribute access imports scipy.stats once and hands back its attribute."""

    _module: ModuleType | None = None

    def __getattr__(self, name: str) -> Any:  # noqa: ANN401 - whatever scipy.stats holds
        module = type(self)._module
        if module is None:
            module = type(self)._module = importlib.import_module("scipy.stats")
        return getattr(module, name)


stats: Any = _LazyStats()
