"""OGC API – Features (Part 1: Core, GeoJSON, OpenAPI 3.0) under ``/ogc``, as QGIS reads it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse

from api.deps import BBox, get_catalog, get_settings, parse_bbox
from api.geojson import features_to_geojson
from api.layers import CRS84_URI, Catalog, Collection
from api.models import (
    CollectionInfo,
    Collections,
    Conformance,
    ErrorBody,
    Feature,
    FeatureCollection,
    LandingPage,
)
from api.settings import Settings
from geo.errors import NotFoundError

router = APIRouter(prefix="/ogc", tags=["OGC API – Features"])

GEOJSON = "application/geo+json"
JSON = "application/json"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody, "description": "Couche ou objet inconnu"},
    422: {"model": ErrorBody, "description": "Paramètre mal formé"},
}
CollectionId = Annotated[str, Path(description="collection id", examples=["buildings"])]


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _collection_info(request: Request, c: Collection) -> CollectionInfo:
    base = _base(request)
    href = f"{base}/ogc/collections/{c.id}"
    extent = None
    if c.bounds_wgs84 is not None:
        extent = {"spatial": {"bbox": [list(c.bounds_wgs84)], "crs": CRS84_URI}}
    epsg = c.info.crs.to_epsg()
    return CollectionInfo.model_validate({
        "id": c.id, "title": c.defn.title, "description": c.defn.description, "itemType": "feature",
        "extent": extent, "crs": [CRS84_URI],
        "storageCrs": f"http://www.opengis.net/def/crs/EPSG/0/{epsg}" if epsg else None,
        "numberOfFeatures": c.info.count,
        "links": [
            {"href": href, "rel": "self", "type": JSON, "title": c.defn.title},
            {"href": f"{href}/items", "rel": "items", "type": GEOJSON, "title": f"{c.defn.title} (GeoJSON)"},
            {"href": f"{base}/ogc/collections", "rel": "parent", "type": JSON, "title": "Collections"},
            {"href": f"{base}/tiles/{c.id}/{{z}}/{{x}}/{{y}}.pbf", "rel": "item", "type":
             "application/vnd.mapbox-vector-tile", "title": "Tuiles vectorielles (Web Mercator)"},
        ],
    })


@router.get(
    "", response_model=LandingPage, summary="Page d'accueil OGC API – Features",
    description="Landing page with the links QGIS follows: `service-desc` (OpenAPI), `conformance`, `data`.",
)
async def landing(request: Request) -> LandingPage:
    base = _base(request)
    return LandingPage.model_validate({
        "title": "Artois Solaire & Parcs — OGC API Features",
        "description": "Cadastre solaire et Chaîne des Parcs du Pôle Métropolitain de l'Artois.",
        "links": [
            {"href": f"{base}/ogc", "rel": "self", "type": JSON, "title": "Cette page"},
            {"href": f"{base}/openapi.json", "rel": "service-desc",
             "type": "application/vnd.oai.openapi+json;version=3.0", "title": "Définition de l'API (OpenAPI)"},
            {"href": f"{base}/docs", "rel": "service-doc", "type": "text/html", "title": "Documentation de l'API"},
            {"href": f"{base}/ogc/conformance", "rel": "conformance", "type": JSON, "title": "Conformité"},
            {"href": f"{base}/ogc/collections", "rel": "data", "type": JSON, "title": "Couches"},
        ],
    })


@router.get("/conformance", response_model=Conformance, summary="Classes de conformité",
            description="OGC API – Features Part 1 conformance classes: Core, GeoJSON, OpenAPI 3.0.")
async def conformance() -> Conformance:
    return Conformance(conformsTo=CONFORMANCE)


@router.get("/collections", response_model=Collections, summary="Liste des couches",
            description="Every served layer with its extent (WGS84), CRS and links to its items and vector tiles.")
async def collections(request: Request, catalog: Annotated[Catalog, Depends(get_catalog)]) -> Collections:
    base = _base(request)
    return Collections(
        links=[{"href": f"{base}/ogc/collections", "rel": "self", "type": JSON, "title": "Couches"}],  # type: ignore[list-item]
        collections=[_collection_info(request, c) for c in catalog.collections.values()],
    )


@router.get("/collections/{collection_id}", response_model=CollectionInfo, summary="Description d'une couche",
            description="One layer: title, description, extent (bbox as an array of arrays, CRS84), CRS, links.",
            responses=_ERRORS)
async def collection(request: Request, collection_id: CollectionId,
               catalog: Annotated[Catalog, Depends(get_catalog)]) -> CollectionInfo:
    return _collection_info(request, catalog.collection(collection_id))


def _page_link(request: Request, rel: str, offset: int, limit: int, title: str) -> dict[str, str]:
    url = request.url.include_query_params(offset=offset, limit=limit)
    return {"href": str(url), "rel": rel, "type": GEOJSON, "title": title}


@router.get(
    "/collections/{collection_id}/items",
    response_model=FeatureCollection,
    summary="Objets d'une couche (GeoJSON, WGS84)",
    description="Features intersecting `bbox` (WGS84 lon/lat), paged with `limit` and `offset`; `next`/`prev` "
    "links and `numberMatched`. A bbox larger than the configured area is refused (400).",
    responses={200: {"content": {GEOJSON: {}}}, 400: {"model": ErrorBody, "description": "Emprise trop grande"},
               **_ERRORS},
)
async def items(
    request: Request,
    collection_id: CollectionId,
    catalog: Annotated[Catalog, Depends(get_catalog)],
    settings: Annotated[Settings, Depends(get_settings)],
    bbox: Annotated[BBox | None, Depends(parse_bbox)],
    limit: Annotated[int | None, Query(ge=1, description="page size (capped by the server's maximum)",
                                       examples=[100])] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="features to skip", examples=[0])] = 0,
) -> JSONResponse:
    c = catalog.collection(collection_id)
    limit = min(limit or settings.items_default_limit, settings.items_max_limit)
    spatial = None
    if bbox is not None:
        spatial = c.wgs84_filter(bbox)
    matched = c.count(spatial=spatial)
    feats = c.read(spatial=spatial, limit=limit, offset=offset)
    features = features_to_geojson(c, feats)
    links = [
        {"href": str(request.url), "rel": "self", "type": GEOJSON, "title": "Cette page"},
        {"href": f"{_base(request)}/ogc/collections/{c.id}", "rel": "collection", "type": JSON,
         "title": c.defn.title},
    ]
    if offset + len(features) < matched:
        links.append(_page_link(request, "next", offset + limit, limit, "Page suivante"))
    if offset > 0:
        links.append(_page_link(request, "prev", max(offset - limit, 0), limit, "Page précédente"))
    body = {
        "type": "FeatureCollection", "features": features, "numberMatched": matched,
        "numberReturned": len(features), "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "links": links,
    }
    return JSONResponse(body, media_type=GEOJSON)


@router.get(
    "/collections/{collection_id}/items/{feature_id}",
    response_model=Feature,
    summary="Un objet d'une couche (GeoJSON, WGS84)",
    description="One feature by its id (the GeoPackage fid, as `id` in the items).",
    responses={200: {"content": {GEOJSON: {}}}, **_ERRORS},
)
async def item(
    request: Request,
    collection_id: CollectionId,
    feature_id: Annotated[int, Path(ge=0, le=2**62, description="feature id (fid)", examples=[1])],
    catalog: Annotated[Catalog, Depends(get_catalog)],
) -> JSONResponse:
    c = catalog.collection(collection_id)
    feats = c.read(fids=[feature_id])
    if not len(feats):
        raise NotFoundError(f"Objet {feature_id} introuvable dans la couche {c.defn.title}.")
    feature = features_to_geojson(c, feats)[0]
    base = _base(request)
    feature["links"] = [
        {"href": str(request.url), "rel": "self", "type": GEOJSON},
        {"href": f"{base}/ogc/collections/{c.id}", "rel": "collection", "type": JSON, "title": c.defn.title},
    ]
    return JSONResponse(feature, media_type=GEOJSON)

