// Indicator status: a colour AND an icon AND words, so status never depends on colour alone.
import { h } from '../dom.js';
import { pick, t } from '../i18n.js';

export const STATUSES = ['on_track', 'at_risk', 'off_track', 'no_data'];
export const ICONS = { on_track: '✓', at_risk: '!', off_track: '✕', no_data: '–' };

export const statusOf = (row) => (STATUSES.includes(row?.status) ? row.status : 'no_data');

/** The API's own status words when present (status_th/status_en), else ours. */
export const statusText = (row) => pick(row, 'status') || t(`status_${statusOf(row)}`);

export function statusBadge(row) {
  const status = statusOf(row);
  return h('span', { class: `badge status-${status}` },
    h('span', { class: 'badge-icon', 'aria-hidden': 'true' }, ICONS[status]), ' ', statusText(row));
}
