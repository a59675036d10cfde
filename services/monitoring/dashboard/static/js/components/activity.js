// A school's recent activity (newest first): date in the Buddhist Era in Thai, model, title and status.
import { h, replace } from '../dom.js';
import { pick, t } from '../i18n.js';
import { formatDate } from '../format.js';

const MODEL_ICONS = { supervision: '👁', training: '🎓', committee: '👥' };

function item(entry) {
  const status = pick(entry, 'status');
  return h('li', { class: `activity-item model-${entry.model}` },
    h('span', { class: 'activity-icon', 'aria-hidden': 'true' }, MODEL_ICONS[entry.model] || '•'),
    h('div', null,
      h('p', { class: 'activity-title' }, pick(entry, 'title')),
      h('p', { class: 'muted' }, [h('time', { datetime: entry.at }, formatDate(entry.at)), ' · ', t(`modelname_${entry.model}`), status ? ` · ${status}` : ''])));
}

export function renderActivity(container, data) {
  const items = data?.items || [];
  replace(container, h('div', { 'data-testid': 'activity' },
    h('ul', { class: 'activity-list' }, items.map(item)),
    items.length ? null : h('p', { class: 'muted empty' }, t('activity_none'))));
}
