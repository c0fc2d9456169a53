// The Logs page: every recorded LLM call and MCP tool call (`GET /spend/logs`), filtered by a
// form whose values live in the route query so a filtered view can be linked and reloaded, and
// the whole row of one call in a dialog. Also the row type and helpers the dashboard shares.
import { Fragment, type ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, withQuery } from '../api';
import { href, type Route } from '../router';
import { isAdmin, useSession } from '../session';
import {
  Badge,
  CopyButton,
  Empty,
  ErrorNote,
  Field,
  Json,
  Loading,
  Modal,
  Notice,
  Page,
  Table,
  formatMs,
  formatTime,
  formatUsd,
  useAsync,
} from '../components/ui';

/** One row of `GET /spend/logs`, in LiteLLM's field names (see routes/spend.rs `row_json`). */
export interface LogRow {
  request_id: string;
  call_type: string;
  /** The SHA-256 of the caller's key; empty for the master key. */
  api_key: string;
  spend: number;
  total_tokens: number;
  prompt_tokens: number;
  completion_tokens: number;
  /** ISO 8601 with milliseconds, UTC. */
  startTime: string;
  endTime: string;
  request_duration_ms: number;
  /** LLM calls: the model asked for; MCP calls: `MCP: <prefixed tool name>`. */
  model: string;
  model_group: string | null;
  api_base: string | null;
  user: string | null;
  team_id: string | null;
  organization_id: string | null;
  status: 'success' | 'failure' | string;
  metadata: {
    user_api_key_alias?: string;
    error_information?: { error_message?: string };
    mcp_namespaced_tool_name?: string;
    [key: string]: unknown;
  };
  mcp_server: string | null;
  /** The tool's own name on its server, without the gateway's prefix. */
  mcp_tool: string | null;
}

export const MCP_CALL = 'call_mcp_tool';
/** The LLM call types the gateway records (meter.rs); "LLM calls" asks for each of them. */
export const LLM_CALL_TYPES = ['acompletion', 'aresponses'];
/** What the server answers at most, whatever `limit` asks. */
export const MAX_LIMIT = 10000;
const DEFAULT_LIMIT = 100;

const CALL_TYPE_OPTIONS = [
  { value: '', label: 'All calls' },
  { value: 'llm', label: 'LLM calls' },
  { value: 'acompletion', label: 'Chat completions' },
  { value: 'aresponses', label: 'Responses API' },
  { value: MCP_CALL, label: 'MCP tool calls' },
];

export function isMcp(row: LogRow): boolean {
  return row.call_type === MCP_CALL;
}

export function isFailure(row: LogRow): boolean {
  return row.status !== 'success';
}

export function errorOf(row: LogRow): string | undefined {
  return row.metadata?.error_information?.error_message;
}

export function callTypeLabel(callType: string): string {
  switch (callType) {
    case 'acompletion':
      return 'Chat';
    case 'aresponses':
      return 'Responses';
    case MCP_CALL:
      return 'MCP tool';
    default:
      return callType;
  }
}

/** Who made the call: the key's alias, else the start of its hash; no hash means the master key. */
export function keyLabel(row: LogRow): string {
  const alias = row.metadata?.user_api_key_alias;
  if (alias) return alias;
  if (!row.api_key) return 'master key';
  return `${row.api_key.slice(0, 10)}…`;
}

/** What was called: the model, or for a tool call the tool's own name. */
export function targetOf(row: LogRow): string {
  return isMcp(row) ? (row.mcp_tool ?? row.model.replace(/^MCP: /, '')) : row.model;
}

/**
 * Rows for `query` (the API's own parameters), newest first. `call_type=llm` is not the API's:
 * it asks once per LLM call type and merges, since the API matches one call type exactly.
 */
