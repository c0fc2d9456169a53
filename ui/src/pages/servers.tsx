// The MCP servers page: every server the key may use with its health and tools, adding,
// editing and deleting the servers stored in the database (config.yaml ones are read-only),
// and the access groups that grant servers to keys and teams together.
import { useEffect, useState } from 'preact/hooks';
import type { Route } from '../router';
import { href } from '../router';
import { api } from '../api';
import { isAdmin } from '../session';
import {
  ActionButton,
  Badge,
  Empty,
  ErrorNote,
  Loading,
  Modal,
  Notice,
  Page,
  Table,
  formatTime,
  messageOf,
  useAsync,
} from '../components/ui';
import { ServerForm } from './servers_form';
import type { McpServer } from './servers_form';

/** An entry of `GET /v1/mcp/server/health` (`junction_hub::ServerHealth`). */
interface Health {
  server_id: string;
  server_name: string | null;
  status: string;
  tools_count: number;
  /** Unix seconds. */
  last_health_check: number | null;
  error: string | null;
}

interface Loaded {
  servers: McpServer[];
  groups: string[];
}

/** How often the list is read again while a server is still connecting. */
const POLL_MS = 1500;

async function load(): Promise<Loaded> {
  const [servers, health, groups] = await Promise.all([
    api<McpServer[]>('GET', '/v1/mcp/server'),
    // Health and groups only add to the list; the list still shows without them.
    api<Health[]>('GET', '/v1/mcp/server/health').catch(() => [] as Health[]),
    api<{ access_groups: string[] }>('GET', '/v1/mcp/access_groups').catch(() => ({ access_groups: [] as string[] })),
  ]);
  // The health endpoint is the fresher reading when both answered.
  const merged = servers.map((s) => {
    const h = health.find((x) => x.server_name === s.server_name);
    if (!h) return s;
    return {
      ...s,
      status: h.status,
      tools_count: h.tools_count,
      health_check_error: h.error,
      last_health_check: h.last_health_check ? new Date(h.last_health_check * 1000).toISOString() : s.last_health_check,
    };
  });
  const all = new Set(groups.access_groups);
  for (const s of servers) for (const g of s.mcp_access_groups ?? []) all.add(g);
  return { servers: merged, groups: [...all].sort() };
}

function HealthBadge(props: { server: McpServer }) {
  const { status, health_check_error: error, last_health_check: checked } = props.server;
  const kind = status === 'healthy' ? 'ok' : status === 'unhealthy' ? 'bad' : status === 'connecting' ? 'warn' : 'neutral';
  const title = [error, checked ? `Last checked ${formatTime(checked)}` : ''].filter(Boolean).join(' · ') || undefined;
  return (
    <>
      <Badge kind={kind} title={title}>
        {status ?? 'unknown'}
      </Badge>
      {error && (
        <div class="field-error" style={{ maxWidth: '22rem', overflowWrap: 'anywhere' }}>
          {error}
        </div>
      )}
    </>
  );
}

/** The URL, or the command line, of a server; hidden from keys other than the master key. */
function Target(props: { server: McpServer }) {
  const s = props.server;
  if (s.transport === 'stdio') {
    if (!s.command) return <span class="muted">—</span>;
    return <code style={{ overflowWrap: 'anywhere' }}>{[s.command, ...(s.args ?? [])].join(' ')}</code>;
  }
  return (
    <>
      {s.url ? <code style={{ overflowWrap: 'anywhere' }}>{s.url}</code> : <span class="muted">—</span>}
      {s.spec_path && (
        <div class="muted" style={{ fontSize: '0.85rem', overflowWrap: 'anywhere' }}>
          OpenAPI: {s.spec_path}
        </div>
      )}
    </>
  );
}

const TRANSPORT_LABEL: Record<string, string> = { http: 'Streamable HTTP', sse: 'SSE', stdio: 'stdio' };

