"""The life of a convention: signature, renewal, avenants, dénonciation, and its append-only journal."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pacte_docs import files
from pacte_docs.documents import pdf, signatures
from pacte_docs.documents.signatures import Verification
from pacte_docs.documents.store import DocumentStore
from pacte_docs.errors import LifecycleError, PacteError
from pacte_docs.formatting import date_longue
from pacte_docs.kinds import ArticleChange
from pacte_docs.registry import journal, queries
from pacte_docs.registry.models import Avenant, Convention, Renouvellement
from pacte_docs.rules import clauses, periods
from pacte_docs.services import circuit, generation
from pacte_docs.workspace import Workspace, holding

# A scanned act of a hundred pages at 300 dpi stays well under this; a larger file is not a signed convention.
SIGNED_COPY_LIMIT = 100 * files.MIB


def record_signature(session: Session, ws: Workspace, reference: str, date: dt.date,
                     fichier: Path | None = None, force: bool = False, on: dt.date | None = None,
                     copy: tuple[bytes, Verification] | None = None) -> tuple[str | None, Verification | None]:
    """Record the signature date; with a signed copy, check it (`documents.signatures`: its electronic
    signatures, that its text is this convention's), refuse it when it does not prove the signature — unless
    *force*, which records it with what was found — and archive it read-only beside its JSON report. Returns the
    archived copy's path and the findings, if a copy was given. *copy*: a copy checked already (the Département's
    own electronic signature, services.esignature). A copy that adds a signature to the signed copy recorded (a
    partner signing after the Département) is recorded at a later date: the date of the last signature."""
    c = queries.convention(session, reference)
    added = c.date_signature is not None and fichier is not None and _adds_a_signature(session, ws, c, fichier)
    if c.date_signature is not None and (date < c.date_signature if added else date != c.date_signature):
        raise LifecycleError(f"La convention {reference} est déjà signée (le {date_longue(c.date_signature)}). "
                             "Une correction passe par un nouvel import de la convention ; une signature ajoutée "
                             "à la copie signée enregistrée (celle d'un partenaire après le Département) se donne "
                             "avec --fichier à la date de cette dernière signature.")
    not_in_future("La date de signature", date, on or periods.today(), force)
    if c.deliberation_date and date < c.deliberation_date:
        raise LifecycleError(f"La signature ({date_longue(date)}) ne peut précéder la délibération qui l'autorise "
                             f"({date_longue(c.deliberation_date)}).")
    # its visas first, when pacte.toml sets a circuit (a signature added to a signed copy went through it already)
    forced = None if added else circuit.check_signable(session, ws, c, force)
    archived = archived_sha = None
    verification = None
    text = (f"Signature ajoutée à la copie signée le {date_longue(date)} : la convention est signée de toutes ses "
            "parties." if added else f"Convention signée le {date_longue(date)}.") + (f" {forced}" if forced else "")
    if fichier is not None or copy is not None:
        data, verification = copy if copy is not None else _verified_copy(session, ws, c, Path(str(fichier)))
        documents = DocumentStore(session, ws)
        if verification.refus and not force:
            raise LifecycleError(f"La copie signée {fichier or ''} ne prouve pas la signature de {reference} :\n"
                                 + "\n".join(f"  • {reason}" for reason in verification.refus)
                                 + "\nRien n'a été enregistré. Si vous l'acceptez en connaissance de cause, relancez "
                                   "avec --force : la copie est enregistrée avec ce constat.")
        verification.force = bool(verification.refus)
        version = documents.next_version(reference, "signe", "pdf")
        suffix = "" if version == 1 else f"-{version}"
        target = ws.archives / "conventions" / reference / f"{reference}-signee{suffix}.pdf"
        document = documents.freeze(target, data, cle=reference, nature="signe", convention_id=c.id)
        document.verification = verification.as_json()
        report = json.dumps(document.verification, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        documents.freeze(target.with_name(f"{target.stem}-verification.json"), report.encode("utf-8"),
                         cle=reference, nature="verification", convention_id=c.id)
        archived, archived_sha = document.chemin, document.sha256
        documents.write_sums()
        text += f" Copie signée : {verification.verdict}" + (" (enregistrée avec --force)." if force else ".")
    c.date_signature = date
    journal.record(session, c, "signature", text, date=date, document=archived, sha256=archived_sha)
    session.flush()
    queries.refresh_echeances(session, [c])
    return archived, verification


def _adds_a_signature(session: Session, ws: Workspace, c: Convention, fichier: Path) -> bool:
    """Whether *fichier* is the signed copy last recorded with something added after it (an incremental update:
    a partner's signature after the Département's), its verification saying what was added."""
    documents = DocumentStore(session, ws)
    recorded = [d for d in documents.documents(c.id) if d.nature == "signe"]
    before = documents.intact_bytes(recorded[-1]) if recorded else None
    data = files.read_input(fichier, SIGNED_COPY_LIMIT, "le PDF signé")
    return before is not None and len(data) > len(before) and data.startswith(before)


def _verified_copy(session: Session, ws: Workspace, c: Convention, fichier: Path) -> tuple[bytes, Verification]:
    """A signed copy's bytes and what its verification finds (signatures, text compared with the act, the tool's
    own unsigned PDF refused) — nothing recorded."""
    data = files.read_input(fichier, SIGNED_COPY_LIMIT, "le PDF signé")
    pdf.readable_pages(data, f"le PDF signé {fichier}")
    documents = DocumentStore(session, ws)
    generated = documents.current(c.reference, "convention", "pdf")
    verification = signatures.verify(data, documents.intact_bytes(generated) if generated else None, c.reference,
                                     ws.authorities())
    digest = files.sha256_bytes(data)
    for made in documents.documents(c.id):
        if made.format == "pdf" and made.nature == "convention" and made.sha256 == digest:
            verification.refus.append(f"la copie est, octet pour octet, le PDF que pacte a produit ({made.chemin}) "
                                      "et qui n'est pas signé")
            break
    return data, verification


def check_signed_copy(ws: Workspace, reference: str, date: dt.date, fichier: Path,
                      on: dt.date | None = None) -> Verification:
    """What recording *fichier* as the signed copy of *reference*, signed on *date*, would find (the staff pages
    show it before the juriste confirms): nothing is recorded."""
    with ws.db.session() as session:
        c = queries.convention(session, reference)
        if c.date_signature is not None and c.date_signature != date:
            raise LifecycleError(f"La convention {reference} est déjà signée (le {date_longue(c.date_signature)}).")
        not_in_future("La date de signature", date, on or periods.today(), False)
        circuit.check_signable(session, ws, c, False)
        return _verified_copy(session, ws, c, fichier)[1]


def not_in_future(what: str, date: dt.date | None, on: dt.date, force: bool) -> None:
    """An act is recorded when it is taken: one dated after today (*on*) only with --force (a date typed wrong
    would otherwise move the deadlines of a convention without anyone noticing)."""
    if date is not None and date > on and not force:
        raise LifecycleError(f"{what} ({date_longue(date)}) est postérieure à aujourd'hui ({date_longue(on)}) : "
                             "enregistrez l'acte le jour où il est pris, ou relancez avec --force pour l'enregistrer "
                             "d'avance.")


def record_renewal(session: Session, reference: str, date: dt.date, deliberation: str | None,
                   on: dt.date, force: bool = False) -> periods.Periode:
    """Record an express renewal decision, which opens the next period; returns that period."""
    deliberation = typed_text(deliberation, "Numéro de la délibération", 50, multiline=False)
    not_in_future("La date du renouvellement", date, on, force)
    c = queries.convention(session, reference)
    if c.renouvellement != "expresse":
        why = "se reconduit d'elle-même" if c.renouvellement == "tacite" else "n'est pas renouvelable"
        raise LifecycleError(f"La convention {reference} {why} (renouvellement « {c.renouvellement} »).")
    if c.date_signature is None:
        raise LifecycleError(f"La convention {reference} n'est pas signée : enregistrez d'abord sa signature "
                             f"(pacte conventions signer {reference} --date AAAA-MM-JJ).")
    if c.date_denonciation is not None:
        raise LifecycleError(f"La convention {reference} a été dénoncée le {date_longue(c.date_denonciation)}.")
    if len(c.renouvellements) >= c.renouvellements_max:
        raise LifecycleError(f"La convention {reference} a déjà été renouvelée {len(c.renouvellements)} fois, le "
                             f"maximum prévu ({c.renouvellements_max}). Il faut conclure une nouvelle convention.")
    last = periods.periodes(queries.faits(c), max(on, date))[-1]
    if date > last.fin:
        raise LifecycleError(f"La décision du {date_longue(date)} est postérieure à la fin de la période "
                             f"({date_longue(last.fin)}) : la convention a expiré, il faut en conclure une nouvelle "
                             f"(pacte conventions succeder {reference} --reference NOUVELLE-REFERENCE).")
    late = clauses.late_renewal(reference, last, date)
    if late is not None and not force:
        raise LifecycleError(f"{late.raison}\n{late.suite}\nRien n'a été enregistré. Si le service juridique a "
                             "décidé de passer outre, relancez avec --force : le journal dira que la clause a été "
                             "écartée.")
    c.renouvellements.append(Renouvellement(numero=len(c.renouvellements) + 1, date=date,
                                            deliberation_numero=deliberation))
    session.flush()
    queries.refresh_echeances(session, [c])
    opened = periods.periodes(queries.faits(c), on)[-1]
    text = f"Renouvellement décidé le {date_longue(date)}"
    text += f" (délibération n° {deliberation})" if deliberation else ""
    text += f" : période {opened.numero} du {date_longue(opened.debut)} au {date_longue(opened.fin)}."
    if late is not None:
        text += (f" Clause de renouvellement écartée (--force) : la décision est postérieure à la date limite du "
                 f"{date_longue(last.date_limite)} que fixe la convention.")
    journal.record(session, c, "renouvellement", text, date=date)
    return opened




def typed_text(value: str | None, what: str, limit: int, *, multiline: bool = True) -> str | None:
    """A text typed for an act (an option of the command line, a field of the staff pages), checked as the import
    checks the same field (import_format.text): no control character, no line break where one line is wanted,
    bounded. One validation for a value, whatever its way in."""
    from pacte_docs.errors import Invalid
    from pacte_docs.intake import import_format

    if value is None:
        return None
    try:
        return import_format.text(limit, multiline)(value)
    except Invalid as exc:
        raise LifecycleError(f"{what} : {exc.message} — {exc.fix}.") from None


def typed_date(value: str | None, what: str, *, required: bool = False) -> dt.date | None:
    """A date typed for an act (a form's field), read as the import reads a date (15/03/2025, 2025-03-15); an
    empty one is None, or refused when *required*."""
    from pacte_docs.errors import Invalid
    from pacte_docs.intake import import_format

    text = (value or "").strip()
    if not text:
        if required:
            raise LifecycleError(f"{what} : indiquez la date.")
        return None
    try:
        return import_format.date(text)
    except Invalid as exc:
        raise LifecycleError(f"{what} « {text} » : {exc.message}.") from None


def article_changes(changes: list[tuple[str, str, str]]) -> list[dict[str, str]]:
    """(mode, article, new wording) → the avenant's recorded changes, checked: an article number (« 4 », « 1er »,
    « 7 bis ») and a wording that is not empty."""
    result = []
    for mode, article, texte in changes:
        number = " ".join(article.split()).removeprefix("article ").removeprefix("Article ")
        texte = typed_text(texte, f"Nouvelle rédaction de l'article {number}", 10000) or ""
        # ASCII digits only: « ٣ » or « １ » are no article number, nor 0 or a number of thirty digits
        if not re.fullmatch(r"[1-9][0-9]{0,2}(er)?( (bis|ter|quater))?", number, re.ASCII):
            raise LifecycleError(f"Numéro d'article « {article} » incompréhensible : donnez le numéro de l'article de "
                                 "la convention que l'avenant modifie (4, 1er, 7 bis).")
        if not texte.strip():
            raise LifecycleError(f"La nouvelle rédaction de l'article {number} est vide : donnez le texte entre "
                                 "guillemets.")
        result.append({"article": number, "mode": ArticleChange(mode).value, "texte": " ".join(texte.split())})
    suffixes = ("", "bis", "ter", "quater")
    return sorted(result, key=lambda m: (int(m["article"].split()[0].removesuffix("er")),
                                         suffixes.index((m["article"].split() + [""])[1])))


def record_avenant(session: Session, reference: str, objet: str, date: dt.date | None,
                   nouvelle_fin: dt.date | None, on: dt.date, deliberation: str | None = None,
                   date_deliberation: dt.date | None = None,
                   changes: list[tuple[str, str, str]] | None = None, force: bool = False,
                   titles: dict[str, str] | None = None) -> Avenant:
    """Record a numbered avenant, approved by its own délibération; it may move the end of the current period and
    gives the new wording of each article it changes (*changes*: mode « complete » or « remplace », article,
    wording; *titles*: the articles of the signed text, by number, which the changes must name). Only a signed
    convention is amended; one that has ended takes no avenant, unless it carries its end further."""
    objet = typed_text(objet, "Objet de l'avenant", 4000) or ""
    deliberation = typed_text(deliberation, "Numéro de la délibération", 60, multiline=False)
    not_in_future("La date de l'avenant", date, on, force)
    c = queries.convention(session, reference)
    if c.date_signature is None:
        raise LifecycleError(f"La convention {reference} n'est pas signée : un projet ne s'amende pas, il se corrige. "
                             "Modifiez ses données (classeur ou fichier d'import), réimportez-les, puis « pacte "
                             f"conventions generer {reference} » en refait le projet.")
    if not objet.strip():
        raise LifecycleError("L'objet de l'avenant est vide : décrivez ce qu'il modifie (--objet \"…\").")
    modifications = article_changes(changes or [])
    for change in modifications:
        number = "1" if change["article"] == "1er" else change["article"]
        if titles is not None and number not in titles:
            listed = " ; ".join(f"{n} « {t} »" for n, t in titles.items())
            raise LifecycleError(f"La convention {reference} n'a pas d'article {change['article']} : l'avenant ne peut "
                                 f"modifier qu'un article du texte signé. Ses articles : {listed}.")
    if date is not None and date_deliberation is not None and date < date_deliberation:
        raise LifecycleError(f"L'avenant ({date_longue(date)}) ne peut précéder la délibération qui l'approuve "
                             f"({date_longue(date_deliberation)}).")
    current = queries.situation(c, date or on)
    if current.terminee and (nouvelle_fin is None or nouvelle_fin <= current.periode.fin):
        raise LifecycleError(f"La convention {reference} a pris fin le {date_longue(current.periode.fin)} : un "
                             f"avenant du {date_longue(date or on)} ne peut plus la modifier. Pour la prolonger, "
                             "donnez sa nouvelle fin (--nouvelle-fin) ; sinon, concluez une nouvelle convention.")
    if nouvelle_fin is not None and nouvelle_fin <= current.periode.debut:
        raise LifecycleError(f"La nouvelle fin ({date_longue(nouvelle_fin)}) doit suivre le début de la période en "
                             f"cours ({date_longue(current.periode.debut)}).")
    numero = len(c.avenants) + 1
    added = Avenant(numero=numero, objet=objet.strip(), date=date, periode=current.periode.numero,
                    nouvelle_fin=nouvelle_fin, deliberation_numero=(deliberation or "").strip() or None,
                    deliberation_date=date_deliberation, modifications=modifications)
    c.avenants.append(added)
    session.flush()
    queries.refresh_echeances(session, [c])
    text = f"Avenant n° {numero} : {objet.strip()}"
    if nouvelle_fin:
        text += f" Fin de période portée au {date_longue(nouvelle_fin)}."
    for change in modifications:
        text += f" Article {change['article']} {ArticleChange(change['mode']).participe}."
    journal.record(session, c, "avenant", text, date=date)
    return added


def record_denonciation(session: Session, reference: str, date: dt.date, motif: str | None,
                        force: bool, on: dt.date | None = None, deliberation: str | None = None,
                        date_deliberation: dt.date | None = None) -> periods.Situation:
    """Record a dénonciation of a signed convention; for a tacit convention past its decision deadline, or dated
    after today, only with force. The délibération that decides it (*deliberation*, *date_deliberation*) may come
    later: the same command, same date, completes it while the letter is still a draft."""
    motif = typed_text(motif, "Motif", 2000)
    deliberation = typed_text(deliberation, "Numéro de la délibération", 60, multiline=False)
    not_in_future("La date de la dénonciation", date, on or periods.today(), force)
    c = queries.convention(session, reference)
    if date_deliberation is not None and date_deliberation > date:
        raise LifecycleError(f"La délibération du {date_longue(date_deliberation)} est postérieure à la "
                             f"dénonciation du {date_longue(date)} : la lettre notifie une décision déjà prise. "
                             "Vérifiez les deux dates.")
    if c.date_denonciation is not None and c.date_denonciation == date and (deliberation or date_deliberation) \
            and not (c.denonciation_deliberation_numero and c.denonciation_deliberation_date):
        c.denonciation_deliberation_numero = deliberation or c.denonciation_deliberation_numero
        c.denonciation_deliberation_date = date_deliberation or c.denonciation_deliberation_date
        journal.record(session, c, "denonciation", "Délibération de la dénonciation complétée : n° "
                       f"{c.denonciation_deliberation_numero or '…'} du "
                       f"{date_longue(c.denonciation_deliberation_date) if c.denonciation_deliberation_date else '…'}"
                       ".", date=date)
        session.flush()
        return queries.situation(c, date)
    if c.date_signature is None:
        raise LifecycleError(f"La convention {reference} n'est pas signée : un projet ne se dénonce pas. S'il est "
                             "abandonné, il suffit de ne pas le signer ; s'il a été signé, enregistrez d'abord sa "
                             f"signature (pacte conventions signer {reference} --date AAAA-MM-JJ).")
    if c.date_denonciation is not None:
        raise LifecycleError(f"La convention {reference} est déjà dénoncée (le {date_longue(c.date_denonciation)}).")
    current = queries.situation(c, date)
    if current.terminee:
        raise LifecycleError(f"La convention {reference} a pris fin le {date_longue(current.periode.fin)} : "
                             "il n'y a plus rien à dénoncer.")
    if c.renouvellement == "tacite" and date > current.date_limite and not force:
        raise LifecycleError(
            f"Trop tard pour dénoncer {reference} : le préavis de {c.preavis_mois} mois imposait de le faire au plus "
            f"tard le {date_longue(current.date_limite)}. La convention sera reconduite le "
            f"{date_longue(current.periode.fin + dt.timedelta(days=1))}. Si les parties en sont d'accord, "
            "relancez avec --force."
        )
    c.date_denonciation = date
    c.motif_denonciation = motif
    c.denonciation_deliberation_numero, c.denonciation_deliberation_date = deliberation, date_deliberation
    text = f"Dénonciation le {date_longue(date)} ; la convention prend fin le {date_longue(current.periode.fin)}."
    if motif:
        text += f" Motif : {motif}"
    if force and c.renouvellement == "tacite" and date > current.date_limite:
        text += " (enregistrée hors délai, avec --force)"
    journal.record(session, c, "denonciation", text, date=date)
    session.flush()
    queries.refresh_echeances(session, [c])
    return queries.situation(c, date)


# ---------------------------------------------------------------- the commands


@dataclass
class Step:
    """What a lifecycle command did: a French summary and the documents it (re)generated."""

    lines: list[str] = field(default_factory=list)
    generated: list[generation.GenerationReport] = field(default_factory=list)


def regenerate(ws: Workspace, reference: str, step: Step) -> None:
    """Regenerate the convention's documents if they were made before (the PDF too if there was one)."""
    with ws.db.session() as session:
        documents = DocumentStore(session, ws)
        docx = documents.current(reference, "convention", "docx")
        pdf = documents.current(reference, "convention", "pdf")
    if docx is not None:
        step.generated.append(generation.generate(ws, [reference], with_pdf=pdf is not None,
                                                  pdfa=bool(pdf and pdf.pdfa)))


