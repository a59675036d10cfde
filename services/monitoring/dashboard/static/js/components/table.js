// The children table: one row per unit below, the same indicators and status as the tiles, sortable and filterable.
// It is built once per page and updated in place, so a live refresh keeps the user's sort, filter and focus.
import { h, replace } from '../dom.js';
import { getLang, pick, t } from '../i18n.js';
import { formatValue } from '../format.js';
import { ICONS, statusOf, statusText } from './status.js';

const byCode = (row) => Object.fromEntries((row.indicators || []).map((i) => [i.code, i]));
const matches = (row, needle) => !needle || [row.name_th, row.name_en, row.code].some((v) => (v || '').toLowerCase().includes(needle));

function compare(sort) {
  const collator = new Intl.Collator(getLang() === 'th' ? 'th' : 'en');
  const sign = sort.dir === 'descending' ? -1 : 1;
  if (sort.key === 'name') return (a, b) => sign * collator.compare(pick(a), pick(b));
  return (a, b) => {
    const va = byCode(a)[sort.key]?.value;
    const vb = byCode(b)[sort.key]?.value;
    const missingA = va === null || va === undefined;
    const missingB = vb === null || vb === undefined;
    if (missingA || missingB) return missingA - missingB; // no data sorts last both ways
    return sign * (va - vb);
  };
}

function valueCell(indicator) {
  if (!indicator) return h('td', { class: 'status-no_data', 'data-status': 'no_data' }, '—');
  const status = statusOf(indicator);
  if (indicator.value === null || indicator.value === undefined) {
    return h('td', { class: `num status-${status}`, 'data-status': status }, '—', h('span', { class: 'sr-only' }, ` (${statusText(indicator)})`));
  }
  return h('td', { class: `num status-${status}`, 'data-status': status },
    h('span', { class: 'cell-icon', 'aria-hidden': 'true' }, ICONS[status]), ' ',
    formatValue(indicator.value, indicator.unit),
    h('span', { class: 'sr-only' }, ` (${statusText(indicator)})`));
}

export function childrenTable({ hrefFor }) {
  const state = { sort: { key: null, dir: 'none' }, filter: '', rows: [], columns: [] };
  const input = h('input', { id: 'children-filter', type: 'search', autocomplete: 'off' });
  const label = h('label', { for: 'children-filter' });
  const count = h('p', { class: 'muted', role: 'status' });
  const table = h('table', { 'data-testid': 'children', class: 'data-table' });
  const scroller = h('div', { class: 'table-scroll', role: 'region', tabindex: '0' }, table);
  const el = h('div', { class: 'children-table' }, h('div', { class: 'filter-row' }, label, input), count, scroller);

  function header() {
    const cols = [{ key: 'name', label: t('col_name') }, ...state.columns.map((c) => ({ key: c.code, label: pick(c) }))];
    return h('thead', null, h('tr', null, cols.map((col) => {
      const sorted = state.sort.key === col.key ? state.sort.dir : 'none';
      return h('th', { scope: 'col', 'aria-sort': sorted, class: col.key === 'name' ? 'col-name' : 'col-num' },
        h('button', { type: 'button', class: 'sort-button', 'data-sort': col.key, onclick: () => sortBy(col.key) },
          col.label, h('span', { class: 'sort-icon', 'aria-hidden': 'true' }, { ascending: '▲', descending: '▼' }[sorted] || '↕')));
    })));
  }

  function body() {
    const needle = state.filter.trim().toLowerCase();
    let rows = state.rows.filter((row) => matches(row, needle));
    if (state.sort.key) rows = [...rows].sort(compare(state.sort));
    count.textContent = t('children_count', { shown: rows.length, total: state.rows.length });
    if (!rows.length) return h('tbody', null, h('tr', null, h('td', { colspan: state.columns.length + 1 }, t('children_none'))));
    return h('tbody', null, rows.map((row) => {
      const cells = byCode(row);
      return h('tr', { 'data-code': row.code },
        h('th', { scope: 'row', class: 'col-name' }, h('a', { href: hrefFor(row) }, pick(row))),
        state.columns.map((c) => valueCell(cells[c.code])));
    }));
  }

  function render() {
    const focused = document.activeElement?.dataset?.sort; // keep keyboard focus on the header just used
    label.textContent = t('children_filter');
    scroller.setAttribute('aria-label', t('table_scroll'));
    replace(table, header(), body());
    if (focused) table.querySelector(`button[data-sort="${CSS.escape(focused)}"]`)?.focus();
  }

  function sortBy(key) {
    const dir = state.sort.key === key && state.sort.dir === 'ascending' ? 'descending' : 'ascending';
    state.sort = { key, dir };
    render();
  }

  input.addEventListener('input', () => {
    state.filter = input.value;
    replace(table, header(), body());
  });

  return {
    el,
    /** `columns`: the indicator rows of the unit itself (code + names), in the tiles' order. */
    update(rows, columns) {
      state.rows = rows || [];
      state.columns = columns || [];
      render();
    },
  };
}
