/* global sessionStorage */
/**
 * The signed-in tenant and token, kept in this tab's sessionStorage only: closing the tab
 * forgets them, and no other tab or later visit sees them.
 */

const key = 'verdict-console-session';

/** The stored session, or undefined when signed out. */
export function loadSession() {
  try {
    const parsed = JSON.parse(sessionStorage.getItem(key) ?? 'null');
    if (parsed && typeof parsed.tenant === 'string' && typeof parsed.token === 'string') {
      return { tenant: parsed.tenant, token: parsed.token };
    }
  } catch {
    // An unreadable entry counts as signed out.
  }
  return undefined;
}

export function saveSession(session) {
  sessionStorage.setItem(key, JSON.stringify({ tenant: session.tenant, token: session.token }));
}

export function clearSession() {
  sessionStorage.removeItem(key);
}
