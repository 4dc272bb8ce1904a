"""Statistics pages (placeholder, filled below)."""

from fastapi import APIRouter

router = APIRouter(tags=["Statistiques"])
