"""Chinese labels on matplotlib figures: a CJK font when one is installed, English labels when not.

matplotlib's default font, DejaVu Sans, has no Chinese glyphs: every character of a Chinese
label becomes a box, with one "Glyph … missing" warning each. So a figure asks first:

    label = chinese_labels()                      # picks a CJK font, once per kernel
    ax.set_title(label("首字节时间", "time to first byte"))

`label(zh, en)` gives the Chinese text when a CJK font was found and the English text when not,
so a figure never draws a glyph its font lacks. Without a CJK font, one line says so and how to
install one (Debian's `fonts-noto-cjk`, which `.ci/run` and `binder/apt.txt` install).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CJK_FONTS", "INSTALL_HINT", "find_cjk_font", "chinese_labels", "Labels"]

# Simplified Chinese first: the Noto/Source Han collections hold all regional variants, and the
# SC face draws the simplified forms the source material uses. Then the common system fonts of
# macOS and Windows, so a learner's own laptop works too.
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans CJK TC",
    "Noto Sans CJK JP",
    "Noto Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "PingFang SC",
    "Hiragino Sans GB",
    "Microsoft YaHei",
    "SimHei",
)
INSTALL_HINT = "sudo apt-get install fonts-noto-cjk"

_noted = False


def _known_families() -> set[str]:
    from matplotlib import font_manager

    return {entry.name for entry in font_manager.fontManager.ttflist}


def _add_system_cjk_fonts() -> None:
    """Register CJK font files installed after matplotlib built its font cache (it does not rescan)."""
    from matplotlib import font_manager

    for path in font_manager.findSystemFonts():
        if "cjk" in path.lower() or "wqy" in path.lower():
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue  # an unreadable file is not a reason to fail a figure


def find_cjk_font() -> str | None:
    """The first installed font of CJK_FONTS, or None."""
    for rescan in (False, True):
        if rescan:
            _add_system_cjk_fonts()
        known = _known_families()
        found = next((name for name in CJK_FONTS if name in known), None)
        if found:
            return found
    return None


@dataclass(frozen=True)
class Labels:
    """`label(zh, en)`: the label in the language the installed fonts can draw."""

    font: str | None

    @property
    def chinese(self) -> bool:
        return self.font is not None

    def __call__(self, zh: str, en: str) -> str:
        return zh if self.chinese else en


def chinese_labels() -> Labels:
    """Make matplotlib draw Chinese with a CJK font, if one is installed; say once if none is.

    The CJK font goes after the default sans-serif family, not instead of it: matplotlib falls
    back glyph by glyph, so Latin text keeps its usual look and only the Chinese comes from the
    CJK font.
    """
    global _noted
    import matplotlib

    font = find_cjk_font()
    if font is None:
        if not _noted:
            print(f"No Chinese font found, so figure labels are in English (to add one: {INSTALL_HINT}).")
            _noted = True
        return Labels(None)
    family = matplotlib.rcParams["font.family"]
    family = [family] if isinstance(family, str) else list(family)
    if font not in family:
        matplotlib.rcParams["font.family"] = [*family, font]
    return Labels(font)
