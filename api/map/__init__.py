"""The web map: a folium-generated Leaflet page in French, served by the API at ``/``.

``api.map.routes.router`` serves the page and its static assets (Leaflet from the PyPI
package ``xstatic-leaflet``, Leaflet.VectorGrid vendored in ``static/vendor`` (no npm), and our own
JavaScript/CSS in ``api/map/static/``). ``api.map.page.build_map_page`` builds the HTML.
"""
