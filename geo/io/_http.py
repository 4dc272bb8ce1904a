"""The one HTTP helper of the project (like osmnx's ``_http``): httpx with retries and atomic downloads.

* A client with the project's User-Agent, a timeout and redirects followed (:func:`make_client`); tests
  pass an ``httpx.MockTransport`` as ``transport`` (or their own client) and never touch the network.
* :func:`request` retries 429 and 5xx answers and network errors with exponential back-off (a
  ``Retry-After`` header wins), then raises :class:`DownloadError`: one line naming the URL and the problem.
* :func:`download` streams a body into a file written atomically (:func:`geo.io._atomic.atomic_path`),
  optionally gunzipping it on the fly, and lets the caller check the file with the project's reader
  before it gets its final name: a failure leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import logging
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

from geo import config
from geo.errors import ArtoisError
from geo.io._atomic import atomic_path

log = logging.getLogger("artois.io")

#: Sleep function used between retries (tests replace it to run without waiting).
_sleep: Callable[[float], None] = time.sleep

_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_CHUNK = 1 << 20


class DownloadError(ArtoisError):
    """A download failed: HTTP error, time-out, network error or an unusable answer.

    The message is one line, ``<url>: <problem>``.
    """

    def __init__(self, url: str, problem: str) -> None:
        self.url = url
        self.problem = problem
        super().__init__(f"{url}: {problem}")


def make_client(*, transport: httpx.BaseTransport | None = None, timeout_s: float = config.FETCH_TIMEOUT_S
                ) -> httpx.Client:
    """An ``httpx.Client`` with the project's User-Agent, ``timeout_s`` [s] and redirects followed."""
    return httpx.Client(
        headers={"User-Agent": config.FETCH_USER_AGENT},
        timeout=httpx.Timeout(timeout_s),
        follow_redirects=True,
        transport=transport,
    )


@contextlib.contextmanager
def client_or_new(client: httpx.Client | None) -> Iterator[httpx.Client]:
    """Yield ``client``, or a new one from :func:`make_client` that is closed afterwards."""
    if client is not None:
        yield client
        return
    with make_client() as own:
        yield own


def _full_url(url: str, params: Mapping[str, Any] | None) -> str:
    return str(httpx.URL(url, params=dict(params)) if params else httpx.URL(url))


def _problem(resp: httpx.Response) -> str:
    """``HTTP 404 Not Found`` plus the service's own message when it sends a short one."""
    text = f"HTTP {resp.status_code} {resp.reason_phrase}".strip()
    detail = ""
    with contextlib.suppress(Exception):
        body = resp.json()
        if isinstance(body, Mapping):
            detail = str(body.get("message") or body.get("error") or body.get("detail") or "")
    if not detail and resp.headers.get("content-type", "").startswith(("text/plain", "text/xml", "application/xml")):
        with contextlib.suppress(Exception):
            detail = resp.text.strip()
    detail = " ".join(detail.split())[:200]
    return f"{text} ({detail})" if detail else text


def _delay(attempt: int, resp: httpx.Response | None) -> float:
    if resp is not None and (after := resp.headers.get("retry-after")):
        with contextlib.suppress(ValueError):
            return min(float(after), config.FETCH_MAX_BACKOFF_S)
    return min(config.FETCH_BACKOFF_S * 2 ** attempt, config.FETCH_MAX_BACKOFF_S)


def _transport_problem(exc: httpx.TransportError, timeout_s: float | None) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out" + (f" after {timeout_s:g} s" if timeout_s else "")
    msg = " ".join(str(exc).split()) or type(exc).__name__
    return f"network error ({type(exc).__name__}: {msg})"


def _timeout_s(client: httpx.Client, timeout_s: float | None = None) -> float | None:
    return timeout_s if timeout_s is not None else client.timeout.read


def _give_up(exc: httpx.TransportError, last: bool, retry_timeouts: bool) -> bool:
    """No retry after the last attempt, nor after a time-out when the caller says one would recur."""
    return last or (not retry_timeouts and isinstance(exc, httpx.TimeoutException))


@contextlib.contextmanager
def _stream(client: httpx.Client, method: str, url: str, *, params: Mapping[str, Any] | None = None,
            data: Mapping[str, str] | None = None, attempts: int = config.FETCH_ATTEMPTS,
            timeout_s: float | None = None, retry_timeouts: bool = True) -> Iterator[httpx.Response]:
    """Open a streamed response with a 2xx status, retrying 429/5xx and network errors before the body."""
    shown = _full_url(url, params)
    timeout = httpx.Timeout(timeout_s) if timeout_s is not None else httpx.USE_CLIENT_DEFAULT
    for attempt in range(attempts):
        last = attempt == attempts - 1
        with contextlib.ExitStack() as stack:
            try:
                resp = stack.enter_context(client.stream(method, url, params=params, data=data, timeout=timeout))
            except httpx.TransportError as exc:
                problem = _transport_problem(exc, _timeout_s(client, timeout_s))
                if _give_up(exc, last, retry_timeouts):
                    raise DownloadError(shown, problem) from exc
                wait = _delay(attempt, None)
                log.info("%s: %s, retrying in %.0f s", shown, problem, wait)
                _sleep(wait)
                continue
            if resp.status_code in _RETRY_STATUS and not last:
                with contextlib.suppress(httpx.TransportError):
                    resp.read()
                wait = _delay(attempt, resp)
                log.info("%s: %s, retrying in %.0f s", shown, _problem(resp), wait)
                _sleep(wait)
                continue
            if resp.status_code >= 400:
                with contextlib.suppress(httpx.TransportError):
                    resp.read()
                raise DownloadError(shown, _problem(resp))
            yield resp
            return
    raise DownloadError(shown, f"no answer after {attempts} attempts")  # pragma: no cover (attempts < 1)


