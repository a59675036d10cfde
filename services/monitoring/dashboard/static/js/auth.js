// The signed-in token lives in sessionStorage only (gone when the tab closes), never in localStorage or cookies.
const TOKEN = 'anp.token';
const RETURN = 'anp.return';
const FLASH = 'anp.flash';

export const getToken = () => sessionStorage.getItem(TOKEN);
export const setToken = (token) => sessionStorage.setItem(TOKEN, token);
export const clearToken = () => sessionStorage.removeItem(TOKEN);

/** Remember where the user was going, so sign-in can bring them back to a shared link. */
export const rememberReturn = (url) => sessionStorage.setItem(RETURN, url);
export function takeReturn() {
  const url = sessionStorage.getItem(RETURN);
  sessionStorage.removeItem(RETURN);
  // only ever return inside the app: a stored value must not send the user to another site
  return url && url.startsWith('/dashboard/') && !url.startsWith('/dashboard/signin') ? url : null;
}

/** A one-shot message for the sign-in page (e.g. why the user was sent there). */
export const setFlash = (message) => sessionStorage.setItem(FLASH, message);
export function takeFlash() {
  const message = sessionStorage.getItem(FLASH);
  sessionStorage.removeItem(FLASH);
  return message;
}
