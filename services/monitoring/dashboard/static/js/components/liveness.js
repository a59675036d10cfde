// Liveness: "updated N seconds ago" ticking every second, and a 2-second poll of the cheap /pulse endpoint that tells
// the page when to refetch (as_of or alerts_changed_at moved) and whether the data is live, lagging or unreachable.
// Polling stops while the tab is hidden: phones and background tabs should not keep the servers busy.
import { api } from '../api.js';
import { h } from '../dom.js';
import { formatAge, formatNumber } from '../format.js';
import { onLangChange, t } from '../i18n.js';
import { announce } from './shell.js';

const POLL_MS = 2000;
// the view and the pulse may spell the same instant differently (+00:00 vs Z): compare instants, not strings
const instant = (iso) => (iso ? Date.parse(iso) : null);
const STATE = { ok: 'live', lagging: 'lagging', unreachable: 'unreachable' };

export function liveness({ level, code, params, onChange }) {
  const el = document.querySelector('[data-testid="liveness"]');
  const age = h('span', { class: 'age' });
  const note = h('span', { class: 'state-text' });
  el.replaceChildren(h('span', { class: 'dot', 'aria-hidden': 'true' }), ' ', age, note);
  el.hidden = false;

  // age is counted from the server's own age figure plus local elapsed time, so a wrong phone clock does not matter
  const known = { asOf: undefined, alertsAt: undefined, ageSeconds: null, ageAt: 0, state: 'live', lag: null, failed: false };
  let timer = null;
  let ticker = null;
  let inflight = null;
  let stopped = false;

  function paint() {
    const seconds = known.ageSeconds === null ? null : known.ageSeconds + (performance.now() - known.ageAt) / 1000;
    el.dataset.state = known.state;
    el.dataset.ageSeconds = seconds === null ? '' : String(Math.floor(seconds));
    age.textContent = formatAge(seconds);
    note.textContent = stateText();
  }

  function stateText() {
    if (known.state === 'lagging') return ` · ${known.lag === null ? t('state_lagging_plain') : t('state_lagging', { n: formatNumber(known.lag) })}`;
    if (known.state === 'unreachable') return ` · ${known.failed ? t('state_unreachable') : t('state_feed_down')}`;
    return '';
  }

  function setState(state, failed) {
    const changed = state !== known.state || failed !== known.failed;
    known.state = state;
    known.failed = failed;
    paint();
    if (changed) announce(state === 'live' ? t('announce_live') : stateText().replace(/^ · /, ''));
  }

  /** The page tells us what it just rendered, so the next pulse compares against that. */
  function rendered({ asOf, ageSeconds }) {
    if (asOf !== undefined) known.asOf = instant(asOf);
    if (ageSeconds !== undefined && ageSeconds !== null) { known.ageSeconds = ageSeconds; known.ageAt = performance.now(); }
    paint();
  }

  async function poll() {
    inflight = new AbortController();
    try {
      const pulse = await api(`/pulse/${level}/${encodeURIComponent(code)}`, { params, signal: inflight.signal });
      const asOf = instant(pulse.as_of);
      const alertsAt = instant(pulse.alerts_changed_at);
      const dataChanged = known.asOf !== undefined && asOf !== known.asOf;
      const alertsChanged = known.alertsAt !== undefined && alertsAt !== known.alertsAt;
      known.asOf = asOf;
      known.alertsAt = alertsAt;
      if (pulse.age_seconds !== null && pulse.age_seconds !== undefined) { known.ageSeconds = pulse.age_seconds; known.ageAt = performance.now(); }
      known.lag = pulse.projector?.lag ?? null;
      setState(STATE[pulse.projector?.status] || 'live', false);
      if (dataChanged || alertsChanged) onChange({ dataChanged, alertsChanged });
    } catch (error) {
      if (error.name === 'AbortError' || error.status === 401) return;
      setState('unreachable', true);
    } finally {
      inflight = null;
    }
    schedule();
  }

  function schedule() {
    clearTimeout(timer);
    if (!stopped && !document.hidden) timer = setTimeout(poll, POLL_MS);
  }

  function onVisibility() {
    clearTimeout(timer);
    inflight?.abort();
    if (!document.hidden && !stopped) poll();
  }

  document.addEventListener('visibilitychange', onVisibility);
  const offLang = onLangChange(paint);
  ticker = setInterval(paint, 1000);
  poll();

  return {
    rendered,
    dispose() {
      stopped = true;
      clearTimeout(timer);
      clearInterval(ticker);
      inflight?.abort();
      document.removeEventListener('visibilitychange', onVisibility);
      offLang();
      el.hidden = true;
    },
  };
}
