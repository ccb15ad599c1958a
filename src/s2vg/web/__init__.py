"""``s2vg serve``: a local web app over the conversion API (FastAPI, one static page).

Install the ``web`` extra (FastAPI, uvicorn). :func:`create_app` builds the app,
:func:`serve` runs it, :class:`BackgroundServer` runs it in a thread.
"""

from s2vg.web.server import BackgroundServer, create_app, serve

__all__ = ["BackgroundServer", "create_app", "serve"]
