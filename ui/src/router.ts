// Hash routing (`/ui/#/servers`): the server serves one page, so any route survives a reload
// and the back button works without server-side fallbacks.
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  /** The page, e.g. `servers`; `dashboard` when the hash is empty. */
  page: string;
  /** Path segments after the page, e.g. `['abc123']` for `#/servers/abc123`. */
  rest: string[];
  /** Query parameters after `?` in the hash. */
  query: URLSearchParams;
}

function parse(hash: string): Route {
  const [path, q = ''] = hash.replace(/^#\/?/, '').split('?', 2);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { page: parts[0] ?? 'dashboard', rest: parts.slice(1), query: new URLSearchParams(q) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(location.hash));
  useEffect(() => {
    const on = () => setRoute(parse(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

/** The href of a page, for `<a href>`. */
export function href(page: string, ...rest: string[]): string {
  return `#/${[page, ...rest].map(encodeURIComponent).join('/')}`;
}

export function navigate(page: string, ...rest: string[]) {
  location.hash = href(page, ...rest);
}