/** A DOM id for a server's name cell, which its row's buttons point at for context. */
const nameId = (s: McpServer) => `mcp-server-${s.server_name}`;

export function Servers(_props: { route: Route }) {
  const admin = isAdmin();
  const { data, error, loading, reload } = useAsync(load, []);
  const [editing, setEditing] = useState<McpServer | 'new' | null>(null);
  const [notice, setNotice] = useState<string>();
  const [actionError, setActionError] = useState<unknown>();

  const servers = data?.servers ?? [];
  const pending = servers.filter((s) => s.status === 'connecting');
  // A server just added (or reconnecting after an edit) turns healthy or unhealthy on its own.
  useEffect(() => {
    if (!pending.length) return;
    const timer = setTimeout(reload, POLL_MS);
    return () => clearTimeout(timer);
  }, [data]);

  const done = (message: string) => {
    setEditing(null);
    setActionError(undefined);
    setNotice(message);
    reload();
  };

  const remove = async (s: McpServer) => {
    setNotice(undefined);
    setActionError(undefined);
    if (!window.confirm(`Delete the MCP server “${s.server_name}”? Keys, teams and clients that use it lose its tools.`)) return;
    try {
      await api('DELETE', `/v1/mcp/server/${encodeURIComponent(s.server_id ?? s.server_name)}`);
      setNotice(`Deleted the MCP server “${s.server_name}”.`);
      reload();
    } catch (e) {
      setActionError(new Error(`Could not delete “${s.server_name}”: ${messageOf(e)}`));
    }
  };

  const edit = (s: McpServer) => {
    setNotice(undefined);
    setEditing(s);
  };
  const narrow = useNarrow();

  const hasConfig = servers.some((s) => s.source === 'config');
  const groups = data?.groups ?? [];

  return (
    <Page
      title="MCP servers"
      actions={
        <>
          {/* Same name and never disabled while polling, so it stays put for keyboards and tests. */}
          <button type="button" onClick={reload} aria-busy={loading}>
            Refresh
          </button>
          {admin && (
            <button
              type="button"
              class="primary"
              onClick={() => {
                setNotice(undefined);
                setEditing('new');
              }}
            >
              Add MCP server
            </button>
          )}
        </>
      }
    >
      {notice && <Notice kind="success">{notice}</Notice>}
      <ErrorNote error={actionError} />
      {!admin && (
        <Notice>Only the master key can add or change MCP servers; connection details are hidden from this key.</Notice>
      )}
      {error && <ErrorNote error={error} onRetry={reload} />}
      {!data && !error && <Loading what="MCP servers" />}
      {data &&
        (servers.length === 0 ? (
          <Empty>
            {admin
              ? 'No MCP servers yet. Add one with “Add MCP server”, or list them under mcp_servers in config.yaml.'
              : 'This key may not use any MCP server.'}
          </Empty>
        ) : (
          <>
            {hasConfig && admin && (
              <p class="muted">
                Servers defined in config.yaml are read-only here: change them in the file and restart the gateway.
                Servers added on this page are stored in the database and can be edited or deleted.
              </p>
            )}
            {pending.length > 0 && (
              <p class="muted" role="status">
                Waiting for {pending.map((s) => s.server_name).join(', ')} to connect…
              </p>
            )}
            {narrow ? (
              <ServerCards servers={servers} admin={admin} onEdit={edit} onDelete={remove} />
            ) : (
              <ServerTable servers={servers} admin={admin} onEdit={edit} onDelete={remove} />
            )}
          </>
        ))}

      {data && <AccessGroups servers={servers} groups={groups} />}

      <Modal
        title={editing && editing !== 'new' ? `Edit MCP server “${editing.server_name}”` : 'Add MCP server'}
        open={editing !== null}
        onClose={() => setEditing(null)}
        wide
      >
        {editing !== null && (
          <ServerForm
            key={editing === 'new' ? 'new' : editing.server_name}
            server={editing === 'new' ? undefined : editing}
            groups={groups}
            onCancel={() => setEditing(null)}
            onDone={(saved) =>
              done(
                editing === 'new'
                  ? `Added the MCP server “${saved.server_name}”.`
                  : `Saved the changes to “${saved.server_name}”.`,
              )
            }
          />
        )}
      </Modal>
    </Page>
  );
}