@holding("registre")
@holding("documents")  # the signed copy is archived
def signer(ws: Workspace, reference: str, date: dt.date, fichier: Path | None = None, force: bool = False,
           on: dt.date | None = None) -> Step:
    step = Step()
    with ws.db.session() as session:
        already = _already_signed(session, ws, reference, date, fichier)
    if already is not None:  # the same signature, the same copy, just recorded (by another run, maybe)
        step.lines.append(already)
        return step
    with ws.db.session() as session:
        archived, verification = record_signature(session, ws, reference, date, fichier, force, on)
    step.lines.append(f"{reference} : signature enregistrée au {date_longue(date)}.")
    if verification is not None:
        step.lines.extend(signatures.describe(verification))
    if archived:
        step.lines.append(f"PDF signé archivé en lecture seule : {archived}")
    regenerate(ws, reference, step)
    return step


def _already_signed(session: Session, ws: Workspace, reference: str, date: dt.date,
                    fichier: Path | None) -> str | None:
    """What to say when this signature is recorded already, with this very copy (or without one, none being
    given): a repeat changes nothing. None otherwise."""
    c = queries.convention(session, reference)
    if c.date_signature != date:
        return None
    copies = [d for d in DocumentStore(session, ws).documents(c.id) if d.nature == "signe"]
    if fichier is None:
        return f"{reference} : signature déjà enregistrée au {date_longue(date)} ; rien n'a changé."
    digest = files.sha256_bytes(files.read_input(fichier, SIGNED_COPY_LIMIT, "le PDF signé"))
    same = next((d for d in copies if d.sha256 == digest), None)
    if same is None:
        return None
    return (f"{reference} : cette copie signée est déjà enregistrée ({same.chemin}), avec la signature du "
            f"{date_longue(date)} ; rien n'a changé.")


