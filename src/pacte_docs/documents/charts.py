"""The bilan's charts (matplotlib, PNG at 300 dpi in memory), labelled in French with French numbers, drawn only
with the figures they have: a chart without data is not drawn, a series without data has no legend entry,
legends stand apart from the data, and the second series is hatched so that a black and white copy reads."""

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

from pacte_docs.formatting import effectif, montant, nombre, pourcentage  # noqa: E402
from pacte_docs.rules.aggregation import Bilan  # noqa: E402

BLUE, LIGHT, ORANGE, GREY = "#1F3A5F", "#8FA9C9", "#D9822B", "#555B66"
DPI = 300
HATCH = "////"


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


def _euros(value: float, _position: Any = None, scale: float | None = None) -> str:
    """12,5 M€ (one decimal) for amounts counted in millions; 350 k€ below; 800 € for small amounts."""
    reference = abs(scale if scale is not None else value)
    if reference >= 1_000_000:
        return nombre(Decimal(str(round(value / 1_000_000, 1)))) + "\u00a0M€"
    if reference >= 1_000:
        return nombre(Decimal(str(round(value / 1_000)))) + "\u00a0k€"
    return nombre(Decimal(str(round(value)))) + "\u00a0€"


def _known(values: list[Any]) -> bool:
    return any(v is not None for v in values)


def _label(numero: int, intitule: str) -> str:
    return "\n".join(textwrap.wrap(f"Axe {numero} – {intitule}", 34)[:3])


def credits_par_axe(bilan: Bilan) -> bytes | None:
    """Credits committed and spent, per axis (horizontal bars); None without any credit figure."""
    axes = list(reversed(bilan.axes))
    engages = [a.chiffres.credits_engages for a in axes]
    consommes = [a.chiffres.credits_consommes for a in axes]
    if not _known(engages) and not _known(consommes):
        return None
    _style()
    figure, ax = plt.subplots(figsize=(6.6, 1.0 + 0.62 * len(axes)))
    rows = range(len(axes))
    top = max(float(v or 0) for v in engages + consommes)
    if _known(engages):
        ax.barh([r + 0.2 for r in rows], [float(v or 0) for v in engages], height=0.38, color=BLUE,
                label="Crédits engagés")
    if _known(consommes):
        ax.barh([r - 0.2 for r in rows], [float(v or 0) for v in consommes], height=0.38, color=LIGHT,
                hatch=HATCH, edgecolor="white", label="Crédits consommés")
    ax.set_yticks(list(rows), [_label(a.numero, a.intitule) for a in axes])
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, p: _euros(v, p, scale=top)))
    ax.set_title(f"Crédits par axe en {bilan.annee}", loc="left", pad=22)
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, frameon=False, borderaxespad=0.2)
    return _png(figure)


def repartition(bilan: Bilan) -> bytes | None:
    """The professional / social split of the credits committed (a ring); None without that split."""
    split = bilan.repartition_engages
    if split.professionnelle is None or split.sociale is None or not split.total:
        return None
    _style()
    figure, ax = plt.subplots(figsize=(4.2, 2.8))
    values = [float(split.professionnelle), float(split.sociale)]
    wedges, _ = ax.pie(values, colors=[BLUE, ORANGE], startangle=90, counterclock=False,
                       wedgeprops={"width": 0.38, "edgecolor": "white"})
    wedges[1].set_hatch(HATCH)
    top = max(values)
    labels = [f"Insertion professionnelle\n{_euros(values[0], scale=top)} "
              f"({nombre((split.part_professionnelle or Decimal(0)) * 100)}\u00a0%)",
              f"Insertion sociale\n{_euros(values[1], scale=top)} ({nombre((split.part_sociale or Decimal(0)) * 100)}"
              "\u00a0%)"]
    ax.legend(wedges, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    ax.set_title(f"Répartition des crédits engagés en {bilan.annee}", loc="left")
    ax.set_aspect("equal")
    return _png(figure)


def entrees_sorties(bilan: Bilan) -> bytes | None:
    """Entries and positive exits per axis (grouped bars); None without any of these figures."""
    entrees = [a.chiffres.entrees for a in bilan.axes]
    sorties = [a.chiffres.sorties_positives for a in bilan.axes]
    if not _known(entrees) and not _known(sorties):
        return None
    _style()
    figure, ax = plt.subplots(figsize=(6.6, 3.2))
    positions = range(len(bilan.axes))
    if _known(entrees):
        ax.bar([p - 0.2 for p in positions], [v or 0 for v in entrees], width=0.38, color=BLUE, label="Entrées")
    if _known(sorties):
        ax.bar([p + 0.2 for p in positions], [v or 0 for v in sorties], width=0.38, color=ORANGE, hatch=HATCH,
               edgecolor="white", label="Sorties positives")
    ax.set_xticks(list(positions), [f"Axe {a.numero}" for a in bilan.axes])
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: nombre(Decimal(str(round(v))))))
    ax.set_title(f"Entrées et sorties positives par axe en {bilan.annee}", loc="left", pad=22)
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, frameon=False, borderaxespad=0.2)
    return _png(figure)


