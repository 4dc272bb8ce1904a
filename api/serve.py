"""Run the Layer API with uvicorn (``artois serve``)."""

from __future__ import annotations

import logging
from pathlib import Path

from api.settings import Settings

log = logging.getLogger("artois.api")


def serve(*, data_dir: Path, host: str = "127.0.0.1", port: int = 8000, addresses: Path | None = None,
          workers: int = 1) -> int:
    """Serve the layers of ``data_dir`` on http://host:port until interrupted; returns the exit status.

    The app is built before uvicorn starts, so a build folder without layers fails at once with
    :class:`geo.errors.InputError` ("run artois build first"), which the CLI prints as one line.
    """
    import uvicorn

    from api.app import create_app

    settings = Settings(data_dir=Path(data_dir), addresses_path=addresses)
    app = create_app(settings)
    from api import services

    catalog = app.state.catalog
    index = catalog.cached("addresses", lambda: services.load_address_index(catalog, settings))
    log.info("serving %s on http://%s:%d (layers: %s; geocoder: %d addresses from %s)", data_dir, host, port,
             ", ".join(catalog.collections), index.size, index.source)
    if workers > 1:  # uvicorn needs an import string to start several processes
        import os

        os.environ["ARTOIS_DATA_DIR"] = str(Path(data_dir).resolve())
        if addresses is not None:
            os.environ["ARTOIS_ADDRESSES"] = str(Path(addresses).resolve())
        uvicorn.run("api.serve:app_from_env", factory=True, host=host, port=port, workers=workers,
                    log_level="warning")
    else:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    return 0


def app_from_env() -> object:
    """App factory for multi-process uvicorn: the build folder from ``ARTOIS_DATA_DIR``."""
    import os

    from api.app import create_app

    addresses = os.environ.get("ARTOIS_ADDRESSES")
    return create_app(Settings(data_dir=Path(os.environ.get("ARTOIS_DATA_DIR", "build")),
                               addresses_path=Path(addresses) if addresses else None))
