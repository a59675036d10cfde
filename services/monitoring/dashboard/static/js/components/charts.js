// Chart.js charts (global `Chart` from /dashboard/vendor/chart.umd.min.js). Each canvas has an aria-label and a
// visually hidden table with the same figures, because a canvas is a picture to a screen reader.
import { h, replace } from '../dom.js';
import { getLang, locale, pick, t } from '../i18n.js';
import { formatNumber, shortPeriod } from '../format.js';

// ≥ 3:1 against white (WCAG 1.4.11 non-text contrast), and told apart by more than hue in the tables
export const MODEL_COLOURS = { supervision: '#1d4ed8', training: '#b45309', committee: '#047857' };
const MEAN_COLOURS = { unit: '#1d4ed8', province: '#b45309', national: '#4b5563' };
const MODELS = ['supervision', 'training', 'committee'];
const GRADE = { th: { P: 'ป.', M: 'ม.' }, en: { P: 'P.', M: 'M.' } };

function setDefaults() {
  const { Chart } = window;
  Chart.defaults.font.family = 'Sarabun, system-ui, sans-serif';
  Chart.defaults.font.size = 13;
  Chart.defaults.color = '#1f2937';
  Chart.defaults.animation = false; // live refreshes should not replay animations every few seconds
}

/** A titled figure: canvas + hidden table + optional note; `update(config, table)` redraws in place. */
export function chartSlot(testid) {
  const drawable = Boolean(window.Chart); // without the library (not installed) the table is shown instead
  if (drawable) setDefaults();
  const title = h('h3', { class: 'chart-title' });
  const canvas = h('canvas', { 'data-testid': testid, role: 'img' });
  const table = h('table');
  const note = h('p', { class: 'muted chart-note' });
  // the wrapper, not the table, is visually hidden: a table ignores a 1px width and would widen the page
  const el = h('figure', { class: 'chart card' }, title, h('div', { class: 'chart-box', hidden: !drawable }, canvas), note,
    h('div', { class: drawable ? 'sr-only' : 'table-scroll' }, table));
  let chart = null;
  // redraw in place when the type is unchanged, so a live refresh does not rebuild the chart
  const draw = (config) => {
    if (chart && chart.config.type === config.type) {
      chart.data = config.data;
      chart.options = config.options;
      chart.update('none');
    } else {
      chart?.destroy();
      chart = new window.Chart(canvas, config);
    }
  };
  return {
    el,
    update({ label, config, rows, headers, empty }) {
      title.textContent = label;
      canvas.setAttribute('aria-label', label);
      note.textContent = empty || '';
      config.options = { ...config.options, locale: locale(), responsive: true, maintainAspectRatio: false };
      if (drawable) draw(config);
      replace(table, h('caption', null, label),
        h('thead', null, h('tr', null, headers.map((text) => h('th', { scope: 'col' }, text)))),
        h('tbody', null, rows.map((cells) => h('tr', null, cells.map((text, i) => (i === 0 ? h('th', { scope: 'row' }, text) : h('td', null, text)))))));
    },
    destroy() { chart?.destroy(); chart = null; },
  };
}

/** Long subject names would squeeze the bars to nothing on a phone; the tooltip and the table keep the full name. */
const shorten = (text, max = window.innerWidth < 600 ? 16 : 40) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

const gradeLabel = (grade) => `${GRADE[getLang()][grade[0]] || grade[0]}${grade.slice(1)}`;

/** O-NET by subject for the latest year: this unit against the province and national means. */
export function achievementChart(view) {
  const level = view.level;
  const results = (view.achievement?.results || []).filter((r) => r.test === 'onet');
  const suppressed = t('suppressed');
  const names = results.map((r) => `${gradeLabel(r.grade)} ${pick(r, 'subject_name')}`);
  // the chart marks a hidden (small-group) mean on its axis label, as there is no bar to carry it
  const labels = names.map((name, i) => (results[i].suppressed ? `${name} (${t('suppressed_short')})` : name));
  const series = [
    { key: 'unit', label: t('this_unit'), values: results.map((r) => (r.suppressed ? null : r.mean)) },
    level !== 'national' && level !== 'province' && { key: 'province', label: t('province_mean'), values: results.map((r) => r.province_mean ?? null) },
    level !== 'national' && { key: 'national', label: t('national_mean'), values: results.map((r) => r.national_mean ?? null) },
  ].filter(Boolean);
  const label = t('chart_achievement', { year: view.achievement?.academic_year ?? '' }); // a year, not a quantity: no grouping
  const cell = (r, value) => (r.suppressed && value === null ? suppressed : formatNumber(value, 2));
  return {
    label,
    empty: results.length ? '' : t('chart_achievement_none'),
    config: {
      type: 'bar',
      data: { labels, datasets: series.map((sr) => ({ label: sr.label, data: sr.values, backgroundColor: MEAN_COLOURS[sr.key] })) },
      options: {
        indexAxis: 'y',
        scales: { x: { beginAtZero: true, suggestedMax: 100 }, y: { ticks: { autoSkip: false, callback: (_, i) => shorten(labels[i]) } } },
        plugins: { legend: { position: 'bottom' }, tooltip: { callbacks: { title: (items) => labels[items[0].dataIndex] } } },
      },
    },
    headers: [t('subject'), ...series.map((sr) => sr.label)],
    rows: results.map((r, i) => [names[i], ...series.map((sr) => cell(r, sr.values[i]))]),
  };
}

/** Activity per semester per model, from /trends (oldest first); falls back to this semester from the view. */
export function activityChart(trends, view) {
  const lang = getLang();
  const periods = trends?.periods?.length ? trends.periods : [view.period];
  const activity = trends?.activity || {
    supervision: [view.supervision?.visits_done ?? null],
    training: [view.training?.sessions_held ?? null],
    committee: [view.committee?.meetings_held ?? null],
  };
  const label = t('chart_activity');
  return {
    label,
    config: {
      type: 'bar',
      data: {
        labels: periods.map((p) => shortPeriod(p, lang)),
        datasets: MODELS.map((m) => ({ label: t(`model_${m}`), data: activity[m] || [], backgroundColor: MODEL_COLOURS[m] })),
      },
      options: {
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { position: 'bottom' }, tooltip: { callbacks: { title: (items) => pick(periods[items[0].dataIndex], 'label') } } },
      },
    },
    headers: [t('semester'), ...MODELS.map((m) => t(`model_${m}`))],
    rows: periods.map((p, i) => [pick(p, 'label'), ...MODELS.map((m) => formatNumber(activity[m]?.[i] ?? null))]),
  };
}

/** This semester's mix: visits done, training sessions held, committee meetings held. */
export function mixChart(view) {
  const values = [view.supervision?.visits_done ?? 0, view.training?.sessions_held ?? 0, view.committee?.meetings_held ?? 0];
  const label = `${t('chart_mix')} (${pick(view.period, 'label')})`;
  return {
    label,
    empty: values.some((v) => v > 0) ? '' : t('activity_none'),
    config: {
      type: 'doughnut',
      data: {
        labels: MODELS.map((m) => t(`model_${m}`)),
        datasets: [{ data: values, backgroundColor: MODELS.map((m) => MODEL_COLOURS[m]), borderColor: '#ffffff', borderWidth: 2 }],
      },
      options: { plugins: { legend: { position: 'bottom' } } },
    },
    headers: [t('model'), t('count')],
    rows: MODELS.map((m, i) => [t(`model_${m}`), formatNumber(values[i])]),
  };
}
