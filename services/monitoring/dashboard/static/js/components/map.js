// Tile-grid map of the 77 provinces, each cell coloured (and marked with an icon) by one indicator's status.
// One tab stop for the whole map; arrow keys move between provinces (roving tabindex); Enter opens a province.
import { h, replace, s } from '../dom.js';
import { pick, t } from '../i18n.js';
import { formatValue } from '../format.js';
import { ICONS, STATUSES, statusOf, statusText } from './status.js';

const CELL = 26;
const GAP = 2;
const KEYS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
let gridPromise = null;

/** The grid file is static: fetch it once per page load. */
export function loadGrid() {
  gridPromise ??= fetch('/dashboard/static/data/provinces-tilegrid.json').then((r) => {
    if (!r.ok) throw new Error(t('map_unavailable'));
    return r.json();
  }).catch((error) => { gridPromise = null; throw error; });
  return gridPromise;
}

/** The province nearest in the arrow's direction, preferring the same row/column. */
function neighbour(cells, from, [dx, dy]) {
  let best = null;
  let bestScore = Infinity;
  for (const cell of cells) {
    const along = (cell.col - from.col) * dx + (cell.row - from.row) * dy;
    if (along <= 0) continue;
    const across = Math.abs((cell.col - from.col) * dy) + Math.abs((cell.row - from.row) * dx);
    const score = along + across * 3;
    if (score < bestScore) { best = cell; bestScore = score; }
  }
  return best;
}

export function provinceMap({ hrefFor, navigate }) {
  // rows === null until the first update: painting all-grey before the figures arrive would show a false "no data"
  const state = { indicator: null, rows: null, columns: [], grid: null };
  const select = h('select', { id: 'map-indicator' });
  const label = h('label', { for: 'map-indicator' });
  const svg = s('svg', { 'data-testid': 'map', class: 'tile-map', role: 'group' });
  const legend = h('ul', { class: 'map-legend' });
  const legendTitle = h('h3', { class: 'legend-title' });
  const el = h('div', { class: 'map-wrap' }, h('div', { class: 'filter-row' }, label, select),
    h('div', { class: 'map-body' }, svg, h('div', { class: 'legend-box' }, legendTitle, legend)));

  select.addEventListener('change', () => { state.indicator = select.value; paint(); });

  function cellFor(province, row) {
    const indicator = row?.indicators?.find((i) => i.code === state.indicator);
    const hasData = Boolean(row) && indicator && indicator.value !== null && indicator.value !== undefined;
    const status = hasData ? statusOf(indicator) : 'no_data';
    const name = pick(province);
    const text = hasData ? `${name}: ${formatValue(indicator.value, indicator.unit)} (${statusText(indicator)})` : `${name}: ${t('no_data')}`;
    const x = province.col * (CELL + GAP);
    const y = province.row * (CELL + GAP);
    // drill-down goes to any province the API returned, even if this one indicator has no value there
    const linkable = Boolean(row);
    const g = s('g', { 'data-province': province.code, 'data-status': status, class: `province status-${status}${linkable ? ' linkable' : ''}`,
      role: linkable ? 'link' : 'img', 'aria-label': text, tabindex: '-1' },
    s('title', null, text),
    s('rect', { x, y, width: CELL, height: CELL, rx: 3 }),
    s('text', { x: x + CELL / 2, y: y + CELL / 2 + 4, 'text-anchor': 'middle', 'aria-hidden': 'true' }, ICONS[status]));
    g.cell = province;
    g.linkable = linkable;
    return g;
  }

  function open(g) {
    if (g?.linkable) navigate(hrefFor(g.cell.code));
  }

  function paint() {
    if (!state.grid || !state.rows) return;
    const rowsByCode = Object.fromEntries(state.rows.map((r) => [r.code, r]));
    const provinces = state.grid.provinces;
    const cols = Math.max(...provinces.map((p) => p.col)) + 1;
    const rows = Math.max(...provinces.map((p) => p.row)) + 1;
    const focused = document.activeElement?.closest?.('[data-province]')?.dataset.province;
    svg.setAttribute('viewBox', `0 0 ${cols * (CELL + GAP)} ${rows * (CELL + GAP)}`);
    const column = state.columns.find((c) => c.code === state.indicator);
    svg.setAttribute('aria-label', t('map_label', { indicator: column ? pick(column) : '' }));
    const cells = provinces.map((p) => cellFor(p, rowsByCode[p.code]));
    replace(svg, cells);
    const start = cells.find((c) => c.dataset.province === focused) || cells.find((c) => c.linkable) || cells[0];
    start.setAttribute('tabindex', '0');
    if (focused) start.focus();
    paintLegend(cells);
  }

  function paintLegend(cells) {
    legendTitle.textContent = t('map_legend');
    replace(legend, STATUSES.map((status) => {
      const n = cells.filter((c) => c.dataset.status === status).length;
      return h('li', null, h('span', { class: `swatch status-${status}`, 'aria-hidden': 'true' }, ICONS[status]), ` ${t(`status_${status}`)} (${n})`);
    }));
  }

  svg.addEventListener('click', (event) => open(event.target.closest('[data-province]')));
  svg.addEventListener('keydown', (event) => {
    const current = event.target.closest('[data-province]');
    if (!current) return;
    if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); open(current); return; }
    if (!KEYS[event.key]) return;
    event.preventDefault();
    const cells = [...svg.querySelectorAll('[data-province]')];
    const next = neighbour(cells.map((c) => c.cell), current.cell, KEYS[event.key]);
    const target = next && cells.find((c) => c.cell === next);
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

  loadGrid().then((grid) => { state.grid = grid; paint(); })
    .catch((error) => replace(svg, s('text', { x: 10, y: 20 }, error.message)));

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
