// A small inline SVG trend line over the last semesters; gaps (null) break the line instead of faking a zero.
import { s } from '../dom.js';
import { t } from '../i18n.js';

const W = 120;
const H = 32;
const PAD = 3;

function points(values) {
  const known = values.filter((v) => v !== null && v !== undefined);
  const min = Math.min(...known);
  const max = Math.max(...known);
  const span = max - min || 1;
  const step = values.length > 1 ? (W - 2 * PAD) / (values.length - 1) : 0;
  return values.map((v, i) => (v === null || v === undefined ? null
    : [PAD + i * step, max === min ? H / 2 : H - PAD - ((v - min) / span) * (H - 2 * PAD)]));
}

/** Consecutive known points as polyline segments. */
function segments(pts) {
  const out = [];
  let run = [];
  for (const p of pts) {
    if (p) run.push(p);
    else if (run.length) { out.push(run); run = []; }
  }
  if (run.length) out.push(run);
  return out;
}

/** `values` oldest first; `labels` the formatted values for the accessible name. */
export function sparkline(values = [], labels = []) {
  const known = values.filter((v) => v !== null && v !== undefined);
  const name = known.length ? t('trend_label', { n: values.length, values: labels.join(', ') }) : t('trend_none');
  const svg = s('svg', { class: 'sparkline', viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': name, focusable: 'false' },
    s('title', null, name));
  if (!known.length) {
    svg.append(s('line', { x1: PAD, y1: H / 2, x2: W - PAD, y2: H / 2, class: 'sparkline-empty' }));
    return svg;
  }
  const pts = points(values);
  for (const run of segments(pts)) {
    if (run.length === 1) svg.append(s('circle', { cx: run[0][0], cy: run[0][1], r: 1.8, class: 'sparkline-dot' }));
    else svg.append(s('polyline', { points: run.map((p) => p.join(',')).join(' '), class: 'sparkline-line' }));
  }
  const last = [...pts].reverse().find(Boolean);
  svg.append(s('circle', { cx: last[0], cy: last[1], r: 2.8, class: 'sparkline-last' }));
  return svg;
}
