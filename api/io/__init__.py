"""Readers of the built layers for the API (GeoPackages through SQLite + R-tree, BAN addresses)."""
