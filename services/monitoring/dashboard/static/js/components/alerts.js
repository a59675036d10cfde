// Open alerts for the unit and its subtree, in the current language, newest change first as the API orders them.
import { h, replace } from '../dom.js';
import { pick, t } from '../i18n.js';
import { formatDateTime } from '../format.js';
import { unitUrl } from '../router.js';

function item(alert) {
  return h('li', { class: 'alert-item', 'data-alert-id': alert.alert_id },
    h('p', { class: 'alert-head' },
      h('span', { class: 'badge status-off_track' }, h('span', { 'aria-hidden': 'true' }, '⚠'), ' ', pick(alert, 'rule_name') || alert.rule),
      ' ', h('a', { href: unitUrl(alert.level, alert.code) }, pick(alert) || alert.code)),
    h('p', { class: 'alert-message' }, pick(alert, 'message')),
    h('p', { class: 'muted alert-time' }, `${t('raised_at')} ${formatDateTime(alert.raised_at)}`));
}

export function renderAlerts(container, data) {
  const items = data?.items || [];
  const total = data?.total ?? items.length;
  const scrolled = container.querySelector('.alert-scroll')?.scrollTop || 0; // a live refresh keeps the reader's place
  // the test id sits on the box (not the bare list) so the section stays findable when there is nothing open
  replace(container,
    h('div', { class: 'alert-scroll', role: 'region', tabindex: '0', 'aria-label': t('alerts_scroll'), 'data-testid': 'alerts' },
      h('ul', { class: 'alert-list' }, items.map(item)),
      items.length ? null : h('p', { class: 'muted empty' }, t('alerts_none'))),
    total > items.length ? h('p', { class: 'muted' }, t('alerts_total', { shown: items.length, total })) : null);
  container.querySelector('.alert-scroll').scrollTop = scrolled;
}
