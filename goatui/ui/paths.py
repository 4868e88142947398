"""Where the console's stylesheets are, installed from a wheel or run from the repo.

The design keeps styles in the top-level `styles/` directory; the wheel carries them as
`goatui/styles` (pyproject force-include). A source checkout has neither inside the
package, so fall back to `styles/` next to it.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path, PurePath

# Loaded first; every other .tcss in the directory follows, by name (a view's own file).
BASE_STYLESHEET = "app.tcss"


def styles_dir() -> Path:
    """The directory holding the .tcss files."""
    try:
        packaged = Path(str(resources.files("goatui") / "styles"))
    except (ModuleNotFoundError, TypeError):
        packaged = None
    if packaged is not None and (packaged / BASE_STYLESHEET).is_file():
        return packaged
    return Path(__file__).resolve().parent.parent.parent / "styles"


def stylesheets() -> list[str | PurePath]:
    """Every stylesheet: app.tcss first, then the rest by name (later ones refine)."""
    root = styles_dir()
    others = sorted(p.name for p in root.glob("*.tcss") if p.name != BASE_STYLESHEET)
    return [root / name for name in (BASE_STYLESHEET, *others)]
