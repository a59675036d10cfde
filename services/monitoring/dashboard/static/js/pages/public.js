// The public transparency page: national (provinces on a map and in a table), province (its ESA areas) and ESA
// figures, with no sign-in. Only aggregates, evaluated as an outsider sees them (small cells hidden by the API).
import { api, loadPeriods, periodParams } from '../api.js';
import { h, replace } from '../dom.js';
import { onLangChange, pick, t } from '../i18n.js';
import { formatDateTime } from '../format.js';
import { navigate, publicUrl } from '../router.js';
import { clearError, setBreadcrumbs, setPeriods, setUnitBar, showError } from '../components/shell.js';
import { section } from '../components/section.js';
import { renderTiles } from '../components/tiles.js';
import { childrenTable } from '../components/table.js';
import { loadProvinces, provinceMap } from '../components/map.js';

const CHILD = { national: 'province', province: 'esa' };

/** Public pages have no `ancestors`: national, and for an ESA area its province (named from the map's province file). */
async function crumbs(level, code, period) {
  const items = [{ href: publicUrl('national', 'TH', period), label: t('public_title') }];
  const province = level === 'esa' ? code.match(/^\d{2}/)?.[0] : null;
  if (province) {
    const list = await loadProvinces().catch(() => null);
    const entry = list?.provinces.find((p) => p.code === province);
    items.push({ href: publicUrl('province', province, period), label: entry ? pick(entry) : province });
  }
  return level === 'national' ? [] : items;
}

function about() {
  // both languages at once, whatever the switch says: this is the page's promise to the public
  return h('div', { class: 'card public-about' },
    h('p', { lang: 'th' }, t('public_about')),
    h('p', { lang: 'en' }, t('public_about_en')),
    h('p', null, h('a', { href: '/dashboard/signin', 'data-i18n': 'public_signin' }, t('public_signin'))));
}

export function mountPublic({ route, root }) {
  const { level, code } = route;
  const controller = new AbortController();
  let data = null;
  let trends = null;
  const hrefFor = (row) => publicUrl(row.level || CHILD[level], row.code, route.period);
  const tiles = h('div', { class: 'tiles' });
  const asOf = h('p', { class: 'muted as-of' });
  const table = childrenTable({ hrefFor });
  const map = level === 'national' ? provinceMap({ hrefFor: (c) => publicUrl('province', c, route.period), navigate }) : null;
  const childrenSection = section('children', 'children_title', table.el);
  root.append(h('div', { class: 'public-page', 'data-testid': 'public' },
    about(), asOf,
    section('tiles', 'tiles_title', tiles),
    map ? section('map', 'map_title', map.el) : null,
    childrenSection));
  setUnitBar({ title: t('loading'), visible: true });

  async function render() {
    if (!data) return;
    const unitName = pick(data.unit) || (level === 'national' ? t('public_title') : code);
    setUnitBar({ title: level === 'national' ? `${t('public_title')} · ${unitName}` : unitName, visible: true });
    const items = await crumbs(level, code, route.period);
    if (controller.signal.aborted) return;
    setBreadcrumbs(items, level === 'national' ? null : unitName);
    replace(asOf, t('data_as_of', { date: formatDateTime(data.as_of) }));
    const rows = data.unit?.indicators || [];
    renderTiles(tiles, rows, trends?.indicators);
    const children = data.children || [];
    childrenSection.hidden = children.length === 0;
    table.update(children, rows);
    map?.update(children, rows);
  }

  async function start() {
    loadPeriods({ auth: false }).then((periods) => {
      setPeriods(periods.periods, route.period || periods.current, (p) => navigate(publicUrl(level, code, p)));
    }).catch((error) => !controller.signal.aborted && showError(error.message));
    const path = `${level}/${encodeURIComponent(code)}`;
    const params = periodParams(route.period);
    try {
      [data, trends] = await Promise.all([
        api(`/public/indicators/${path}`, { auth: false, params, signal: controller.signal }),
        // sparklines are an extra: the tiles still show without them
        api(`/public/trends/${path}`, { auth: false, params: { semesters: 6, ...params }, signal: controller.signal }).catch(() => null),
      ]);
      clearError();
      render();
    } catch (error) {
      if (error.name !== 'AbortError') { showError(error.message); setUnitBar({ title: t('public_title'), visible: true }); }
    }
  }

  const offLang = onLangChange(() => {
    render();
    loadPeriods({ auth: false }).then((periods) => setPeriods(periods.periods, route.period || periods.current, (p) => navigate(publicUrl(level, code, p)))).catch(() => {});
  });
  start();
  return { dispose() { controller.abort(); offLang(); } };
}
