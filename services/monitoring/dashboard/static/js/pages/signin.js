// Sign-in: paste a JWT, take one from an identity-provider redirect (#access_token=), or (demo mode) click a user.
import { api } from '../api.js';
import { setToken, takeFlash, takeReturn } from '../auth.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { navigate, unitUrl } from '../router.js';
import { clearError, setSignedIn, showError } from '../components/shell.js';

/** The token from an identity provider redirect, removed from the address bar at once so it is not shared. */
function tokenFromHash() {
  const params = new URLSearchParams(window.location.hash.replace(/^#/, ''));
  const token = params.get('access_token');
  if (token) history.replaceState(null, '', window.location.pathname + window.location.search);
  return token;
}

async function signIn(token, signal, busy) {
  clearError();
  busy(true);
  try {
    const me = await api('/me', { token, signal });
    setToken(token);
    setSignedIn(true);
    navigate(takeReturn() || unitUrl(me.home.level, me.home.code), { replace: true });
  } catch (error) {
    if (error.name === 'AbortError') return;
    showError(error.status === 401 ? `${t('signin_bad')} ${error.body?.message || ''}`.trim() : error.message);
  } finally {
    busy(false);
  }
}

async function loadDemoUsers(section, onPick, signal) {
  try {
    const response = await fetch('/dashboard/demo-users', { signal, headers: { Accept: 'application/json' } });
    if (!response.ok) return; // the list stays hidden; outside demo runs it is empty anyway
    const { users } = await response.json();
    const list = section.querySelector('ul');
    for (const user of users) {
      const button = h('button', { type: 'button', class: 'btn demo-user', 'data-demo-user': user.user, onclick: () => onPick(user.token) },
        h('span', { class: 'demo-name' }, user.name),
        h('span', { class: 'demo-meta' }, `${user.user} · ${user.role} · ${user.scope}`));
      list.append(h('li', null, button));
    }
    section.hidden = users.length === 0;
  } catch (error) {
    if (error.name !== 'AbortError') section.hidden = true;
  }
}

export function mountSignin({ root }) {
  const controller = new AbortController();
  const flash = takeFlash();
  if (flash) showError(flash);

  const textarea = h('textarea', { id: 'token', rows: 5, spellcheck: 'false', autocomplete: 'off', autocapitalize: 'off', required: true });
  const submit = h('button', { type: 'submit', id: 'signin-submit', class: 'btn btn-primary', 'data-i18n': 'signin_submit' }, t('signin_submit'));
  const status = h('p', { class: 'muted', role: 'status' });
  const busy = (on) => {
    submit.disabled = on;
    status.textContent = on ? t('signin_checking') : '';
  };
  const tryToken = (token) => signIn(token.trim(), controller.signal, busy);

  const form = h('form', { class: 'card signin-form', novalidate: true, onsubmit: (event) => {
    event.preventDefault();
    if (!textarea.value.trim()) { showError(t('signin_empty')); textarea.focus(); return; }
    tryToken(textarea.value);
  } },
  h('h1', { 'data-i18n': 'signin_title' }, t('signin_title')),
  h('p', { 'data-i18n': 'signin_intro' }, t('signin_intro')),
  h('label', { for: 'token', 'data-i18n': 'token_label' }, t('token_label')),
  textarea, h('div', { class: 'form-actions' }, submit), status);

  const demo = h('section', { class: 'card demo-users', 'aria-labelledby': 'demo-title', hidden: true },
    h('h2', { id: 'demo-title', 'data-i18n': 'demo_title' }, t('demo_title')),
    h('p', { 'data-i18n': 'demo_intro' }, t('demo_intro')),
    h('ul', { class: 'demo-list' }));

  const publicLink = h('p', { class: 'public-link' }, h('a', { href: '/dashboard/public', 'data-i18n': 'public_link' }, t('public_link')));
  root.append(h('div', { class: 'signin-page' }, form, demo, publicLink));

  loadDemoUsers(demo, tryToken, controller.signal);
  const redirected = tokenFromHash();
  if (redirected) tryToken(redirected);
  return { dispose: () => controller.abort() };
}
