// History routing: every page has a real, shareable /dashboard/... address; the server answers each with index.html.
const LEVELS = ['national', 'province', 'esa', 'cluster', 'school'];
const PUBLIC_LEVELS = ['province', 'esa'];
let handler = () => {};

export const CHILD_LEVEL = { national: 'province', province: 'esa', esa: 'cluster', cluster: 'school' };

/** What the address asks for: {name: 'signin'|'home'|'unit'|'public'|'notfound', level?, code?, year?, semester?}. */
export function parse(loc = window.location) {
  const parts = loc.pathname.replace(/^\/dashboard\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const search = new URLSearchParams(loc.search);
  const year = Number(search.get('year')) || null;
  const semester = Number(search.get('semester')) || null;
  const period = year && semester ? { academic_year: year, semester } : null;
  if (parts.length === 0) return { name: 'home' };
  if (parts[0] === 'signin' && parts.length === 1) return { name: 'signin' };
  if (parts[0] === 'public') {
    if (parts.length === 1) return { name: 'public', level: 'national', code: 'TH', period };
    if (parts.length === 3 && PUBLIC_LEVELS.includes(parts[1])) return { name: 'public', level: parts[1], code: parts[2], period };
  }
  if (parts.length === 2 && LEVELS.includes(parts[0])) return { name: 'unit', level: parts[0], code: parts[1], period };
  return { name: 'notfound' };
}

const withPeriod = (path, period) =>
  (period ? `${path}?year=${period.academic_year}&semester=${period.semester}` : path);

export const unitUrl = (level, code, period) => withPeriod(`/dashboard/${level}/${encodeURIComponent(code)}`, period);
export function publicUrl(level, code, period) {
  const path = level === 'national' ? '/dashboard/public' : `/dashboard/public/${level}/${encodeURIComponent(code)}`;
  return withPeriod(path, period);
}

export function navigate(url, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  handler(parse());
}

/** Follow in-app links without a reload (plain left clicks only: new-tab clicks keep their browser meaning). */
function onClick(event) {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = event.target.closest('a[href]');
  if (!link || link.target || link.hasAttribute('download')) return;
  const url = new URL(link.href, window.location.href);
  // same page, other fragment (the skip link): the browser's own jump is right
  if (url.pathname === window.location.pathname && url.search === window.location.search && url.hash) return;
  if (url.origin !== window.location.origin || !url.pathname.startsWith('/dashboard/')) return;
  if (url.pathname.startsWith('/dashboard/static/') || url.pathname.startsWith('/dashboard/vendor/')) return;
  event.preventDefault();
  navigate(url.pathname + url.search + url.hash);
}

export function start(onRoute) {
  handler = onRoute;
  document.addEventListener('click', onClick);
  window.addEventListener('popstate', () => handler(parse(), { fresh: false }));
  handler(parse());
}
