/* Artois Solaire & Parcs — the map's behaviour (our own code; Leaflet and VectorGrid are loaded before).
 *
 * api/map/page.py builds the page with folium; each data layer there is one call to a factory of
 * Artois.layers (below), and two calls frame them: Artois.setup(map, settings) before the layers,
 * Artois.start(layers, layerControl) after them. Everything the user reads is in French.
 * Data come from this server's API only (settings.urls); nothing is fetched from elsewhere unless
 * the user picks an online base map.
 * Code driving the map from outside (the browser tests) waits on promises, not on time: Artois.ready
 * (the first view is in place) and Artois.setView(center, zoom, options) (the map has stopped there).
 */
(function () {
  'use strict';

  // Leaflet >= 1.8 removed L.DomEvent.fakeStop, which Leaflet.VectorGrid 1.3 still calls on clicks.
  if (window.L && L.DomEvent && !L.DomEvent.fakeStop) {
    L.DomEvent.fakeStop = function () { return true; };
  }

  var Artois = (window.Artois = { layers: {} });
  var map = null;
  var S = null; // settings from page.py
  var collectionsPromise = null; // id -> collection metadata (extent...)
  var legendEntries = {}; // role -> function returning a legend element
  var legendControl = null;
  var overlays = {}; // role -> layer
  var routeEnds = { from: false, to: false };
  var state = { roof: null, highlight: null, route: null, service: null, parks: [] };
  var lookupSeq = 0; // number of the latest roof lookup: an older answer arriving later is dropped

  // ------------------------------------------------------------------ formatting (French)
  var nf0 = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 0 });
  var nf1 = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 1, minimumFractionDigits: 1 });
  function isNum(v) { return typeof v === 'number' && isFinite(v); }
  function fmt(v, unit, digits) {
    if (!isNum(v)) { return 'non disponible'; }
    var s = (digits === 1 ? nf1 : nf0).format(v);
    return unit ? s + '\u00a0' + unit : s;
  }
  function pct(v) { return isNum(v) ? nf0.format(v * 100) + '\u00a0%' : 'non disponible'; }
  function euros(v) { return fmt(v, '€'); }
  function years(v) {
    if (!isNum(v)) { return 'non rentabilisé'; }
    return nf1.format(v) + '\u00a0ans';
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        if (k === 'text') { node.textContent = attrs[k]; }
        else if (k === 'class') { node.className = attrs[k]; }
        else { node.setAttribute(k, attrs[k]); }
      });
    }
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }
  function $(id) { return document.getElementById(id); }
  function first(obj, keys) {
    if (!obj) { return undefined; }
    for (var i = 0; i < keys.length; i++) {
      if (obj[keys[i]] !== undefined && obj[keys[i]] !== null) { return obj[keys[i]]; }
    }
    return undefined;
  }
  function escapeHtml(s) {
    return String(s === undefined || s === null ? '' : s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function url(template, params) {
    return template.replace(/\{(\w+)\}/g, function (m, k) {
      return params && params[k] !== undefined ? encodeURIComponent(params[k]) : m;
    });
  }
  function withQuery(path, query) {
    var q = Object.keys(query).filter(function (k) { return query[k] !== undefined && query[k] !== null; })
      .map(function (k) { return encodeURIComponent(k) + '=' + encodeURIComponent(query[k]); }).join('&');
    return q ? path + (path.indexOf('?') >= 0 ? '&' : '?') + q : path;
  }

  // ------------------------------------------------------------------ HTTP
  function ApiError(status, message) { this.status = status; this.message = message; }
  function getJson(path, options) {
    return fetch(path, Object.assign({ headers: { Accept: 'application/json' } }, options || {}))
      .then(function (r) {
        if (r.ok) { return r.status === 204 ? null : r.json(); }
        return r.json().catch(function () { return {}; }).then(function (body) {
          var detail = body && (body.detail || body.message || body.description);
          if (Array.isArray(detail)) { detail = detail.map(function (d) { return d.msg; }).join(' ; '); }
          throw new ApiError(r.status, detail || ('erreur ' + r.status));
        });
      });
  }
  /* All features of a collection, following OGC API "next" links. */
  function fetchAll(collection, query) {
    var features = [];
    function page(path, n) {
      return getJson(path).then(function (fc) {
        features = features.concat((fc && fc.features) || []);
        var next = ((fc && fc.links) || []).filter(function (l) { return l.rel === 'next'; })[0];
        if (next && n < 200 && (fc.features || []).length) { return page(next.href, n + 1); }
        return { type: 'FeatureCollection', features: features };
      });
    }
    return page(withQuery(url(S.urls.items, { collection: collection }),
      Object.assign({ limit: S.itemsLimit }, query || {})), 0);
  }
  function collections() {
    if (!collectionsPromise) {
      collectionsPromise = getJson(S.urls.collections).then(function (body) {
        var byId = {};
        ((body && body.collections) || []).forEach(function (c) { byId[c.id] = c; });
        return byId;
      }).catch(function () { return {}; });
    }
    return collectionsPromise;
  }
  /* Leaflet bounds of a collection's extent (WGS84), or null. */
  function extentOf(c) {
    var bbox = c && c.extent && c.extent.spatial && c.extent.spatial.bbox;
    if (!bbox || !bbox.length) { return null; }
    var b = Array.isArray(bbox[0]) ? bbox[0] : bbox;
    return L.latLngBounds([b[1], b[0]], [b[3], b[2]]);
  }

  // ------------------------------------------------------------------ setup
  Artois.setup = function (leafletMap, settings) {
    map = leafletMap;
    Artois.map = leafletMap;
    S = settings;
    // Panes in drawing order; the roof faces stay above the park layers.
    [['artoisBase', 250], ['artoisChoropleth', 350], ['artoisRaster', 360], ['artoisAreas', 400],
      ['artoisParks', 420], ['artoisLines', 440], ['artoisRoofs', 460], ['artoisSelection', 480]]
      .forEach(function (p) { map.createPane(p[0]).style.zIndex = p[1]; });
    map.getPane('artoisRaster').style.pointerEvents = 'none';
    map.on('zoomanim', function () { zoomAnimating = true; });
    map.on('zoomend', function () { zoomAnimating = false; });
    L.control.scale({ imperial: false, maxWidth: 150 }).addTo(map);
    map.attributionControl.setPrefix('<a href="https://leafletjs.com" title="Leaflet">Leaflet</a>');
    collections();
  };

  // ------------------------------------------------------------------ moving the map
  /* Leaflet drops a view change asked while a zoom animation runs (Map._tryAnimatedZoom returns early,
     then the animation's end puts the map back on its own target): a route drawn (animated fitBounds)
     then an address searched within 250 ms would leave the map on the route. So every move of ours
     goes through moveMap: one after the other, each once the previous one and any zoom animation
     (the user's too) have ended. */
  var zoomAnimating = false; // between 'zoomanim' and 'zoomend'
  var moveChain = null;
  var MOVE_TIMEOUT_MS = 3000; // a move whose 'moveend' never comes does not block the next ones
  function whenMoveEnds() {
    return new Promise(function (resolve) {
      var timer = null;
      function done() { clearTimeout(timer); map.off('moveend', done); setTimeout(resolve, 0); }
      map.on('moveend', done);
      timer = setTimeout(done, MOVE_TIMEOUT_MS);
    });
  }
  function zoomIdle() { return zoomAnimating ? whenMoveEnds().then(zoomIdle) : Promise.resolve(); }
  /* Runs apply() (a setView, fitBounds...) once the map is still; resolves when it has stopped at the new view. */
  function moveMap(apply) {
    var run = function () {
      return zoomIdle().then(function () {
        var ended = whenMoveEnds();
        apply();
        return ended;
      });
    };
    var move = (moveChain || Promise.resolve()).then(run);
    moveChain = move.catch(function () { return null; }); // a failed move does not stop the next ones
    return move;
  }
  /* The map shows `center` ([lat, lon]) at `zoom`: resolves when it is there (for pages embedding the map,
     and the browser tests). */
  Artois.setView = function (center, zoom, options) {
    return moveMap(function () { map.setView(center, zoom, options); }).then(function () {
      var c = map.getCenter();
      return { lat: c.lat, lng: c.lng, zoom: map.getZoom() };
    });
  };

  /* A layer group whose content is created (once) the first time it is shown. */
  function lazyGroup(load, role) {
    var group = L.layerGroup();
    var loaded = false;
    group.on('add', function () {
      if (legendControl && role) { legendControl.refresh(); }
      if (loaded) { return; }
      loaded = true;
      load(group);
    });
    group.on('remove', function () { if (legendControl && role) { legendControl.refresh(); } });
    return group;
  }
  /* GeoJSON of a collection, loaded when shown, only if the API serves that collection. */
  function remoteGeoJson(collection, geojsonOptions, onData, role) {
    return lazyGroup(function (group) {
      collections().then(function (cols) {
        if (!cols[collection]) { noteMissing(role, collection); return null; }
        return fetchAll(collection).then(function (fc) {
          var features = geojsonOptions.prepare ? geojsonOptions.prepare(fc.features) : fc.features;
          var layer = L.geoJSON({ type: 'FeatureCollection', features: features }, geojsonOptions);
          group.addLayer(layer);
          if (onData) { onData(features, layer); }
          if (legendControl) { legendControl.refresh(); }
        });
      }).catch(function (e) { showError('Couche « ' + collection + ' » : ' + e.message); });
    }, role);
  }
  var missing = {};
  function noteMissing(role, collection) {
    missing[role] = collection;
    if (legendControl) { legendControl.refresh(); }
  }

  // ------------------------------------------------------------------ layers (factories)
  var ENSEMBLE_COLOURS = ['#1b9e77', '#66a61e', '#7570b3', '#e7298a', '#a6761d', '#1f78b4',
    '#33a02c', '#6a3d9a', '#b15928', '#017b7b', '#8c6bb1'];
  var ensembleColour = {};
  function colourOfEnsemble(name) {
    if (!name) { return '#6f9a6f'; }
    if (!ensembleColour[name]) {
      ensembleColour[name] = ENSEMBLE_COLOURS[Object.keys(ensembleColour).length % ENSEMBLE_COLOURS.length];
    }
    return ensembleColour[name];
  }

  Artois.layers.localBase = function (opts) {
    var group = L.layerGroup();
    var loaded = false;
    group.on('add', function () {
      map.getContainer().classList.add('artois-local-base');
      if (loaded) { return; }
      loaded = true;
      collections().then(function (cols) {
        var parts = [
          [opts.communes, { pane: 'artoisBase', interactive: false, filter: isCommune,
            style: { color: '#8a8170', weight: 1.2, dashArray: '4 3', fill: true, fillColor: '#fbfaf6', fillOpacity: 1 } }],
          [opts.parks, { pane: 'artoisBase', interactive: false,
            style: { stroke: false, fill: true, fillColor: '#cfe3c2', fillOpacity: 1 } }],
          [opts.greenways, { pane: 'artoisBase', interactive: false,
            style: { color: '#9fbf8f', weight: 2 } }],
        ];
        return Promise.all(parts.map(function (p) {
          if (!cols[p[0]]) { return null; }
          return fetchAll(p[0]).then(function (fc) { group.addLayer(L.geoJSON(fc, p[1])); });
        }));
      }).catch(function (e) { showError('Fond local : ' + e.message); });
    });
    group.on('remove', function () { map.getContainer().classList.remove('artois-local-base'); });
    return group;
  };
  function isCommune(f) { var lv = f.properties && f.properties.level; return !lv || lv === 'commune'; }

  /* A tile layer kept inside the extent of the data, so no tile is asked outside it (the API answers 404 there). */
  function boundedTiles(makeLayer, collection, role) {
    return lazyGroup(function (group) {
      collections().then(function (cols) {
        var bounds = extentOf(cols[collection]);
        if (!cols[collection] || !bounds) { noteMissing(role, collection); return; }
        group.addLayer(makeLayer(bounds.pad(-0.001)));
      });
    }, role);
  }

  Artois.layers.irradiation = function (opts) {
    var layer = boundedTiles(function (bounds) {
      return L.tileLayer(S.urls.irradiationTiles, {
        pane: 'artoisRaster', opacity: opts.opacity, bounds: bounds, maxZoom: S.maxZoom,
        maxNativeZoom: S.tileMaxZoom, attribution: 'Ensoleillement : LiDAR HD IGN, calcul Artois Solaire',
      });
    }, 'buildings', 'irradiation');
    legendEntries.irradiation = irradiationLegend;
    return layer;
  };

  function suitabilityOf(value) {
    for (var i = 0; i < S.suitability.length; i++) { if (S.suitability[i].value === value) { return S.suitability[i]; } }
    return null;
  }
  Artois.layers.roofFaces = function (opts) {
    var group = boundedTiles(function (bounds) {
      var styles = {};
      styles[opts.collection] = function (p) {
        var c = suitabilityOf(p.suitability);
        return { fill: true, fillColor: c ? c.colour : '#999', fillOpacity: 0.85, color: '#5a3d1e', weight: 0.6, opacity: 0.9 };
      };
      var vg = L.vectorGrid.protobuf(url(S.urls.vectorTiles, { collection: opts.collection }), {
        pane: 'artoisRoofs', vectorTileLayerStyles: styles, interactive: true, bounds: bounds,
        minZoom: 0, maxZoom: S.maxZoom, maxNativeZoom: S.tileMaxZoom,
        getFeatureId: function (f) { return f.properties.face_id; },
        attribution: 'Toitures : BD TOPO et LiDAR HD IGN',
      });
      vg.on('click', function (e) {
        L.DomEvent.stopPropagation(e);
        lookupRoof(e.latlng);
      });
      return vg;
    }, opts.collection, 'roofFaces');
    legendEntries.roofFaces = function () {
      var minZ = S.tileMinZoom[opts.collection] || 0;
      return legendBlock('Toitures : potentiel solaire', S.suitability.map(function (c) {
        return swatchRow(c.colour, c.label);
      }), map.getZoom() < minZ ? 'Zoomez pour voir les toits.' : null);
    };
    return group;
  };

  Artois.layers.parks = function (opts) {
    var layer = remoteGeoJson(opts.collection, {
      pane: 'artoisParks', bubblingMouseEvents: false,
      style: function (f) {
        return { color: colourOfEnsemble(f.properties.ensemble), weight: 1.5, fillColor: colourOfEnsemble(f.properties.ensemble), fillOpacity: 0.45 };
      },
      onEachFeature: function (f, l) {
        var p = f.properties;
        l.bindPopup('<strong>' + escapeHtml(p.nom || 'Parc') + '</strong><br>' +
          (p.ensemble ? 'Ensemble : ' + escapeHtml(p.ensemble) + '<br>' : 'Hors des 11 ensembles<br>') +
          'Surface : ' + fmt(p.area_ha, 'ha', 1) + '<br>' +
          'Habitants à 10 min à pied : ' + fmt(p.population_10min) + '<br>' +
          (p.on_greenway ? 'Relié aux voies vertes' : 'Non relié aux voies vertes') +
          '<div class="artois-popup-actions">Itinéraire : ' +
          '<button type="button" data-route-end="from" data-park="' + escapeHtml(p.park_id) + '">départ</button> ' +
          '<button type="button" data-route-end="to" data-park="' + escapeHtml(p.park_id) + '">arrivée</button></div>');
      },
    }, function (features) { fillParkSelects(features); }, 'parks');
    legendEntries.parks = function () {
      var rows = Object.keys(ensembleColour).sort().map(function (n) { return swatchRow(ensembleColour[n], n); });
      return legendBlock('Parcs par ensemble', rows.length ? rows : [el('span', { text: 'chargement…' })]);
    };
    return layer;
  };

  Artois.layers.greenways = function (opts) {
    var layer = remoteGeoJson(opts.collection, {
      pane: 'artoisLines', bubblingMouseEvents: false,
      style: function (f) {
        return f.properties.in_loop ? { color: '#1a7a3a', weight: 5, opacity: 0.95 } : { color: '#4fb06d', weight: 2.5, opacity: 0.9 };
      },
      onEachFeature: function (f, l) {
        var p = f.properties;
        l.bindPopup('<strong>' + escapeHtml(p.nom || 'Voie verte') + '</strong><br>' +
          'Type : ' + escapeHtml(String(p.type || '').replace(/_/g, ' ')) + '<br>' +
          'Longueur : ' + fmt(p.length_m / 1000, 'km', 1) + (p.in_loop ? '<br>Fait partie de la boucle' : ''));
      },
    }, null, 'greenways');
    legendEntries.greenways = function () {
      return legendBlock('Voies vertes', [lineRow('#1a7a3a', 5, 'boucle de la Chaîne des Parcs'), lineRow('#4fb06d', 2.5, 'autres voies vertes')]);
    };
    return layer;
  };

  Artois.layers.serviceAreas = function (opts) {
    var layer = remoteGeoJson(opts.collection, {
      pane: 'artoisAreas', bubblingMouseEvents: false,
      prepare: function (features) {
        var wanted = features.filter(function (f) {
          var p = f.properties;
          return p.minutes === opts.minutes || String(p.label || '').indexOf(opts.minutes + ' min') === 0;
        });
        return wanted.length ? wanted : features;
      },
      style: { color: '#2c7fb8', weight: 1, fillColor: '#7fcdbb', fillOpacity: 0.25 },
      onEachFeature: function (f, l) {
        l.bindTooltip('Parc ' + escapeHtml(f.properties.park_id) + ' : ' + escapeHtml(f.properties.label || ''));
      },
    }, null, 'serviceAreas');
    legendEntries.serviceAreas = function () {
      return legendBlock('Zones de desserte', [swatchRow('#7fcdbb', opts.minutes + ' min à pied d\'une entrée de parc')]);
    };
    return layer;
  };

  /* Populated 200 m cells beyond a 10-minute walk, by priority rank (1 = most urgent), as vector
     tiles: the whole territory has tens of thousands of cells. Cells without a rank are not drawn. */
  var PRIORITY_CLASSES = [[10, '#7a0177', 'rangs 1 à 10'], [50, '#c51b8a', 'rangs 11 à 50'],
    [200, '#f768a1', 'rangs 51 à 200'], [Infinity, '#fbb4b9', 'au-delà']];
  function priorityColour(rank) {
    for (var i = 0; i < PRIORITY_CLASSES.length; i++) { if (rank <= PRIORITY_CLASSES[i][0]) { return PRIORITY_CLASSES[i][1]; } }
    return null;
  }
  Artois.layers.priority = function (opts) {
    var layer = boundedTiles(function (bounds) {
      var styles = {};
      styles[opts.collection] = function (p) {
        if (!isNum(p.priority_rank)) { return { stroke: false, fill: false, opacity: 0, fillOpacity: 0 }; }
        return { stroke: true, color: '#7a0177', weight: 0.5, opacity: 0.6, fill: true, fillColor: priorityColour(p.priority_rank), fillOpacity: 0.55 };
      };
      var vg = L.vectorGrid.protobuf(url(S.urls.vectorTiles, { collection: opts.collection }), {
        pane: 'artoisAreas', vectorTileLayerStyles: styles, interactive: true, bounds: bounds,
        maxZoom: S.maxZoom, maxNativeZoom: S.tileMaxZoom,
      });
      vg.on('click', function (e) {
        var p = e.layer && e.layer.properties;
        if (!p || !isNum(p.priority_rank)) { return; }
        L.DomEvent.stopPropagation(e);
        L.popup().setLatLng(e.latlng).setContent('<strong>Priorité n° ' + escapeHtml(p.priority_rank) + '</strong><br>' +
          'Habitants : ' + fmt(p.population) + '<br>' +
          'Ménages pauvres : ' + pct(p.poverty_rate) + '<br>' +
          'Marche jusqu\'au parc le plus proche : ' + (isNum(p.walk_m_to_park) ? fmt(p.walk_m_to_park, 'm') : 'aucun parc atteignable')).openOn(map);
      });
      return vg;
    }, opts.collection, 'priority');
    legendEntries.priority = function () {
      var minZ = S.tileMinZoom[opts.collection] || 0;
      return legendBlock('Carreaux à plus de 10 min d\'un parc (priorité)', PRIORITY_CLASSES.map(function (c) {
        return swatchRow(c[1], c[2]);
      }), map.getZoom() < minZ ? 'Zoomez pour voir les carreaux.' : null);
    };
    return layer;
  };

  Artois.layers.gaps = function (opts) {
    var layer = remoteGeoJson(opts.collection, {
      pane: 'artoisLines', bubblingMouseEvents: false,
      prepare: function (features) { return features.slice().sort(function (a, b) { return a.properties.rank - b.properties.rank; }); },
      style: function (f) { return { color: '#d7301f', weight: f.properties.rank <= 3 ? 6 : 4, dashArray: '8 6', opacity: 0.95 }; },
      onEachFeature: function (f, l) {
        var p = f.properties;
        l.bindPopup(gapHtml(p));
        l.bindTooltip('n° ' + escapeHtml(p.rank), { permanent: p.rank <= 5, direction: 'center', className: 'artois-gap-label' });
      },
    }, null, 'gaps');
    legendEntries.gaps = function () {
      return legendBlock('Liens à créer', [lineRow('#d7301f', 5, 'tronçon manquant (n° = priorité)', '8 6')]);
    };
    return layer;
  };
  function gapHtml(p) {
    return '<strong>Lien n° ' + escapeHtml(p.rank) + '</strong><br>' + escapeHtml(p.links || '') + '<br>' +
      'Longueur : ' + fmt(p.length_m, 'm') + '<br>' +
      'Habitants nouvellement reliés : ' + fmt(p.population_newly_linked) + '<br>' +
      'Habitants par km à construire : ' + fmt(p.score_per_km);
  }

  /* Choropleth of communes: 5 quantile classes computed from the data themselves. */
  var CHORO = ['#f7fcf5', '#c7e9c0', '#74c476', '#31a354', '#006d2c'];
  var CHORO_SOLAR = ['#ffffd4', '#fed98e', '#fe9929', '#d95f0e', '#993404'];
  function choropleth(opts, palette, role, title) {
    var breaks = null;
    var isShare = opts.unit === '%';
    function value(p) { var v = p[opts.field]; return isNum(v) ? (isShare ? v * 100 : v) : null; }
    function classOf(v) {
      if (v === null || !breaks) { return -1; }
      for (var i = 0; i < breaks.length; i++) { if (v <= breaks[i]) { return i; } }
      return breaks.length - 1;
    }
    var layer = remoteGeoJson(opts.collection, {
      pane: 'artoisChoropleth',
      prepare: function (features) {
        var kept = features.filter(isCommune);
        var values = kept.map(function (f) { return value(f.properties); }).filter(function (v) { return v !== null; }).sort(function (a, b) { return a - b; });
        if (values.length) {
          var n = Math.min(palette.length, values.length);
          breaks = [];
          for (var i = 1; i <= n; i++) { breaks.push(values[Math.min(values.length - 1, Math.ceil(i * values.length / n) - 1)]); }
          breaks = breaks.filter(function (b, i) { return i === 0 || b > breaks[i - 1]; });
        }
        return kept;
      },
      style: function (f) {
        var c = classOf(value(f.properties));
        return { color: '#555', weight: 1, fillColor: c < 0 ? '#ddd' : palette[Math.round(c * (palette.length - 1) / Math.max(breaks.length - 1, 1))], fillOpacity: 0.7 };
      },
      onEachFeature: function (f, l) {
        var p = f.properties;
        var v = value(p);
        l.bindTooltip('<strong>' + escapeHtml(p.nom || p.code) + '</strong><br>' + title + ' : ' +
          (v === null ? 'non disponible' : fmt(v, opts.unit, isShare ? undefined : 0)), { sticky: true });
      },
    }, null, role);
    legendEntries[role] = function () {
      if (!breaks) { return legendBlock(title + ' (' + opts.unit + ')', [el('span', { text: 'chargement…' })]); }
      var lo = null;
      return legendBlock(title + ' (' + opts.unit + ')', breaks.map(function (b, i) {
        var colour = palette[Math.round(i * (palette.length - 1) / Math.max(breaks.length - 1, 1))];
        var label = (lo === null ? '≤ ' : nf0.format(lo) + ' – ') + nf0.format(b) + '\u00a0' + opts.unit;
        lo = b;
        return swatchRow(colour, label);
      }));
    };
    return layer;
  }
  Artois.layers.communesSolar = function (opts) { return choropleth(opts, CHORO_SOLAR, 'communesSolar', 'Potentiel solaire'); };
  Artois.layers.communesAccess = function (opts) { return choropleth(opts, CHORO, 'communesAccess', 'Habitants à 10 min d\'un parc'); };

  // ------------------------------------------------------------------ legend
  function legendBlock(title, rows, note) {
    return el('div', { class: 'artois-legend-block' }, [el('strong', { text: title })].concat(rows)
      .concat(note ? [el('em', { text: note })] : []));
  }
  function swatchRow(colour, label) {
    var sw = el('span', { class: 'artois-swatch' });
    sw.style.background = colour;
    return el('div', { class: 'artois-legend-row' }, [sw, el('span', { text: label })]);
  }
  function lineRow(colour, weight, label, dash) {
    var sw = el('span', { class: 'artois-line-swatch' });
    sw.style.borderTop = weight + 'px ' + (dash ? 'dashed ' : 'solid ') + colour;
    return el('div', { class: 'artois-legend-row' }, [sw, el('span', { text: label })]);
  }
  var irradiationLegendData = null;
  function irradiationLegend() {
    var title = 'Ensoleillement annuel (kWh/m²/an)';
    if (!irradiationLegendData) {
      irradiationLegendData = getJson(S.urls.irradiationLegend).then(function (d) { irradiationLegendData = d; legendControl.refresh(); })
        .catch(function () { irradiationLegendData = { failed: true }; });
      return legendBlock(title, [el('span', { text: 'chargement…' })]);
    }
    if (irradiationLegendData.then || irradiationLegendData.failed) { return legendBlock(title, [el('span', { text: 'légende indisponible' })]); }
    var stops = first(irradiationLegendData, ['stops', 'legend', 'colormap', 'items']) || [];
    var rows = stops.map(function (s) {
      var colour = first(s, ['color', 'colour', 'hex']);
      if (Array.isArray(colour)) { colour = 'rgb(' + colour.slice(0, 3).join(',') + ')'; }
      var v = first(s, ['value', 'kwh_m2_yr', 'label']);
      return swatchRow(colour, isNum(v) ? nf0.format(v) + '\u00a0kWh/m²/an' : String(v));
    });
    return legendBlock(title, rows);
  }
  var LegendControl = L.Control.extend({
    options: { position: 'bottomright' },
    onAdd: function () {
      var box = el('div', { class: 'artois-legend leaflet-bar', id: 'artois-legend' });
      var button = el('button', { type: 'button', class: 'artois-legend-toggle', 'aria-controls': 'artois-legend-body', text: 'Légende' });
      this._div = el('div', { id: 'artois-legend-body', class: 'artois-legend-body' });
      box.appendChild(button);
      box.appendChild(this._div);
      // Folded on phones, where it would hide the map; open elsewhere.
      var folded = window.matchMedia && window.matchMedia('(max-width: 700px)').matches;
      function setFolded(f) {
        box.classList.toggle('collapsed', f);
        button.setAttribute('aria-expanded', String(!f));
      }
      setFolded(folded);
      button.addEventListener('click', function () { setFolded(!box.classList.contains('collapsed')); });
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      this._box = box;
      return box;
    },
    refresh: function () {
      if (!this._div) { return; }
      var div = this._div;
      div.innerHTML = '';
      Object.keys(overlays).forEach(function (role) {
        var layer = overlays[role];
        if (!map.hasLayer(layer)) { return; }
        if (missing[role]) {
          div.appendChild(legendBlock(layerName(role), [el('em', { text: 'données non servies par l\'API' })]));
        } else if (legendEntries[role]) {
          div.appendChild(legendEntries[role]());
        }
      });
      this._box.hidden = !div.childNodes.length;
    },
  });
  var layerNames = {};
  function layerName(role) { return layerNames[role] || role; }

  // ------------------------------------------------------------------ start: panel and flows
  Artois.start = function (layers, layerControl) {
    overlays = layers;
    Object.keys(layers).forEach(function (role) {
      var name = layerControl._layers.filter(function (o) { return o.layer === layers[role]; })[0];
      layerNames[role] = name ? name.name : role;
    });
    legendControl = new LegendControl();
    legendControl.addTo(map);
    map.on('overlayadd overlayremove zoomend', function () { legendControl.refresh(); });
    legendControl.refresh();
    // Resolves once the map shows the data's extent (the first view).
    Artois.ready = collections().then(function (cols) {
      var b = null;
      ['buildings', 'parks', 'greenways'].forEach(function (id) {
        var e = extentOf(cols[id]);
        if (e) { b = b ? b.extend(e) : e; }
      });
      b = b || extentOf(cols.communes_solar);
      if (b) { return moveMap(function () { map.fitBounds(b); }); }
      return null;
    });
    map.on('click', function (e) { if (activeTab() === 'toit') { lookupRoof(e.latlng); } });
    initPanel();
  };

  function activeTab() {
    var t = document.querySelector('.artois-tabs [aria-selected="true"]');
    return t ? t.getAttribute('data-tab') : 'toit';
  }
  function selectTab(name) {
    document.querySelectorAll('.artois-tabs [role="tab"]').forEach(function (t) {
      t.setAttribute('aria-selected', String(t.getAttribute('data-tab') === name));
    });
    $('artois-pane-toit').hidden = name !== 'toit';
    $('artois-pane-parcs').hidden = name !== 'parcs';
    if (name === 'parcs') {
      ['parks', 'greenways', 'gaps'].forEach(function (r) { if (overlays[r] && !map.hasLayer(overlays[r])) { map.addLayer(overlays[r]); } });
    }
  }

  function initPanel() {
    document.querySelectorAll('.artois-tabs [role="tab"]').forEach(function (t) {
      t.addEventListener('click', function () { selectTab(t.getAttribute('data-tab')); });
    });
    $('artois-panel-toggle').addEventListener('click', function () {
      var panel = $('artois-panel');
      var collapsed = panel.classList.toggle('collapsed');
      this.setAttribute('aria-expanded', String(!collapsed));
      this.textContent = collapsed ? '▴' : '▾';
      setTimeout(function () { map.invalidateSize(); }, 250);
    });
    $('artois-search').addEventListener('submit', function (e) { e.preventDefault(); searchAddress($('artois-search-input').value); });
    $('artois-consumption').addEventListener('submit', function (e) { e.preventDefault(); simulate(false); });
    $('artois-consumption-input').addEventListener('input', function () { if (state.roof) { updateReportLink(); } });
    $('artois-report').addEventListener('click', function (e) {
      if (this.getAttribute('href') === '#') { e.preventDefault(); printPanel(); }
    });
    $('artois-route').addEventListener('submit', function (e) { e.preventDefault(); drawRoute(); });
    $('artois-service').addEventListener('submit', function (e) { e.preventDefault(); toggleServiceArea(); });
    // The park lists and the gaps list are filled from the API even when those layers are hidden.
    collections().then(function (cols) {
      if (cols.parks) { fetchAll('parks').then(function (fc) { fillParkSelects(fc.features); }); }
      if (cols.gaps) { fetchAll('gaps').then(function (fc) { fillGaps(fc.features); }); }
    });
    window.addEventListener('resize', function () { map.invalidateSize(); });
    // "départ" / "arrivée" buttons of a park's popup fill the route form, and draw the route once both are set.
    document.addEventListener('click', function (e) {
      var b = e.target.closest && e.target.closest('[data-route-end]');
      if (!b) { return; }
      var end = b.getAttribute('data-route-end');
      $('artois-route-' + end).value = b.getAttribute('data-park');
      routeEnds[end] = true;
      selectTab('parcs');
      map.closePopup();
      if (routeEnds.from && routeEnds.to && $('artois-route-from').value !== $('artois-route-to').value) { drawRoute(); }
    });
  }

  function message(text, isError) {
    var m = $('artois-message');
    m.textContent = text;
    m.classList.toggle('error', !!isError);
    m.hidden = !text;
  }
  function showError(text) { message(text, true); }

  // ---- address search
  function searchAddress(q) {
    q = (q || '').trim();
    var list = $('artois-candidates');
    list.innerHTML = '';
    list.hidden = true;
    if (q.length < 3) { showError('Tapez au moins 3 caractères.'); return; }
    message('Recherche de « ' + q + ' »…');
    getJson(withQuery(S.urls.geocode, { q: q })).then(function (body) {
      var cands = Array.isArray(body) ? body : first(body, ['candidates', 'results', 'features']) || [];
      cands = cands.map(candidate).filter(function (c) { return c && isNum(c.lat) && isNum(c.lon); });
      if (!cands.length) { showError('Aucune adresse trouvée pour « ' + q + ' ».'); return; }
      cands.slice(0, 5).forEach(function (c, i) {
        var b = el('button', { type: 'button', text: c.label });
        b.addEventListener('click', function () { goToAddress(c); });
        list.appendChild(el('li', { class: i === 0 ? 'active' : '' }, [b]));
      });
      list.hidden = cands.length < 2;
      goToAddress(cands[0]);
    }).catch(function (e) { showError('Recherche impossible : ' + e.message); });
  }
  function candidate(c) {
    var p = c.properties || c;
    var coords = c.geometry && c.geometry.coordinates;
    return {
      label: first(p, ['label', 'address', 'libelle', 'name']) || '',
      lon: coords ? coords[0] : first(p, ['lon', 'longitude', 'x']),
      lat: coords ? coords[1] : first(p, ['lat', 'latitude', 'y']),
    };
  }
  function goToAddress(c) {
    document.querySelectorAll('#artois-candidates li').forEach(function (li) {
      li.classList.toggle('active', li.textContent === c.label);
    });
    moveMap(function () { map.setView([c.lat, c.lon], S.addressZoom); });
    lookupRoof(L.latLng(c.lat, c.lon), c.label);
  }

  // ---- roof lookup and panel
  var NO_BUILDING = 'Cliquez sur un toit ou cherchez une adresse.';
  var PROBE_DEG = 1e-7; // half side of the box asked around a point [degrees] (about 1 cm)
  /* Whether a building of the cadastre lies under the point: true, false, or null when unknown (no
     buildings collection, or the question failed). /api/roof answers 404 where there is none, which
     is its documented answer, but a browser logs every 4xx as a console error: a click beside a roof
     is an ordinary event, so it is first asked quietly (OGC items in a tiny bbox answer 200, empty). */
  function buildingUnder(latlng) {
    return collections().then(function (cols) {
      if (!cols.buildings) { return null; }
      var bbox = [latlng.lng - PROBE_DEG, latlng.lat - PROBE_DEG, latlng.lng + PROBE_DEG, latlng.lat + PROBE_DEG]
        .map(function (v) { return v.toFixed(8); }).join(',');
      return getJson(withQuery(url(S.urls.items, { collection: 'buildings' }), { bbox: bbox, limit: 1 }))
        .then(function (fc) { return !!(fc && fc.features && fc.features.length); });
    }).catch(function () { return null; });
  }
  function lookupRoof(latlng, label) {
    var seq = ++lookupSeq;
    selectTab('toit');
    message('Recherche du bâtiment…');
    buildingUnder(latlng).then(function (found) {
      if (found === false) { throw new ApiError(404, NO_BUILDING); }
      return getJson(withQuery(S.urls.roof, { lon: latlng.lng.toFixed(7), lat: latlng.lat.toFixed(7) }));
    }).then(function (body) {
      if (seq !== lookupSeq) { return; } // another lookup was asked meanwhile
      state.roof = normaliseRoof(body);
      if (label && !state.roof.building.address) { state.roof.building.address = label; }
      renderRoof(state.roof);
      message('');
      if (hasReco(state.roof.building)) { simulate(true); }
    }).catch(function (e) {
      if (seq !== lookupSeq) { return; }
      $('artois-roof').hidden = true;
      if (e.status === 404) { showError('Aucun bâtiment à cet endroit. ' + (e.message || '')); }
      else { showError('Recherche impossible : ' + e.message); }
    });
  }
  /* Accepts a flat object, {building, faces} or a GeoJSON Feature with faces in its properties. */
  function normaliseRoof(body) {
    var b = body.building || (body.type === 'Feature' ? body.properties : null) || body;
    if (b.properties) { b = Object.assign({}, b.properties, { geometry: b.geometry }); }
    var faces = body.faces || (b && b.faces) || body.roof_faces || [];
    if (faces.features) { faces = faces.features; }
    faces = faces.map(function (f) { return f.properties ? Object.assign({ geometry: f.geometry }, f.properties) : f; });
    var geometry = body.geometry || b.geometry || null;
    return { raw: body, building: b, faces: faces, geometry: geometry,
      economics: body.economics || null, swh: body.solar_hot_water || body.swh || null,
      assumptions: body.assumptions || null, weather: first(body, ['weather', 'weather_source']) || b.weather_source,
      report: first(body, ['report_url', 'report']) || first(body.links ? linkMap(body.links) : null, ['report']) };
  }
  function linkMap(links) { var m = {}; links.forEach(function (l) { m[l.rel] = l.href; }); return m; }
  function eco(obj, key) {
    if (!obj) { return undefined; }
    var v = first(obj, [key, 'reco_' + key]);
    return v;
  }
  /* Monthly production [kWh] of the suitable faces of the whole roof, for a building without recommended
     installation (an installation's monthly production comes from /api/simulate). */
  function monthlyKey(m) { return 'production_m' + (m < 10 ? '0' : '') + m + '_kwh'; }
  function roofMonthly(faces) {
    var months = [];
    for (var m = 1; m <= 12; m++) {
      var sum = 0; var any = false;
      faces.forEach(function (f) { if (isNum(f[monthlyKey(m)]) && f.suitability !== 'inadapté') { sum += f[monthlyKey(m)]; any = true; } });
      months.push(any ? sum : null);
    }
    return months;
  }
  function hasReco(b) { return isNum(b.reco_kwp) && b.reco_kwp > 0; }

  function renderRoof(r) {
    var b = r.building;
    var e = r.economics || b;
    $('artois-roof').hidden = false;
    $('artois-roof-title').textContent = b.address || ('Bâtiment ' + (b.building_id || ''));
    var cls = suitabilityOf(b.suitability);
    var classP = $('artois-roof-class');
    classP.innerHTML = '';
    if (cls) {
      var badge = el('span', { class: 'artois-badge', text: cls.label });
      badge.style.background = cls.colour;
      classP.appendChild(badge);
      classP.appendChild(document.createTextNode(' ' + cls.explanation));
    } else {
      classP.textContent = 'Classe non disponible.';
    }
    // With a recommended installation, its figures, chart and economics come from /api/simulate (simulate()).
    var waiting = hasReco(b);
    var kwp = eco(e, 'kwp');
    var kwh = first(e, ['production_kwh_yr', 'reco_production_kwh_yr']);
    setFigure('artois-reco-kwp', waiting ? null : kwp, waiting ? '…' : fmt(kwp, 'kWc', 1));
    setFigure('artois-reco-kwh', waiting ? null : kwh, waiting ? '…' : fmt(kwh, 'kWh/an'));
    $('artois-max').textContent = fmt(b.kwp_max, 'kWc', 1) + ' · ' + fmt(b.production_kwh_yr_max, 'kWh/an');
    $('artois-usable').textContent = fmt(b.usable_area_m2, 'm²') + ' sur ' + fmt(b.n_faces) + ' pan(s)';

    var tbody = document.querySelector('#artois-faces tbody');
    tbody.innerHTML = '';
    r.faces.slice().sort(function (a, b2) { return (b2.production_kwh_yr || 0) - (a.production_kwh_yr || 0); }).forEach(function (f) {
      var c = suitabilityOf(f.suitability);
      var badge = el('span', { class: 'artois-badge', text: c ? c.label : (f.suitability || '–') });
      if (c) { badge.style.background = c.colour; }
      var orientation = f.is_flat ? 'toit plat' : (f.orientation || '–');
      var tr = el('tr', { 'data-face-id': f.face_id || '' }, [
        el('td', { class: 'face-orientation' }, [el('span', { text: orientation }), el('small', { text: isNum(f.tilt_deg) ? ' ' + nf0.format(f.tilt_deg) + '°' : '' })]),
        el('td', { class: 'face-area', text: fmt(f.usable_area_m2, 'm²') }),
        el('td', { class: 'face-class' }, [badge]),
        el('td', { class: 'face-kwp', text: isNum(f.kwp) ? nf1.format(f.kwp) : '–' }),
        el('td', { class: 'face-kwh', text: isNum(f.production_kwh_yr) ? nf0.format(f.production_kwh_yr) : '–', 'data-value': isNum(f.production_kwh_yr) ? String(f.production_kwh_yr) : '' }),
      ]);
      tbody.appendChild(tr);
    });
    if (!waiting) {
      drawChart($('artois-chart'), roofMonthly(r.faces));
      $('artois-chart-note').textContent = 'Aucune installation conseillée : production estimée des pans adaptés de toute la toiture, en kWh par mois.';
    }
    renderEconomics(null);
    renderSwh(r.swh || b);
    renderAssumptions(r);
    updateReportLink();
    highlightBuilding(r);
  }
  /* The printable report of the building (GET /rapport/{building_id}?consommation=…), opened in a new tab
     with the consumption currently in the panel; without a building id the panel itself is printed. */
  function reportUrl() {
    var b = state.roof && state.roof.building;
    var link = $('artois-report');
    var template = link.getAttribute('data-report-url');
    if (state.roof && state.roof.report) { return state.roof.report; }
    if (!b || !b.building_id || !template) { return null; }
    var input = $('artois-consumption-input');
    var value = Number(input.value);
    var ok = input.value !== '' && isNum(value) && value >= Number(input.min) && value <= Number(input.max);
    return withQuery(url(template, { building_id: b.building_id }),
      Object.assign({ consommation: ok ? value : undefined }, economicsQuery()));
  }
  function updateReportLink() {
    var report = $('artois-report');
    var href = reportUrl();
    if (href) {
      report.setAttribute('href', href); report.setAttribute('target', '_blank'); report.setAttribute('rel', 'noopener');
      report.textContent = 'Ouvrir le rapport imprimable';
    } else {
      report.setAttribute('href', '#'); report.removeAttribute('target'); report.textContent = 'Imprimer cette fiche';
    }
  }
  function setFigure(id, value, text) {
    var dd = $(id);
    dd.textContent = text;
    dd.setAttribute('data-value', isNum(value) ? String(value) : '');
  }
  function renderSwh(s) {
    var area = first(s, ['swh_collector_m2', 'collector_m2']);
    var heat = first(s, ['swh_heat_kwh_yr', 'heat_kwh_yr']);
    var frac = first(s, ['swh_solar_fraction', 'solar_fraction']);
    $('artois-swh').textContent = isNum(area)
      ? 'Un chauffe-eau solaire de ' + fmt(area, 'm²', 1) + ' de capteurs fournirait ' + fmt(heat, 'kWh/an') +
        ', soit ' + pct(frac) + ' des besoins en eau chaude du foyer.'
      : 'Non évalué pour ce bâtiment.';
  }
  function renderAssumptions(r) {
    var ul = $('artois-assumptions');
    ul.innerHTML = '';
    var items = [];
    var w = r.weather;
    if (w && typeof w === 'object') { w = [w.source, w.location, w.period].filter(Boolean).join(', '); }
    items.push('Météo : ' + (w || 'non précisée'));
    if (r.weather && r.weather.approximate) { items.push('Météo approchée (climatologie hors ligne) : les chiffres sont indicatifs.'); }
    items = items.concat(S.assumptions || []);
    items.forEach(function (t) { ul.appendChild(el('li', { text: t })); });
  }
  function highlightBuilding(r) {
    if (state.highlight) { map.removeLayer(state.highlight); state.highlight = null; }
    var g = r.geometry || (r.raw && r.raw.geometry);
    if (!g) { return; }
    state.highlight = L.geoJSON(g, { pane: 'artoisSelection', interactive: false, style: { color: '#0050b3', weight: 3, fill: false } }).addTo(map);
  }

  /* Monthly production as a small inline SVG bar chart (no chart library). */
  var MONTHS = ['J', 'F', 'M', 'A', 'M', 'J', 'J', 'A', 'S', 'O', 'N', 'D'];
  var MONTH_NAMES = ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre', 'novembre', 'décembre'];
  function drawChart(container, values) {
    container.innerHTML = '';
    if (!values.some(isNum)) { container.textContent = 'Profil mensuel non disponible.'; return; }
    var W = 320, H = 140, left = 34, bottom = 18, top = 8;
    var max = Math.max.apply(null, values.filter(isNum));
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    svg.setAttribute('class', 'artois-svg');
    function add(tag, attrs, text) {
      var n = document.createElementNS(ns, tag);
      Object.keys(attrs).forEach(function (k) { n.setAttribute(k, attrs[k]); });
      if (text !== undefined) { n.textContent = text; }
      svg.appendChild(n);
      return n;
    }
    var bw = (W - left - 4) / 12;
    add('text', { x: left - 3, y: top + 4, 'text-anchor': 'end', class: 'axis' }, nf0.format(max));
    add('line', { x1: left, y1: top, x2: W - 2, y2: top, class: 'grid' });
    add('text', { x: left - 3, y: H - bottom, 'text-anchor': 'end', class: 'axis' }, '0');
    add('line', { x1: left, y1: H - bottom, x2: W - 2, y2: H - bottom, class: 'base' });
    values.forEach(function (v, i) {
      var h = isNum(v) && max > 0 ? (H - bottom - top) * v / max : 0;
      var r = add('rect', { x: left + i * bw + 2, y: H - bottom - h, width: bw - 4, height: h, class: 'bar', 'data-value': isNum(v) ? v : '' });
      var t = document.createElementNS(ns, 'title');
      t.textContent = MONTH_NAMES[i] + ' : ' + fmt(v, 'kWh');
      r.appendChild(t);
      add('text', { x: left + i * bw + bw / 2, y: H - 4, 'text-anchor': 'middle', class: 'axis' }, MONTHS[i]);
    });
    container.appendChild(svg);
  }

  // ==== economics (artois-economics): the panel renders POST /api/simulate's result as is =================
  /* The options of the economics form that differ from their defaults, as /api/simulate fields. */
  function economicsOptions() {
    var o = {};
    var profile = $('artois-eco-profile').value;
    if (profile) { o.load_profile = profile; }
    if ($('artois-eco-ems').checked) { o.ems = true; }
    var num = function (id) { var el2 = $(id); return el2.value === '' ? null : Number(el2.value); };
    var battery = num('artois-eco-battery');
    if (isNum(battery) && battery > 0) { o.battery_kwh = battery; }
    if ($('artois-eco-vat').value !== 'auto') { o.vat = $('artois-eco-vat').value; }
    var quote = num('artois-eco-quote');
    if (isNum(quote) && quote > 0) { o.installed_cost_eur = quote; }
    var years = num('artois-eco-years');
    if (isNum(years) && years !== Number($('artois-eco-years').defaultValue)) { o.analysis_years = years; }
    var esc = num('artois-eco-escalation');
    if (isNum(esc) && esc !== Number($('artois-eco-escalation').defaultValue)) { o.escalation = esc / 100; }
    var loanYears = num('artois-eco-loan-years');
    if (isNum(loanYears) && loanYears > 0) {
      o.loan_years = loanYears;
      var rate = num('artois-eco-loan-rate');
      if (isNum(rate)) { o.loan_rate = rate / 100; }
    }
    return o;
  }
  /* The same options as query parameters of the printable report (GET /rapport/{id}). */
  var REPORT_PARAMS = { load_profile: 'profil', ems: 'pilotage', battery_kwh: 'batterie', vat: 'tva',
    installed_cost_eur: 'cout', analysis_years: 'duree', escalation: 'hausse', loan_years: 'pret_duree', loan_rate: 'pret_taux' };
  function economicsQuery() {
    var o = economicsOptions();
    var q = {};
    Object.keys(o).forEach(function (k) { q[REPORT_PARAMS[k]] = o[k]; });
    return q;
  }
  function renderEconomics(e) {
    var none = !e;
    e = e || {};
    setFigure('artois-eco-cost', e.investment_eur, none ? '–' : euros(e.investment_eur) + (e.vat_rate > 0 ? ' TTC' : ' HT'));
    setFigure('artois-eco-savings', e.savings_eur_yr, none ? '–' : fmt(e.savings_eur_yr, '€/an'));
    setFigure('artois-eco-selfcons', e.self_consumption_rate, none ? '–' : pct(e.self_consumption_rate));
    setFigure('artois-eco-payback', e.payback_yr, none ? '–' : e.payback_text + (e.verdict === 'marginal' ? ' (gain marginal)' : ''));
    $('artois-eco-gain-label').textContent = none ? 'Gain net' : 'Gain net sur ' + e.analysis_years + ' ans';
    setFigure('artois-eco-gain', e.net_gain_eur, none ? '–' : euros(e.net_gain_eur));
    setFigure('artois-eco-co2', e.co2_avoided_kg_yr, none ? '–' : fmt(e.co2_avoided_kg_yr, 'kg/an') + ' / ' + fmt(e.co2_net_kg_yr, 'kg/an'));
    $('artois-eco-basis').textContent = none ? '' : 'Pour ' + ({ menage: 'un foyer', entreprise: 'une entreprise', collectivite: 'une collectivité' }[e.owner] || '') +
      ' : ' + e.load_profile_label + ', ' + nf0.format(e.annual_consumption_kwh) + ' kWh/an, ' +
      (e.ems ? 'avec pilotage' : 'sans pilotage') + ', ' + (e.battery_kwh > 0 ? 'batterie ' + fmt(e.battery_kwh, 'kWh', 1) : 'sans batterie') +
      ', TVA ' + (e.vat_rate > 0 ? nf1.format(e.vat_rate * 100) + ' %' : 'récupérée') + ', tarifs ' + e.tariff_quarter + '.';
    var s = e.sensitivity;
    $('artois-eco-range').textContent = none || !s ? '' : 'Fourchette du gain net : ' + euros(s.net_gain_low_eur) + ' à ' +
      euros(s.net_gain_high_eur) + ' (production ±10 %, hausse 0 à 3 %/an, coût ±15 %).' +
      (e.loan ? ' Prêt : ' + euros(e.loan.monthly_payment_eur) + '/mois, ' + euros(e.loan.interest_eur) + ' d\'intérêts.' : '');
  }
  function renderWholeRoof(w) {
    var p = $('artois-eco-whole');
    p.hidden = !w;
    p.textContent = w ? 'Toute la toiture adaptée : ' + fmt(w.kwp, 'kWc', 1) + ', ' + fmt(w.production_kwh_yr, 'kWh/an') + ', ' +
      w.payback_text + ', gain net sur ' + w.analysis_years + ' ans ' + euros(w.net_gain_eur) + '.' : '';
  }
  function simulate(automatic) {
    if (!state.roof) { return; }
    var input = $('artois-consumption-input');
    var value = Number(input.value);
    var body = Object.assign({ building_id: state.roof.building.building_id }, economicsOptions());
    var isDefault = input.value === input.defaultValue && automatic;
    if (!isDefault) {
      if (!isNum(value) || value < Number(input.min) || value > Number(input.max)) {
        showError('La consommation doit être comprise entre ' + nf0.format(Number(input.min)) + ' et ' + nf0.format(Number(input.max)) + ' kWh/an.');
        return;
      }
      body.annual_consumption_kwh = value;
    }
    var seq = state.roof;
    if (!automatic) { message('Calcul des économies…'); }
    getJson(S.urls.simulate, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
    }).then(function (res) {
      if (seq !== state.roof) { return; }
      var e = res.economics;
      $('artois-eco-title').textContent = e.owner === 'menage' ? 'Économies' : 'Économies pour ' + (e.owner === 'entreprise' ? 'l\'entreprise' : 'la collectivité');
      if (isDefault && e.owner !== 'menage') { input.value = Math.round(e.annual_consumption_kwh); }
      renderEconomics(e);
      renderWholeRoof(res.whole_roof);
      setFigure('artois-reco-kwp', e.kwp, fmt(e.kwp, 'kWc', 1));
      setFigure('artois-reco-kwh', e.production_kwh_yr, fmt(e.production_kwh_yr, 'kWh/an'));
      drawChart($('artois-chart'), e.monthly_production_kwh);
      $('artois-chart-note').textContent = 'Production estimée de l\'installation ' + (e.owner === 'menage' ? 'conseillée' : 'étudiée') + ', en kWh par mois.';
      S.assumptions = (res.assumptions || []).map(function (a) { return a.label + ' : ' + a.value + ' (source : ' + a.source + ').'; });
      renderAssumptions(state.roof);
      updateReportLink();
      if (!automatic) { message('Économies recalculées pour ' + nf0.format(e.annual_consumption_kwh) + ' kWh/an.'); }
    }).catch(function (e) { showError('Calcul impossible : ' + e.message); });
  }
  // ==== end of the economics block ======================================================================

  function printPanel() {
    document.body.classList.add('artois-print');
    document.querySelector('.artois-assumptions').open = true;
    window.print();
    setTimeout(function () { document.body.classList.remove('artois-print'); }, 500);
  }

  // ---- planner: parks, routes, service areas, gaps
  function fillParkSelects(features) {
    if (state.parks.length) { return; }
    state.parks = features.map(function (f) { return f.properties; })
      .sort(function (a, b) { return String(a.nom || a.park_id).localeCompare(String(b.nom || b.park_id), 'fr'); });
    ['artois-route-from', 'artois-route-to', 'artois-service-park'].forEach(function (id, k) {
      var sel = $(id);
      sel.innerHTML = '';
      state.parks.forEach(function (p, i) {
        var o = el('option', { value: p.park_id, text: (p.nom || 'Parc ' + p.park_id) + (p.ensemble && p.ensemble !== p.nom ? ' (' + p.ensemble + ')' : '') });
        if ((k === 1 && i === Math.min(1, state.parks.length - 1)) || (k !== 1 && i === 0)) { o.selected = true; }
        sel.appendChild(o);
      });
    });
  }
  function drawRoute() {
    var from = $('artois-route-from').value, to = $('artois-route-to').value;
    var out = $('artois-route-result');
    out.classList.remove('error');
    if (!from || !to || from === to) { out.textContent = 'Choisissez deux parcs différents.'; out.classList.add('error'); return; }
    out.textContent = 'Calcul de l\'itinéraire…';
    out.removeAttribute('data-length-m'); // the length shown is always the latest route's
    getJson(withQuery(S.urls.route, { from: from, to: to })).then(function (body) {
      if (state.route) { map.removeLayer(state.route); }
      var feature = body.type === 'FeatureCollection' ? body : (body.geometry ? body : (body.route || body));
      var p = body.properties || body;
      state.route = L.geoJSON(feature, { pane: 'artoisSelection', style: { color: '#ff7f00', weight: 6, opacity: 0.9 } }).addTo(map);
      state.route.getLayers().forEach(function (l) { l.getElement && l.getElement() && l.getElement().classList.add('artois-route-line'); });
      var routeBounds = state.route.getBounds();
      if (routeBounds.isValid()) { moveMap(function () { map.fitBounds(routeBounds, { padding: [30, 30] }); }); }
      var length = first(p, ['length_m', 'distance_m']);
      var minutes = first(p, ['time_min', 'duration_min', 'walk_min', 'minutes']);
      var share = first(p, ['share_greenway', 'share_on_greenways', 'share_on_greenway', 'greenway_share']);
      var bike = first(p, ['bike_min']);
      var names = [first(p, ['from_nom']), first(p, ['to_nom'])].filter(Boolean);
      out.textContent = (names.length === 2 ? names[0] + ' → ' + names[1] + ' : ' : 'Itinéraire : ') +
        fmt(length / 1000, 'km', 1) + ' · ' + fmt(minutes, 'min') + ' à pied' +
        (isNum(bike) ? ' (' + fmt(Math.max(1, bike), 'min') + ' à vélo)' : '') + ' · ' + pct(share) + ' sur voies vertes';
      out.setAttribute('data-length-m', isNum(length) ? String(length) : '');
    }).catch(function (e) {
      out.textContent = 'Itinéraire impossible : ' + e.message; out.classList.add('error');
      out.setAttribute('data-length-m', '');
    });
  }
  function toggleServiceArea() {
    var park = $('artois-service-park').value, minutes = $('artois-service-minutes').value;
    var out = $('artois-service-result');
    var button = $('artois-service-toggle');
    if (state.service && state.service.key === park + '/' + minutes) {
      map.removeLayer(state.service.layer);
      state.service = null;
      button.textContent = 'Afficher la zone';
      out.textContent = '';
      return;
    }
    if (state.service) { map.removeLayer(state.service.layer); state.service = null; }
    getJson(withQuery(S.urls.serviceArea, { park: park, minutes: minutes })).then(function (body) {
      var layer = L.geoJSON(body, { pane: 'artoisAreas', style: { color: '#08519c', weight: 2, fillColor: '#6baed6', fillOpacity: 0.3 } }).addTo(map);
      state.service = { key: park + '/' + minutes, layer: layer };
      if (layer.getLayers().length) {
        var areaBounds = layer.getBounds();
        moveMap(function () { map.fitBounds(areaBounds, { padding: [20, 20] }); });
      }
      button.textContent = 'Masquer la zone';
      var p = body.properties || (body.features && body.features[0] && body.features[0].properties) || {};
      var pop = first(p, ['population', 'population_within', 'population_10min']);
      out.textContent = 'Zone à ' + minutes + ' min à pied' + (isNum(pop) ? ' : ' + fmt(pop) + ' habitants.' : '.');
    }).catch(function (e) { out.textContent = 'Zone impossible : ' + e.message; });
  }
  function fillGaps(features) {
    var ol = $('artois-gaps');
    ol.innerHTML = '';
    features.slice().sort(function (a, b) { return a.properties.rank - b.properties.rank; }).forEach(function (f) {
      var p = f.properties;
      var b = el('button', { type: 'button', class: 'artois-gap' }, [
        el('strong', { text: 'n° ' + p.rank + ' — ' + (p.links || 'lien') }),
        el('span', { text: fmt(p.length_m, 'm') + ' · ' + fmt(p.population_newly_linked) + ' habitants reliés · ' + fmt(p.score_per_km) + ' hab./km' }),
      ]);
      b.addEventListener('click', function () {
        if (overlays.gaps && !map.hasLayer(overlays.gaps)) { map.addLayer(overlays.gaps); }
        var bounds = L.geoJSON(f).getBounds();
        moveMap(function () { map.fitBounds(bounds, { padding: [40, 40], maxZoom: 17 }); });
      });
      ol.appendChild(el('li', null, [b]));
    });
    if (!features.length) { ol.appendChild(el('li', { text: 'Aucun lien à créer.' })); }
  }
  // Helpers for the layers defined in other files of the page (artois-sites.js).
  Artois.util = {
    remoteGeoJson: remoteGeoJson, legendEntries: legendEntries, legendBlock: legendBlock, swatchRow: swatchRow,
    lineRow: lineRow, el: el, fmt: fmt, pct: pct, euros: euros, escapeHtml: escapeHtml, isNum: isNum,
  };
})();
