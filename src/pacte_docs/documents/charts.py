"""The bilan's charts (matplotlib, PNG in memory), labelled in French with French numbers."""

from __future__ import annotations

import io
import textwrap
from decimal import Decimal
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from pacte_docs.formatting import nombre  # noqa: E402
from pacte_docs.rules.aggregation import Bilan  # noqa: E402

BLUE, LIGHT, ORANGE, GREY = "#1F3A5F", "#8FA9C9", "#D9822B", "#555B66"
DPI = 150


def _style() -> None:
    available = {f.name for f in font_manager.fontManager.ttflist}
    family = next((f for f in ("Liberation Sans", "DejaVu Sans") if f in available), "sans-serif")
    plt.rcParams.update({
        "font.family": family, "font.size": 9, "axes.spines.top": False, "axes.spines.right": False,
        "axes.edgecolor": GREY, "axes.labelcolor": GREY, "xtick.color": GREY, "ytick.color": GREY,
        "axes.titleweight": "bold", "axes.titlesize": 10, "axes.titlecolor": BLUE, "svg.hashsalt": "pacte",
    })


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()


def _euros(value: float, _position: Any = None) -> str:
    if abs(value) >= 1_000_000:
        return nombre(Decimal(str(round(value / 1_000_000, 1)))) + "\u00a0M€"
    if abs(value) >= 1_000:
        return nombre(Decimal(str(round(value / 1_000)))) + "\u00a0k€"
    return nombre(Decimal(str(round(value)))) + "\u00a0€"


def _label(numero: int, intitule: str) -> str:
    return "\n".join(textwrap.wrap(f"Axe {numero} – {intitule}", 34)[:3])


def credits_par_axe(bilan: Bilan) -> bytes:
    """Credits committed and spent, per axis (horizontal bars)."""
    _style()
    axes = list(reversed(bilan.axes))
    figure, ax = plt.subplots(figsize=(6.6, 0.75 + 0.62 * len(axes)))
    rows = range(len(axes))
    engages = [float(a.chiffres.credits_engages or 0) for a in axes]
    consommes = [float(a.chiffres.credits_consommes or 0) for a in axes]
    ax.barh([r + 0.2 for r in rows], engages, height=0.38, color=BLUE, label="Crédits engagés")
    ax.barh([r - 0.2 for r in rows], consommes, height=0.38, color=LIGHT, label="Crédits consommés")
    ax.set_yticks(list(rows), [_label(a.numero, a.intitule) for a in axes])
    ax.xaxis.set_major_formatter(FuncFormatter(_euros))
    ax.set_title(f"Crédits par axe en {bilan.annee}", loc="left")
    ax.legend(loc="lower right", frameon=False)
    return _png(figure)


def repartition(bilan: Bilan) -> bytes:
    """The professional / social split of the credits committed (a ring)."""
    _style()
    split = bilan.repartition_engages
    figure, ax = plt.subplots(figsize=(4.2, 2.8))
    values = [float(split.professionnelle), float(split.sociale)]
    if sum(values) == 0:
        values = [1.0, 1.0]
    wedges, _ = ax.pie(values, colors=[BLUE, ORANGE], startangle=90, counterclock=False,
                       wedgeprops={"width": 0.38, "edgecolor": "white"})
    labels = [f"Insertion professionnelle\n{_euros(float(split.professionnelle))} "
              f"({nombre((split.part_professionnelle or Decimal(0)) * 100)}\u00a0%)",
              f"Insertion sociale\n{_euros(float(split.sociale))} ({nombre((split.part_sociale or Decimal(0)) * 100)}"
              "\u00a0%)"]
    ax.legend(wedges, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    ax.set_title(f"Répartition des crédits engagés en {bilan.annee}", loc="left")
    ax.set_aspect("equal")
    return _png(figure)


def entrees_sorties(bilan: Bilan) -> bytes:
    """Entries and positive exits per axis (grouped bars)."""
    _style()
    figure, ax = plt.subplots(figsize=(6.6, 3.0))
    positions = range(len(bilan.axes))
    entrees = [a.chiffres.entrees or 0 for a in bilan.axes]
    sorties = [a.chiffres.sorties_positives or 0 for a in bilan.axes]
    ax.bar([p - 0.2 for p in positions], entrees, width=0.38, color=BLUE, label="Entrées")
    ax.bar([p + 0.2 for p in positions], sorties, width=0.38, color=ORANGE, label="Sorties positives")
    ax.set_xticks(list(positions), [f"Axe {a.numero}" for a in bilan.axes])
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: nombre(Decimal(str(round(v))))))
    ax.set_title(f"Entrées et sorties positives par axe en {bilan.annee}", loc="left")
    ax.legend(frameon=False)
    return _png(figure)


def evolution(bilan: Bilan) -> bytes | None:
    """Last year against this year for the main figures; None without last year's figures."""
    if bilan.precedent is None:
        return None
    _style()
    measures = [("Crédits engagés", "credits_engages", True),
                ("Personnes accompagnées", "personnes_accompagnees", False),
                ("Entrées", "entrees", False), ("Sorties positives", "sorties_positives", False)]
    figure, panels = plt.subplots(1, len(measures), figsize=(6.8, 2.5))
    for ax, (title, name, money) in zip(panels, measures, strict=True):
        before = float(getattr(bilan.precedent, name) or 0)
        now = float(getattr(bilan.total, name) or 0)
        bars = ax.bar([0, 1], [before, now], color=[LIGHT, BLUE], width=0.6)
        ax.set_xticks([0, 1], [str(bilan.annee - 1), str(bilan.annee)])
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        ax.set_title("\n".join(textwrap.wrap(title, 14)), fontsize=8.5)
        for bar, value in zip(bars, (before, now), strict=True):
            text = _euros(value) if money else nombre(Decimal(str(round(value))))
            ax.annotate(text, (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom",
                        fontsize=7, color=GREY)
        ax.margins(y=0.2)
    figure.suptitle(f"Évolution {bilan.annee - 1}-{bilan.annee}", x=0.02, ha="left", fontweight="bold", color=BLUE,
                    fontsize=10)
    figure.tight_layout()
    return _png(figure)
