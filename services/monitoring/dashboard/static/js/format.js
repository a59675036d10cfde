// Numbers and dates in the current language: Thai numbers with th-TH, Thai dates in the Buddhist Era.
import { dateLocale, locale, t } from './i18n.js';

const number = (value, digits, extra = {}) =>
  new Intl.NumberFormat(locale(), { maximumFractionDigits: digits, minimumFractionDigits: 0, ...extra }).format(value);

export const formatNumber = (value, digits = 0) => (value === null || value === undefined ? '—' : number(value, digits));

/** An indicator value in its unit (share → percent, hours, points with a sign); '—' when there is no value. */
export function formatValue(value, unit) {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  switch (unit) {
    case 'share': return number(value, 1, { style: 'percent' });
    case 'hours': return `${number(value, 1)} ${t('hours_unit')}`;
    case 'points': return number(value, 2, { signDisplay: 'exceptZero' });
    case 'score': return number(value, 2);
    case 'count': return number(value, 1);
    default: return number(value, 2);
  }
}

const toDate = (iso) => (iso instanceof Date ? iso : new Date(iso.length === 10 ? `${iso}T00:00:00` : iso));

export function formatDate(iso) {
  if (!iso) return '—';
  return new Intl.DateTimeFormat(dateLocale(), { day: 'numeric', month: 'short', year: 'numeric' }).format(toDate(iso));
}

export function formatDateTime(iso) {
  if (!iso) return '—';
  return new Intl.DateTimeFormat(dateLocale(), {
    day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit',
  }).format(toDate(iso));
}

/** "Updated N seconds ago", switching to minutes/hours/days when seconds stop being readable. */
export function formatAge(seconds) {
  if (seconds === null || seconds === undefined) return t('live_never');
  const s = Math.max(0, Math.floor(seconds));
  if (s < 120) return t('live_seconds', { n: number(s, 0) });
  if (s < 7200) return t('live_minutes', { n: number(Math.floor(s / 60), 0) });
  if (s < 172800) return t('live_hours', { n: number(Math.floor(s / 3600), 0) });
  return t('live_days', { n: number(Math.floor(s / 86400), 0) });
}

/** Short axis label for a period: "2/2569" in Thai, "S2 2026" in English (full labels go in tooltips and tables). */
export const shortPeriod = (p, lang) => (lang === 'th' ? `${p.semester}/${p.academic_year}` : `S${p.semester} ${p.academic_year - 543}`);
