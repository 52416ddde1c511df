"""The Département signs a convention electronically (`pacte conventions signer-electroniquement`, the staff
pages' button): once its visa circuit is complete, the final text (PDF/A, no « PROJET », « en un exemplaire
original électronique ») is signed in PAdES B-LT with the Département's certificate (documents.esign), checked
by the tool's own verification (documents.signatures), recorded as the signed copy with its report, and the
circuit's bordereau — submission, visas, signatures, each with its time — is produced and archived with the act.
The partner signs after (its copy recorded by `conventions signer`) or first (the final text given, its signed
copy completed here).
Any failure before the record (a PIN, an expired certificate, an authority that does not answer) leaves the
registry and the folders as they were."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from sqlalchemy import select

from pacte_docs import files
from pacte_docs.documents import context, esign, pdf, signatures
from pacte_docs.documents.rendering import TemplateCache, missing_variables
from pacte_docs.errors import LifecycleError, PacteError, SignatureError
from pacte_docs.formatting import date_longue, moment_long
from pacte_docs.registry import journal, queries
from pacte_docs.registry.models import Agent, Visa
from pacte_docs.rules import periods, roles
from pacte_docs.services import circuit, generation, lifecycle
from pacte_docs.workspace import Workspace, holding

SIGNING_ROLE = "juriste"  # who may have the Département's certificate sign: the legal service, or above


def settings(ws: Workspace) -> dict[str, str]:
    found = ws.config.signature_electronique
    if not found:
        raise LifecycleError("La signature électronique du Département n'est pas configurée : ajoutez à pacte.toml "
                             "la section [signature_electronique] (son jeton PKCS#11 ou son fichier PKCS#12, et "
                             "l'autorité d'horodatage), voir le README, « Signer électroniquement ».")
    return found


def allowed(role: str, nom: str, signatory: str) -> bool:
    """Who may have the Département sign: the legal service (or above), or the signatory the act names."""
    return roles.allows(role, SIGNING_ROLE) or (bool(signatory.strip()) and _same_person(nom, signatory))


def may_sign(ws: Workspace, reference: str, role: str, nom: str) -> bool:
    """Whether the staff page offers an agent (*role*, *nom*) the Département's signature of *reference*."""
    if not ws.config.signature_electronique:
        return False
    with ws.db.session() as session:
        signatory = context.departement_context(queries.convention(session, reference).departement)["signature"]
    return allowed(role, nom, str(signatory.get("nom") or ""))


def _signatory(session: Any, email: str, signatory: str) -> Agent:
    address = email.strip().lower()
    agent: Agent | None = session.scalar(select(Agent).where(Agent.email == address, Agent.actif.is_(True)))
    if agent is None or not allowed(agent.role, agent.nom, signatory):
        raise LifecycleError(f"{address} ne peut pas faire signer le Département : il faut un compte d'agent actif "
                             f"de rôle « {SIGNING_ROLE} » ou « administration » (pacte agents creer), ou être le "
                             f"signataire que l'acte nomme pour le Département ({signatory or 'non nommé'}).")
    return agent


@dataclass(frozen=True)
class _Ready:
    """A draft the Département may sign now: who asks, who signs for it as the act names them, where."""

    who: str
    signature: dict[str, Any]
    place: str | None
    partners: list[str]  # the names of the partners' signatories, as the act gives them


def _ready(ws: Workspace, reference: str, par: str, day: dt.date) -> _Ready:
    """Refused, with nothing recorded, unless the draft has every visa of its circuit on the version in force,
    no blank left in its text (it is not completed by hand once signed), and *par* may have it signed."""
    with ws.db.session() as session:
        c = queries.convention(session, reference)
        if c.date_signature is not None:
            raise LifecycleError(f"La convention {reference} est déjà signée (le {date_longue(c.date_signature)}).")
        ctx = context.convention_context(c)
        agent = _signatory(session, par, str(ctx["departement"]["signature"].get("nom") or ""))
        circuit.check_signable(session, ws, c, False)
        if c.deliberation_date and day < c.deliberation_date:
            raise LifecycleError(f"La délibération qui autorise la signature de {reference} est du "
                                 f"{date_longue(c.deliberation_date)} : la convention ne peut être signée avant.")
        # a text signed electronically is not completed by hand afterwards: the blanks the registry knows are named
        # here, with their field, before anything is made; `_final` finds any other in the text itself
        blanks = context.blanks(ctx)
        if blanks:
            raise LifecycleError(f"Le texte de {reference} a encore des blancs : "
                                 + " ; ".join(b.what for b in blanks) + ". Complétez-les (classeur ou fichier "
                                 "d'import), réimportez, puis signez : un texte signé électroniquement ne se complète "
                                 "pas à la main.")
        return _Ready(f"{agent.nom} <{agent.email}>", ctx["departement"]["signature"],
                      ctx["departement"].get("ville"), [str(s.get("nom") or "") for s in ctx["signataires"]])