def evolution(bilan: Bilan) -> bytes | None:
    """Last year against this year for the main figures; None without last year's figures."""
    if bilan.precedent is None:
        return None
    _style()
    measures = [(title, name, money) for title, name, money in (
        ("Crédits engagés", "credits_engages", True), ("Personnes accompagnées", "personnes_accompagnees", False),
        ("Entrées", "entrees", False), ("Sorties positives", "sorties_positives", False))
        if getattr(bilan.precedent, name) is not None and getattr(bilan.total, name) is not None]
    if not measures:
        return None
    figure, panels = plt.subplots(1, len(measures), figsize=(6.8, 2.5), squeeze=False)
    for ax, (title, name, money) in zip(panels[0], measures, strict=True):
        before = float(getattr(bilan.precedent, name) or 0)
        now = float(getattr(bilan.total, name) or 0)
        bars = ax.bar([0, 1], [before, now], color=[LIGHT, BLUE], width=0.6)
        bars[0].set_hatch(HATCH)
        bars[0].set_edgecolor("white")
        ax.set_xticks([0, 1], [str(bilan.annee - 1), str(bilan.annee)])
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        ax.set_title("\n".join(textwrap.wrap(title, 14)), fontsize=8.5)
        for bar, value in zip(bars, (before, now), strict=True):
            text = _euros(value, scale=max(before, now)) if money else nombre(Decimal(str(round(value))))
            ax.annotate(text, (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center", va="bottom",
                        fontsize=7, color=GREY)
        ax.margins(y=0.2)
    figure.suptitle(f"Évolution {bilan.annee - 1}-{bilan.annee}", x=0.02, ha="left", fontweight="bold", color=BLUE,
                    fontsize=10)
    figure.tight_layout()
    return _png(figure)


def descriptions(bilan: Bilan) -> dict[str, str]:
    """What each chart shows, in words, for a reader who does not see it (its alternative text)."""
    def money(value: Decimal | None) -> str | None:
        return montant(value) if value is not None else None

    split = bilan.repartition_engages
    shares = (f"Répartition des crédits engagés en {bilan.annee} : insertion professionnelle "
              f"{money(split.professionnelle)} ({pourcentage(split.part_professionnelle)}), insertion sociale "
              f"{money(split.sociale)} ({pourcentage(split.part_sociale)}).")
    credits = "; ".join(
        f"axe {a.numero} : " + ", ".join(filter(None, [
            f"{money(a.chiffres.credits_engages)} engagés" if a.chiffres.credits_engages is not None else None,
            f"{money(a.chiffres.credits_consommes)} consommés" if a.chiffres.credits_consommes is not None
            else None])) for a in bilan.axes)
    flows = "; ".join(
        f"axe {a.numero} : " + ", ".join(filter(None, [
            f"{effectif(a.chiffres.entrees)} entrées" if a.chiffres.entrees is not None else None,
            f"{effectif(a.chiffres.sorties_positives)} sorties positives"
            if a.chiffres.sorties_positives is not None else None])) for a in bilan.axes)
    changes = []
    if bilan.precedent is not None:
        for label, name, is_money in (("crédits engagés", "credits_engages", True),
                                      ("personnes accompagnées", "personnes_accompagnees", False),
                                      ("entrées", "entrees", False), ("sorties positives", "sorties_positives", False)):
            before, now = getattr(bilan.precedent, name), getattr(bilan.total, name)
            if before is not None and now is not None:
                write = montant if is_money else effectif
                changes.append(f"{label} de {write(before)} en {bilan.annee - 1} à {write(now)} en {bilan.annee}")
    return {
        "repartition": shares,
        "credits": f"Crédits par axe en {bilan.annee} : {credits}.",
        "entrees_sorties": f"Entrées et sorties positives par axe en {bilan.annee} : {flows}.",
        "evolution": f"Évolution {bilan.annee - 1}-{bilan.annee} : " + " ; ".join(changes) + ".",
    }
