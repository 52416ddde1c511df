"""`pacte archives verser`: ended conventions, with every file they hold, transferred to the Archives
départementales as a SEDA 2.3 package (see `documents.seda`)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from pacte_docs import files
from pacte_docs.documents import seda
from pacte_docs.documents.context import partenaire_context
from pacte_docs.documents.store import DocumentStore
from pacte_docs.errors import LifecycleError, WorkspaceError
from pacte_docs.formatting import date_longue
from pacte_docs.registry import journal, queries
from pacte_docs.registry.models import Convention, Document
from pacte_docs.workspace import Workspace, holding

_FINAL = {"conserver": "Keep", "eliminer": "Destroy", "éliminer": "Destroy"}
_TITLES = {"convention": "Convention", "signe": "Convention signée", "verification": "Rapport de vérification de la "
           "copie signée", "avenant": "Avenant", "renouvellement": "Acte de renouvellement",
           "denonciation": "Lettre de dénonciation", "relance": "Lettre de relance", "piece": "Pièce reçue du "
           "partenaire", "bordereau": "Bordereau de signature (circuit de visas et signatures)"}


@dataclass
class Transfer:
    chemin: Path
    references: list[str]
    fichiers: int
    identifiant: str


def rules(ws: Workspace) -> seda.Rules:
    """[archivage] of pacte.toml, checked: every field a transfer needs, said in French when missing."""
    raw = ws.config.archivage
    missing = [name for name in ("service_archives", "service_versant", "regle", "duree", "sort_final")
               if not str(raw.get(name) or "").strip()]
    if missing:
        raise WorkspaceError("Le versement aux Archives a besoin de la section [archivage] de pacte.toml : "
                             f"renseignez {', '.join(missing)} (voir les exemples commentés dans pacte.toml), "
                             "d'après le tableau de gestion du Département.")
    final = _FINAL.get(str(raw["sort_final"]).strip().lower())
    if final is None or not re.fullmatch(r"P\d+[YMD]", str(raw["duree"]).strip()):
        raise WorkspaceError("[archivage] de pacte.toml : sort_final vaut « conserver » ou « eliminer », duree une "
                             "durée ISO 8601 comme « P10Y » (dix ans).")
    return seda.Rules(str(raw["service_archives"]).strip(), str(raw["service_versant"]).strip(),
                      str(raw.get("accord") or "").strip() or None, str(raw["regle"]).strip(),
                      str(raw["duree"]).strip(), final)


def _dossier(store: DocumentStore, c: Convention, on: dt.date) -> seda.Dossier:
    situation = queries.situation(c, on)
    partners = [partenaire_context(p, c.date_effet)["nom"] for p in c.partenaires]
    dossier = seda.Dossier(c.reference, f"Convention {c.reference} — " + ", ".join(partners), c.date_effet,
                           situation.periode.fin, [c.departement.nom, *partners],
                           ["insertion", "revenu de solidarité active", "convention", c.type])
    records: list[Document] = store.documents(c.id)
    for record in records:
        data = store.intact_bytes(record)
        if data is None:
            raise LifecycleError(f"{record.chemin} est manquant ou modifié : « pacte archives verifier » dit quoi ; "
                                 "régénérez-le avant le versement.")
        kind = record.nature if record.nature in _TITLES else "convention"
        own = record.cle.removeprefix(c.reference + "-")
        title = _TITLES[kind] + ("" if record.cle == c.reference else f" ({own})")
        title += f", version {record.version}" + (" (archivée)" if record.archive else "")
        dossier.pieces.append(seda.Piece(record.chemin, f"{title} — {record.format.upper()}", data,
                                         record.cree_le.date()))
    return dossier


@holding("documents")
def verser(ws: Workspace, references: list[str], terminees: bool, sortie: Path, on: dt.date,
           force: bool = False) -> Transfer:
    """Write the SEDA package of *references* (or of every ended convention) to *sortie*; record the transfer in
    each convention's journal. A convention still in force is refused unless *force*."""
    if terminees and references:
        raise LifecycleError("Donnez des références ou --terminees, pas les deux.")
    ws.check_output(sortie, "--sortie")
    settings = rules(ws)
    with ws.db.session() as session:
        chosen = [queries.convention(session, r) for r in references] if references else [
            c for c in queries.conventions(session) if queries.situation(c, on).terminee]
        if not chosen:
            raise LifecycleError(f"Aucune convention terminée au {date_longue(on)} : rien à verser.")
        running = [c.reference for c in chosen if not queries.situation(c, on).terminee]
        if running and not force:
            raise LifecycleError(f"{', '.join(running)} : toujours en vigueur au {date_longue(on)}. Une convention "
                                 "se verse une fois terminée ; --force la verse quand même.")
        store = DocumentStore(session, ws)
        dossiers = [_dossier(store, c, on) for c in sorted(chosen, key=lambda c: c.reference)]
        events = [e for c in chosen for e in journal.entries(session, c) if e.nature != "versement"]
        first = min(c.date_effet for c in chosen)
        moment = max((e.quand for e in events), default=dt.datetime(first.year, first.month, first.day, tzinfo=dt.UTC))
        refs = [d.reference for d in dossiers]
        # the identifier follows the content: the conventions and every file they carry, byte for byte (two
        # different packages never share one; the same package made again keeps it)
        content = ",".join(refs) + "|" + ",".join(f"{p.chemin}:{files.sha256_bytes(p.data)}"
                                                  for d in dossiers for p in d.pieces)
        identifier = f"VERS-{moment:%Y%m%d}-{files.sha256_bytes(content.encode())[:12].upper()}"
        moment = moment.astimezone(dt.UTC) if moment.tzinfo else moment  # SQLite gives it back naive, in UTC
        data = seda.package(dossiers, settings, moment.replace(tzinfo=None), identifier)
        files.write_atomic(sortie, data)
        for c in chosen:
            journal.record(session, c, "versement", f"Versée aux Archives ({settings.service_archives}) : message "
                           f"{identifier}, paquet SEDA 2.3 {sortie.name} (SHA-256 {files.sha256_bytes(data)}).")
    return Transfer(sortie, refs, sum(len(d.pieces) for d in dossiers), identifier)
