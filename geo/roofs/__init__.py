"""Roof faces and PV potential: the solar cadastre layer.

Modules
-------
segmentation
    Split each building's roof into planar faces from the DSM (region growing on local plane
    fits, plane refit, faces outlined where their plane is the active one, obstacles).
pv
    Module layout, PV production per face (pvlib temperature and incidence-angle losses, PVGIS
    system loss), best plane at the site, hourly production profiles.
classes
    The suitability classes (code, French label, colour, explanation) and the rule assigning them.
economics
    Dated French tariffs, VAT, installed cost, the panels' whole-life cash flow (payback, net gain, NPV,
    sensitivity band), owners (household, company, public owner), CO₂, and
    :func:`~geo.roofs.economics.simulate`'s typed result for the API and the report.
loads
    Load profiles by household / building type and what PV covers of them hour by hour (EMS, battery).
hotwater
    Solar hot water (chauffe-eau solaire individuel) on the best face (f-chart method).
aggregate
    Per-building and per-commune / per-agglomeration totals.
build
    The pipeline stage :func:`~geo.roofs.build.build_roofs`; its unit of work
    :func:`~geo.roofs.build.roofs_group` (one group of buildings → their scored faces).
synthetic
    Known-truth synthetic roofs (DSM + truth faces) for tests and benchmarks.
"""
