// Boundary map of the 77 provinces, each coloured (and, where there is room, marked with the status icon) by one indicator's
// status. The outlines are the npm package @svg-maps/thailand (CC BY 4.0), served as /dashboard/vendor/thailand.svg;
// static/data/provinces.json maps its path ids to province codes and names. The file is parsed with DOMParser and
// only its path data is copied into elements built here: nothing from it is injected as markup.
// One tab stop for the whole map; arrow keys move to the nearest province in that direction (roving tabindex);
// Enter opens a province.
import { h, replace, s } from '../dom.js';
import { pick, t } from '../i18n.js';
import { formatValue } from '../format.js';
import { ICONS, STATUSES, statusOf, statusText } from './status.js';

const KEYS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
const ICON_MIN = 24; // a province gets an icon when its box is at least this big both ways (map units)
const LICENCE = 'https://creativecommons.org/licenses/by/4.0/';
let provincesPromise = null;
let shapePromise = null;

function once(promise, reset) {
  return promise.catch((error) => { reset(); throw error; });
}

/** Province codes, names and map ids: a static file, fetched once per page load. */
export function loadProvinces() {
  provincesPromise ??= once(fetch('/dashboard/static/data/provinces.json').then((r) => {
    if (!r.ok) throw new Error(t('map_unavailable'));
    return r.json();
  }), () => { provincesPromise = null; });
  return provincesPromise;
}

/** The outlines: { viewBox, paths: { id: d } }, read from the vendored SVG as data. */
function loadShape() {
  shapePromise ??= once(fetch('/dashboard/vendor/thailand.svg').then((r) => {
    if (!r.ok) throw new Error(t('map_unavailable'));
    return r.text();
  }).then((text) => {
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    const root = doc.documentElement;
    if (root.nodeName !== 'svg' || doc.querySelector('parsererror')) throw new Error(t('map_unavailable'));
    const paths = {};
    for (const path of root.querySelectorAll('path[id][d]')) paths[path.getAttribute('id')] = path.getAttribute('d');
    return { viewBox: root.getAttribute('viewBox') || '0 0 560 1025', paths };
  }), () => { shapePromise = null; });
  return shapePromise;
}

/** Centre of an element's box, measured once it is drawn. */
function centre(el) {
  if (!el.centre) {
    const box = el.getBBox();
    if (!box.width && !box.height) return null; // not rendered yet
    el.centre = { x: box.x + box.width / 2, y: box.y + box.height / 2, width: box.width, height: box.height };
  }
  return el.centre;
}

/** The province whose centre is nearest in the arrow's direction; ones straight ahead are preferred. */
function neighbour(paths, from, [dx, dy]) {
  const a = centre(from);
  if (!a) return null;
  let best = null;
  let bestScore = Infinity;
  for (const path of paths) {
    const b = path === from ? null : centre(path);
    if (!b) continue;
    const along = (b.x - a.x) * dx + (b.y - a.y) * dy;
    if (along <= 0) continue;
    const across = Math.abs((b.x - a.x) * dy + (b.y - a.y) * dx);
    const score = along + across * 2;
    if (score < bestScore) { best = path; bestScore = score; }
  }
  return best;
}

