"""Artois Solaire & Parcs: the geospatial pipeline (pure computation and I/O).

Modules are laid out like pvlib: physics and analyses as pure functions with units,
all file and network access under :mod:`geo.io`, every constant in :mod:`geo.config`.
"""

__version__ = "0.1.0"
