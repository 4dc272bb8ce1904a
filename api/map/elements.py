"""folium elements of the map, all loading their code from this server.

folium's own classes pull Leaflet, jQuery, Bootstrap and Font Awesome from CDNs; the classes
here replace those links by our ``/static`` URLs and drop what the page does not use. Each
data layer is a :class:`ArtoisLayer`: a folium ``Layer`` (so it appears in folium's
``LayerControl``) whose JavaScript is one call to a factory of ``artois-map.js``
(``Artois.layers.<kind>(options)``), which fetches its data from the API when first shown.
"""

from __future__ import annotations

from typing import Any

import folium
from branca.element import Element, Figure, MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template

from api.map.assets import (
    APP_CSS,
    APP_JS,
    LEAFLET_CSS,
    LEAFLET_JS,
    PLANNER_JS,
    SITES_JS,
    VECTORGRID_JS,
    asset_url,
)

#: Scripts and stylesheets of every page, in load order: Leaflet, VectorGrid, our code (the sites' layers last).
PAGE_JS: list[tuple[str, str]] = [
    ("leaflet", asset_url(LEAFLET_JS)),
    ("vectorgrid", asset_url(VECTORGRID_JS)),
    ("artois_map", asset_url(APP_JS)),
    ("artois_planner", asset_url(PLANNER_JS)),
    ("artois_sites", asset_url(SITES_JS)),
]
PAGE_CSS: list[tuple[str, str]] = [
    ("leaflet_css", asset_url(LEAFLET_CSS)),
    ("artois_map_css", asset_url(APP_CSS)),
]


class LocalMap(folium.Map):
    """``folium.Map`` whose assets are Leaflet and our code from this server (no CDN, no jQuery)."""

    default_js = PAGE_JS
    default_css = PAGE_CSS


class ArtoisLayer(JSCSSMixin, Layer):
    """A layer built in the browser by ``Artois.layers[kind](options)`` (see artois-map.js).

    Parameters
    ----------
    kind
        Name of the factory, e.g. ``"roofFaces"``, ``"parks"``, ``"localBase"``.
    name
        Label in the layer control (French).
    overlay
        Overlay (check box) or base map (radio button).
    show
        Shown when the page opens.
    options
        JSON-serialisable options handed to the factory (URLs, colours, labels).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) -%}
            var {{ this.get_name() }} = Artois.layers[{{ this.kind|tojson }}]({{ this.options|tojson }});
        {%- endmacro %}
        """
    )
    default_js = PAGE_JS
    default_css = PAGE_CSS

    def __init__(
        self,
        kind: str,
        name: str,
        *,
        overlay: bool = True,
        show: bool = False,
        options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(name=name, overlay=overlay, control=True, show=show)
        self._name = "ArtoisLayer"
        self.kind = kind
        self.options = {"name": name, **(options or {})}


class ArtoisSetup(MacroElement):
    """First child of the map: hands the map and the page settings to ``Artois.setup``.

    It must be added before any :class:`ArtoisLayer` (it creates the panes they draw in).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) -%}
            Artois.setup({{ this._parent.get_name() }}, {{ this.settings|tojson }});
        {%- endmacro %}
        """
    )

    def __init__(self, settings: dict[str, Any]) -> None:
        super().__init__()
        self._name = "ArtoisSetup"
        self.settings = settings


class ArtoisStart(MacroElement):
    """Last child of the map: starts the panel once all layers and the layer control exist."""

    _template = Template(
        """
        {% macro script(this, kwargs) -%}
            Artois.start({{ this.layers|tojavascript }}, {{ this.control.get_name() }});
        {%- endmacro %}
        """
    )

    def __init__(self, layers: dict[str, Layer], control: folium.LayerControl) -> None:
        super().__init__()
        self._name = "ArtoisStart"
        self.control = control
        #: Role (camelCase) -> layer; rendered as ``{role: <layer variable>}``.
        self.layers = layers


class HeadHtml(MacroElement):
    """Raw HTML placed in the page's ``<head>`` (meta tags, the icon)."""

    _template = Template(
        """
        {% macro header(this, kwargs) -%}
            {{ this.html }}
        {%- endmacro %}
        """
    )

    def __init__(self, html: str) -> None:
        super().__init__()
        self._name = "HeadHtml"
        self.html = html


def add_body_html(figure: Figure, html: str, *, name: str) -> None:
    """Append ``html`` (e.g. the side panel, rendered from a template) to the page's body."""
    figure.html.add_child(Element(html), name=name)
