"""The directors' pages and subscribed calendars (`pacte serveur`): a small read-only ASGI application over the
package's API — Starlette, served by uvicorn, Jinja2 templates, one stylesheet, no JavaScript."""
