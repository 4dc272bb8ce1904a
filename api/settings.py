"""Settings of the Layer API (one object, passed to :func:`api.app.create_app`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from geo import config
from geo.products import rooftops


class Settings(BaseModel):
    """Where the built layers are and the service's limits.

    Defaults come from :mod:`geo.config` (section 8).
    """

    data_dir: Path = Field(default=Path("build"), description="folder written by `artois build`")
    addresses_path: Path | None = Field(
        default=None,
        description=f"BAN addresses CSV for the geocoder; default: an `{rooftops.ADDRESSES_LAYER}` layer of "
        f"{rooftops.FILE}, else adresses-*.csv in data_dir, data_dir/rooftops or the sibling data/rooftops folder",
    )
    items_default_limit: int = Field(default=config.API_ITEMS_DEFAULT_LIMIT, ge=1)
    items_max_limit: int = Field(default=config.API_ITEMS_MAX_LIMIT, ge=1)
    max_bbox_area_km2: float = Field(default=config.API_MAX_BBOX_AREA_KM2, gt=0)
    cache_max_age_s: int = Field(default=config.API_CACHE_MAX_AGE_S, ge=0)
    tile_cache_max_age_s: int = Field(default=config.API_TILE_CACHE_MAX_AGE_S, ge=0)
    tile_cache_size: int = Field(default=config.TILE_CACHE_SIZE, ge=0)
    gzip_min_bytes: int = Field(default=config.API_GZIP_MIN_BYTES, ge=0)
    export_max_features: int = Field(default=config.API_EXPORT_MAX_FEATURES, ge=1)