/** Below the shell's breakpoint the list becomes cards, so health and actions need no sideways scroll. */
function useNarrow(): boolean {
  const query = '(max-width: 760px)';
  const [narrow, setNarrow] = useState(() => matchMedia(query).matches);
  useEffect(() => {
    const list = matchMedia(query);
    const on = () => setNarrow(list.matches);
    list.addEventListener('change', on);
    return () => list.removeEventListener('change', on);
  }, []);
  return narrow;
}

interface ListProps {
  servers: McpServer[];
  admin: boolean;
  onEdit: (s: McpServer) => void;
  onDelete: (s: McpServer) => Promise<void>;
}

const small = { fontSize: '0.85rem' };

function Groups(props: { server: McpServer }) {
  const s = props.server;
  return (
    <div class="row" style={{ gap: '0.25rem' }}>
      {(s.mcp_access_groups ?? []).map((g) => (
        <Badge key={g}>{g}</Badge>
      ))}
      {s.allow_all_keys && <Badge kind="ok">all keys</Badge>}
      {!s.mcp_access_groups?.length && !s.allow_all_keys && <span class="muted">—</span>}
    </div>
  );
}

function Transport(props: { server: McpServer }) {
  const s = props.server;
  return (
    <>
      {TRANSPORT_LABEL[s.transport] ?? s.transport}
      {s.auth_type && s.auth_type !== 'none' && (
        <span class="muted" style={small}>
          {' '}
          · auth: {s.auth_type}
        </span>
      )}
    </>
  );
}

function DefinedIn(props: { server: McpServer }) {
  const s = props.server;
  if (s.source === 'config')
    return (
      <>
        config.yaml
        <div class="muted" style={small}>
          read-only
        </div>
      </>
    );
  return (
    <>
      database
      {s.updated_at && (
        <div class="muted" style={small} title={`by ${s.updated_by ?? 'unknown'}`}>
          {formatTime(s.updated_at)}
        </div>
      )}
    </>
  );
}

function ToolsLink(props: { server: McpServer }) {
  const s = props.server;
  return (
    <a href={href('tools', s.server_name)} aria-describedby={nameId(s)}>
      {typeof s.tools_count === 'number' ? `${s.tools_count} tool${s.tools_count === 1 ? '' : 's'}` : 'Tools'}
    </a>
  );
}

/** Edit and Delete for a stored server; a config.yaml one says where to change it. */
function Actions(props: ListProps & { server: McpServer }) {
  const s = props.server;
  if (s.source !== 'db')
    return (
      <span class="muted" style={small}>
        Edit in config.yaml
      </span>
    );
  return (
    <div class="row" style={{ flexWrap: 'nowrap' }}>
      <button type="button" class="small" aria-describedby={nameId(s)} onClick={() => props.onEdit(s)}>
        Edit
      </button>
      <ActionButton class="small danger" aria-describedby={nameId(s)} busyLabel="Deleting…" onClick={() => props.onDelete(s)}>
        Delete
      </ActionButton>
    </div>
  );
}

function About(props: { server: McpServer }) {
  const s = props.server;
  return (
    <>
      {s.alias && s.alias !== s.server_name && <div class="muted" style={small}>alias {s.alias}</div>}
      {s.description && (
        <div class="muted" style={{ ...small, maxWidth: '18rem' }}>
          {s.description}
        </div>
      )}
    </>
  );
}