def _act(ws: Workspace, step: Step, reference: str, nature: str, numero: int | None, label: str,
         with_pdf: bool) -> None:
    """Produce the act that records a decision (its paths are in step.generated). The decision is recorded
    already: if the act cannot be made, the error says so and how to make it once the cause is fixed."""
    step.lines.append(f"{label} :")
    try:
        step.generated.append(generation.generate_act(ws, reference, nature, numero, with_pdf=with_pdf))
    except PacteError as exc:
        exc.args = (f"{step.lines[0]}\nMais l'acte n'a pas pu être produit : {exc}\nUne fois la cause corrigée, "
                    f"« pacte conventions generer {reference} » le produira.",)
        raise


@holding("registre")
def renouveler(ws: Workspace, reference: str, date: dt.date, deliberation: str | None, on: dt.date, *,
               with_pdf: bool = True, force: bool = False) -> Step:
    """Record an express renewal and produce its act (modeles/renouvellement.docx); the convention's own text,
    once signed, is not touched."""
    step = Step()
    deliberation = typed_text(deliberation, "Numéro de la délibération", 50, multiline=False)
    with ws.db.session() as session:  # the same decision run twice (two terminals): recorded once
        same = next((r for r in queries.convention(session, reference).renouvellements
                     if r.date == date and (r.deliberation_numero or None) == (deliberation or None)), None)
        if same is not None:
            step.lines.append(f"{reference} : le renouvellement n° {same.numero} décidé le {date_longue(date)} est "
                              "déjà enregistré ; rien n'a changé.")
            return step
        opened = record_renewal(session, reference, date, deliberation, on, force)
    step.lines.append(f"{reference} : renouvellement enregistré ; période {opened.numero} du "
                      f"{date_longue(opened.debut)} au {date_longue(opened.fin)} (date limite de décision : "
                      f"{date_longue(opened.date_limite)}).")
    _act(ws, step, reference, "renouvellement", opened.numero - 1, "Acte de renouvellement", with_pdf)
    return step


