"""What a run is pointed at, and the Inspect version it will use, without importing Inspect.

Web processes start runs: importing `inspect_ai` costs seconds and about 90 MB, so only the worker
(`evaluations.engine`) imports it. The version comes from the installed package's metadata.
"""

from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

try:
    INSPECT_VERSION = metadata.version("inspect-ai")
except metadata.PackageNotFoundError:  # pragma: no cover - inspect-ai is a pinned dependency
    INSPECT_VERSION = "unknown"


@dataclass
class ModelSpec:
    """What Inspect is pointed at. `api_key` goes through model_args, which Inspect keeps out of
    its logs; `identity` is what the portal records (no key)."""

    model: str
    identity: str
    base_url: str | None = None
    model_args: dict[str, Any] = field(default_factory=dict)
