"""Inline SVG drawings of the printable roof report: the plan of a roof and a monthly bar chart.

Pure functions returning SVG markup as text, drawn by our own code (no chart library, no map tiles).
The markup is meant to sit inline in an HTML5 page, so it carries no ``xmlns`` (the page holds no URL at
all); it is well-formed XML, so tests parse it with :mod:`xml.etree.ElementTree`.

Conventions: plan coordinates are local metres, x to the east and y to the north (see
:func:`api.report.project_local`); SVG coordinates are pixels of the ``viewBox``, y downwards.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import numpy as np
import shapely

#: Month labels of the bar chart (French abbreviations, Imprimerie nationale usage).
MONTHS_FR: tuple[str, ...] = (
    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.",
)
#: Full month names (tooltips, dates).
MONTH_NAMES_FR: tuple[str, ...] = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
    "novembre", "décembre",
)

NNBSP = "\u202f"  # narrow no-break space: French thousands separator and before units
NBSP = "\u00a0"


def format_number(value: float | None, digits: int = 0, *, missing: str = "–") -> str:
    """A number written the French way: ``1 234,5``, ``−12`` (narrow no-break space, decimal comma, minus sign).

    Parameters
    ----------
    value
        The number (None or NaN gives ``missing``).
    digits
        Decimals kept (rounded half away from zero as Python's format does).
    missing
        Text for a missing value.
    """
    if value is None or not math.isfinite(float(value)):
        return missing
    text = f"{float(value):,.{digits}f}"
    if text.startswith("-"):
        text = text[1:] if float(text.replace(",", "")) == 0 else "\u2212" + text[1:]  # no "-0"; a real minus
    return text.replace(",", NNBSP).replace(".", ",")


def nice_step(span: float, *, steps: int = 4) -> float:
    """A round step (1, 2 or 5 × 10^k) dividing ``span`` into about ``steps`` parts (span > 0)."""
    if not (span > 0 and math.isfinite(span)):
        return 1.0
    raw = span / steps
    mag = 10.0 ** math.floor(math.log10(raw))
    for m in (1.0, 2.0, 5.0, 10.0):
        if raw <= m * mag * (1 + 1e-9):
            return m * mag
    return 10.0 * mag


def nice_length(limit: float) -> float:
    """The largest round length (1, 2 or 5 × 10^k) not above ``limit`` (> 0) [same unit]."""
    if not (limit > 0 and math.isfinite(limit)):
        return 1.0
    mag = 10.0 ** math.floor(math.log10(limit))
    for m in (5.0, 2.0, 1.0):
        if m * mag <= limit * (1 + 1e-9):
            return m * mag
    return mag


def _f(x: float) -> str:
    """A coordinate with 0.1 px precision, no trailing zeros."""
    text = f"{x:.1f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# ---------------------------------------------------------------------------------------------------
# Plan of the roof
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanFace:
    """One roof face to draw on the plan.

    Attributes
    ----------
    label
        Short text drawn on the face (its number in the report's table).
    geometry
        Polygon or MultiPolygon in local metres (x east, y north).
    colour
        Fill colour ``#rrggbb`` (its suitability class).
    face_id
        Identifier (``data-face-id``).
    title
        Tooltip text.
    """

    label: str
    geometry: shapely.Geometry
    colour: str
    face_id: str
    title: str = ""


@dataclass(frozen=True)
class PlanFrame:
    """How local metres map to the plan's pixels: ``px = x0 + s·(x − xmin)``, ``py = y0 + s·(ymax − y)``."""

    scale_px_per_m: float
    xmin_m: float
    ymax_m: float
    x0_px: float
    y0_px: float

    def to_px(self, xy: np.ndarray) -> np.ndarray:
        """(n, 2) local metres → (n, 2) pixels."""
        xy = np.asarray(xy, float)
        return np.column_stack([self.x0_px + self.scale_px_per_m * (xy[:, 0] - self.xmin_m),
                                self.y0_px + self.scale_px_per_m * (self.ymax_m - xy[:, 1])])


def fit_frame(bounds_m: tuple[float, float, float, float], box_px: tuple[float, float, float, float]) -> PlanFrame:
    """The uniform scale and offsets that fit ``bounds_m`` (xmin, ymin, xmax, ymax [m]) centred in
    ``box_px`` (left, top, right, bottom [px]); a degenerate extent is given 1 m."""
    xmin, ymin, xmax, ymax = bounds_m
    left, top, right, bottom = box_px
    dx, dy = max(xmax - xmin, 1.0), max(ymax - ymin, 1.0)
    s = min((right - left) / dx, (bottom - top) / dy)
    cx, cy = (xmin + xmax) / 2.0, (ymin + ymax) / 2.0
    x0 = (left + right) / 2.0 - s * (cx - xmin)
    y0 = (top + bottom) / 2.0 - s * (ymax - cy)
    return PlanFrame(s, xmin, ymax, x0, y0)


def _path_data(geom: shapely.Geometry, frame: PlanFrame) -> str:
    """SVG path data of a (multi)polygon: one closed sub-path per ring (holes drawn with evenodd)."""
    parts = []
    for poly in getattr(geom, "geoms", [geom]):
        if poly.is_empty or poly.geom_type != "Polygon":
            continue
        for ring in (poly.exterior, *poly.interiors):
            xy = frame.to_px(np.asarray(ring.coords)[:-1, :2])
            if len(xy) < 3:
                continue
            parts.append("M" + " L".join(f"{_f(x)},{_f(y)}" for x, y in xy) + " Z")
    return " ".join(parts)


def _label_point(geom: shapely.Geometry) -> shapely.Point:
    """A point inside the face (of its largest part) to put its label on."""
    parts = [g for g in getattr(geom, "geoms", [geom]) if not g.is_empty]
    biggest = max(parts, key=lambda g: g.area) if parts else geom
    return shapely.point_on_surface(biggest)


def plan_svg(
    faces: Sequence[PlanFace],
    *,
    footprint: shapely.Geometry | None = None,
    width: float = 480.0,
    height: float = 300.0,
    margin: float = 12.0,
    north_deg: float = 0.0,
    title: str = "Plan de la toiture",
) -> str:
    """Plan of a building's roof faces, coloured by class, with a north arrow and a scale bar.

    Parameters
    ----------
    faces
        The faces, in local metres (x east, y north), drawn in order (one ``<path class="face">`` each,
        ``data-face-id`` set), each with its label at a point inside it.
    footprint
        Building outline in the same metres, drawn under the faces (grey); its extent is included.
    width, height
        Size of the ``viewBox`` [px].
    margin
        Blank border [px]; the north arrow takes a column on the right and the scale bar a band at the bottom.
    north_deg
        Direction of geographic north on the plan, clockwise from the plan's up [°] (0 when the local
        projection has north up, as :func:`api.report.project_local`'s).
    title
        Accessible name (``<title>``).

    Returns
    -------
    str
        ``<svg>`` markup with ``data-scale-px-per-m``; the scale bar group has ``data-metres`` and ``data-px``.
    """
    geoms = [f.geometry for f in faces if f.geometry is not None and not shapely.is_empty(f.geometry)]
    if footprint is not None and not shapely.is_empty(footprint):
        geoms.append(footprint)
    arrow_w, scale_h = 34.0, 26.0
    box = (margin, margin, width - margin - arrow_w, height - margin - scale_h)
    out = [f'<svg class="plan" viewBox="0 0 {_f(width)} {_f(height)}" role="img" '
           f'aria-label={quoteattr(title)} preserveAspectRatio="xMidYMid meet"']
    if not geoms:
        out[0] += ' data-scale-px-per-m="">'
        out.append(f"<title>{escape(title)}</title>")
        out.append(f'<text x="{_f(width / 2)}" y="{_f(height / 2)}" text-anchor="middle" class="empty">'
                   "Plan non disponible</text></svg>")
        return "".join(out)
    b = shapely.bounds(shapely.GeometryCollection(geoms)).tolist()
    frame = fit_frame((b[0], b[1], b[2], b[3]), box)
    s = frame.scale_px_per_m
    out[0] += f' data-scale-px-per-m="{s:.10g}">'
    out.append(f"<title>{escape(title)}</title>")
    if footprint is not None and not shapely.is_empty(footprint):
        out.append(f'<path class="footprint" d="{_path_data(footprint, frame)}" fill-rule="evenodd"/>')
    labels = []
    for f in faces:
        if f.geometry is None or shapely.is_empty(f.geometry):
            continue
        out.append(
            f'<path class="face" data-face-id={quoteattr(f.face_id)} d="{_path_data(f.geometry, frame)}" '
            f'fill="{escape(f.colour)}" fill-rule="evenodd"><title>{escape(f.title or f.label)}</title></path>'
        )
        lp = _label_point(f.geometry)
        p = frame.to_px(np.array([[lp.x, lp.y]]))[0]
        labels.append(f'<text class="face-label" x="{_f(p[0])}" y="{_f(p[1])}" text-anchor="middle" '
                      f'dominant-baseline="central">{escape(f.label)}</text>')
    out.extend(labels)
    # North arrow, top right.
    ax, ay = width - margin - arrow_w / 2, margin + 22.0
    out.append(
        f'<g class="north" data-north-deg="{north_deg:.3g}" transform="translate({_f(ax)},{_f(ay)}) '
        f'rotate({north_deg:.3g})"><path d="M0,-16 L7,9 L0,4 L-7,9 Z"/>'
        '<text x="0" y="-20" text-anchor="middle">N</text></g>'
    )
    # Scale bar, bottom left: a round length of at most 40 % of the drawing box.
    metres = nice_length(0.4 * (box[2] - box[0]) / s)
    px = metres * s
    x0, y0 = margin, height - margin - 8.0
    half = px / 2
    out.append(
        f'<g class="scale" data-metres="{metres:g}" data-px="{px:.10g}">'
        f'<rect x="{_f(x0)}" y="{_f(y0 - 4)}" width="{_f(half)}" height="4" class="scale-dark"/>'
        f'<rect x="{_f(x0 + half)}" y="{_f(y0 - 4)}" width="{_f(px - half)}" height="4" class="scale-light"/>'
        f'<text x="{_f(x0)}" y="{_f(y0 - 8)}">0</text>'
        f'<text x="{_f(x0 + px)}" y="{_f(y0 - 8)}" text-anchor="middle">{format_number(metres)}{NBSP}m</text>'
        "</g>"
    )
    out.append("</svg>")
    return "".join(out)


# ---------------------------------------------------------------------------------------------------
# Monthly bar chart
# ---------------------------------------------------------------------------------------------------


def bar_chart_svg(
    values: Sequence[float | None],
    *,
    labels: Sequence[str] = MONTHS_FR,
    names: Sequence[str] = MONTH_NAMES_FR,
    unit: str = "kWh",
    width: float = 560.0,
    height: float = 220.0,
    title: str = "Production mensuelle",
) -> str:
    """Vertical bar chart, one bar per value, heights proportional to the values.

    Parameters
    ----------
    values
        The values (≥ 0; None or NaN draws no bar) [``unit``], e.g. 12 monthly productions [kWh].
    labels
        Short label under each bar (default: French month abbreviations).
    names
        Full name of each bar for its tooltip.
    unit
        Unit written on the axis and in tooltips.
    width, height
        Size of the ``viewBox`` [px].
    title
        Accessible name (``<title>``).

    Returns
    -------
    str
        ``<svg>`` markup; each bar is ``<rect class="bar" data-value=… data-index=…>`` and the plot's
        baseline ``y`` and full height are in the ``data-baseline`` and ``data-plot-height`` attributes,
        with the value at full height in ``data-ymax``.

    Raises
    ------
    ValueError
        A negative value, or labels/names not matching the values.
    """
    vals = [None if v is None or not math.isfinite(float(v)) else float(v) for v in values]
    if len(labels) != len(vals) or len(names) != len(vals):
        raise ValueError("bar_chart_svg: one label and one name per value")
    if any(v is not None and v < 0 for v in vals):
        raise ValueError("bar_chart_svg: negative value")
    vmax = max([v for v in vals if v is not None], default=0.0)
    step = nice_step(vmax) if vmax > 0 else 1.0
    ymax = step * max(1, math.ceil(vmax / step - 1e-9))
    left, right, top, bottom = 46.0, 6.0, 18.0, 22.0
    plot_h = height - top - bottom
    base = height - bottom
    n = max(len(vals), 1)
    bw = (width - left - right) / n
    out = [
        f'<svg class="chart" viewBox="0 0 {_f(width)} {_f(height)}" role="img" aria-label={quoteattr(title)} '
        f'data-baseline="{base:g}" data-plot-height="{plot_h:g}" data-ymax="{ymax:g}">',
        f"<title>{escape(title)}</title>",
    ]
    tick = 0.0
    while tick <= ymax * (1 + 1e-9):
        y = base - plot_h * tick / ymax
        out.append(f'<line class="grid" x1="{_f(left)}" y1="{_f(y)}" x2="{_f(width - right)}" y2="{_f(y)}"/>')
        out.append(f'<text class="axis" x="{_f(left - 4)}" y="{_f(y)}" text-anchor="end" '
                   f'dominant-baseline="central">{format_number(tick)}</text>')
        tick += step
    out.append(f'<text class="axis unit" x="{_f(left - 4)}" y="{_f(top - 8)}" text-anchor="end">{escape(unit)}</text>')
    for i, v in enumerate(vals):
        x = left + i * bw
        h = 0.0 if v is None else plot_h * v / ymax
        tip = f"{names[i]} : {format_number(v)}{NBSP}{unit}"
        out.append(
            f'<rect class="bar" data-index="{i}" data-value="{"" if v is None else repr(v)}" x="{_f(x + bw * 0.15)}" '
            f'y="{base - h:.4f}" width="{_f(bw * 0.7)}" height="{h:.4f}"><title>{escape(tip)}</title></rect>'
        )
        if v is not None:
            out.append(f'<text class="value" x="{_f(x + bw / 2)}" y="{_f(base - h - 3)}" '
                       f'text-anchor="middle">{format_number(v)}</text>')
        out.append(f'<text class="axis" x="{_f(x + bw / 2)}" y="{_f(base + 14)}" text-anchor="middle">'
                   f"{escape(labels[i])}</text>")
    out.append(f'<line class="base" x1="{_f(left)}" y1="{_f(base)}" x2="{_f(width - right)}" y2="{_f(base)}"/>')
    out.append("</svg>")
    return "".join(out)
