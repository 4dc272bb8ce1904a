"""Solar on brownfields, slag heaps and car parks: pure computation.

* :mod:`geo.sites.canopy`: tree crowns from DSM − DTM outside buildings, pixel buffers;
* :mod:`geo.sites.ground`: usable ground of a site, module rows (the roofs' layout code), yield;
* :mod:`geo.sites.aper`: the APER car-park obligation (surface counted, status, deadline) and the
  canopy over half of the car park;
* :mod:`geo.sites.economics`: installed cost, LCOE, CRE tender reference;
* :mod:`geo.sites.build`: the ``sites`` stage (reads inputs through :mod:`geo.io`).
"""
