"""ASGI middleware: ``Cache-Control`` by kind of response (compression is Starlette's GZipMiddleware)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def cache_control(method: str, status: int, path: str, *, max_age: int, tile_max_age: int) -> str:
    """The ``Cache-Control`` value of a response without one (:class:`CacheControlMiddleware`)."""
    age = tile_max_age if path.startswith("/tiles/") else max_age
    if method in ("GET", "HEAD") and (200 <= status < 300 or status == 304) and age > 0:
        return f"public, max-age={age}"
    return "no-store"


class CacheControlMiddleware:
    """Add ``Cache-Control`` to responses that do not set one.

    GET/HEAD successes are cacheable (``public, max-age``): tiles (paths under ``/tiles``) for
    ``tile_max_age`` seconds, other data for ``max_age``; everything else (POST, errors) gets
    ``no-store``.
    """

    def __init__(self, app: ASGIApp, *, max_age: int, tile_max_age: int) -> None:
        self.app = app
        self.max_age = max_age
        self.tile_max_age = tile_max_age

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope.get("method", "GET")
        path: str = scope.get("path", "")

        async def send_with_cache(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(k.lower() == b"cache-control" for k, _ in headers):
                    value = cache_control(method, int(message["status"]), path, max_age=self.max_age,
                                          tile_max_age=self.tile_max_age)
                    headers.append((b"cache-control", value.encode()))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cache)
