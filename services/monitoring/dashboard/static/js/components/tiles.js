// Indicator tiles: value, target, status (colour + icon + words) and a trend sparkline per indicator.
import { h, replace } from '../dom.js';
import { pick, t } from '../i18n.js';
import { formatValue } from '../format.js';
import { sparkline } from './sparkline.js';
import { statusBadge, statusOf } from './status.js';

function targetText(row) {
  if (row.target === null || row.target === undefined) return '';
  const sign = row.direction === 'lower' ? '≤' : '≥';
  return `${t('target')} ${sign} ${formatValue(row.target, row.unit)}`;
}

function tile(row, trend) {
  const values = trend || [];
  return h('article', { class: `tile status-edge-${statusOf(row)}`, 'data-testid': 'tile', 'data-indicator': row.code, 'data-status': statusOf(row) },
    h('h3', { class: 'tile-name' }, pick(row)),
    h('p', { class: 'tile-value' }, formatValue(row.value, row.unit)),
    h('p', { class: 'tile-target' }, targetText(row)),
    h('div', { class: 'tile-foot' }, statusBadge(row), sparkline(values, values.map((v) => formatValue(v, row.unit)))));
}

/** Re-render all tiles in place (cheap: ten small nodes); `trends` maps indicator code → values oldest first. */
export function renderTiles(container, rows, trends = {}) {
  replace(container, rows.map((row) => tile(row, trends[row.code])));
}