@holding("registre")
def succeder(ws: Workspace, reference: str, nouvelle: str, on: dt.date, date_effet: dt.date | None = None) -> Step:
    """A new draft convention *nouvelle* that takes up convention *reference* (ended, or past the deadline its
    clause sets for a renewal): the same parties, object, clauses and amounts, a period starting the day after
    the old one ends (or on *date_effet*), no délibération and no signature yet — a draft to complete, have
    approved and sign. Each journal says where the other comes from."""
    from pacte_docs.errors import Invalid
    from pacte_docs.intake.exporter import convention_record
    from pacte_docs.intake.import_format import key

    try:
        nouvelle = key("référence")(nouvelle)
    except Invalid as exc:
        raise LifecycleError(f"--reference : {exc.message} ; {exc.fix}.") from None
    step = Step()
    with ws.db.session() as session:
        old = queries.convention(session, reference)
        if session.scalar(select(Convention.id).where(Convention.reference == nouvelle)) is not None:
            raise LifecycleError(f"La convention {nouvelle} existe déjà : choisissez une autre référence "
                                 "(« pacte conventions lister » montre celles qui sont prises).")
        ends = periods.periodes(queries.faits(old), on)[-1].fin
        start = date_effet or ends + dt.timedelta(days=1)
        data = convention_record(old) | {
            "reference": nouvelle, "date_effet": start, "date_signature": None,
            "deliberation": {"instance": old.deliberation_instance, "numero": None, "date": None},
            "deliberation_partenaire": {"instance": old.deliberation_partenaire_instance, "numero": None,
                                        "date": None}}
        data["responsable"] = {"nom": old.responsable_nom, "email": old.responsable_email}
        created, _ = queries.upsert_convention(session, data, old.departement, list(old.partenaires), None)
        session.flush()
        queries.refresh_echeances(session, [created])
        journal.record(session, created, "import", f"Brouillon préparé pour succéder à la convention {reference} "
                       f"(qui prend fin le {date_longue(ends)}) : mêmes parties et clauses, prise d'effet le "
                       f"{date_longue(start)}.")
        journal.record(session, old, "succession", f"La convention {nouvelle} est préparée pour lui succéder, à "
                       f"compter du {date_longue(start)}.")
        changed = [f"avenant n° {a.numero} : " + (", ".join(
            f"article {m['article']} {ArticleChange(m['mode']).participe}" for m in a.modifications or [])
            or a.objet.rstrip(".")) for a in old.avenants]
    step.lines.append(f"{nouvelle} : brouillon créé pour succéder à {reference}, prise d'effet le "
                      f"{date_longue(start)} ; parties, objet et clauses repris.")
    if changed:
        step.lines.append(f"Attention : les avenants de {reference} ne sont pas repris, leurs nouvelles rédactions "
                          f"n'étant pas dans ses données ({' ; '.join(changed)}). Reportez-les dans les données de "
                          f"{nouvelle} (classeur ou fichier d'import) avant d'en faire le projet.")
    step.lines.append(f"À compléter : la délibération qui l'approuve, puis la signature. « pacte conventions generer "
                      f"{nouvelle} » en fait le projet.")
    return step


