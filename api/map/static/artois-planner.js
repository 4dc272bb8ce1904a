/* Artois Solaire & Parcs — the planner's scenarios (Parcs tab): tick candidate gaps or draw a new path
   (click to add points, "Terminer" to stop), compute the scenario with POST /api/parks/scenario, see the gain,
   download the scenario as GeoJSON. Needs the map of artois-map.js (window.Artois.map). No drawing plugin:
   a click-to-add-vertices mode. */
(function () {
  'use strict';
  var state = { drawing: false, points: [], sketch: null, result: null, body: null };

  function $(id) { return document.getElementById(id); }
  function fmt(v, digits) {
    if (typeof v !== 'number' || !isFinite(v)) { return '–'; }
    return v.toLocaleString('fr-FR', { maximumFractionDigits: digits || 0, minimumFractionDigits: digits || 0 });
  }
  function map() { return window.Artois && window.Artois.map; }
  function section() { return $('artois-scenario'); }
  function say(text, isError) {
    var out = $('artois-scenario-result');
    out.textContent = text;
    out.classList.toggle('error', !!isError);
  }

  function fillGaps() {
    var box = $('artois-scenario-gaps');
    var url = section().getAttribute('data-gaps-url');
    fetch(url, { headers: { Accept: 'application/geo+json' } }).then(function (r) { return r.ok ? r.json() : { features: [] }; })
      .then(function (fc) {
        box.innerHTML = '';
        (fc.features || []).slice().sort(function (a, b) { return a.properties.rank - b.properties.rank; }).forEach(function (f) {
          var p = f.properties;
          var label = document.createElement('label');
          var cb = document.createElement('input');
          cb.type = 'checkbox'; cb.value = String(p.gap_id); cb.name = 'gap';
          label.appendChild(cb);
          label.appendChild(document.createTextNode(' n° ' + p.rank + ' — ' + fmt(p.length_m) + ' m, ' +
            fmt(p.population_newly_linked) + ' hab. reliés'));
          box.appendChild(label);
        });
        if (!(fc.features || []).length) { box.textContent = 'Aucun lien candidat.'; }
      }).catch(function () { box.textContent = 'Liens indisponibles.'; });
  }

  function redrawSketch() {
    var m = map();
    if (state.sketch) { m.removeLayer(state.sketch); state.sketch = null; }
    if (state.points.length) {
      state.sketch = L.layerGroup([L.polyline(state.points, { color: '#6a3d9a', weight: 4, dashArray: '6 6', pane: 'artoisSelection' })]
        .concat(state.points.map(function (p) { return L.circleMarker(p, { radius: 4, color: '#6a3d9a', pane: 'artoisSelection' }); }))).addTo(m);
    }
    $('artois-scenario-points').textContent = state.points.length ? state.points.length + ' point(s) tracé(s)' : '';
  }
  function onMapClick(e) {
    if (!state.drawing) { return; }
    state.points.push(e.latlng);
    redrawSketch();
  }
  function toggleDrawing() {
    var m = map();
    state.drawing = !state.drawing;
    $('artois-scenario-draw').textContent = state.drawing ? 'Terminer le tracé' : 'Tracer un nouveau chemin';
    $('artois-scenario-draw').setAttribute('aria-pressed', String(state.drawing));
    m.getContainer().style.cursor = state.drawing ? 'crosshair' : '';
    if (state.drawing) { state.points = []; redrawSketch(); say('Cliquez sur la carte pour poser les points du chemin.'); }
    else { say(state.points.length >= 2 ? 'Tracé prêt : calculez le scénario.' : 'Tracé trop court (2 points au moins).', state.points.length < 2); }
  }
  function clearScenario() {
    var m = map();
    if (state.result) { m.removeLayer(state.result); state.result = null; }
    state.points = []; state.body = null; redrawSketch();
    $('artois-scenario-download').hidden = true;
    say('');
  }

  function compute() {
    var ticked = Array.prototype.map.call(document.querySelectorAll('#artois-scenario-gaps input:checked'), function (c) { return c.value; });
    var body;
    if (state.points.length >= 2 && !state.drawing) {
      body = { line: { type: 'LineString', coordinates: state.points.map(function (p) { return [p.lng, p.lat]; }) } };
    } else if (ticked.length) {
      body = { gaps: ticked };
    } else { say('Cochez des liens ou tracez un chemin.', true); return; }
    say('Calcul du scénario…');
    fetch(section().getAttribute('data-url'), {
      method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(body),
    }).then(function (r) {
      return r.json().then(function (j) { if (!r.ok) { throw new Error(j.detail || ('erreur ' + r.status)); } return j; });
    }).then(function (fc) { show(fc); }).catch(function (e) { say('Scénario impossible : ' + e.message, true); });
  }
  function show(fc) {
    var m = map();
    if (state.result) { m.removeLayer(state.result); }
    var colours = { lien: '#e31a1c', itineraire: '#ff7f00', boucle: '#33a02c' };
    state.result = L.geoJSON(fc, {
      pane: 'artoisSelection',
      style: function (f) { return { color: colours[f.properties.role] || '#333', weight: f.properties.role === 'lien' ? 7 : 4, opacity: 0.9 }; },
    }).addTo(m);
    state.body = fc;
    var p = fc.properties;
    var out = $('artois-scenario-result');
    out.classList.remove('error');
    out.innerHTML = '';
    out.setAttribute('data-newly-linked', String(p.population_newly_linked));
    out.setAttribute('data-newly-10min', String(p.population_newly_within_10min));
    [['Longueur à aménager', fmt(p.length_built_m) + ' m'],
      ['Habitants nouvellement reliés à la Chaîne', fmt(p.population_newly_linked)],
      ['Habitants nouvellement à 10 min à pied d\'un parc', fmt(p.population_newly_within_10min)],
      ['Parcs nouvellement reliés', (p.parks_newly_linked || []).join(', ') || 'aucun'],
      ['Morceaux de voies vertes', p.n_components_before + ' → ' + p.n_components_after],
      ['Boucle', fmt(p.loop_length_before_m) + ' m → ' + fmt(p.loop_length_after_m) + ' m'],
      ['Itinéraires entre parcs modifiés', String(p.routes_changed)]].forEach(function (kv) {
      var row = document.createElement('div');
      var dt = document.createElement('dt'); dt.textContent = kv[0];
      var dd = document.createElement('dd'); dd.textContent = kv[1];
      row.appendChild(dt); row.appendChild(dd); out.appendChild(row);
    });
    var b = state.result.getBounds();
    if (b.isValid()) { m.fitBounds(b, { padding: [40, 40], maxZoom: 17 }); }
    $('artois-scenario-download').hidden = false;
  }
  function download() {
    if (!state.body) { return; }
    var blob = new Blob([JSON.stringify(state.body)], { type: 'application/geo+json' });
    var a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = 'scenario-chaine-des-parcs.geojson';
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(function () { URL.revokeObjectURL(a.href); }, 1000);
  }

  function init() {
    if (!section() || !map()) { return; }
    fillGaps();
    map().on('click', onMapClick);
    $('artois-scenario-draw').addEventListener('click', toggleDrawing);
    $('artois-scenario-clear').addEventListener('click', clearScenario);
    $('artois-scenario-form').addEventListener('submit', function (e) { e.preventDefault(); compute(); });
    $('artois-scenario-download').addEventListener('click', download);
  }
  window.addEventListener('load', init);
})();