export async function fetchLogs(query: Record<string, string | number | undefined>): Promise<LogRow[]> {
  if (query.call_type !== 'llm') return api<LogRow[]>('GET', withQuery('/spend/logs', query));
  const parts = await Promise.all(
    LLM_CALL_TYPES.map((callType) => api<LogRow[]>('GET', withQuery('/spend/logs', { ...query, call_type: callType }))),
  );
  const limit = Number(query.limit) || 1000;
  return parts
    .flat()
    .sort((a, b) => (a.startTime === b.startTime ? a.request_id.localeCompare(b.request_id) : a.startTime < b.startTime ? 1 : -1))
    .slice(0, limit);
}

/** The form's fields, named as the API's parameters (and so as the route query). */
const FILTER_NAMES = ['start_date', 'end_date', 'call_type', 'mcp_server', 'team_id', 'api_key', 'request_id', 'limit'] as const;
type FilterName = (typeof FILTER_NAMES)[number];
type Filters = Record<FilterName, string>;

function filtersOf(query: URLSearchParams): Filters {
  const filters = {} as Filters;
  for (const name of FILTER_NAMES) filters[name] = query.get(name) ?? '';
  return filters;
}

/**
 * A `YYYY-MM-DD` picked in the form as an instant at the start (or end) of that day in the
 * browser's time zone: the API reads bare dates as UTC days, which is not what a person means.
 */
function localDayBound(date: string, end: boolean): string | undefined {
  if (!date) return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return date; // the server names what is wrong with it
  const day = end
    ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 23, 59, 59, 999)
    : new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isNaN(day.getTime()) ? date : day.toISOString();
}

function apiQuery(filters: Filters, ownKeyOnly: boolean): Record<string, string> {
  return {
    start_date: localDayBound(filters.start_date, false) ?? '',
    end_date: localDayBound(filters.end_date, true) ?? '',
    call_type: filters.call_type,
    mcp_server: filters.mcp_server.trim(),
    team_id: filters.team_id.trim(),
    // A virtual key sees its own rows anyway; naming any other key is refused.
    api_key: ownKeyOnly ? '' : filters.api_key.trim(),
    request_id: filters.request_id.trim(),
    limit: filters.limit.trim() || String(DEFAULT_LIMIT),
  };
}

/**
 * A raw `sk-…` key typed into the Key filter becomes its SHA-256 (as the server hashes keys)
 * before it goes into the address bar and history. Without WebCrypto (plain http on another
 * host) the raw key is kept: the server accepts both.
 */
async function keyForRoute(key: string): Promise<string> {
  const trimmed = key.trim();
  if (!trimmed || /^[0-9a-f]{64}$/.test(trimmed) || !globalThis.crypto?.subtle) return trimmed;
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(trimmed));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

function routeOf(filters: Filters): string {
  const params = new URLSearchParams();
  for (const name of FILTER_NAMES) {
    const value = filters[name].trim();
    if (value) params.set(name, value);
  }
  const q = params.toString();
  return q ? `${href('logs')}?${q}` : href('logs');
}

interface Team {
  team_id: string;
  team_alias?: string | null;
}

/**
 * Team aliases by id, for the master key (a virtual key may not list teams): rows carry only
 * the id, a UUID nobody recognises.
 */
function useTeams(admin: boolean) {
  return useAsync<Team[]>(() => (admin ? api<Team[]>('GET', '/team/list').catch(() => []) : Promise.resolve([])), [admin]);
}

function teamLabel(teams: Team[] | undefined, id: string | null): { text: string; title?: string } {
  if (!id) return { text: '—' };
  const alias = teams?.find((t) => t.team_id === id)?.team_alias;
  return alias ? { text: alias, title: id } : { text: id.length > 12 ? `${id.slice(0, 8)}…` : id, title: id };
}

const formGrid = {
  display: 'grid',
  gridTemplateColumns: 'repeat(auto-fill, minmax(9.5rem, 1fr))',
  gap: '0 0.75rem',
};

