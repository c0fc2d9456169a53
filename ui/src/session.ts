// Who is signed in. The key lives in sessionStorage: it is gone when the tab closes and is
// only ever sent to this gateway's own API.
import { useEffect, useState } from 'preact/hooks';

const STORAGE = 'junction.key';

/** What `GET /ui/api/session` says of the signed-in key. */
export interface Session {
  /** `admin` for the master key, `key` for a virtual key. */
  role: 'admin' | 'key';
  key_alias?: string | null;
  key_name?: string | null;
  token?: string | null;
  team_id?: string | null;
  user_id?: string | null;
  models?: string[];
}

interface State {
  key: string | null;
  session: Session | null;
  /** Why the last session ended on its own (a 401), shown on the sign-in page. */
  expired: string | null;
}

let state: State = { key: sessionStorage.getItem(STORAGE), session: null, expired: null };
const listeners = new Set<() => void>();

function set(next: Partial<State>) {
  state = { ...state, ...next };
  listeners.forEach((l) => l());
}

export function currentKey(): string | null {
  return state.key;
}

/** Checks `key` with the gateway; on success it becomes the session's key. */
export async function signIn(key: string): Promise<Session> {
  const res = await fetch('/ui/api/session', { headers: { Authorization: `Bearer ${key}` } });
  const text = await res.text();
  if (!res.ok) {
    let message = `HTTP ${res.status}`;
    try {
      message = JSON.parse(text)?.error?.message ?? message;
    } catch {
      /* keep the status */
    }
    throw new Error(res.status === 401 ? `This key was not accepted: ${message}` : message);
  }
  const session = JSON.parse(text) as Session;
  sessionStorage.setItem(STORAGE, key);
  set({ key, session, expired: null });
  return session;
}

export function signOut() {
  sessionStorage.removeItem(STORAGE);
  set({ key: null, session: null, expired: null });
}

/** Called by the API client on a 401: the key was revoked or expired while in use. */
export function signOutExpired(message: string) {
  if (!state.key) return;
  sessionStorage.removeItem(STORAGE);
  set({ key: null, session: null, expired: message });
}

/** Restores a session from a key kept in this tab, if it still works. */
export async function resume(): Promise<void> {
  if (!state.key || state.session) return;
  try {
    await signIn(state.key);
  } catch (e) {
    sessionStorage.removeItem(STORAGE);
    set({ key: null, session: null, expired: e instanceof Error ? e.message : String(e) });
  }
}

/** The session state, re-rendering the component when it changes. */
export function useSession(): State {
  const [, force] = useState(0);
  useEffect(() => {
    const l = () => force((n) => n + 1);
    listeners.add(l);
    return () => {
      listeners.delete(l);
    };
  }, []);
  return state;
}

export function isAdmin(): boolean {
  return state.session?.role === 'admin';
}