@holding("registre")
def avenant(ws: Workspace, reference: str, objet: str, date: dt.date | None, nouvelle_fin: dt.date | None,
            on: dt.date, *, with_pdf: bool = True, deliberation: str | None = None,
            date_deliberation: dt.date | None = None, changes: list[tuple[str, str, str]] | None = None,
            force: bool = False) -> Step:
    """Record an avenant (with the délibération approving it and the articles it changes) and produce it from
    modeles/avenant.docx."""
    step = Step()
    with ws.db.session() as session:
        amended = queries.convention(session, reference)
        texts = generation.articles(ws, amended) if changes else {}
        signed = {n: (a.titre, a.texte) for n, a in texts.items()}
        stale = clauses.stale_amounts([(a, t) for _, a, t in changes or []], signed, amended.montant) \
            + clauses.dropped_schedule(changes or [], signed, list(amended.versements or []))
        if stale and not force:
            raise LifecycleError("L'avenant change un montant que la convention donne encore ailleurs, ou dont "
                                 "elle fixait l'échéancier :\n"
                                 + "\n".join(f"  • {line}" for line in stale)
                                 + "\nModifiez aussi cet article dans l'avenant (--remplace-article ou "
                                   "--complete-article), redonnez l'échéancier du nouveau montant dans la nouvelle "
                                   "rédaction, ou relancez avec --force si le texte reste juste. Rien n'a été "
                                   "enregistré.")
        added = record_avenant(session, reference, objet, date, nouvelle_fin, on, deliberation, date_deliberation,
                               changes, force, {n: a.titre for n, a in texts.items()} if changes else None)
        numero = added.numero
    step.lines.append(f"{reference} : avenant n° {numero} enregistré.")
    if nouvelle_fin:
        step.lines.append(f"Fin de période portée au {date_longue(nouvelle_fin)}.")
    step.generated.append(generation.generate_avenant(ws, reference, numero, with_pdf=with_pdf))
    return step


