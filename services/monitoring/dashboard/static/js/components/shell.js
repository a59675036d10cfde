// The parts of the page every route shares: header unit bar, period select, breadcrumbs, error and live regions.
import { h, replace } from '../dom.js';
import { pick, t } from '../i18n.js';

const $ = (selector) => document.querySelector(selector);

export function showError(message) {
  replace($('#error-region'), message ? h('p', null, message) : null);
}
export const clearError = () => showError('');

/** Polite announcements (data updated, state changes) for screen readers; the visible liveness text is not live. */
export function announce(message) {
  const region = $('#announcer');
  region.textContent = '';
  // a new text node after a tick so the same message is announced again
  setTimeout(() => { region.textContent = message; }, 50);
}

export function setSignedIn(signedIn) {
  $('#signout').hidden = !signedIn;
}

export function setUnitBar({ title, visible }) {
  $('#unit-bar').hidden = !visible;
  $('[data-testid="unit-title"]').textContent = title || '';
  document.title = title ? `${title} · ${t('title_suffix')}` : t('title_suffix');
}

/**
 * Fill `select#period` from /periods (newest first) and call `onChange(period)` on a pick.
 * The listener is replaced on each call so a page never hears another page's picks.
 */
export function setPeriods(periods, selected, onChange) {
  const old = $('#period');
  const select = old.cloneNode(false);
  const list = [...periods].sort((a, b) => b.academic_year - a.academic_year || b.semester - a.semester);
  for (const p of list) {
    const value = `${p.academic_year}-${p.semester}`;
    select.append(h('option', { value, selected: selected && value === `${selected.academic_year}-${selected.semester}` }, pick(p, 'label')));
  }
  select.addEventListener('change', () => {
    const [year, semester] = select.value.split('-').map(Number);
    onChange(list.find((p) => p.academic_year === year && p.semester === semester));
  });
  const hadFocus = document.activeElement === old;
  old.replaceWith(select);
  if (hadFocus) select.focus();
}

/** Breadcrumbs: links from national down to the parent, then the current unit marked aria-current="page". */
export function setBreadcrumbs(items, current) {
  const nav = $('[data-testid="breadcrumbs"]');
  nav.setAttribute('aria-label', t('breadcrumbs'));
  nav.hidden = !current;
  const list = nav.querySelector('ol');
  replace(list,
    items.map((item) => h('li', null, item.href ? h('a', { href: item.href }, item.label) : h('span', null, item.label))),
    current ? h('li', null, h('span', { 'aria-current': 'page' }, current)) : null);
}

export function resetShell() {
  setUnitBar({ visible: false });
  setBreadcrumbs([], null);
  clearError();
  const live = $('[data-testid="liveness"]');
  live.hidden = true;
}
