// The shell: sign-in, navigation (a sidebar, a menu on narrow screens) and the page of the
// current route. What a virtual key may not manage is not offered to it.
import { useEffect, useState } from 'preact/hooks';
import { href, useRoute } from './router';
import { resume, signOut, useSession } from './session';
import { SignIn } from './pages/sign_in';
import { Dashboard } from './pages/dashboard';
import { Servers } from './pages/servers';
import { Tools } from './pages/tools';
import { Keys } from './pages/keys';
import { Teams } from './pages/teams';
import { Playground } from './pages/playground';
import { Logs } from './pages/logs';
import type { Route } from './router';
import type { FunctionComponent } from 'preact';

interface PageDef {
  id: string;
  label: string;
  component: FunctionComponent<{ route: Route }>;
  adminOnly: boolean;
}

const PAGES: PageDef[] = [
  { id: 'dashboard', label: 'Dashboard', component: Dashboard, adminOnly: false },
  { id: 'servers', label: 'MCP servers', component: Servers, adminOnly: true },
  { id: 'tools', label: 'MCP tools', component: Tools, adminOnly: false },
  { id: 'keys', label: 'Keys', component: Keys, adminOnly: true },
  { id: 'teams', label: 'Teams', component: Teams, adminOnly: true },
  { id: 'playground', label: 'Playground', component: Playground, adminOnly: false },
  { id: 'logs', label: 'Logs', component: Logs, adminOnly: false },
];

export function App() {
  const { key, session } = useSession();
  const route = useRoute();
  const [menuOpen, setMenuOpen] = useState(false);
  const [resuming, setResuming] = useState(Boolean(key && !session));

  useEffect(() => {
    if (key && !session) resume().finally(() => setResuming(false));
  }, []);
  useEffect(() => setMenuOpen(false), [route.page]);

  if (resuming) return <p class="muted center">Signing in…</p>;
  if (!session) return <SignIn />;

  const admin = session.role === 'admin';
  const pages = PAGES.filter((p) => admin || !p.adminOnly);
  const current = pages.find((p) => p.id === route.page);
  const who = admin ? 'Master key' : (session.key_alias ?? session.key_name ?? 'Virtual key');

  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <button
          type="button"
          class="icon menu-toggle"
          aria-label="Menu"
          aria-expanded={menuOpen}
          aria-controls="nav"
          onClick={() => setMenuOpen(!menuOpen)}
        >
          ☰
        </button>
        <a class="brand" href={href('dashboard')}>
          Junction
        </a>
        <span class="who" title="Signed in with">
          {who}
        </span>
        <button type="button" class="small" onClick={signOut}>
          Sign out
        </button>
      </header>
      <nav id="nav" class={menuOpen ? 'open' : ''} aria-label="Pages">
        <ul>
          {pages.map((p) => (
            <li key={p.id}>
              <a href={href(p.id)} aria-current={p.id === current?.id ? 'page' : undefined}>
                {p.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {current ? (
          <current.component route={route} />
        ) : (
          <section class="page">
            <h1>Page not found</h1>
            <p>
              There is no page “{route.page}” for this key. <a href={href('dashboard')}>Go to the dashboard</a>.
            </p>
          </section>
        )}
      </main>
    </div>
  );
}
