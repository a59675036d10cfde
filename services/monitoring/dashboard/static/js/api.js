// JSON API client. Every call but the public ones sends the bearer token; errors come back in the one API error shape
// {code, status, message, errors?} and are thrown as ApiError so pages can show `message` in the alert region.
import { getToken } from './auth.js';
import { t } from './i18n.js';

const BASE = '/api/v1';
let unauthorized = () => {};

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || t('error_generic', { status }));
    this.status = status;
    this.body = body;
  }
}

/** Called once by the app: what to do on any 401 (back to sign-in with a message). */
export const onUnauthorized = (fn) => { unauthorized = fn; };

function query(params) {
  const entries = Object.entries(params || {}).filter(([, v]) => v !== undefined && v !== null && v !== '');
  return entries.length ? `?${new URLSearchParams(entries)}` : '';
}

async function readBody(response) {
  try { return await response.json(); } catch { return null; }
}

/**
 * GET a JSON resource. `auth: false` for the public endpoints; `signal` lets a page abort what it no longer needs.
 * `token` checks a candidate token at sign-in. A network failure throws ApiError with status 0.
 */
export async function api(path, { params, signal, auth = true, token } = {}) {
  const headers = { Accept: 'application/json' };
  if (auth) headers.Authorization = `Bearer ${token || getToken() || ''}`;
  let response;
  try {
    response = await fetch(`${BASE}${path}${query(params)}`, { headers, signal, cache: 'no-store' });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, { message: t('error_network') });
  }
  const body = await readBody(response);
  // a token being tried at sign-in (`token`) fails there, it does not end a session
  if (response.status === 401 && auth && !token) {
    unauthorized(body?.message);
    throw new ApiError(401, body);
  }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

/** Only the period figures the API takes; `year` in the page URL is `academic_year` in the API. */
export const periodParams = (period) => (period ? { academic_year: period.academic_year, semester: period.semester } : {});

let periodsCache = {};
/** The semesters list changes at most twice a year: fetch it once per page load. */
export function loadPeriods({ auth = true } = {}) {
  const key = auth ? 'private' : 'public';
  if (!periodsCache[key]) {
    periodsCache[key] = api(auth ? '/periods' : '/public/periods', { auth }).catch((error) => {
      delete periodsCache[key];
      throw error;
    });
  }
  return periodsCache[key];
}
export const forgetPeriods = () => { periodsCache = {}; };