function ServerTable(props: ListProps) {
  return (
    <Table caption="MCP servers">
      <thead>
        <tr>
          <th scope="col">Server</th>
          <th scope="col">Transport and target</th>
          <th scope="col">Access groups</th>
          <th scope="col">Defined in</th>
          <th scope="col">Health</th>
          <th scope="col">Tools</th>
          {props.admin && <th scope="col">Actions</th>}
        </tr>
      </thead>
      <tbody>
        {props.servers.map((s) => (
          <tr key={s.server_name}>
            <td>
              <strong id={nameId(s)}>{s.server_name}</strong>
              <About server={s} />
            </td>
            <td style={{ minWidth: '12rem', maxWidth: '22rem' }}>
              <Transport server={s} />
              <div>
                <Target server={s} />
              </div>
            </td>
            <td>
              <Groups server={s} />
            </td>
            <td>
              <DefinedIn server={s} />
            </td>
            <td style={{ minWidth: '11rem' }}>
              <HealthBadge server={s} />
            </td>
            <td style={{ whiteSpace: 'nowrap' }}>
              <ToolsLink server={s} />
            </td>
            {props.admin && (
              <td>
                <Actions {...props} server={s} />
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </Table>
  );
}

function ServerCards(props: ListProps) {
  const term = { ...small, color: 'var(--muted)', fontWeight: 600 };
  return (
    <ul aria-label="MCP servers" style={{ listStyle: 'none', margin: 0, padding: 0, display: 'grid', gap: '0.75rem' }}>
      {props.servers.map((s) => (
        <li key={s.server_name} class="card">
          <div class="row" style={{ justifyContent: 'space-between' }}>
            <h2 id={nameId(s)} style={{ margin: 0, fontSize: '1.05rem', overflowWrap: 'anywhere' }}>
              {s.server_name}
            </h2>
            <ToolsLink server={s} />
          </div>
          <About server={s} />
          <div style={{ margin: '0.5rem 0' }}>
            <HealthBadge server={s} />
          </div>
          <dl style={{ display: 'grid', gridTemplateColumns: 'auto 1fr', gap: '0.35rem 0.75rem', margin: '0 0 0.5rem' }}>
            <dt style={term}>Transport</dt>
            <dd style={{ margin: 0 }}>
              <Transport server={s} />
            </dd>
            <dt style={term}>{s.transport === 'stdio' ? 'Command' : 'URL'}</dt>
            <dd style={{ margin: 0, minWidth: 0 }}>
              <Target server={s} />
            </dd>
            <dt style={term}>Access groups</dt>
            <dd style={{ margin: 0 }}>
              <Groups server={s} />
            </dd>
            <dt style={term}>Defined in</dt>
            <dd style={{ margin: 0 }}>
              <DefinedIn server={s} />
            </dd>
          </dl>
          {props.admin && <Actions {...props} server={s} />}
        </li>
      ))}
    </ul>
  );
}

/** Each access group and the servers in it. */
function AccessGroups(props: { servers: McpServer[]; groups: string[] }) {
  return (
    <section aria-labelledby="mcp-access-groups">
      <h2 id="mcp-access-groups">Access groups</h2>
      <p class="muted">A key or team given an access group may use every server in it.</p>
      {props.groups.length === 0 ? (
        <Empty>No access groups yet. Give servers an access group to grant them to keys and teams together.</Empty>
      ) : (
        <Table caption="Access groups">
          <thead>
            <tr>
              <th scope="col">Access group</th>
              <th scope="col">Servers</th>
            </tr>
          </thead>
          <tbody>
            {props.groups.map((g) => {
              const members = props.servers.filter((s) => s.mcp_access_groups?.includes(g));
              return (
                <tr key={g}>
                  <td>
                    <Badge>{g}</Badge>
                  </td>
                  <td>
                    {members.length ? (
                      <div class="row">
                        {members.map((s) => (
                          <a key={s.server_name} href={href('tools', s.server_name)}>
                            {s.server_name}
                          </a>
                        ))}
                      </div>
                    ) : (
                      <span class="muted">No server this key can see</span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </Table>
      )}
    </section>
  );
}
