// One unit's page (national, province, esa, cluster, school): tiles, alerts, map (national), children, charts and,
// for a school, its recent activity. Data is fetched once, then refetched only when the pulse says it changed;
// every part updates in place so a live refresh keeps scroll, table sort and filter.
import { api, loadPeriods, periodParams } from '../api.js';
import { h } from '../dom.js';
import { onLangChange, pick, t } from '../i18n.js';
import { CHILD_LEVEL, navigate, unitUrl } from '../router.js';
import { announce, clearError, setBreadcrumbs, setPeriods, setUnitBar, showError } from '../components/shell.js';
import { section } from '../components/section.js';
import { renderTiles } from '../components/tiles.js';
import { achievementChart, activityChart, chartSlot, mixChart } from '../components/charts.js';
import { childrenTable } from '../components/table.js';
import { renderAlerts } from '../components/alerts.js';
import { renderActivity } from '../components/activity.js';
import { provinceMap } from '../components/map.js';
import { liveness } from '../components/liveness.js';

const isAbort = (error) => error?.name === 'AbortError';

/** What to fetch for a refresh: `data` = view, indicator figures, trends (+ school activity); `alerts` = open alerts. */
function fetchers({ level, code, period, signal }) {
  const path = `${level}/${encodeURIComponent(code)}`;
  const params = periodParams(period);
  return {
    view: () => api(`/views/${path}`, { params, signal }),
    indicators: () => api(`/indicators/${path}`, { params, signal }),
    trends: () => api(`/trends/${path}`, { params: { semesters: 6, ...params }, signal }),
    activity: () => (level === 'school' ? api(`/activity/school/${encodeURIComponent(code)}`, { params: { limit: 20 }, signal }) : Promise.resolve(null)),
    alerts: () => api(`/alerts/${path}`, { params: { status: 'open' }, signal }),
  };
}

function buildLayout(level, route) {
  const hrefFor = (row) => unitUrl(row.level || CHILD_LEVEL[level], row.code, route.period);
  const parts = {
    tiles: h('div', { class: 'tiles' }),
    alerts: h('div', { class: 'alerts' }),
    activity: h('div', { class: 'activity' }),
    table: childrenTable({ hrefFor }),
    map: level === 'national' ? provinceMap({ hrefFor: (code) => unitUrl('province', code, route.period), navigate }) : null,
    charts: { achievement: chartSlot('chart-achievement'), activity: chartSlot('chart-activity'), mix: chartSlot('chart-mix') },
  };
  parts.childrenSection = section('children', 'children_title', parts.table.el);
  const root = h('div', { class: 'unit-page', 'aria-busy': 'true' },
    section('tiles', 'tiles_title', parts.tiles),
    section('alerts', 'alerts_title', parts.alerts),
    level === 'school' ? section('activity', 'activity_title', parts.activity) : null,
    parts.map ? section('map', 'map_title', parts.map.el) : null,
    parts.childrenSection,
    section('charts', 'charts_title', h('div', { class: 'charts-grid' },
      parts.charts.achievement.el, parts.charts.activity.el, parts.charts.mix.el)));
  return { root, parts };
}

export function mountUnit({ route, root }) {
  const { level, code } = route;
  const controller = new AbortController();
  const get = fetchers({ level, code, period: route.period, signal: controller.signal });
  const data = {};
  const { root: page, parts } = buildLayout(level, route);
  root.append(page);
  setUnitBar({ title: t('loading'), visible: true });
  let live = null;
  let refreshing = null;
  let again = null;

  function render() {
    const { view, indicators } = data;
    if (!view || !indicators) return;
    setUnitBar({ title: pick(view), visible: true });
    const ancestors = view.ancestors || (view.parent ? [view.parent] : []);
    // units above the user's own scope are named but not linked: opening them would only say "not found"
    setBreadcrumbs(ancestors.map((a) => ({ href: a.in_scope === false ? null : unitUrl(a.level, a.code, route.period), label: pick(a) || a.code })), pick(view));
    const rows = indicators.unit?.indicators || [];
    renderTiles(parts.tiles, rows, data.trends?.indicators);
    const children = indicators.children || [];
    parts.childrenSection.hidden = children.length === 0;
    parts.table.update(children, rows);
    parts.map?.update(children, rows);
    parts.charts.achievement.update(achievementChart(view));
    parts.charts.activity.update(activityChart(data.trends, view));
    parts.charts.mix.update(mixChart(view));
    renderAlerts(parts.alerts, data.alerts);
    if (level === 'school') renderActivity(parts.activity, data.activity);
    page.setAttribute('aria-busy', 'false');
  }

  /** Fetch the named parts together; required parts (view, indicators) failing shows the API's message. */
  async function load(names) {
    const results = await Promise.allSettled(names.map((name) => get[name]()));
    if (controller.signal.aborted) return false;
    const messages = [];
    results.forEach((result, i) => {
      const name = names[i];
      if (result.status === 'fulfilled') data[name] = result.value;
      else if (!isAbort(result.reason) && result.reason?.status !== 401) {
        // trends and activity are extras: the page still works without them (older servers have no such routes)
        if (!(name === 'trends' && result.reason?.status === 404)) messages.push(result.reason.message);
      }
    });
    if (messages.length) showError([...new Set(messages)].join(' · '));
    else clearError();
    return Boolean(data.view && data.indicators);
  }

  /** A pulse change: refetch what moved, one refresh at a time (a change during a refresh queues one more). */
  async function refresh({ dataChanged, alertsChanged }) {
    const names = [...(dataChanged ? ['view', 'indicators', 'trends', 'activity'] : []), ...(alertsChanged ? ['alerts'] : [])];
    if (refreshing) { again = { dataChanged: dataChanged || again?.dataChanged, alertsChanged: alertsChanged || again?.alertsChanged }; return; }
    refreshing = load(names);
    if (await refreshing) {
      render(); // the pulse that asked for this already holds the new as_of: comparing against it again cannot loop
      announce(t('announce_updated'));
    }
    refreshing = null;
    if (again) { const next = again; again = null; refresh(next); }
  }

  async function start() {
    loadPeriods().then((periods) => {
      setPeriods(periods.periods, route.period || periods.current, (p) => navigate(unitUrl(level, code, p)));
    }).catch((error) => !isAbort(error) && error.status !== 401 && showError(error.message));
    // the view first: it carries the scope check, so a unit outside the caller's scope costs one 404, not five
    await load(['view']);
    if (data.view) await load(['indicators', 'trends', 'activity', 'alerts']);
    const ok = Boolean(data.view && data.indicators);
    // nothing to show (e.g. a unit outside the caller's scope): the error says why, empty sections would only confuse
    if (!ok) { setUnitBar({ title: code, visible: true }); page.hidden = true; return; }
    render();
    live = liveness({ level, code, params: periodParams(route.period), onChange: refresh }); // as_of of the period shown
    live.rendered({ asOf: data.view.as_of, ageSeconds: data.view.age_seconds });
  }

  const offLang = onLangChange(() => {
    render();
    loadPeriods().then((periods) => setPeriods(periods.periods, route.period || periods.current, (p) => navigate(unitUrl(level, code, p)))).catch(() => {});
  });
  start();

  return {
    dispose() {
      controller.abort();
      offLang();
      live?.dispose();
      Object.values(parts.charts).forEach((c) => c.destroy());
    },
  };
}