@holding("documents")
def texte_definitif(ws: Workspace, reference: str, par: str, on: dt.date | None = None) -> bytes:
    """The final text of a draft whose circuit is complete (PDF/A, no « PROJET »), for its partner to sign first
    in its own parapheur; the Département then signs the copy it sends back (`signer_electroniquement` with
    *fichier*). The journal says who took it, and its SHA-256."""
    settings(ws)
    day = on or periods.today()
    ready = _ready(ws, reference, par, day)
    final = _final(ws, reference, day)
    sha = files.sha256_bytes(final)
    with ws.db.session() as session:
        journal.record(session, queries.convention(session, reference), "texte_definitif",
                       f"Texte définitif remis pour la signature du partenaire par {ready.who} (SHA-256 {sha}).",
                       sha256=sha)
    return final


@holding("registre")
@holding("documents")
def signer_electroniquement(ws: Workspace, reference: str, par: str, on: dt.date | None = None,
                            fichier: Path | None = None) -> lifecycle.Step:
    """Sign the draft *reference* with the Département's certificate, as agent *par* (see the module); with
    *fichier*, the final text its partner signed first, to which the Département's signature is added."""
    config = settings(ws)
    day = on or periods.today()
    ready = _ready(ws, reference, par, day)
    roots = ws.authorities()
    partner_copy = None
    if fichier is not None:
        partner_copy = files.read_input(fichier, lifecycle.SIGNED_COPY_LIMIT, "la copie signée par le partenaire")
        pdf.readable_pages(partner_copy, f"la copie signée par le partenaire {fichier}")
    final = _final(ws, reference, day)
    if partner_copy is not None:
        _check_partner_copy(partner_copy, final, reference, roots, fichier, ready.partners)
    with esign.opened_signer(config, ws.root) as signer:
        holder = esign.signer_name(signer)
        moment = files.now()
        problem = esign.certificate_problem(signer, moment)
        if problem:
            raise SignatureError(problem)
        if not _same_person(holder, str(ready.signature.get("nom") or "")):
            raise SignatureError(
                f"Le certificat est celui de {holder} ; l'acte nomme {ready.signature.get('nom_complet')} comme "
                f"signataire du Département. Signez avec son certificat, ou corrigez le signataire (président ou "
                "délégation) et réimportez. Rien n'a été signé.")
        stamp = esign.Stamp(holder, " ".join(str(ready.signature.get("qualite") or "").split()), moment)
        signed = esign.sign(partner_copy if partner_copy is not None else final, signer, config, roots, stamp,
                            f"Signature de la convention {reference}", ready.place)
    verification = signatures.verify(signed, final, reference, roots)
    if verification.refus or verification.verdict != signatures.VALIDE:
        raise LifecycleError("La signature faite n'est pas reconnue valide par la vérification de pacte :\n"
                             + "\n".join(f"  {line}" for line in signatures.describe(verification))
                             + "\nRien n'a été enregistré : vérifiez [signature] autorites.")
    step = lifecycle.Step()
    with ws.db.session() as session:
        archived, _ = lifecycle.record_signature(session, ws, reference, day, on=day, copy=(signed, verification))
        c = queries.convention(session, reference)
        c.signature_electronique = True  # its text says « en un original électronique »
        sha = files.sha256_bytes(signed)
        timestamp = next((s.horodatage for s in reversed(verification.signatures) if s.horodatage), None)
        session.add(Visa(convention_id=c.id, nature="signature", tour=circuit.standing_of(session, ws, c).tour,
                         par=holder, quand=moment, sha256=sha,
                         commentaire=(f"signature horodatée le {moment_long(timestamp)} ; " if timestamp else "")
                         + f"demandée par {ready.who.split('<')[0].strip()}"))
        after = (f", après la signature du partenaire ({verification.signatures[0].signataire})"
                 if partner_copy is not None else "")
        journal.record(session, c, "signature_electronique",
                       f"Signée électroniquement pour le Département par {holder} (certificat){after}, à la demande "
                       f"de {ready.who} ; copie signée {archived} (SHA-256 {sha}).", date=day, document=archived,
                       sha256=sha)
    step.lines.append(f"{reference} : signée électroniquement pour le Département par {holder}, le "
                      f"{date_longue(day)}{after}.")
    step.lines.extend(signatures.describe(verification))
    step.lines.append(f"PDF signé archivé en lecture seule : {archived}")
    # the signed text, frozen (the same as the one signed), and the bordereau, one of its acts from now on; the
    # signature is recorded already: a failure says so, and how to make them once its cause is fixed
    try:
        step.generated.append(generation.generate(ws, [reference], with_pdf=True, pdfa=True))
    except PacteError as exc:
        exc.args = (f"{step.lines[0]}\nLa copie signée est enregistrée ({archived}), mais le texte signé et le "
                    f"bordereau n'ont pas pu être produits : {exc}\nUne fois la cause corrigée, « pacte conventions "
                    f"generer {reference} » les produira.",)
        raise
    return step


