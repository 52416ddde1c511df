"""The staff pages of `pacte serveur`: sign-in (/connexion), sign-out (/deconnexion) and the pages under /agents/.

A handler reads the form, calls the same API as the CLI (services), and renders the result: it holds no rule.
The agent comes from a signed session cookie (Starlette's SessionMiddleware: HttpOnly, SameSite=Lax, Secure
unless `[agents] cookie_securise = false`, ended after `inactivite_minutes` without a request); every POST carries
the CSRF token (asgi-csrf, double-submit cookie) or is refused 403; a page beyond the agent's role is 403 in
French (rules.roles). Everything an agent causes is signed with their name in the convention's journal
(registry.journal.as_author)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import re
import secrets
import shutil
import tempfile
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from pathlib import Path, PurePosixPath
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from pacte_docs.errors import IntegrityError, Invalid, PacteError
from pacte_docs.formatting import LABELS, date_longue
from pacte_docs.kinds import EtatFiche
from pacte_docs.registry import journal
from pacte_docs.rules import roles
from pacte_docs.services import agents, portal, records, travaux
from pacte_docs.services.agents import Connecte
from pacte_docs.web import forms
from pacte_docs.workspace import Workspace

log = logging.getLogger("pacte.agents")
STAFF_PREFIXES = ("/connexion", "/deconnexion", "/agents/")
Render = Callable[..., Response]
Handler = Callable[[Request, Connecte], Awaitable[Response]]


CSRF_COOKIE = "pacte_csrf"
# what each template of the package writes, as the templates page names it
TEMPLATE_LABELS = {"convention_ccas": "convention avec un CCAS ou une commune",
                   "convention_france_travail": "convention d'accompagnement avec France Travail",
                   "convention_subvention": "convention attributive de subvention à une association",
                   "avenant": "avenant", "renouvellement": "décision de renouvellement",
                   "denonciation": "lettre de dénonciation", "relance": "lettre de relance des pièces",
                   "pdi_pti": "PDI/PTI", "bilan_annuel": "bilan annuel",
                   "bordereau": "bordereau de signature (circuit de visas et signatures)",
                   "point_etape": "point d'étape du PDI/PTI pour le comité de pilotage",
                   "bilan_etape": "bilan d'étape du PDI/PTI, à mi-parcours"}


def attachment(data: bytes, name: str, media_type: str) -> Response:
    """A file to save, its name as the user sees it (RFC 6266: an ASCII fallback and the UTF-8 name), never cached."""
    quoted = urllib.parse.quote(name)
    ascii_name = name.encode("ascii", "replace").decode("ascii").replace('"', "_")
    return Response(data, media_type=media_type, headers={
        "content-disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quoted}",
        "cache-control": "private, no-store"})


# How the form of each kind of record presents itself (web.forms lays out its fields).
FORM_PAGES: dict[str, dict[str, str]] = {
    "partenaires": {
        "nouveau": "Nouveau partenaire", "creer": "/agents/partenaires/nouveau", "liste": "/agents/partenaires",
        "liste_libelle": "Partenaires", "titre": "Partenaire {key}", "page": "/agents/partenaires/{key}",
        "retour": "/agents/partenaires", "retour_libelle": "Partenaires", "rubrique": "partenaires",
        "role": "redaction", "bouton": "Enregistrer le partenaire", "chapeau": "",
        "enregistre": "Partenaire {key} enregistré.", "apres": "/agents/partenaires/{key}"},
    "conventions": {
        "nouveau": "Nouvelle convention (brouillon)", "creer": "/agents/conventions/nouvelle", "liste": "/agents/",
        "liste_libelle": "Conventions", "titre": "Modifier le brouillon {key}",
        "page": "/agents/conventions/{key}/modifier", "retour": "/agents/conventions/{key}",
        "retour_libelle": "Convention {key}", "rubrique": "conventions", "role": "redaction",
        "bouton": "Enregistrer le brouillon",
        "chapeau": "Le brouillon se complète à votre rythme : il ne devient une convention en vigueur qu'une fois "
                   "signé. Ses documents se produisent depuis sa page.",
        "enregistre": "Brouillon {key} enregistré.", "apres": "/agents/conventions/{key}"},
    "departement": {
        "nouveau": "Le Département", "creer": "/agents/departement", "liste": "/agents/",
        "liste_libelle": "Conventions",
        "titre": "Le Département", "page": "/agents/departement", "retour": "/agents/",
        "retour_libelle": "Conventions", "rubrique": "departement", "role": "juriste", "bouton": "Enregistrer",
        "chapeau": "Ce que les actes disent du Département : son nom en tête, la ville du « Fait à », le Président "
                   "ou l'élu qui signe par délégation. Un acte déjà signé ne change pas ; les projets suivront.",
        "enregistre": "Département {key} enregistré.", "apres": "/agents/departement"},
}


def staff_routes(ws: Workspace, render: Render, on: Callable[[], dt.date], secret: str,
                 atelier: travaux.Atelier) -> list[Route]:
    signer = URLSafeSerializer(secret)

    def upload_token_valid(request: Request, form: Any) -> bool:
        """The CSRF check of a form with a file (app.is_multipart), as asgi-csrf does it for the others: the
        field equals the cookie, and the cookie is one this server signed."""
        cookie, field = request.cookies.get(CSRF_COOKIE, ""), str(form.get("csrftoken", ""))
        try:
            signer.loads(cookie, "csrftoken")
        except BadSignature:
            return False
        return bool(cookie) and secrets.compare_digest(cookie, field)

    async def forged(request: Request) -> bool:
        """A POST with a file whose token does not check out (asgi-csrf lets those through to us)."""
        if request.method != "POST" or not request.headers.get("content-type", "").startswith("multipart/form-data"):
            return False
        return not upload_token_valid(request, await request.form(max_files=1, max_fields=20))

    def refused_form(request: Request, agent: Connecte | None) -> Response:
        return page(request, "agents/refus.html", agent, status=403,
                    raison="Ce formulaire n'a pas été accepté : il a expiré ou ne vient pas de ces pages. "
                           "Rechargez la page, puis envoyez-le de nouveau.")

    def page(request: Request, name: str, agent: Connecte | None, status: int = 200, **values: Any) -> Response:
        message = request.session.pop("message", None) if agent is not None else None
        message = forms.for_pages(message) if isinstance(message, str) else message
        for key in ("raison", "erreur"):  # what a service said for the command line, said for the pages
            if isinstance(values.get(key), str):
                values[key] = forms.for_pages(values[key])
        if isinstance(values.get("erreurs"), dict):
            values["erreurs"] = {k: forms.for_pages(v) for k, v in values["erreurs"].items()}
        return render(request, name, status=status, agent=agent, csrf=request.scope["csrftoken"](),
                      message=message, roles=roles.LIBELLES, **values)

    def forbidden(request: Request, agent: Connecte | None, why: str) -> Response:
        return page(request, "agents/refus.html", agent, status=403, raison=why)

    def needs(role: str) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
        """The agent signed in, with at least *role*: else sign-in (a page) or 403 (a form)."""
        def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
            async def guarded(request: Request) -> Response:
                if await forged(request):
                    return refused_form(request, None)
                agent = await run_in_threadpool(agents.signed_in, ws, request.session.get("agent"),
                                                request.session.get("depuis"), request.session.get("email"))
                if agent is None:
                    request.session.clear()
                    if request.method == "POST":
                        return forbidden(request, None, "Votre session a pris fin : reconnectez-vous, puis "
                                                        "recommencez.")
                    return RedirectResponse("/connexion?" + urllib.parse.urlencode({"suivant": request.url.path}),
                                            status_code=303)
                if not agent.peut(role):
                    return forbidden(request, agent, f"Cette action demande le rôle « {roles.LIBELLES[role]} » ; "
                                                     f"votre compte a le rôle « {roles.LIBELLES[agent.role]} ». "
                                                     "Demandez-la à un collègue, ou à l'administrateur de pacte.")
                return await handler(request, agent)
            return guarded
        return wrap

    def open_session(request: Request, agent: Connecte, suivant: str, how: str) -> Response:
        """A new session for *agent* (nothing kept from before sign-in), dated: sign-out ends it (agents.sign_out)."""
        request.session.clear()
        request.session["agent"] = agent.id
        request.session["email"] = agent.email
        request.session["depuis"] = dt.datetime.now(dt.UTC).isoformat()
        log.info("connexion de %s (%s) %s", agent.email, agent.role, how)
        return RedirectResponse(suivant, status_code=303)

    def next_page(value: str | None) -> str:
        """Where to go after sign-in: a staff page of this site only (never another host)."""
        if value and value.startswith("/agents/") and "//" not in value and "\\" not in value:
            return value
        return "/agents/"

    failures: dict[str, int] = {}
    oauth = None
    if ws.config.oidc_emetteur and ws.config.oidc_client:
        from authlib.integrations.starlette_client import OAuth

        oauth = OAuth()
        oauth.register("departement", client_id=ws.config.oidc_client,
                       client_secret=os.environ.get("PACTE_OIDC_SECRET", ""),
                       server_metadata_url=f"{ws.config.oidc_emetteur}/.well-known/openid-configuration",
                       client_kwargs={"scope": "openid email profile"})

    async def sign_in_form(request: Request) -> Response:
        return page(request, "agents/connexion.html", None, email="", erreur=None, oidc=oauth is not None,
                    suivant=next_page(request.query_params.get("suivant")))

    async def oidc_start(request: Request) -> Response:
        """Off to the Département's identity provider (OpenID Connect, Authlib), back to /connexion/oidc/retour."""
        if oauth is None:
            return page(request, "agents/refus.html", None, status=404,
                        raison="La connexion par le fournisseur d'identité n'est pas configurée ([agents] oidc_*).")
        back = (ws.config.url_publique or str(request.base_url).rstrip("/")) + "/connexion/oidc/retour"
        request.session["suivant"] = next_page(request.query_params.get("suivant"))
        try:
            return await oauth.departement.authorize_redirect(request, back)  # type: ignore[no-any-return]
        except Exception as exc:  # the provider unreachable or misconfigured: said, never a traceback
            log.error("fournisseur d'identité injoignable : %s", type(exc).__name__)
            return page(request, "agents/refus.html", None, status=502,
                        raison="Le fournisseur d'identité du Département ne répond pas. Réessayez dans un instant, "
                               "ou connectez-vous avec votre mot de passe si vous en avez un.")

    async def oidc_return(request: Request) -> Response:
        if oauth is None:
            return page(request, "agents/refus.html", None, status=404, raison="Connexion non configurée.")
        try:
            token = await oauth.departement.authorize_access_token(request)
        except Exception as exc:  # a refused, replayed or forged answer
            said = getattr(getattr(exc, "response", None), "text", "") or getattr(exc, "description", "") or ""
            log.warning("retour du fournisseur d'identité refusé : %s %s", type(exc).__name__,
                        " ".join(str(said).split())[:600])
            return page(request, "agents/refus.html", None, status=403,
                        raison="Le fournisseur d'identité n'a pas confirmé votre connexion. Recommencez depuis la "
                               "page de connexion.")
        claims = token.get("userinfo") or {}
        agent = await run_in_threadpool(agents.by_identity, ws, claims.get("email"))
        if agent is None:
            return page(request, "agents/refus.html", None, status=403,
                        raison=f"Aucun compte d'agent actif pour {claims.get('email') or 'cette identité'} : "
                               "demandez-le à l'administrateur de pacte (page « Comptes »).")
        return open_session(request, agent, next_page(request.session.get("suivant")), "par le fournisseur d'identité")

    async def sign_in(request: Request) -> Response:
        if await forged(request):
            return refused_form(request, None)
        form = await request.form(max_files=0, max_fields=10)
        email, password = str(form.get("email", ""))[:254], str(form.get("mot_de_passe", ""))
        suivant = next_page(str(form.get("suivant", "")))
        client = request.client.host if request.client else "?"
        keys = (email.strip().lower(), f"ip:{client}")
        # failed attempts in a row slow the next ones down, whether the address exists or not (rules.roles)
        await asyncio.sleep(roles.failed_delay(max(failures.get(k, 0) for k in keys)))
        agent = await run_in_threadpool(agents.authenticate, ws, email, password) if email and password else None
        if agent is None:
            for key in keys:
                failures[key] = failures.get(key, 0) + 1
            if len(failures) > 10_000:  # bounded memory: the oldest counters go first
                for key in list(failures)[:1_000]:
                    failures.pop(key, None)
            return page(request, "agents/connexion.html", None, status=401, email=email, suivant=suivant,
                        oidc=oauth is not None,
                        erreur="Courriel ou mot de passe incorrect. Vérifiez-les, puis réessayez.")
        for key in keys:  # a success from this address and for this account starts the count again
            failures.pop(key, None)
        return open_session(request, agent, suivant, "par mot de passe")

    async def sign_out(request: Request) -> Response:
        if await forged(request):
            return refused_form(request, None)
        await run_in_threadpool(agents.sign_out, ws, request.session.get("agent"))
        request.session.clear()
        return RedirectResponse("/connexion", status_code=303)

    @needs("lecture")
    async def home(request: Request, agent: Connecte) -> Response:
        """The conventions as the directors' board shows them (portal.board), every one, with its filters."""
        filters = portal.Filters.parse(request.query_params)
        result = await run_in_threadpool(portal.board, ws, portal.STAFF, on(), filters)
        return page(request, "agents/conventions.html", agent, rubrique="conventions", tableau=result,
                    choix=portal.filter_choices(), equipe=True, tout_afficher="/agents/",
                    url=lambda **changes: "?" + urllib.parse.urlencode(result.filters.query(**changes)),
                    lien_convention=lambda s: "/agents/conventions/" + urllib.parse.quote(s.reference))

    @needs("lecture")
    async def alerts(request: Request, agent: Connecte) -> Response:
        """The alerts of the day and the documents late, as `pacte alertes` lists them (nothing sent from here)."""
        from pacte_docs.services import notify, pieces

        found = await run_in_threadpool(notify.due, ws, on())
        late = await run_in_threadpool(lambda: pieces.lister(ws, on(), late_only=True))
        return page(request, "agents/alertes.html", agent, rubrique="alertes", alertes=found, pieces=late)

    @needs("lecture")
    async def partners(request: Request, agent: Connecte) -> Response:
        rows = await run_in_threadpool(records.list_partenaires, ws)
        return page(request, "agents/partenaires.html", agent, rubrique="partenaires", partenaires=rows)

    def reference(request: Request) -> str:
        return str(request.path_params["reference"])[:40].upper()

    async def convention_page(request: Request, agent: Connecte, status: int = 200,
                              erreurs: dict[str, str] | None = None, saisie: dict[str, dict[str, str]] | None = None,
                              verification: dict[str, Any] | None = None) -> Response:
        try:
            row = await run_in_threadpool(records.show_convention, ws, reference(request), on())
        except PacteError as exc:
            return page(request, "agents/refus.html", agent, status=404, raison=str(exc))
        from pacte_docs.rules import circuit
        from pacte_docs.services import esignature

        awaited = (row["circuit"] or {}).get("prochaine")
        may_visa = awaited is not None and circuit.may_give(str(awaited), agent.email, agent.role,
                                                            row["responsable"]["email"])
        return page(request, "agents/convention.html", agent, status=status, rubrique="conventions", c=row,
                    erreurs=erreurs or {}, saisie=saisie or {}, verification=verification, peut_viser=may_visa,
                    peut_signer=row["date_signature"] is None and await run_in_threadpool(
                        esignature.may_sign, ws, row["reference"], agent.role, agent.nom))

    @needs("lecture")
    async def convention(request: Request, agent: Connecte) -> Response:
        return await convention_page(request, agent)

    @needs("juriste")
    async def decide(request: Request, agent: Connecte) -> Response:
        """Record a signature, a renewal or a dénonciation, as `pacte conventions signer|renouveler|denoncer`
        does; a refusal comes back next to its form, with what was typed."""
        from pacte_docs.services import lifecycle

        acte = str(request.path_params["acte"])
        if acte not in ("signer", "renouveler", "denoncer", "avenant", "retirer"):
            return page(request, "agents/refus.html", agent, status=404, raison="Action inconnue.")
        ref = reference(request)
        form = await request.form(max_files=1, max_fields=20)  # its token checked by needs() when multipart
        typed = {k: str(v) for k, v in form.items() if isinstance(v, str) and k != "csrftoken"}
        upload = form.get("fichier")
        copy_name = upload.filename if isinstance(upload, UploadFile) and upload.filename else "la copie"
        try:
            too_long = [k for k, v in typed.items() if len(v) > 5000]
            if too_long:
                raise PacteError("Texte trop long (5 000 caractères au plus) : un avenant long se rédige en "
                                 "plusieurs articles.")

            def day(name: str, required: bool = True) -> dt.date | None:
                return lifecycle.typed_date(typed.get(name), "Date", required=required)

            if acte == "signer":
                date = day("date")
                assert date is not None
                data = await upload.read() if isinstance(upload, UploadFile) and upload.filename else None
                if data is None:
                    step = await run_in_threadpool(lambda: journal.as_author(
                        agent.signature, lifecycle.signer, ws, ref, date, on=on()))
                else:  # the copy checked first, its verdict shown: the juriste confirms (signature_confirm)
                    from pacte_docs.documents import signatures

                    with ws.scratch("copie-signee-") as folder:
                        copy = folder / "copie-signee.pdf"
                        copy.write_bytes(data)
                        found = await run_in_threadpool(lifecycle.check_signed_copy, ws, ref, date, copy, on())
                    if found.refus:
                        raise PacteError(f"La copie signée {copy_name} ne prouve pas la signature de {ref} : "
                                         + " ; ".join(found.refus) + ". Rien n'a été enregistré.")
                    keep(request, "copie", f"{ref}.pdf", data)
                    request.session["copie_pour"] = [ref, date.isoformat(), copy_name[:200]]
                    return await convention_page(request, agent, verification={
                        "fichier": copy_name, "date": date, "lignes": signatures.describe(found)})
            elif acte == "renouveler":
                date = day("date")
                assert date is not None
                step = await run_in_threadpool(journal.as_author, agent.signature, lifecycle.renouveler, ws, ref,
                                               date, typed.get("deliberation") or None, on())
            elif acte == "avenant":
                changes = [(typed.get(f"mode{i}", "complete"), typed.get(f"article{i}", "").strip(),
                            typed.get(f"texte{i}", "").strip()) for i in (1, 2, 3)]
                for mode, article, text in changes:
                    if bool(article) != bool(text):
                        raise PacteError(f"Article « {article or '…'} » : donnez le numéro de l'article et son "
                                         "texte, ou aucun des deux.")
                    if mode not in ("complete", "remplace"):
                        raise PacteError("Choisissez « complété par » ou « ainsi rédigé » pour chaque article.")
                if not typed.get("objet", "").strip():
                    raise PacteError("Donnez les motifs de l'avenant (exposé des motifs).")
                signed_on, end = day("date", required=False), day("nouvelle_fin", required=False)
                passed = day("date_deliberation", required=False)
                step = await run_in_threadpool(
                    lambda: journal.as_author(agent.signature, lifecycle.avenant, ws, ref, typed["objet"].strip(),
                                              signed_on, end, on(), deliberation=typed.get("deliberation") or None,
                                              date_deliberation=passed,
                                              changes=[c for c in changes if c[1]] or None))
            elif acte == "retirer":
                step = await run_in_threadpool(journal.as_author, agent.signature, lifecycle.annuler_acte, ws, ref,
                                               typed.get("acte", ""), typed.get("motif", ""))
            else:
                date = day("date")
                assert date is not None
                step = await run_in_threadpool(
                    lambda: journal.as_author(agent.signature, lifecycle.denoncer, ws, ref, date,
                                              typed.get("motif") or None, False, on=on(),
                                              deliberation=typed.get("deliberation") or None,
                                              date_deliberation=day("date_deliberation", required=False)))
        except PacteError as exc:
            said = re.sub(r"\S*copie-signee-[^\s/]*/copie-signee\.pdf", copy_name, str(exc))
            return await convention_page(request, agent, status=422, erreurs={acte: said}, saisie={acte: typed})
        lines = list(step.lines) + [f"{o.docx}" for r in step.generated for o in r.outputs] + \
            [note for r in step.generated for note in r.notes]
        request.session["message"] = " ".join(lines)
        return RedirectResponse(f"/agents/conventions/{urllib.parse.quote(ref)}", status_code=303)

    @needs("redaction")
    async def submit(request: Request, agent: Connecte) -> Response:
        """Submit the draft to its visa circuit (`pacte conventions soumettre`)."""
        from pacte_docs.services import circuit

        ref = reference(request)
        try:
            lines = await run_in_threadpool(journal.as_author, agent.signature, circuit.soumettre, ws, ref,
                                            agent.signature)
        except PacteError as exc:
            return await convention_page(request, agent, status=422, erreurs={"soumettre": str(exc)})
        request.session["message"] = " ".join(lines)
        return RedirectResponse(f"/agents/conventions/{urllib.parse.quote(ref)}", status_code=303)

    async def may_not_sign(request: Request, agent: Connecte, ref: str) -> Response | None:
        """The refusal of an agent who may not have the Département sign (as the other actions refuse a role)."""
        from pacte_docs.services import esignature

        try:
            allowed = await run_in_threadpool(esignature.may_sign, ws, ref, agent.role, agent.nom)
        except PacteError as exc:
            return page(request, "agents/refus.html", agent, status=404, raison=str(exc))
        if allowed:
            return None
        return page(request, "agents/refus.html", agent, status=403, raison=(
            "La signature électronique du Département demande le rôle « juriste » ou « administration », ou "
            "d'être le signataire que l'acte nomme pour le Département." if ws.config.signature_electronique else
            "La signature électronique du Département n'est pas configurée (section [signature_electronique] de "
            "pacte.toml)."))

    @needs("lecture")  # may_not_sign says who may: the legal service, or the signatory the act names
    async def esign(request: Request, agent: Connecte) -> Response:
        """Have the Département sign the draft electronically (`pacte conventions signer-electroniquement`)."""
        from pacte_docs.services import esignature

        ref = reference(request)
        refused = await may_not_sign(request, agent, ref)
        if refused is not None:
            return refused
        form = await request.form(max_files=1, max_fields=5)  # its token checked by needs() when multipart
        upload = form.get("fichier")
        data = await upload.read() if isinstance(upload, UploadFile) and upload.filename else None
        copy: Path | None = None
        try:
            with ws.scratch("copie-partenaire-") as folder:  # the copy its partner signed first, if given
                if data is not None:
                    copy = folder / "copie-signee-par-le-partenaire.pdf"
                    copy.write_bytes(data)
                step = await run_in_threadpool(lambda: journal.as_author(
                    agent.signature, esignature.signer_electroniquement, ws, ref, agent.email, on(), copy))
        except PacteError as exc:
            name = upload.filename if isinstance(upload, UploadFile) and upload.filename else ""
            return await convention_page(request, agent, status=422, erreurs={
                "esign": str(exc).replace(str(copy), name) if copy is not None else str(exc)})
        request.session["message"] = " ".join(step.lines[:1] + [line.strip() for line in step.lines[1:2]])
        return RedirectResponse(f"/agents/conventions/{urllib.parse.quote(ref)}", status_code=303)

    @needs("lecture")
    async def final_text(request: Request, agent: Connecte) -> Response:
        """The final text, for the partner who signs first (`signer-electroniquement --texte-definitif`)."""
        from pacte_docs.services import esignature

        ref = reference(request)
        refused = await may_not_sign(request, agent, ref)
        if refused is not None:
            return refused
        try:
            data = await run_in_threadpool(journal.as_author, agent.signature, esignature.texte_definitif, ws, ref,
                                           agent.email, on())
        except PacteError as exc:
            return await convention_page(request, agent, status=422, erreurs={"esign": str(exc)})
        return attachment(data, f"{ref}-texte-definitif.pdf", "application/pdf")

    @needs("lecture")  # the circuit's step says who gives the visa: a role, the director, an agent named
    async def visa(request: Request, agent: Connecte) -> Response:
        """Give the awaited visa as the agent signed in (`pacte conventions viser`)."""
        from pacte_docs.services import circuit

        ref = reference(request)
        form = await request.form(max_fields=10)
        typed = {k: str(v) for k, v in form.items() if isinstance(v, str) and k != "csrftoken"}
        try:
            lines = await run_in_threadpool(journal.as_author, agent.signature, circuit.viser, ws, ref,
                                            typed.get("avis", ""), typed.get("commentaire"), agent.email)
        except PacteError as exc:
            return await convention_page(request, agent, status=422, erreurs={"viser": str(exc)},
                                         saisie={"viser": typed})
        request.session["message"] = " ".join(lines)
        return RedirectResponse(f"/agents/conventions/{urllib.parse.quote(ref)}", status_code=303)

    @needs("redaction")
    async def piece_receive(request: Request, agent: Connecte) -> Response:
        """Record a document the partner gave (`pacte pieces recevoir`): the file archived and hashed, the journal
        signed by the agent; a refusal comes back next to the form, nothing recorded."""
        from pacte_docs.services import lifecycle, pieces

        ref = reference(request)
        form = await request.form(max_files=1, max_fields=10)  # its token checked by needs() when multipart
        typed = {k: str(v) for k, v in form.items() if isinstance(v, str) and k != "csrftoken"}
        upload = form.get("fichier")
        try:
            cle, _, year = typed.get("piece", "").partition(":")
            if not cle or not year.isdigit():
                raise PacteError("Choisissez la pièce reçue dans la liste.")
            if not isinstance(upload, UploadFile) or not upload.filename:
                raise PacteError("Joignez le fichier de la pièce (PDF, DOCX, XLSX, ODT ou ODS).")
            received = lifecycle.typed_date(typed.get("date"), "Date de réception", required=False)
            data = await upload.read(pieces.PIECE_LIMIT + 1)
            suffix = PurePosixPath(upload.filename.replace("\\", "/")).suffix.lower()[:6]
            with ws.scratch("piece-") as folder:
                copy = folder / f"piece{suffix}"
                copy.write_bytes(data)
                line = await run_in_threadpool(journal.as_author, agent.signature, pieces.recevoir, ws, ref, cle,
                                               int(year[:4]), copy, on(), received)
        except PacteError as exc:
            name = upload.filename if isinstance(upload, UploadFile) and upload.filename else "le fichier"
            said = re.sub(r"\S*piece-[^\s/]*/piece\.\w+", name, str(exc))
            return await convention_page(request, agent, status=422, erreurs={"piece": said},
                                         saisie={"piece": typed})
        request.session["message"] = (f"Pièce enregistrée : {line.piece} de l'exercice {line.exercice}, {line.etat}, "
                                      "archivée et inscrite au journal.")
        return RedirectResponse(f"/agents/conventions/{urllib.parse.quote(ref)}", status_code=303)

    @needs("redaction")
    async def piece_remind(request: Request, agent: Connecte) -> Response:
        """The reminder letters for the documents partners are late with (`pacte pieces relancer`): this
        convention's, from its page; every partner's, from the alerts page."""
        from pacte_docs.services import pieces

        ref = reference(request) if "reference" in request.path_params else None
        back = f"/agents/conventions/{urllib.parse.quote(ref)}" if ref else "/agents/alertes"
        try:
            report = await run_in_threadpool(journal.as_author, agent.signature, pieces.relancer, ws, on(),
                                             [ref] if ref else [])
        except PacteError as exc:
            request.session["message"] = f"Aucune lettre n'a été produite : {exc}"
        else:
            if not report.letters:
                request.session["message"] = ("Aucune pièce en retard à relancer (une pièce déjà relancée l'est de "
                                              "nouveau un mois après).")
            else:
                request.session["message"] = " ".join(
                    f"{reference} : lettre de relance n° {numero} produite ("
                    + " ; ".join(f"{line.piece} {line.exercice}" for line in lines) + ")."
                    for reference, numero, lines in report.letters)
        return RedirectResponse(back, status_code=303)

    @needs("redaction")
    async def succeed(request: Request, agent: Connecte) -> Response:
        """A draft that takes up this convention (`pacte conventions succeder`): same parties and clauses."""
        from pacte_docs.services import lifecycle

        ref = reference(request)
        form = await request.form(max_files=0, max_fields=10)
        typed = {k: str(form.get(k, "")).strip()[:100] for k in ("nouvelle", "date_effet")}
        try:
            start = lifecycle.typed_date(typed["date_effet"], "Date d'effet")
            step = await run_in_threadpool(lambda: journal.as_author(
                agent.signature, lifecycle.succeder, ws, ref, typed["nouvelle"].upper(), on(), start))
        except PacteError as exc:
            return await convention_page(request, agent, status=422, erreurs={"succeder": str(exc)},
                                         saisie={"succeder": typed})
        request.session["message"] = " ".join(step.lines)
        return RedirectResponse(f"/agents/conventions/{urllib.parse.quote(typed['nouvelle'].upper())}",
                                status_code=303)

    @needs("juriste")
    async def signature_confirm(request: Request, agent: Connecte) -> Response:
        """Record the signature with the copy whose verdict the juriste has just read."""
        from pacte_docs.services import lifecycle

        ref = reference(request)
        waiting, meta = pending(request, "copie"), request.session.get("copie_pour")
        back = RedirectResponse(f"/agents/conventions/{urllib.parse.quote(ref)}", status_code=303)
        if waiting is None or not isinstance(meta, list) or len(meta) != 3 or meta[0] != ref:
            request.session["message"] = "Aucune copie signée en attente pour cette convention : déposez-la de nouveau."
            return back
        try:
            step = await run_in_threadpool(lambda: journal.as_author(
                agent.signature, lifecycle.signer, ws, ref, dt.date.fromisoformat(meta[1]), waiting, on=on()))
        except PacteError as exc:
            forget(request, "copie")
            said = str(exc).replace(str(waiting), meta[2])
            return await convention_page(request, agent, status=422, erreurs={"signer": said})
        forget(request, "copie")
        request.session.pop("copie_pour", None)
        request.session["message"] = " ".join(list(step.lines) + [f"{o.docx}" for r in step.generated
                                                                  for o in r.outputs])
        return back

    @needs("juriste")
    async def signature_cancel(request: Request, agent: Connecte) -> Response:
        forget(request, "copie")
        request.session.pop("copie_pour", None)
        request.session["message"] = "Copie signée écartée : rien n'a été enregistré."
        return RedirectResponse(f"/agents/conventions/{urllib.parse.quote(reference(request))}", status_code=303)

    @needs("redaction")
    async def generate(request: Request, agent: Connecte) -> Response:
        from pacte_docs.services import generation

        ref = reference(request)
        try:
            report = await run_in_threadpool(journal.as_author, agent.signature, generation.generate, ws, [ref])
        except PacteError as exc:
            request.session["message"] = f"Rien n'a été produit : {exc}"
        else:
            made = report.count("cree") + report.count("regenere")
            request.session["message"] = (f"{made} document(s) produit(s), {report.count('inchange')} inchangé(s)."
                                          + "".join(f" {note}" for note in report.notes))
        return RedirectResponse(f"/agents/conventions/{urllib.parse.quote(ref)}", status_code=303)

    @needs("lecture")
    async def download(request: Request, agent: Connecte) -> Response:
        try:
            found = await run_in_threadpool(portal.convention_document, ws, reference(request),
                                            str(request.path_params["nom"]))
        except IntegrityError as exc:
            return page(request, "agents/refus.html", agent, status=409, raison=str(exc))
        if found is None:
            return page(request, "agents/refus.html", agent, status=404,
                        raison="Ce document n'est pas un document en vigueur de cette convention.")
        return attachment(found.data, found.nom, found.media_type)

    # ------------------------------------------------------------ a partner, a draft convention: its form

    def record_form(request: Request, agent: Connecte, section: str, key: str | None, values: dict[str, str],
                    problems: list[Any] | None = None, status: int = 200) -> Response:
        """The form of a partner or a draft convention (*key* None: a new one), or a partner's read-only view for
        an agent below « rédaction »; each problem next to its field, the typed values kept."""
        groups = forms.fields(section, conventions_templates())
        labels = {ch.nom: ch.libelle for _, champs in groups for ch in champs}
        by_field: dict[str, str] = {}
        general: list[str] = []
        for problem in problems or []:
            said = forms.for_pages(problem.message[:1].upper() + problem.message[1:]
                                   + (f" — {problem.fix}." if problem.fix else "."))
            if problem.field in labels:
                by_field.setdefault(problem.field, said)
            else:
                general.append(said)
        text = FORM_PAGES[section]
        quoted = urllib.parse.quote(key or "")
        if key is None:
            title, action, back, back_label = text["nouveau"], text["creer"], text["liste"], text["liste_libelle"]
        else:
            title, action = text["titre"].format(key=key), text["page"].format(key=quoted)
            back, back_label = text["retour"].format(key=quoted), text["retour_libelle"].format(key=key)
        return page(request, "agents/fiche.html", agent, status=status, rubrique=text["rubrique"], titre=title,
                    chapeau=text["chapeau"] if key is None or section == "departement" else None,
                    groupes=groups, libelles=labels, valeurs=values, par_champ=by_field, generales=general,
                    modifiable=agent.peut(text["role"]), action=action, retour=back, retour_libelle=back_label,
                    cle=records.FORM_SECTIONS[section], verrouillee=key is not None,
                    bouton="Enregistrer" if key is not None else text["bouton"])

    def conventions_templates() -> list[str]:
        """The templates of modeles/ a convention may be written from (not an act's, a PDI/PTI's or a bilan's)."""
        from pacte_docs.services import templates

        return sorted(p.stem for p in ws.modeles.glob("*.docx")
                      if not p.name.startswith(("~$", ".")) and p.stem not in templates.KIND)

    def record_key(request: Request) -> str:
        return str(request.path_params.get("code") or request.path_params.get("reference") or "")[:40].upper()

    def record_pages(section: str) -> tuple[Callable[[Request], Awaitable[Response]], ...]:
        """The pages of a new record and of an existing one, GET and POST, for *section*."""
        async def typed(request: Request) -> dict[str, str]:
            form = await request.form(max_files=0, max_fields=80)
            return {k: str(v)[:20_000] for k, v in form.items() if k != "csrftoken" and isinstance(v, str)}

        async def save(request: Request, agent: Connecte, key: str | None) -> Response:
            from pacte_docs.errors import Problem, ValidationError

            values = await typed(request)
            try:
                report = await run_in_threadpool(lambda: journal.as_author(
                    agent.signature, records.save_form, ws, section, values, existing=key,
                    signed_allowed=agent.peut("juriste")))
            except ValidationError as exc:
                return record_form(request, agent, section, key, values, exc.problems, status=422)
            except PacteError as exc:
                return record_form(request, agent, section, key, values,
                                   [Problem("formulaire", None, None, str(exc))], status=422)
            saved = (values.get(records.FORM_SECTIONS[section]) or "").strip().upper() if key is None else key
            done = FORM_PAGES[section]["enregistre"].format(key=saved)
            request.session["message"] = done if report.changed else f"{done.removesuffix(' enregistré.')} : " \
                                                                     "rien n'a changé."
            return RedirectResponse(FORM_PAGES[section]["apres"].format(key=urllib.parse.quote(saved)),
                                    status_code=303)

        role = FORM_PAGES[section]["role"]

        @needs(role)
        async def blank(request: Request, agent: Connecte) -> Response:
            return record_form(request, agent, section, None, {})

        @needs(role)
        async def create(request: Request, agent: Connecte) -> Response:
            return await save(request, agent, None)

        @needs("lecture")
        async def show(request: Request, agent: Connecte) -> Response:
            key = record_key(request) if section != "departement" else \
                await run_in_threadpool(records.departement_code, ws)
            if section == "conventions" and not agent.peut("redaction"):
                return forbidden(request, agent, "Modifier un brouillon demande le rôle « Rédaction ».")
            try:
                values = await run_in_threadpool(records.form_values, ws, section, key)
            except PacteError as exc:
                return page(request, "agents/refus.html", agent, status=409, raison=str(exc))
            if values is None:
                return page(request, "agents/refus.html", agent, status=404,
                            raison=f"« {key} » n'est pas au registre.")
            return record_form(request, agent, section, key, values)

        @needs(role)
        async def update(request: Request, agent: Connecte) -> Response:
            key = record_key(request) if section != "departement" else \
                await run_in_threadpool(records.departement_code, ws)
            return await save(request, agent, key)

        return blank, create, show, update

    new_partner, create_partner, partner_page, update_partner = record_pages("partenaires")
    new_draft, create_draft, draft_page, update_draft = record_pages("conventions")
    _, _, departement_page, update_departement = record_pages("departement")

    # ------------------------------------------------------------ importing a workbook: simulate, then confirm

    pending_root = Path(tempfile.gettempdir()) / "pacte-imports"

    def pending(request: Request, slot: str = "import") -> Path | None:
        """The file uploaded (a workbook to import, a template) and waiting for its confirmation, if this session
        has one in *slot*."""
        key = request.session.get(slot)
        if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z0-9_-]{20,64}", key):
            return None
        found = [p for p in (pending_root / key).glob("*") if p.is_file()] if (pending_root / key).is_dir() else []
        return found[0] if found else None

    def forget(request: Request, slot: str = "import") -> None:
        key = request.session.pop(slot, None)
        if isinstance(key, str) and re.fullmatch(r"[A-Za-z0-9_-]{20,64}", key):
            shutil.rmtree(pending_root / key, ignore_errors=True)

    def keep(request: Request, slot: str, name: str, data: bytes) -> None:
        """Keep an upload until it is confirmed or abandoned (a day at most), in place of the session's previous."""
        forget(request, slot)
        for old in (pending_root.iterdir() if pending_root.is_dir() else []):  # uploads never confirmed, a day on
            if time.time() - old.stat().st_mtime > 86_400:
                shutil.rmtree(old, ignore_errors=True)
        key = secrets.token_urlsafe(24)
        (pending_root / key).mkdir(parents=True, mode=0o700)
        (pending_root / key / name).write_bytes(data)
        request.session[slot] = key

    async def simulate(path: Path, agent: Connecte) -> tuple[list[str] | None, list[Any]]:
        from pacte_docs.errors import Problem, ValidationError

        try:
            report = await run_in_threadpool(lambda: records.import_files(
                ws, [path], simulation=True, signed_allowed=agent.peut("juriste")))
        except ValidationError as exc:
            return None, exc.problems
        except PacteError as exc:
            return None, [Problem(path.name, None, None, str(exc).replace(str(path), path.name))]
        except Exception as exc:  # a file no reader expected (a truncated sheet): said, never a crash
            log.warning("import illisible %s : %s", path.name, type(exc).__name__)
            return None, [Problem(path.name, None, None, "fichier illisible ou endommagé",
                                  "ouvrez-le dans Excel ou LibreOffice, enregistrez-le de nouveau, puis déposez-le")]
        return report.summary(), []

    @needs("redaction")
    async def import_form(request: Request, agent: Connecte) -> Response:
        waiting = pending(request)
        lines, problems = await simulate(waiting, agent) if waiting is not None else (None, [])
        return page(request, "agents/import.html", agent, rubrique="import", fichier=waiting.name if waiting else None,
                    lignes=lines, problemes=problems)

    @needs("redaction")
    async def import_upload(request: Request, agent: Connecte) -> Response:
        form = await request.form(max_files=1, max_fields=5)
        upload = form.get("fichier")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return page(request, "agents/import.html", agent, status=422, rubrique="import", fichier=None,
                        lignes=None, problemes=[], erreur="Choisissez le fichier à importer (classeur XLSX, CSV ou "
                                                          "YAML).")
        name = re.sub(r"[^\w.()' -]", "_", Path(upload.filename.replace("\\", "/")).name)[:120] or "import"
        if Path(name).suffix.lower() not in (".xlsx", ".csv", ".yaml", ".yml"):
            return page(request, "agents/import.html", agent, status=422, rubrique="import", fichier=None,
                        lignes=None, problemes=[], erreur=f"« {name} » : importez un classeur .xlsx, un fichier "
                                                          ".csv ou .yaml (le classeur vierge : lien ci-dessous).")
        keep(request, "import", name, await upload.read())
        return RedirectResponse("/agents/import", status_code=303)

    @needs("redaction")
    async def import_confirm(request: Request, agent: Connecte) -> Response:
        from pacte_docs.errors import ValidationError

        waiting = pending(request)
        if waiting is None:
            request.session["message"] = "Aucun fichier en attente : déposez-le de nouveau."
            return RedirectResponse("/agents/import", status_code=303)
        try:
            report = await run_in_threadpool(lambda: journal.as_author(
                agent.signature, records.import_files, ws, [waiting], signed_allowed=agent.peut("juriste")))
        except (ValidationError, PacteError):
            return RedirectResponse("/agents/import", status_code=303)  # changed meanwhile: the report says why
        forget(request)
        request.session["message"] = f"Import de {waiting.name} enregistré : " + " ; ".join(report.summary()) + "."
        return RedirectResponse("/agents/import", status_code=303)

    @needs("redaction")
    async def import_cancel(request: Request, agent: Connecte) -> Response:
        forget(request)
        request.session["message"] = "Import abandonné : rien n'a été enregistré."
        return RedirectResponse("/agents/import", status_code=303)

    @needs("lecture")
    async def blank_workbook(request: Request, agent: Connecte) -> Response:
        from pacte_docs.services import templates

        with ws.scratch("classeur-") as folder:
            written = await run_in_threadpool(templates.write_workbook, folder / "classeur-pacte.xlsx", False)
            data = Path(written).read_bytes()
        return attachment(data, "classeur-pacte.xlsx",
                          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    # ------------------------------------------------------------ PDI/PTI and bilans; long work outside the request

    async def publications_page(request: Request, agent: Connecte, status: int = 200, erreur: str | None = None,
                                saisie: dict[str, str] | None = None, erreur_suivi: str | None = None) -> Response:
        found = await run_in_threadpool(portal.publications, ws)
        return page(request, "agents/publications.html", agent, status=status, rubrique="publications", pub=found,
                    racine="/agents", travaux=await run_in_threadpool(travaux.recent, ws), erreur=erreur,
                    saisie=saisie or {}, erreur_suivi=forms.for_pages(erreur_suivi) if erreur_suivi else None,
                    annee=on().year - 1, aujourdhui=on(), etats=[(e.value, LABELS[e.value]) for e in EtatFiche])

    @needs("lecture")
    async def publications(request: Request, agent: Connecte) -> Response:
        return await publications_page(request, agent)

    @needs("redaction")
    async def follow(request: Request, agent: Connecte) -> Response:
        """Record where a fiche stands, as `pacte pdi-pti suivi` does."""
        from pacte_docs.intake import import_format
        from pacte_docs.services import suivi

        form = await request.form(max_files=0, max_fields=10)
        entered = {name: str(form.get(name, ""))[:3000] for name in ("pacte", "fiche", "etat", "date", "commentaire")}
        try:
            day = import_format.date(entered["date"]) if entered["date"].strip() else on()
            done = await run_in_threadpool(suivi.record, ws, entered["pacte"] or None, entered["fiche"],
                                           entered["etat"], on=day, commentaire=entered["commentaire"] or None,
                                           par=agent.signature, today=on())
        except (PacteError, Invalid) as exc:
            why = str(exc) if isinstance(exc, PacteError) else f"Date : {exc.message} ; {exc.fix}."
            return await publications_page(request, agent, 422, erreur_suivi=why, saisie=entered)
        verb = {"cree": "enregistré", "modifie": "corrigé", "inchange": "déjà enregistré"}[done.status]
        request.session["message"] = (f"{done.reference}, {suivi.label(done.cible)} : « {LABELS[done.etat]} » au "
                                      f"{date_longue(done.date)} ({verb}).")
        return RedirectResponse(f"/agents/publications#suivi-{done.reference}", status_code=303)

    @needs("lecture")
    async def document(request: Request, agent: Connecte) -> Response:
        ident = int(request.path_params["id"])
        if not 0 < ident < 2**62:  # beyond what a database's integer holds: no such document
            return page(request, "agents/refus.html", agent, status=404, raison="Ce document n'est pas au registre.")
        try:
            found = await run_in_threadpool(portal.download, ws, portal.STAFF, ident)
        except IntegrityError as exc:
            return page(request, "agents/refus.html", agent, status=409, raison=str(exc))
        if found is None:
            return page(request, "agents/refus.html", agent, status=404, raison="Ce document n'est pas au registre.")
        return attachment(found.data, found.nom, found.media_type)

    async def start(nature: str, params: dict[str, Any], titre: str, agent: Connecte) -> Response:
        ident = await run_in_threadpool(travaux.create, ws, nature, params, titre, agent.signature)
        await atelier.submit(ident)
        return RedirectResponse(f"/agents/travaux/{ident}", status_code=303)

    @needs("redaction")
    async def start_documents(request: Request, agent: Connecte) -> Response:
        """The documents of every convention, or of those listed, as `pacte generer` makes them."""
        form = await request.form(max_files=0, max_fields=10)
        every = form.get("toutes") == "oui"
        refs = [r for r in re.split(r"[\s,;]+", str(form.get("references", ""))[:20_000].upper()) if r][:10_000]
        if not every and not refs:
            return await publications_page(request, agent, 422, erreur="Donnez les références des conventions, ou "
                                                                       "cochez « toutes les conventions ».",
                                           saisie={"references": str(form.get("references", ""))[:20_000]})
        what = "toutes les conventions" if every else ", ".join(refs[:5]) + (" …" if len(refs) > 5 else "")
        return await start("documents", {"references": [] if every else refs, "toutes": every},
                           f"Documents de {what}", agent)

    @needs("redaction")
    async def start_bilan(request: Request, agent: Connecte) -> Response:
        """The bilan of a year, compiled as `pacte bilan compiler` does."""
        from pacte_docs.services import lifecycle

        form = await request.form(max_files=0, max_fields=10)
        typed = {k: str(form.get(k, "")).strip()[:100] for k in ("annee", "seance", "deliberation")}
        erreur, seance = None, None
        if not (re.fullmatch(r"[0-9]{4}", typed["annee"]) and 1990 <= int(typed["annee"]) <= 2100):
            erreur = f"Année « {typed['annee']} » : donnez l'année du bilan sur quatre chiffres (par exemple 2025)."
        else:
            try:
                seance = lifecycle.typed_date(typed["seance"], "Date de séance")
            except PacteError as exc:
                erreur = str(exc)
        if erreur:
            return await publications_page(request, agent, 422, erreur=erreur, saisie=typed)
        return await start("bilan", {"annee": int(typed["annee"]), "seance": seance.isoformat() if seance else None,
                                     "deliberation": typed["deliberation"] or None}, f"Bilan {typed['annee']}", agent)

    @needs("lecture")
    async def work_page(request: Request, agent: Connecte) -> Response:
        found = await run_in_threadpool(travaux.seen, ws, str(request.path_params["id"])[:40])
        if found is None:
            return page(request, "agents/refus.html", agent, status=404, raison="Ce travail n'est pas au registre.")
        return page(request, "agents/travail.html", agent, rubrique="publications", t=found, phases=travaux.PHASES)

    # ------------------------------------------------------------ accounts: the administrator's page, one-time links

    async def invitation_form(request: Request) -> Response:
        token = str(request.path_params["jeton"])[:100]
        invited = await run_in_threadpool(agents.invitation, ws, token)
        return page(request, "agents/invitation.html", None, status=200 if invited else 404, invite=invited,
                    jeton=urllib.parse.quote(token), erreur=None)

    async def invitation_accept(request: Request) -> Response:
        token = str(request.path_params["jeton"])[:100]
        form = await request.form(max_files=0, max_fields=10)
        try:
            agent = await run_in_threadpool(agents.accept_invitation, ws, token,
                                            str(form.get("mot_de_passe", "")), str(form.get("confirmation", "")))
        except PacteError as exc:
            invited = await run_in_threadpool(agents.invitation, ws, token)
            return page(request, "agents/invitation.html", None, status=422, invite=invited,
                        jeton=urllib.parse.quote(token), erreur=str(exc))
        return open_session(request, agent, "/agents/", "par un lien à usage unique")

    def accounts_page(request: Request, agent: Connecte, status: int = 200, **values: Any) -> Response:
        return page(request, "agents/administration.html", agent, status=status, rubrique="administration",
                    comptes=agents.listing(ws),
                    **({"lien": None, "erreur": None, "saisie": {}, "a_retirer": None} | values))

    def invitation_link(request: Request, email: str, token: str) -> dict[str, Any]:
        """The one-time link, at [serveur] url_publique, else at the address the administrator is browsing."""
        base = ws.config.url_publique or str(request.base_url).rstrip("/")
        return {"email": email, "heures": agents.INVITATION_HOURS, "url": f"{base}{agents.INVITATION_PATH}{token}"}

    @needs("administration")
    async def accounts(request: Request, agent: Connecte) -> Response:
        return await run_in_threadpool(accounts_page, request, agent)

    @needs("administration")
    async def account_create(request: Request, agent: Connecte) -> Response:
        form = await request.form(max_files=0, max_fields=10)
        typed = {k: str(form.get(k, ""))[:300] for k in ("email", "nom", "role", "connexion")}
        try:
            made = await run_in_threadpool(agents.create, ws, typed["email"], typed["nom"], typed["role"], None)
            token = await run_in_threadpool(agents.invite, ws, made.email) if typed["connexion"] != "fournisseur" \
                else None
        except PacteError as exc:
            said = str(exc)
            return await run_in_threadpool(lambda: accounts_page(request, agent, 422, erreur=said, saisie=typed))
        log.info("compte %s (%s) créé par %s", made.email, made.role, agent.email)
        request.session["message"] = f"Compte créé : {made.nom} <{made.email}>, rôle {roles.LIBELLES[made.role]}."
        return await run_in_threadpool(lambda: accounts_page(
            request, agent, lien=invitation_link(request, made.email, token) if token else None))

    @needs("administration")
    async def account_link(request: Request, agent: Connecte) -> Response:
        form = await request.form(max_files=0, max_fields=5)
        email = str(form.get("email", ""))[:254]
        try:
            token = await run_in_threadpool(agents.invite, ws, email)
        except PacteError as exc:
            said = str(exc)
            return await run_in_threadpool(lambda: accounts_page(request, agent, 422, erreur=said))
        log.info("lien de mot de passe pour %s fait par %s", email, agent.email)
        link = invitation_link(request, email, token)
        return await run_in_threadpool(lambda: accounts_page(request, agent, lien=link))

    @needs("administration")
    async def account_role(request: Request, agent: Connecte) -> Response:
        form = await request.form(max_files=0, max_fields=5)
        email, role = str(form.get("email", ""))[:254], str(form.get("role", ""))[:40]
        try:
            made = await run_in_threadpool(agents.change_role, ws, email, role, agent.email)
        except PacteError as exc:
            request.session["message"] = str(exc)
        else:
            log.info("rôle de %s changé en %s par %s", made.email, made.role, agent.email)
            request.session["message"] = f"{made.nom} a désormais le rôle « {roles.LIBELLES[made.role]} »."
        return RedirectResponse("/agents/administration", status_code=303)

    @needs("administration")
    async def account_remove(request: Request, agent: Connecte) -> Response:
        form = await request.form(max_files=0, max_fields=5)
        email = str(form.get("email", ""))[:254]
        if form.get("confirme") != "oui":  # a withdrawal is asked for twice
            return await run_in_threadpool(lambda: accounts_page(request, agent, a_retirer=email))
        try:
            await run_in_threadpool(agents.remove, ws, email, agent.email)
        except PacteError as exc:
            request.session["message"] = str(exc)
        else:
            log.info("compte %s retiré par %s", email, agent.email)
            request.session["message"] = f"Compte de {email} retiré : il ne peut plus se connecter."
        return RedirectResponse("/agents/administration", status_code=303)

    # ------------------------------------------------------------ templates: list, download, replace once checked

    checked: dict[str, Any] = {}  # the verdict of each template waiting for its confirmation

    @needs("lecture")
    async def templates_page(request: Request, agent: Connecte) -> Response:
        from pacte_docs.services import templates

        listed = await run_in_threadpool(templates.list_templates, ws)
        waiting = pending(request, "modele") if agent.peut("juriste") else None
        check = None
        if waiting is not None:
            check = checked.get(str(waiting))  # checked once per upload: a reload does not render it again
            if check is None:
                try:
                    check = await run_in_threadpool(templates.check_upload, ws, waiting.stem, waiting.read_bytes())
                except PacteError:
                    forget(request, "modele")
                else:
                    if len(checked) > 100:
                        checked.clear()
                    checked[str(waiting)] = check
        return page(request, "agents/modeles.html", agent, rubrique="modeles", modeles=listed, verification=check,
                    erreur=None, documents=TEMPLATE_LABELS)

    @needs("lecture")
    async def template_download(request: Request, agent: Connecte) -> Response:
        from pacte_docs.services import templates

        found = await run_in_threadpool(templates.template_file, ws, str(request.path_params["nom"])[:60])
        if found is None:
            return page(request, "agents/refus.html", agent, status=404, raison="Ce modèle n'est pas dans modeles/.")
        return attachment(found[1], found[0],
                          "application/vnd.openxmlformats-officedocument.wordprocessingml.document")

    @needs("juriste")
    async def template_upload(request: Request, agent: Connecte) -> Response:
        from pacte_docs.services import templates

        form = await request.form(max_files=1, max_fields=5)
        upload, name = form.get("fichier"), str(form.get("nom", "")).strip()[:60]
        refusal = None
        if not isinstance(upload, UploadFile) or not upload.filename:
            refusal = "Choisissez le fichier DOCX de la nouvelle version."
        elif not name:
            refusal = "Choisissez le modèle que ce fichier remplace."
        else:
            try:
                templates._template_name(name)
            except PacteError as exc:
                refusal = str(exc)
        if refusal is not None or not isinstance(upload, UploadFile):
            listed = await run_in_threadpool(templates.list_templates, ws)
            return page(request, "agents/modeles.html", agent, status=422, rubrique="modeles", modeles=listed,
                        verification=None, erreur=refusal, documents=TEMPLATE_LABELS)
        keep(request, "modele", f"{name.removesuffix('.docx')}.docx", await upload.read())
        return RedirectResponse("/agents/modeles#verification", status_code=303)

    @needs("juriste")
    async def template_replace(request: Request, agent: Connecte) -> Response:
        from pacte_docs.services import templates

        waiting = pending(request, "modele")
        if waiting is None:
            request.session["message"] = "Aucun modèle en attente : déposez-le de nouveau."
            return RedirectResponse("/agents/modeles", status_code=303)
        try:
            done, kept = await run_in_threadpool(templates.replace_template, ws, waiting.stem, waiting.read_bytes())
        except PacteError as exc:
            request.session["message"] = str(exc)
            return RedirectResponse("/agents/modeles#verification", status_code=303)
        forget(request, "modele")
        log.info("modèle %s remplacé par %s", done.name, agent.email)
        request.session["message"] = (f"Modèle {done.name} remplacé : les prochains documents le suivront."
                                      + (f" La version précédente est gardée dans {kept}." if kept else ""))
        return RedirectResponse("/agents/modeles", status_code=303)

    @needs("juriste")
    async def template_cancel(request: Request, agent: Connecte) -> Response:
        forget(request, "modele")
        request.session["message"] = "Dépôt abandonné : le modèle en place n'a pas changé."
        return RedirectResponse("/agents/modeles", status_code=303)

    return [
        Route("/agents/publications", publications, methods=["GET", "HEAD"]),
        Route("/agents/documents/{id:int}", document, methods=["GET", "HEAD"]),
        Route("/agents/travaux/documents", start_documents, methods=["POST"]),
        Route("/agents/travaux/bilan", start_bilan, methods=["POST"]),
        Route("/agents/pdi-pti/suivi", follow, methods=["POST"]),
        Route("/agents/travaux/{id:str}", work_page, methods=["GET", "HEAD"]),
        Route("/connexion/invitation/{jeton:str}", invitation_form, methods=["GET", "HEAD"]),
        Route("/connexion/invitation/{jeton:str}", invitation_accept, methods=["POST"]),
        Route("/agents/administration", accounts, methods=["GET", "HEAD"]),
        Route("/agents/administration/creer", account_create, methods=["POST"]),
        Route("/agents/administration/lien", account_link, methods=["POST"]),
        Route("/agents/administration/retirer", account_remove, methods=["POST"]),
        Route("/agents/administration/role", account_role, methods=["POST"]),
        Route("/agents/modeles", templates_page, methods=["GET", "HEAD"]),
        Route("/agents/modeles/deposer", template_upload, methods=["POST"]),
        Route("/agents/modeles/remplacer", template_replace, methods=["POST"]),
        Route("/agents/modeles/abandonner", template_cancel, methods=["POST"]),
        Route("/agents/modeles/{nom:str}.docx", template_download, methods=["GET", "HEAD"]),
        Route("/agents/import", import_form, methods=["GET", "HEAD"]),
        Route("/agents/import", import_upload, methods=["POST"]),
        Route("/agents/import/confirmer", import_confirm, methods=["POST"]),
        Route("/agents/import/abandonner", import_cancel, methods=["POST"]),
        Route("/agents/import/classeur-vierge.xlsx", blank_workbook, methods=["GET", "HEAD"]),
        Route("/connexion", sign_in_form, methods=["GET", "HEAD"]),
        Route("/connexion", sign_in, methods=["POST"]),
        Route("/connexion/oidc", oidc_start, methods=["GET", "HEAD"]),
        Route("/connexion/oidc/retour", oidc_return, methods=["GET", "HEAD"]),
        Route("/deconnexion", sign_out, methods=["POST"]),
        Route("/agents/", home, methods=["GET", "HEAD"]),
        Route("/agents/partenaires", partners, methods=["GET", "HEAD"]),
        Route("/agents/partenaires/nouveau", new_partner, methods=["GET", "HEAD"]),
        Route("/agents/partenaires/nouveau", create_partner, methods=["POST"]),
        Route("/agents/partenaires/{code:str}", partner_page, methods=["GET", "HEAD"]),
        Route("/agents/partenaires/{code:str}", update_partner, methods=["POST"]),
        Route("/agents/departement", departement_page, methods=["GET", "HEAD"]),
        Route("/agents/departement", update_departement, methods=["POST"]),
        Route("/agents/conventions/nouvelle", new_draft, methods=["GET", "HEAD"]),
        Route("/agents/conventions/nouvelle", create_draft, methods=["POST"]),
        Route("/agents/conventions/{reference:str}/modifier", draft_page, methods=["GET", "HEAD"]),
        Route("/agents/conventions/{reference:str}/modifier", update_draft, methods=["POST"]),
        Route("/agents/alertes", alerts, methods=["GET", "HEAD"]),
        Route("/agents/pieces/relancer", piece_remind, methods=["POST"]),
        Route("/agents/conventions/{reference:str}", convention, methods=["GET", "HEAD"]),
        Route("/agents/conventions/{reference:str}/generer", generate, methods=["POST"]),
        Route("/agents/conventions/{reference:str}/documents/{nom:str}", download, methods=["GET", "HEAD"]),
        Route("/agents/conventions/{reference:str}/signature/confirmer", signature_confirm, methods=["POST"]),
        Route("/agents/conventions/{reference:str}/signature/abandonner", signature_cancel, methods=["POST"]),
        Route("/agents/conventions/{reference:str}/succeder", succeed, methods=["POST"]),
        Route("/agents/conventions/{reference:str}/pieces/recevoir", piece_receive, methods=["POST"]),
        Route("/agents/conventions/{reference:str}/soumettre", submit, methods=["POST"]),
        Route("/agents/conventions/{reference:str}/viser", visa, methods=["POST"]),
        Route("/agents/conventions/{reference:str}/signer-electroniquement", esign, methods=["POST"]),
        Route("/agents/conventions/{reference:str}/texte-definitif", final_text, methods=["POST"]),
        Route("/agents/conventions/{reference:str}/pieces/relancer", piece_remind, methods=["POST"]),
        Route("/agents/conventions/{reference:str}/{acte:str}", decide, methods=["POST"]),
    ]
