// A page section with a translated heading: a landmark-friendly <section aria-labelledby>.
import { h } from '../dom.js';
import { t } from '../i18n.js';

export function section(id, titleKey, ...children) {
  return h('section', { class: `section section-${id}`, 'aria-labelledby': `${id}-title` },
    h('h2', { id: `${id}-title`, 'data-i18n': titleKey }, t(titleKey)), ...children);
}
