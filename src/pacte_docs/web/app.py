"""The ASGI application of `pacte serveur`.

The directors' pages are reached through a personal link (services.access): /acces/<jeton> and what lies under
it, and the calendar /calendrier/<jeton>.ics. Anything else — an unknown or revoked token, another director's
convention, a path that is not one of these — is 404. They answer GET and HEAD only (405 otherwise): none of them
changes the registry. The staff pages (/connexion, /agents/, web.staff) also take POST, behind a session and a
CSRF token. The log shows each request with its token hidden."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import functools
import logging
import os
import re
import secrets
import time
import urllib.parse
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from importlib import resources
from typing import Any

from asgi_csrf import asgi_csrf
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from pacte_docs import __version__
from pacte_docs.errors import IntegrityError, PacteError
from pacte_docs.formatting import FILTERS, LABELS, jours
from pacte_docs.rules import periods
from pacte_docs.services import portal, travaux
from pacte_docs.services.access import Link
from pacte_docs.thirdparty import silence_third_party_warnings
from pacte_docs.web import forms
from pacte_docs.web.staff import STAFF_PREFIXES, attachment, staff_routes
from pacte_docs.workspace import Workspace

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("pacte.serveur")

SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                                 b"base-uri 'none'; frame-ancestors 'none'"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
_SECURITY_NAMES = {name for name, _ in SECURITY_HEADERS}
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9_-]{20,}")  # anything as long as a token's part, wherever it stands
TOKEN = "{jeton:str}"


def masked(path: str) -> str:
    """A request path fit for the log: a token, or what may be one, replaced by « … »."""
    return _TOKEN_LIKE.sub("…", path)


class Guard:
    """The outermost layer: GET and HEAD only, the security headers on every answer, a log line without token."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 0

        async def with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _SECURITY_NAMES]
                message["headers"] = headers + SECURITY_HEADERS
            await send(message)

        if _non_canonical(scope):  # answered by the pages' own 404 (the staff's or the directors')
            nowhere = "/agents/~introuvable" if scope.get("path", "").startswith(STAFF_PREFIXES) else "/~introuvable"
            scope = dict(scope, path=nowhere, raw_path=nowhere.encode())
        staff = scope["method"] == "POST" and scope.get("path", "").startswith(STAFF_PREFIXES)
        if staff and _too_long(scope):
            body = "Envoi refusé : 10 Mo au plus, d'une longueur annoncée (Content-Length).".encode()
            await with_headers({"type": "http.response.start", "status": 413, "headers": [
                (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
        elif scope["method"] not in ("GET", "HEAD") and not staff:
            body = "Méthode non permise : ces pages se consultent seulement (GET).".encode()
            await with_headers({"type": "http.response.start", "status": 405, "headers": [
                (b"allow", b"GET, HEAD"), (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
        else:
            try:
                await self.app(scope, _bounded(receive) if staff else receive, with_headers)
            except UnicodeDecodeError:  # a form body that is not UTF-8: read (by the CSRF check) before any page
                if status:
                    raise
                body = (b"Formulaire illisible : son contenu n'est pas en UTF-8. Rechargez la page et envoyez-le de "
                        b"nouveau.")
                await with_headers({"type": "http.response.start", "status": 400, "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
        log.info("%s %s %s %.0f ms", scope["method"], masked(scope.get("path", "")), status,
                 (time.perf_counter() - start) * 1000)


MAX_BODY = 10 * 1024 * 1024  # a staff form or upload; more is refused before it is read
_ENCODED_SEPARATOR = re.compile(rb"%(2f|5c|2e)", re.IGNORECASE)


def _non_canonical(scope: Scope) -> bool:
    """A path that names a page another way than its links do — an encoded « / », « \\ » or « . », a « // » —
    is no page (404), whatever the router would decode it to."""
    raw = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "surrogateescape")
    return bool(_ENCODED_SEPARATOR.search(raw)) or b"//" in raw


def _too_long(scope: Scope) -> bool:
    """A staff POST larger than MAX_BODY, or that does not say its length (chunked): refused before it is read."""
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            return not value.isdigit() or int(value) > MAX_BODY  # bytes: ASCII digits only
    return True


def _bounded(receive: Receive) -> Receive:
    """The request body, cut off (as a client disconnection) past MAX_BODY when no length was announced."""
    seen = 0

    async def read() -> Message:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > MAX_BODY:
            return {"type": "http.disconnect"}
        return message

    return read


def is_multipart(scope: Scope) -> bool:
    """A form with a file: asgi-csrf 0.11 cannot read it with today's python-multipart (its FormParser lost the
    FileClass argument), so web.staff checks its token itself, once Starlette has read the form."""
    return any(name == b"content-type" and value.split(b";", 1)[0].strip() == b"multipart/form-data"
               for name, value in scope.get("headers", []))


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("pacte_docs.web", "templates"), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(FILTERS)
    env.filters["libelle"] = lambda code: LABELS.get(code, code)
    env.filters["pour_pages"] = forms.for_pages  # a service's words for the command line, said for the pages
    env.filters["jours"] = functools.lru_cache(maxsize=4096)(jours)  # a board says the same few day counts again
    return env


def create_app(ws: Workspace, au: dt.date | None = None) -> ASGIApp:
    """The application over the opened workspace *ws*; pages show the situation on *au* (today by default)."""
    silence_third_party_warnings()
    env = _environment()
    stylesheet = (resources.files("pacte_docs.web") / "static" / "pacte.css").read_bytes()

    def on() -> dt.date:
        return au or periods.today()

    def render(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        html = env.get_template(name).render(version=__version__, au=on(), **values)
        return HTMLResponse(html, status_code=status, headers={"cache-control": "private, no-store"})

    async def the_link(request: Request) -> Link:
        token = request.path_params["jeton"]
        found = await run_in_threadpool(portal.link, ws, token)
        if found is None:
            raise HTTPException(404)
        return found

    def record_id(request: Request) -> int:
        """The id in the path: a number a registry may hold (a 30-digit one is no record: 404, not an overflow)."""
        value = int(request.path_params["id"])
        if not 0 < value < 2**31:
            raise HTTPException(404)
        return value

    def base(request: Request, who: Link) -> dict[str, Any]:
        root = f"/acces/{request.path_params['jeton']}"
        return {"lien": who, "racine": root, "calendrier": f"/calendrier/{request.path_params['jeton']}.ics"}

    async def home(request: Request) -> Response:
        return render(request, "accueil.html")

    async def board(request: Request) -> Response:
        who = await the_link(request)
        filters = portal.Filters.parse(request.query_params, team=who.equipe)
        result = await run_in_threadpool(portal.board, ws, who, on(), filters)
        return render(request, "echeances.html", tableau=result, choix=portal.filter_choices(),
                      url=lambda **changes: "?" + urllib.parse.urlencode(result.filters.query(**changes)),
                      lien_convention=lambda s: f"/acces/{request.path_params['jeton']}/conventions/{s.convention_id}",
                      **base(request, who))

    async def convention(request: Request) -> Response:
        who = await the_link(request)
        found = await run_in_threadpool(portal.convention, ws, who, record_id(request), on())
        if found is None:
            raise HTTPException(404)
        return render(request, "convention.html", c=found, **base(request, who))

    async def documents_owed(request: Request) -> Response:
        who = await the_link(request)
        found = await run_in_threadpool(portal.documents_owed, ws, who, on())
        return render(request, "pieces.html", pieces=found,
                      lien_convention=lambda s: f"/acces/{request.path_params['jeton']}/conventions/{s.convention_id}",
                      **base(request, who))

    async def publications(request: Request) -> Response:
        who = await the_link(request)
        found = await run_in_threadpool(portal.publications, ws)
        return render(request, "publications.html", pub=found, **base(request, who))

    async def download(request: Request) -> Response:
        who = await the_link(request)
        try:
            found = await run_in_threadpool(portal.download, ws, who, record_id(request))
        except IntegrityError as exc:
            return render(request, "erreur.html", status=409, titre="Fichier altéré", message=str(exc))
        if found is None:
            raise HTTPException(404)
        return attachment(found.data, found.nom, found.media_type)

    async def calendar(request: Request) -> Response:
        who = await the_link(request)
        data = await run_in_threadpool(portal.calendar, ws, who, on())
        return Response(data, media_type="text/calendar; charset=utf-8", headers={
            "content-disposition": 'inline; filename="echeances.ics"', "cache-control": "private, max-age=0"})

    async def css(request: Request) -> Response:
        return Response(stylesheet, media_type="text/css; charset=utf-8",
                        headers={"cache-control": "public, max-age=3600"})

    async def no_icon(request: Request) -> Response:
        return Response(status_code=204)  # browsers ask for one; none is needed

    async def not_found(request: Request, exc: Exception) -> Response:  # Guard answers every other method itself
        if request.url.path.startswith(STAFF_PREFIXES):
            return render(request, "erreur.html", status=404, titre="Page introuvable", agents=True,
                          message="Cette adresse ne mène à aucune page de l'espace agents : revenez à la liste des "
                                  "conventions.")
        return render(request, "erreur.html", status=404, titre="Page introuvable",
                      message="Cette adresse ne mène à aucune page : le lien est peut-être incomplet, ou il a été "
                              "révoqué. Demandez un nouveau lien au service de l'insertion.")

    async def failure(request: Request, exc: Exception) -> Response:
        log.error("erreur interne sur %s : %s", masked(request.url.path), type(exc).__name__)
        if request.url.path.startswith(STAFF_PREFIXES):
            return render(request, "erreur.html", status=500, titre="Erreur du serveur", agents=True,
                          message="La page n'a pas pu être préparée et rien n'a été enregistré. Réessayez dans un "
                                  "instant ; si l'erreur persiste, prévenez l'administrateur de pacte.")
        return render(request, "erreur.html", status=500, titre="Erreur du serveur",
                      message="La page n'a pas pu être préparée. Réessayez dans un instant ; si l'erreur persiste, "
                              "prévenez le service de l'insertion.")

    secret = os.environ.get("PACTE_SECRET_SESSION") or ""
    if len(secret) < 32:
        secret = secrets.token_urlsafe(48)  # sessions end when the server restarts; several servers disagree
        log.warning("PACTE_SECRET_SESSION absente ou trop courte (32 caractères au moins) : les sessions des agents "
                    "prendront fin au redémarrage du serveur.")
    atelier = travaux.Atelier(ws)  # long work started from the staff pages, run outside the requests
    routes = staff_routes(ws, render, on, secret, atelier) + [
        Route("/", home),
        Route("/pacte.css", css),
        Route("/favicon.ico", no_icon),
        Route(f"/acces/{TOKEN}", board),
        Route(f"/acces/{TOKEN}/conventions/{{id:int}}", convention),
        Route(f"/acces/{TOKEN}/publications", publications),
        Route(f"/acces/{TOKEN}/pieces", documents_owed),
        Route(f"/acces/{TOKEN}/documents/{{id:int}}", download),
        Route("/calendrier/{jeton:str}.ics", calendar),
    ]
    routes.append(Route("/agents", lambda request: RedirectResponse("/agents/", status_code=303)))
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await atelier.open()
        try:
            yield
        finally:
            await atelier.close()

    app = Starlette(routes=routes, exception_handlers={HTTPException: not_found, Exception: failure}, lifespan=lifespan,
                    middleware=[Middleware(SessionMiddleware, secret_key=secret, session_cookie="pacte_session",
                                           max_age=ws.config.inactivite_minutes * 60, same_site="lax",
                                           https_only=ws.config.cookie_securise)])
    app.router.redirect_slashes = False  # its absolute redirection would name whatever host the request said

    async def csrf_failed(scope: Scope, send: Send, message_id: Any) -> None:
        staff = {"agents": True} if str(scope.get("path", "")).startswith(STAFF_PREFIXES) else {}
        page = env.get_template("erreur.html").render(
            version=__version__, au=on(), titre="Formulaire refusé", **staff,
            message="Ce formulaire n'a pas été accepté : il a expiré ou ne vient pas de ces pages. Rechargez la "
                    "page, puis envoyez-le de nouveau.").encode()
        await send({"type": "http.response.start", "status": 403, "headers": [
            (b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(page)).encode()),
            (b"cache-control", b"private, no-store")]})
        await send({"type": "http.response.body", "body": page})

    protected = asgi_csrf(app, signing_secret=secret, cookie_name="pacte_csrf", skip_if_scope=is_multipart,
                          always_protect={"/connexion", "/deconnexion"}, cookie_secure=ws.config.cookie_securise,
                          cookie_samesite="Lax", send_csrf_failed=csrf_failed)
    return Guard(protected)


def serve(ws: Workspace, host: str, port: int, au: dt.date | None = None,
          ready: Callable[[str], None] | None = None) -> None:
    """Serve the pages until interrupted (Ctrl-C); *ready* is told the address once the port is open. A port
    taken or an address this machine does not have is a PacteError saying so."""
    import socket

    import uvicorn

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        why = "déjà utilisé par un autre programme" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        raise PacteError(f"Impossible d'ouvrir {host}:{port} ({why}). Choisissez un autre port (--port 8001) ou "
                         "une adresse de cette machine (--hote 127.0.0.1).") from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%Y-%m-%d %H:%M:%S")
    config = uvicorn.Config(create_app(ws, au), access_log=False, log_level="warning", server_header=False,
                            lifespan="on")
    if ready is not None:
        shown = f"[{host}]" if family == socket.AF_INET6 else host
        ready(f"http://{shown}:{sock.getsockname()[1]}")
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
