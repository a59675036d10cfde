// Entry point: wires the header (language, sign-out), the 401 rule and the router to the pages.
import { api, onUnauthorized } from './api.js';
import { clearToken, getToken, rememberReturn, setFlash } from './auth.js';
import { getLang, setLang, t, translateDom } from './i18n.js';
import { navigate, start } from './router.js';
import { resetShell, setSignedIn, showError } from './components/shell.js';
import { mountSignin } from './pages/signin.js';
import { mountUnit } from './pages/unit.js';
import { mountPublic } from './pages/public.js';

const pageRoot = document.getElementById('page');
let current = null;
let started = false; // the first route is a real page load: focus stays at the top, so Tab reaches the skip link

function paintLangToggle() {
  const button = document.getElementById('lang-toggle');
  button.textContent = t('lang_button');
  // the button speaks the language it switches to
  button.lang = getLang() === 'th' ? 'en' : 'th';
  button.setAttribute('aria-label', t('lang_aria'));
}

const here = () => window.location.pathname + window.location.search;

/** Any 401: drop the token, remember the page, and go to sign-in with a message. */
function expireSession(message) {
  clearToken();
  if (!window.location.pathname.startsWith('/dashboard/signin')) rememberReturn(here());
  setFlash(message ? `${t('session_expired')} (${message})` : t('session_expired'));
  navigate('/dashboard/signin', { replace: true });
}

async function goHome(signal) {
  const me = await api('/me', { signal });
  navigate(`/dashboard/${me.home.level}/${encodeURIComponent(me.home.code)}`, { replace: true });
}

function route(r, { fresh = true } = {}) {
  if (fresh) window.scrollTo(0, 0); // a new page starts at its top (back/forward keeps the browser's restore)
  current?.dispose();
  current = null;
  pageRoot.replaceChildren();
  resetShell();
  setSignedIn(Boolean(getToken()));
  const needsToken = r.name === 'home' || r.name === 'unit';
  if (needsToken && !getToken()) {
    rememberReturn(here());
    navigate('/dashboard/signin', { replace: true });
    return;
  }
  const ctx = { route: r, root: pageRoot };
  // after an in-app move, start keyboard and screen-reader users at the new content, not on a removed element
  if (started) document.getElementById('main').focus({ preventScroll: true });
  started = true;
  if (r.name === 'signin') current = mountSignin(ctx);
  else if (r.name === 'unit') current = mountUnit(ctx);
  else if (r.name === 'public') current = mountPublic(ctx);
  else if (r.name === 'home') {
    const controller = new AbortController();
    current = { dispose: () => controller.abort() };
    goHome(controller.signal).catch((error) => error.name !== 'AbortError' && error.status !== 401 && showError(error.message));
  } else {
    showError(t('not_found_page'));
  }
}

function init() {
  document.documentElement.lang = getLang();
  translateDom();
  paintLangToggle();
  document.getElementById('lang-toggle').addEventListener('click', () => {
    setLang(getLang() === 'th' ? 'en' : 'th');
    paintLangToggle();
  });
  document.getElementById('signout').addEventListener('click', () => {
    clearToken();
    navigate('/dashboard/signin');
  });
  onUnauthorized(expireSession);
  start(route);
}

init();
