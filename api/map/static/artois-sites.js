/* Layers of the ground-PV sites and of the APER car parks (geo/sites/, collections friches and car_parks).
 * Loaded after artois-map.js, whose helpers it uses through Artois.util. */
(function () {
  'use strict';
  var A = window.Artois;
  var U = A.util;
  var esc = U.escapeHtml;

  var FRICHE = '#e6550d';
  var TERRIL = '#6e4b2a';
  var APER = {
    concerned: ['#d7301f', 'concerné : ombrières sur la moitié du parking'],
    exempt_trees: ['#1a9850', 'exonéré : ombragé par des arbres'],
    below_threshold: ['#969696', 'moins de 1 500 m² : pas d\'obligation'],
  };

  function dateFr(iso) {
    if (!iso) { return ''; }
    var p = String(iso).split('-');
    return p.length === 3 ? p[2] + '/' + p[1] + '/' + p[0] : String(iso);
  }
  function line(label, value) { return label + ' : ' + value + '<br>'; }

  A.layers.friches = function (opts) {
    var layer = U.remoteGeoJson(opts.collection, {
      pane: 'artoisParks', bubblingMouseEvents: false,
      style: function (f) {
        var p = f.properties;
        var c = p.is_terril ? TERRIL : FRICHE;
        return { color: c, weight: 2, fillColor: c, fillOpacity: 0.35, dashArray: p.approximate ? '6 4' : null };
      },
      onEachFeature: function (f, l) {
        var p = f.properties;
        var lcoe = U.isNum(p.lcoe_eur_mwh) ? U.fmt(p.lcoe_eur_mwh, '€/MWh') +
          (U.isNum(p.cre_price_eur_mwh) ? ' (appel d\'offres ' + esc(p.cre_reference) + ' : ' +
            U.fmt(p.cre_price_eur_mwh, '€/MWh', 2) + ')' : '') : 'non calculé';
        var flags = [];
        if (p.pollution_flag) { flags.push('pollution du sol à gérer (' + esc(p.sol_pollution_existe) + ')'); }
        if (p.heritage_flag) { flags.push('patrimoine : ' + esc(p.bati_patrimoine)); }
        l.bindPopup('<strong>' + esc(p.site_nom || 'Friche') + '</strong><br>' +
          esc(p.site_type || '') + (p.site_statut ? ' — ' + esc(p.site_statut) : '') + '<br>' +
          line('Surface utilisable', U.fmt(p.usable_area_m2, 'm²')) +
          line('Puissance', U.fmt(p.kwp, 'kWc')) +
          line('Production', U.fmt(p.production_mwh_yr, 'MWh/an')) +
          line('Coût estimé', U.euros(p.cost_eur)) +
          line('Coût de production', lcoe) +
          (flags.length ? '<em>' + flags.join(' ; ') + '</em><br>' : '') +
          (p.approximate ? '<em>Estimation approchée (sans périmètre ou hors du relief mesuré).</em><br>' : '') +
          (p.note ? '<small>' + esc(p.note) + '</small>' : ''));
      },
    }, null, 'friches');
    U.legendEntries.friches = function () {
      return U.legendBlock('Solaire au sol', [
        U.swatchRow(FRICHE, 'friche'), U.swatchRow(TERRIL, 'terril (panneaux le long de la pente)'),
        U.lineRow('#555', 2, 'estimation approchée', '6 4'),
      ]);
    };
    return layer;
  };

  A.layers.carParks = function (opts) {
    var layer = U.remoteGeoJson(opts.collection, {
      pane: 'artoisParks', bubblingMouseEvents: false,
      style: function (f) {
        var c = (APER[f.properties.aper_status] || ['#636363'])[0];
        return { color: c, weight: 2, fillColor: c, fillOpacity: 0.4, dashArray: f.properties.approximate ? '6 4' : null };
      },
      onEachFeature: function (f, l) {
        var p = f.properties;
        var status = (APER[p.aper_status] || [null, esc(p.aper_status_fr || p.aper_status)])[1];
        var deadline = p.aper_deadline ? 'avant le ' + dateFr(p.aper_deadline) +
          (p.aper_deadline_postponed ? ' (report au ' + dateFr(p.aper_deadline_postponed) +
            ' possible avec des panneaux éligibles)' : '') : 'aucune';
        l.bindPopup('<strong>' + esc(p.nom || 'Parking') + '</strong><br>' +
          line('Surface comptée (places et voies)', U.fmt(p.counted_area_m2, 'm²')) +
          line('Part ombragée par des arbres', U.pct(p.tree_share)) +
          line('Loi APER', status) +
          line('Échéance', deadline) +
          line('Ombrières possibles', U.fmt(p.canopy_area_m2, 'm²') + ', ' + U.fmt(p.canopy_kwp, 'kWc') + ', ' +
            U.fmt(p.canopy_production_mwh_yr, 'MWh/an')) +
          line('Coût estimé des ombrières', U.euros(p.canopy_cost_eur)) +
          (p.tradeoff_fr ? '<p class="artois-popup-note">' + esc(p.tradeoff_fr) + '</p>' : '') +
          (p.note ? '<small>' + esc(p.note) + '</small>' : ''));
      },
    }, null, 'carParks');
    U.legendEntries.carParks = function () {
      return U.legendBlock('Parkings (loi APER, art. 40)', Object.keys(APER).map(function (k) {
        return U.swatchRow(APER[k][0], APER[k][1]);
      }), 'Échéances : ' + dateFr(opts.deadlines.large) + ' au-delà de 10 000 m², ' +
        dateFr(opts.deadlines.medium) + ' de 1 500 à 10 000 m².');
    };
    return layer;
  };
})();
