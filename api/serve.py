"""Run the Layer API with uvicorn (``artois serve``)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from api.settings import Settings
from geo.errors import ArtoisError, InputError

log = logging.getLogger("artois.api")


def serve(*, data_dir: Path, host: str = "127.0.0.1", port: int = 8000, addresses: Path | None = None,
          workers: int = 1) -> int:
    """Serve the layers of ``data_dir`` on http://host:port until interrupted; returns the exit status.

    The app is built before uvicorn starts, so a build folder without layers fails at once with
    :class:`geo.errors.InputError` ("run artois build first"), which the CLI prints as one line.
    No access log: at the warning level it is not printed, yet uvicorn would format each line's arguments
    (client address, quoted path) for every request.
    """
    import uvicorn

    settings = Settings(data_dir=Path(data_dir), addresses_path=addresses)
    if workers > 1:
        # The app is checked (and the address index built) in a short-lived process: uvicorn's supervisor,
        # which only watches the workers, would otherwise keep a whole app in memory for nothing.
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            error, summary = pool.submit(_prepare, settings).result()
        if error is not None:
            raise InputError(None, error)  # the message already names the file
    else:
        from api.app import create_app

        app = create_app(settings)
        summary = _summary(app, settings)
    log.info("serving %s on http://%s:%d (%s)", data_dir, host, port, summary)
    if workers > 1:
        # uvicorn needs an import string to start several processes; its supervisor is exec'd afresh so that it
        # holds only uvicorn (~30 MB) rather than this process's imports (geo, pandas: ~180 MB)
        import os
        import sys

        os.environ["ARTOIS_DATA_DIR"] = str(Path(data_dir).resolve())
        if addresses is not None:
            os.environ["ARTOIS_ADDRESSES"] = str(Path(addresses).resolve())
        sys.stdout.flush()
        sys.stderr.flush()
        from api.workers import reuse_port_supported

        if reuse_port_supported():  # one listening socket per worker: connections spread evenly (api/workers.py)
            os.execv(sys.executable, [sys.executable, "-m", "api.workers", "api.serve:app_from_env", host, str(port),
                                      str(workers)])
        os.execv(sys.executable, [sys.executable, "-m", "uvicorn", "api.serve:app_from_env", "--factory",
                                  "--host", host, "--port", str(port), "--workers", str(workers),
                                  "--log-level", "warning", "--no-access-log"])
    else:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    return 0


def _summary(app: Any, settings: Settings) -> str:
    """Loads the address index (built at the first start) and describes what the app serves."""
    from api import services

    catalog = app.state.catalog
    index = catalog.cached("addresses", lambda: services.load_address_index(catalog, settings))
    return f"layers: {', '.join(catalog.collections)}; geocoder: {index.size} addresses from {index.source}"


def _prepare(settings: Settings) -> tuple[str | None, str]:
    """(error message or None, summary): the app built once in a worker process (``serve(workers > 1)``)."""
    from api.app import create_app

    try:
        return None, _summary(create_app(settings), settings)
    except ArtoisError as exc:
        return str(exc), ""


def app_from_env() -> object:
    """App factory for multi-process uvicorn: the build folder from ``ARTOIS_DATA_DIR``."""
    import os

    from api.app import create_app

    addresses = os.environ.get("ARTOIS_ADDRESSES")
    return create_app(Settings(data_dir=Path(os.environ.get("ARTOIS_DATA_DIR", "build")),
                               addresses_path=Path(addresses) if addresses else None))
