"""The FSE+ co-funding a convention states (pure). The FSE+ belongs to the 2021-2027 programming period
(règlement (UE) 2021/1057 instituting it); its expenditure is eligible from 1 January 2021 to 31 December 2029
(règlement (UE) 2021/1060, art. 63, § 2). A convention that asks for it must fall within those dates, and a text
that names its programme gives that period, not the convention's own years (« programmation FSE+ 2027-2029 »)."""

from __future__ import annotations

import datetime as dt
import re

from pacte_docs.errors import Invalid

PROGRAMMATION = (2021, 2027)
ELIGIBLE = (dt.date(2021, 1, 1), dt.date(2029, 12, 31))
# « FSE+ 2027-2029 », « FSE + 2023–2025 », « programme FSE+ 2021/2027 »: the years that follow the fund's name
_NAMED = re.compile(r"FSE\s*\+\s*(?:\(?\s*)?((?:19|20)\d{2})\s*[-‑–—/à]+\s*((?:19|20)\d{2})")


def check_period(debut: dt.date, fin: dt.date) -> None:
    """A convention co-funded by the FSE+ runs within its eligibility dates; Invalid otherwise, with the fix."""
    first, last = ELIGIBLE
    if debut >= first and fin > last:
        raise Invalid(f"le FSE+ {PROGRAMMATION[0]}-{PROGRAMMATION[1]} ne finance que les dépenses faites jusqu'au "
                      f"31 décembre {last.year} (règlement (UE) 2021/1060, art. 63), or la convention court "
                      f"jusqu'au {fin.strftime('%d/%m/%Y')}",
                      f"ramenez sa durée pour qu'elle finisse au plus tard le 31/12/{last.year}, ou retirez "
                      "taux_fse et faites une convention pour la programmation suivante une fois celle-ci adoptée")


def check_text(text: str | None) -> None:
    """A text naming the FSE+ programme with other years than 2021-2027: Invalid, with the fix."""
    for found in _NAMED.finditer(text or ""):
        years = (int(found.group(1)), int(found.group(2)))
        if years != PROGRAMMATION:
            raise Invalid(f"« {found.group(0)} » : la programmation du FSE+ est {PROGRAMMATION[0]}-"
                          f"{PROGRAMMATION[1]} (règlement (UE) 2021/1057)",
                          f"écrivez « programmation FSE+ {PROGRAMMATION[0]}-{PROGRAMMATION[1]} » ; les années "
                          "de la convention sont celles de sa période, que l'acte donne déjà")
