"""Artois Solaire & Parcs: the FastAPI layer service and the folium map."""