def request(client: httpx.Client, method: str, url: str, *, params: Mapping[str, Any] | None = None,
            data: Mapping[str, str] | None = None, attempts: int = config.FETCH_ATTEMPTS) -> httpx.Response:
    """Send a request and read the whole answer, retrying 429/5xx and network errors.

    Raises
    ------
    DownloadError
        A 4xx answer, or a 429/5xx answer, a time-out or a network error on the last attempt.
    """
    shown = _full_url(url, params)
    for attempt in range(attempts):
        try:
            with _stream(client, method, url, params=params, data=data, attempts=attempts - attempt) as resp:
                resp.read()
                return resp
        except httpx.TransportError as exc:  # the body failed half-way: start again
            if attempt == attempts - 1:
                raise DownloadError(shown, _transport_problem(exc, _timeout_s(client))) from exc
            _sleep(_delay(attempt, None))
    raise DownloadError(shown, f"no answer after {attempts} attempts")  # pragma: no cover


def get_json(client: httpx.Client, url: str, *, params: Mapping[str, Any] | None = None) -> Any:
    """GET ``url`` and decode its JSON body (a body that is not JSON is a :class:`DownloadError`)."""
    resp = request(client, "GET", url, params=params)
    try:
        return resp.json()
    except ValueError as exc:
        raise DownloadError(_full_url(url, params), f"the answer is not JSON ({resp.text[:80]!r}…)") from exc


def download(
    client: httpx.Client,
    url: str,
    dest: str | Path,
    *,
    params: Mapping[str, Any] | None = None,
    data: Mapping[str, str] | None = None,
    method: str = "GET",
    gunzip: bool = False,
    check: Callable[[Path], object] | None = None,
    attempts: int = config.FETCH_ATTEMPTS,
    timeout_s: float | None = None,
    retry_timeouts: bool = True,
) -> int:
    """Stream ``url`` into ``dest`` atomically; return the number of bytes written.

    Parameters
    ----------
    gunzip
        Decompress a gzip body (a ``.gz`` file) while writing; a body that the server already sent
        decoded (``Content-Encoding: gzip``, undone by httpx) is written as it is.
    check
        Called with the temporary file before it is renamed to ``dest`` (e.g. the project's reader);
        whatever it raises propagates and ``dest`` is not written.
    timeout_s
        Time-out of this request [s] instead of the client's (e.g. a query the server may work on
        for minutes).
    retry_timeouts
        False: a time-out is final (a query that timed out once would time out again).

    Raises
    ------
    DownloadError
        As :func:`request`, also when the body breaks off half-way on the last attempt or is not gzip.
    """
    dest = Path(dest)
    shown = _full_url(url, params)
    for attempt in range(attempts):
        try:
            with atomic_path(dest) as tmp:
                with _stream(client, method, url, params=params, data=data, attempts=attempts - attempt,
                             timeout_s=timeout_s, retry_timeouts=retry_timeouts) as resp, open(tmp, "wb") as fh:
                    size = _write_body(resp, fh, gunzip=gunzip, shown=shown)
                if check is not None:
                    check(tmp)
            return size
        except httpx.TransportError as exc:  # the body broke off: start again (the partial file is gone)
            if _give_up(exc, attempt == attempts - 1, retry_timeouts):
                raise DownloadError(shown, _transport_problem(exc, _timeout_s(client, timeout_s))) from exc
            _sleep(_delay(attempt, None))
    raise DownloadError(shown, f"no answer after {attempts} attempts")  # pragma: no cover


def _write_body(resp: httpx.Response, fh: Any, *, gunzip: bool, shown: str) -> int:
    size = 0
    inflater: Any = None
    first = True
    for chunk in resp.iter_bytes(_CHUNK):
        if first and gunzip and chunk:
            first = False
            inflater = zlib.decompressobj(wbits=31) if chunk[:2] == b"\x1f\x8b" else None
        if inflater is not None:
            try:
                chunk = inflater.decompress(chunk)
            except zlib.error as exc:
                raise DownloadError(shown, f"not a valid gzip file ({exc})") from exc
        fh.write(chunk)
        size += len(chunk)
    if inflater is not None:
        tail = inflater.flush()
        if not inflater.eof:
            raise DownloadError(shown, "truncated gzip file")
        fh.write(tail)
        size += len(tail)
    return size
