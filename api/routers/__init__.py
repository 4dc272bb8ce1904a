"""The API's routers: thin layers that parse requests, call :mod:`api.services` / :mod:`geo`, and render."""