@holding("registre")
def denoncer(ws: Workspace, reference: str, date: dt.date, motif: str | None, force: bool, *,
             with_pdf: bool = True, on: dt.date | None = None, deliberation: str | None = None,
             date_deliberation: dt.date | None = None) -> Step:
    """Record a dénonciation and produce the registered letter that notifies it (modeles/denonciation.docx)."""
    with ws.db.session() as session:
        after = record_denonciation(session, reference, date, motif, force, on, deliberation, date_deliberation)
    step = Step([f"{reference} : dénonciation enregistrée au {date_longue(date)} ; la convention prend fin le "
                 f"{date_longue(after.periode.fin)}."])
    _act(ws, step, reference, "denonciation", None, "Lettre recommandée de dénonciation", with_pdf)
    return step


# ---------------------------------------------------------------- withdrawing a mistaken act

WITHDRAWABLE = ("denonciation", "avenant", "renouvellement")


@holding("registre")
def annuler_acte(ws: Workspace, reference: str, acte: str, motif: str) -> Step:
    """Withdraw an act recorded by mistake — the dénonciation, or the last avenant or renewal: the decision leaves
    the registry (dates and deadlines as before it), its documents go to the archives (never deleted), and the
    journal keeps both the act and its withdrawal, with the reason."""
    motif = typed_text(motif, "Motif du retrait", 2000) or ""
    if not motif.strip():
        raise LifecycleError("Donnez le motif du retrait (--motif \"…\") : le journal le garde.")
    if acte not in WITHDRAWABLE:
        raise LifecycleError(f"Acte « {acte} » inconnu : on retire la dénonciation, le dernier avenant ou le dernier "
                             "renouvellement (denonciation, avenant, renouvellement).")
    with ws.db.session() as session:
        c = queries.convention(session, reference)
        if acte == "denonciation":
            if c.date_denonciation is None:
                raise LifecycleError(f"La convention {reference} n'a pas été dénoncée : il n'y a rien à retirer.")
            what, cle = f"Dénonciation du {date_longue(c.date_denonciation)}", f"{reference}-denonciation"
            c.date_denonciation = c.motif_denonciation = None
        else:
            acts: list[Any] = c.avenants if acte == "avenant" else c.renouvellements
            if not acts:
                none = "d'avenant" if acte == "avenant" else "de renouvellement"
                raise LifecycleError(f"La convention {reference} n'a pas {none} : il n'y a rien à retirer.")
            last = max(acts, key=lambda a: a.numero)
            if acte == "renouvellement":  # a later act rests on the period it opened: withdrawn first
                opened = last.numero + 1
                later = [f"l'avenant n° {a.numero}" for a in c.avenants if a.periode >= opened]
                if c.date_denonciation is not None and c.date_denonciation >= last.date:
                    later.append(f"la dénonciation du {date_longue(c.date_denonciation)}")
                if later:
                    raise LifecycleError(
                        f"Le renouvellement n° {last.numero} ne peut être retiré : {' et '.join(later)} "
                        f"{'reposent' if len(later) > 1 else 'repose'} sur la période qu'il a ouverte. Retirez "
                        f"d'abord {'ces actes' if len(later) > 1 else 'cet acte'}, du plus récent au plus ancien. "
                        "Rien n'a été retiré.")
            what = f"{'Avenant' if acte == 'avenant' else 'Renouvellement'} n° {last.numero}"
            cle = f"{reference}-{acte}-{last.numero}"
            session.delete(last)
        session.flush()
        session.expire(c)
        queries.refresh_echeances(session, [c])
        documents = DocumentStore(session, ws)
        folder = ws.archives / "conventions" / reference
        archived = [fmt for fmt in ("docx", "pdf") if documents.retire(cle, acte, fmt, folder)]
        documents.write_sums()
        journal.record(session, c, "retrait", f"{what} retiré{'e' if acte == 'denonciation' else ''} : "
                       f"{motif.strip()}")
    step = Step([f"{reference} : {what.lower() if acte == 'denonciation' else what} retiré"
                 f"{'e' if acte == 'denonciation' else ''} ; motif consigné au journal."])
    if archived:
        step.lines.append(f"Ses documents sont archivés dans {ws.relative(folder)}/.")
    return step