export function Logs(props: { route: Route }) {
  const { session } = useSession();
  const admin = isAdmin();
  const queryText = props.route.query.toString();
  const applied = filtersOf(props.route.query);
  const [form, setForm] = useState<Filters>(applied);
  const [selected, setSelected] = useState<LogRow | null>(null);

  // Back/forward or a pasted link changes the query: the form shows what is applied.
  useEffect(() => setForm(filtersOf(props.route.query)), [queryText]);

  const logs = useAsync(() => fetchLogs(apiQuery(applied, !admin)), [queryText, admin]);
  const teams = useTeams(admin).data;

  const set = (name: FilterName) => (e: Event) => {
    const value = (e.currentTarget as HTMLInputElement | HTMLSelectElement).value;
    setForm((f) => ({ ...f, [name]: value }));
  };

  const datesReversed = Boolean(form.start_date && form.end_date && form.start_date > form.end_date);

  const apply = async (e: Event) => {
    e.preventDefault();
    if (datesReversed) return;
    go(routeOf({ ...form, api_key: await keyForRoute(form.api_key) }));
  };

  const clear = () => {
    setForm(filtersOf(new URLSearchParams()));
    go(href('logs'));
  };

  // Applying the filters already applied changes no hash, so nothing would load: load anyway.
  const go = (next: string) => {
    const before = location.hash;
    location.hash = next;
    if (location.hash === before) logs.reload();
  };

  const filtered = FILTER_NAMES.some((name) => name !== 'limit' && applied[name]);
  const limit = Number(applied.limit) || DEFAULT_LIMIT;
  const rows = logs.data ?? [];
  const failures = rows.filter(isFailure).length;

  return (
    <Page
      title="Logs"
      actions={
        <button type="button" onClick={logs.reload} disabled={logs.loading}>
          {logs.loading && logs.data ? 'Refreshing…' : 'Refresh'}
        </button>
      }
    >
      {!admin && (
        <p class="muted">
          Showing the calls made with your key{session?.key_alias ? ` (${session.key_alias})` : ''}.
        </p>
      )}
      <form class="card" onSubmit={apply} aria-label="Filter logs" style={{ marginBottom: '1rem' }}>
        <div style={formGrid}>
          <Field label="From" error={datesReversed ? 'From is after To' : undefined}>
            {(id) => <input id={id} type="date" value={form.start_date} onInput={set('start_date')} />}
          </Field>
          <Field label="To">{(id) => <input id={id} type="date" value={form.end_date} onInput={set('end_date')} />}</Field>
          <Field label="Call type">
            {(id) => (
              <select id={id} value={form.call_type} onChange={set('call_type')}>
                {CALL_TYPE_OPTIONS.map((o) => (
                  <option key={o.value} value={o.value}>
                    {o.label}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="MCP server">
            {(id) => <input id={id} value={form.mcp_server} onInput={set('mcp_server')} placeholder="e.g. time" autoComplete="off" />}
          </Field>
          {/* A virtual key belongs to one team at most: filtering by team tells it nothing. */}
          {admin && (
            <Field label="Team">
              {(id) =>
                teams && teams.length > 0 ? (
                  <select id={id} value={form.team_id} onChange={set('team_id')}>
                    <option value="">Any team</option>
                    {/* A team named by a link but since deleted still shows as chosen. */}
                    {form.team_id && !teams.some((t) => t.team_id === form.team_id) && <option value={form.team_id}>{form.team_id}</option>}
                    {teams.map((t) => (
                      <option key={t.team_id} value={t.team_id}>
                        {t.team_alias || t.team_id}
                      </option>
                    ))}
                  </select>
                ) : (
                  <input id={id} value={form.team_id} onInput={set('team_id')} placeholder="team id" autoComplete="off" />
                )
              }
            </Field>
          )}
          {admin && (
            <Field label="Key">
              {(id) => (
                <input
                  id={id}
                  value={form.api_key}
                  onInput={set('api_key')}
                  placeholder="sk-… or its hash"
                  autoComplete="off"
                  spellcheck={false}
                />
              )}
            </Field>
          )}
          <Field label="Request ID">
            {(id) => <input id={id} value={form.request_id} onInput={set('request_id')} autoComplete="off" spellcheck={false} />}
          </Field>
          <Field label="Limit">
            {(id) => (
              <input
                id={id}
                type="number"
                min={1}
                max={MAX_LIMIT}
                step={1}
                inputMode="numeric"
                value={form.limit}
                onInput={set('limit')}
                placeholder={String(DEFAULT_LIMIT)}
              />
            )}
          </Field>
        </div>
        <p class="muted" style={{ margin: '0 0 0.5rem', fontSize: '0.82rem' }}>
          Dates are whole days in your time zone. {admin && 'A key typed in is turned into its hash before it goes into the address.'}
        </p>
        <div class="form-actions">
          <button type="button" onClick={clear}>
            Clear
          </button>
          <button type="submit" class="primary" disabled={datesReversed}>
            Apply
          </button>
        </div>
      </form>

      <ErrorNote error={logs.error} onRetry={logs.reload} />
      {logs.loading && !logs.data && <Loading what="logs" />}
      {logs.data && rows.length === 0 && !logs.error && (
        <Empty>
          {filtered ? (
            <>
              No calls match these filters.{' '}
              <button type="button" class="link" onClick={clear}>
                Clear the filters
              </button>
            </>
          ) : (
            <>
              No calls yet. LLM calls and MCP tool calls appear here after they are made, through the API or
              from the <a href={href('playground')}>Playground</a> and the <a href={href('tools')}>MCP tools</a> page.
            </>
          )}
        </Empty>
      )}
      {rows.length > 0 && (
        <>
          <p class="muted" role="status" style={{ margin: '0 0 0.5rem' }}>
            {rows.length} {rows.length === 1 ? 'call' : 'calls'}, newest first
            {failures > 0 && `, ${failures} failed`}.
          </p>
          {rows.length >= limit && (
            <Notice kind="warn">
              Only the newest {limit} matching calls are shown. Raise Limit (up to {MAX_LIMIT}) or narrow the dates to see older ones.
            </Notice>
          )}
          <LogTable rows={rows} teams={teams} onOpen={setSelected} />
        </>
      )}
      <Modal title="Request details" open={selected !== null} onClose={() => setSelected(null)} wide>
        {selected && <RowDetails row={selected} teams={teams} onClose={() => setSelected(null)} />}
      </Modal>
    </Page>
  );
}

/** A row's time without the year, which the full time in its tooltip has. */
function shortTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString([], { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', second: '2-digit' });
}

function LogTable(props: { rows: LogRow[]; teams: Team[] | undefined; onOpen: (row: LogRow) => void }) {
  return (
    <Table caption="Calls">
      <thead>
        <tr>
          <th scope="col">Request</th>
          <th scope="col">Time</th>
          <th scope="col">Status</th>
          <th scope="col">Type</th>
          <th scope="col">Model or tool</th>
          <th scope="col">Server</th>
          <th scope="col">Key</th>
          <th scope="col">Team</th>
          <th scope="col" class="num">
            Duration
          </th>
          <th scope="col" class="num">
            Tokens
          </th>
          <th scope="col" class="num">
            Spend
          </th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((row) => {
          const error = errorOf(row);
          const team = teamLabel(props.teams, row.team_id);
          return (
            <tr key={row.request_id}>
              <td>
                {/* The visible short id is the start of the accessible name (WCAG label-in-name). */}
                <button type="button" class="small mono" aria-label={`${row.request_id} details`} title="Show the whole row" onClick={() => props.onOpen(row)}>
                  {row.request_id.slice(0, 8)}
                </button>
              </td>
              <td style={{ whiteSpace: 'nowrap' }} title={formatTime(row.startTime)}>
                {shortTime(row.startTime)}
              </td>
              <td>
                <Badge kind={isFailure(row) ? 'bad' : 'ok'} title={error}>
                  {row.status}
                </Badge>
              </td>
              <td style={{ whiteSpace: 'nowrap' }} title={row.call_type}>
                {callTypeLabel(row.call_type)}
              </td>
              <td class="mono">{targetOf(row)}</td>
              <td>{row.mcp_server ? <a href={href('tools', row.mcp_server)}>{row.mcp_server}</a> : '—'}</td>
              <td style={{ whiteSpace: 'nowrap' }}>{keyLabel(row)}</td>
              <td style={{ whiteSpace: 'nowrap' }} title={team.title}>
                {team.text}
              </td>
              <td class="num">{formatMs(row.request_duration_ms)}</td>
              <td class="num" title={`${row.prompt_tokens} prompt + ${row.completion_tokens} completion`}>
                {isMcp(row) ? '—' : row.total_tokens}
              </td>
              <td class="num">{formatUsd(row.spend)}</td>
            </tr>
          );
        })}
      </tbody>
    </Table>
  );
}

const factsGrid = {
  display: 'grid',
  gridTemplateColumns: 'max-content 1fr',
  gap: '0.3rem 1rem',
  margin: '0.75rem 0',
};

function RowDetails(props: { row: LogRow; teams: Team[] | undefined; onClose: () => void }) {
  const row = props.row;
  const error = errorOf(row);
  const teamAlias = props.teams?.find((t) => t.team_id === row.team_id)?.team_alias;
  const facts: [string, ComponentChildren][] = [
    ['Request ID', <span class="mono" style={{ wordBreak: 'break-all' }}>{row.request_id}</span>],
    ['Status', <Badge kind={isFailure(row) ? 'bad' : 'ok'}>{row.status}</Badge>],
    ['Type', `${callTypeLabel(row.call_type)} (${row.call_type})`],
    [isMcp(row) ? 'Tool' : 'Model', <span class="mono">{targetOf(row)}</span>],
    ...(row.mcp_server
      ? [['Server', <a href={href('tools', row.mcp_server)} onClick={props.onClose}>{row.mcp_server}</a>] as [string, ComponentChildren]]
      : []),
    ['Started', formatTime(row.startTime)],
    ['Duration', formatMs(row.request_duration_ms)],
    ['Key', keyLabel(row)],
    ['Team', row.team_id ? (teamAlias ? `${teamAlias} (${row.team_id})` : row.team_id) : '—'],
    ...(isMcp(row) ? [] : [['Tokens', `${row.total_tokens} (${row.prompt_tokens} prompt, ${row.completion_tokens} completion)`] as [string, string]]),
    ['Spend', formatUsd(row.spend)],
  ];
  return (
    <div>
      {error && (
        <div class="notice error" style={{ alignItems: 'flex-start', flexDirection: 'column', gap: '0.25rem' }}>
          <strong>This call failed</strong>
          <span style={{ wordBreak: 'break-word' }}>{error}</span>
        </div>
      )}
      <dl style={factsGrid}>
        {facts.map(([name, value]) => (
          <Fragment key={name}>
            <dt class="muted">{name}</dt>
            <dd style={{ margin: 0, minWidth: 0 }}>{value}</dd>
          </Fragment>
        ))}
      </dl>
      <div class="row">
        <CopyButton text={row.request_id} label="Copy request ID" />
        <CopyButton text={JSON.stringify(row, null, 2)} label="Copy JSON" />
        <a href={`${href('logs')}?${new URLSearchParams({ request_id: row.request_id })}`} onClick={props.onClose}>
          Link to this request
        </a>
      </div>
      <h3>Whole row</h3>
      <Json value={row} label="The whole log row as JSON" />
    </div>
  );
}
