"""One place that resolves bundled asset files (fonts, sounds, configuration)."""

from __future__ import annotations

from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"


def asset_path(*parts: str) -> Path:
    """Return the path of a bundled asset, e.g. ``asset_path("fonts", "BeVietnamPro-Bold.ttf")``."""
    path = ASSETS_DIR.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"bundled asset missing: {path}")
    return path


def font_path(weight: str = "Regular") -> Path:
    """Path of the bundled Vietnamese-capable font (Be Vietnam Pro) in the given weight."""
    return asset_path("fonts", f"BeVietnamPro-{weight}.ttf")


def default_config_path() -> Path:
    """The configuration used when none is given: $XEPHANG_CONFIG, else the example centre."""
    import os

    return Path(os.environ.get("XEPHANG_CONFIG") or ASSETS_DIR / "config" / "example.toml")