def _bordereau_template(ws: Workspace) -> None:
    """The bordereau will be made once the signature is recorded: its template is checked before anything (it
    exists, and it uses only what its context gives), so that a signature is not left without it."""
    template = TemplateCache(ws).get("bordereau")
    missing = template.missing(context.documented_context("bordereau"))
    if missing:
        raise missing_variables({("bordereau", path): ["bordereau"] for path in missing})


def _final(ws: Workspace, reference: str, day: dt.date) -> bytes:
    """The final text's PDF/A, refused when a blank is left in it (« …… », each blank's sentence quoted: a text
    signed electronically is not completed by hand), after the bordereau's template is checked."""
    _bordereau_template(ws)
    _, final = generation.final_text(ws, reference, day)
    lines = [" ".join(line.split()) for page in PdfReader(io.BytesIO(final)).pages
             for line in (page.extract_text() or "").splitlines() if context.BLANK[:2] in line]
    if lines:
        raise LifecycleError(f"Le texte définitif de {reference} a encore des blancs à remplir à la main :\n"
                             + "\n".join(f"  • « {line[:160]} »" for line in lines)
                             + "\nComplétez les données (classeur ou fichier d'import), réimportez, puis signez : "
                               "un texte signé électroniquement ne se complète pas à la main. Rien n'a été signé.")
    return final


def _check_partner_copy(copy: bytes, final: bytes, reference: str, roots: list[bytes], fichier: Path | None,
                        partners: list[str]) -> None:
    """The copy a partner signed first must be the final text of today, its signatures intact, each by one of
    the signatories the act names for the partners."""
    found = signatures.verify(copy, final, reference, roots)
    reasons = list(found.refus)
    if not found.signatures:
        reasons.append("elle ne porte aucune signature électronique")
    for signature in found.signatures:
        if not any(_same_person(signature.signataire, name) for name in partners if name):
            reasons.append(f"elle est signée par {signature.signataire}, que l'acte ne nomme pas parmi les "
                           f"signataires des partenaires ({', '.join(n for n in partners if n)})")
    if reasons:
        raise LifecycleError(f"La copie {fichier} ne peut pas recevoir la signature du Département :\n"
                             + "\n".join(f"  • {reason}" for reason in reasons)
                             + "\nRien n'a été signé. Le partenaire signe le texte définitif que donne « pacte "
                               f"conventions signer-electroniquement {reference} --texte-definitif FICHIER.pdf ».")


def _same_person(holder: str, named: str) -> bool:
    """Whether the certificate's holder is the signatory the act names (their names' words, civility aside)."""
    words = {w.lower() for w in named.replace("-", " ").split() if len(w) > 1}
    return not words or words <= {w.lower() for w in holder.replace("-", " ").split()}