export function provinceMap({ hrefFor, navigate }) {
  // rows === null until the first update: painting all-grey before the figures arrive would show a false "no data"
  const state = { indicator: null, rows: null, columns: [], provinces: null, shape: null, paths: null };
  const select = h('select', { id: 'map-indicator' });
  // named from the start: while the figures load, a screen reader still hears what the select and legend are
  const label = h('label', { for: 'map-indicator' }, t('map_indicator'));
  const svg = s('svg', { 'data-testid': 'map', class: 'province-map', role: 'group' });
  const legend = h('ul', { class: 'map-legend' });
  const legendTitle = h('h3', { class: 'legend-title' }, t('map_legend'));
  const credit = h('span');
  const licence = h('a', { href: LICENCE, rel: 'license', hreflang: 'en' }, 'CC BY 4.0');
  const el = h('div', { class: 'map-wrap' }, h('div', { class: 'filter-row' }, label, select),
    h('div', { class: 'map-body' },
      h('figure', { class: 'map-figure' }, svg, h('figcaption', { class: 'map-credit' }, credit, ' (', licence, ')')),
      h('div', { class: 'legend-box' }, legendTitle, legend)));
  // drawn last, over the provinces, so a small province's highlight is not hidden under its neighbours' edges
  const hover = s('path', { class: 'map-hover', 'aria-hidden': 'true' });
  const focusRing = s('path', { class: 'map-focus', 'aria-hidden': 'true' });
  const icons = s('g', { class: 'map-icons', 'aria-hidden': 'true' });

  select.addEventListener('change', () => { state.indicator = select.value; paint(); });

  /** Build the paths once: the outlines never change, only their status. */
  function build() {
    if (state.paths || !state.provinces || !state.shape) return;
    const { paths: d } = state.shape;
    svg.setAttribute('viewBox', state.shape.viewBox);
    const water = state.provinces.water.filter((id) => d[id])
      .map((id) => s('path', { d: d[id], class: 'map-water', 'aria-hidden': 'true' }));
    state.paths = state.provinces.provinces.filter((p) => d[p.map_id]).map((p) => {
      const path = s('path', { d: d[p.map_id], 'data-province': p.code, class: 'province', tabindex: '-1' }, s('title'));
      path.province = p;
      return path;
    });
    replace(svg, state.paths, water, icons, hover, focusRing);
  }

  function paintPath(path, row) {
    const indicator = row?.indicators?.find((i) => i.code === state.indicator);
    const hasData = Boolean(row) && indicator && indicator.value !== null && indicator.value !== undefined;
    const status = hasData ? statusOf(indicator) : 'no_data';
    const name = pick(path.province);
    const text = hasData ? `${name}: ${formatValue(indicator.value, indicator.unit)} (${statusText(indicator)})` : `${name}: ${t('no_data')}`;
    // drill-down goes to any province the API returned, even if this one indicator has no value there
    path.linkable = Boolean(row);
    path.dataset.status = status;
    path.setAttribute('class', `province status-${status}${path.linkable ? ' linkable' : ''}`);
    path.setAttribute('role', path.linkable ? 'link' : 'img');
    path.setAttribute('aria-label', text);
    path.firstChild.textContent = text;
  }

  /** Icons on the provinces big enough to hold one; needs the map drawn, so it waits a frame if it is not yet. */
  function paintIcons(tries = 0) {
    const boxes = state.paths.map(centre);
    if (boxes.some((b) => !b)) {
      if (tries < 20) requestAnimationFrame(() => paintIcons(tries + 1));
      return;
    }
    replace(icons, state.paths.map((path, i) => {
      const b = boxes[i];
      const status = path.dataset.status;
      // grey with no mark already reads as "no data"; dashes on every empty province would only add noise
      if (b.width < ICON_MIN || b.height < ICON_MIN || status === 'no_data') return null;
      return s('text', { x: b.x, y: b.y + 7, class: `map-icon status-${status}`, 'text-anchor': 'middle' }, ICONS[status]);
    }));
  }

  function open(path) {
    if (path?.linkable) navigate(hrefFor(path.province.code));
  }

  function paint() {
    credit.textContent = t('map_credit');
    if (!state.provinces || !state.shape || !state.rows) return;
    build();
    const rowsByCode = Object.fromEntries(state.rows.map((r) => [r.code, r]));
    const column = state.columns.find((c) => c.code === state.indicator);
    svg.setAttribute('aria-label', t('map_label', { indicator: column ? pick(column) : '' }));
    state.paths.forEach((path) => paintPath(path, rowsByCode[path.province.code]));
    if (!state.paths.some((p) => p.getAttribute('tabindex') === '0')) {
      (state.paths.find((p) => p.linkable) || state.paths[0])?.setAttribute('tabindex', '0');
    }
    paintIcons();
    paintLegend();
  }

  function paintLegend() {
    legendTitle.textContent = t('map_legend');
    replace(legend, STATUSES.map((status) => {
      const n = state.paths.filter((p) => p.dataset.status === status).length;
      return h('li', null, h('span', { class: `swatch status-${status}`, 'aria-hidden': 'true' }, ICONS[status]), ` ${t(`status_${status}`)} (${n})`);
    }));
  }

  function outline(ring, path) {
    if (path) ring.setAttribute('d', path.getAttribute('d'));
    else ring.removeAttribute('d');
  }

  svg.addEventListener('click', (event) => open(event.target.closest('[data-province]')));
  svg.addEventListener('mouseover', (event) => {
    const path = event.target.closest('[data-province]');
    outline(hover, path?.linkable ? path : null);
  });
  svg.addEventListener('mouseleave', () => outline(hover, null));
  svg.addEventListener('focusin', (event) => {
    const path = event.target.closest('[data-province]');
    outline(focusRing, path && path.matches(':focus-visible') ? path : null);
  });
  svg.addEventListener('focusout', () => outline(focusRing, null));
  svg.addEventListener('keydown', (event) => {
    const current = event.target.closest('[data-province]');
    if (!current) return;
    if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); open(current); return; }
    if (!KEYS[event.key]) return;
    event.preventDefault();
    const target = neighbour(state.paths, current, KEYS[event.key]);
    if (!target) return;
    current.setAttribute('tabindex', '-1');
    target.setAttribute('tabindex', '0');
    target.focus();
  });

  function fillSelect() {
    if (!state.columns.some((c) => c.code === state.indicator)) state.indicator = state.columns[0]?.code ?? null;
    label.textContent = t('map_indicator');
    replace(select, state.columns.map((c) => h('option', { value: c.code, selected: c.code === state.indicator }, pick(c))));
  }

  Promise.all([loadProvinces(), loadShape()])
    .then(([provinces, shape]) => { state.provinces = provinces; state.shape = shape; paint(); })
    .catch((error) => {
      svg.setAttribute('viewBox', '0 0 560 60');
      replace(svg, s('text', { x: 10, y: 30 }, error.message));
    });
  paint();

  return {
    el,
    /** `rows`: province rows with indicators; `columns`: the indicator list (code + names) for the select. */
    update(rows, columns) {
      state.rows = rows || [];
      state.columns = columns || [];
      fillSelect();
      paint();
    },
  };
}
