// What the Keys and Teams pages share: the model and MCP-permission pickers of their forms,
// the choices those pickers offer (loaded from the gateway), the summary of an
// `object_permission` in their lists, the list itself (a table, or cards on a phone), and the
// small parsing helpers of their forms.
import { type ComponentChildren, Fragment } from 'preact';
import { useEffect, useId, useState } from 'preact/hooks';
import { api, ApiError } from '../api';
import { ErrorNote, Field, Loading, Table } from '../components/ui';

/** LiteLLM's `object_permission` of a key or team. Absent or `null`: not set at this level. */
export interface ObjectPermission {
  mcp_servers?: string[] | null;
  mcp_access_groups?: string[] | null;
  mcp_tool_permissions?: Record<string, string[]> | null;
}

/** What the pickers can offer. */
export interface Choices {
  models: string[];
  servers: { name: string; groups: string[] }[];
  groups: string[];
}

interface ServerRow {
  server_name: string;
  mcp_access_groups?: string[] | null;
}

export async function loadChoices(): Promise<Choices> {
  const [models, servers, groups] = await Promise.all([
    api<{ data: { id: string }[] }>('GET', '/v1/models'),
    api<ServerRow[]>('GET', '/v1/mcp/server'),
    api<{ access_groups: string[] }>('GET', '/v1/mcp/access_groups'),
  ]);
  return {
    models: models.data.map((m) => m.id),
    servers: servers.map((s) => ({ name: s.server_name, groups: s.mcp_access_groups ?? [] })),
    groups: groups.access_groups,
  };
}

interface Option {
  value: string;
  /** Shown after the checkbox's label, outside it, so the accessible name stays `value`. */
  note?: string;
}

/**
 * A group of checkboxes named by its legend. Values already selected but no longer offered
 * (a removed server, an alias, LiteLLM's `all-proxy-mcpservers`) stay listed so that saving a
 * form does not silently drop them.
 */
export function CheckGroup(props: {
  legend: string;
  options: Option[];
  selected: string[];
  onChange: (next: string[]) => void;
  hint?: ComponentChildren;
  empty?: ComponentChildren;
}) {
  const hintId = useId();
  const known = new Set(props.options.map((o) => o.value));
  const options = [
    ...props.options,
    ...props.selected.filter((v) => !known.has(v)).map((value) => ({ value, note: 'not offered by the gateway' })),
  ];
  const toggle = (value: string, on: boolean) =>
    props.onChange(on ? [...props.selected, value] : props.selected.filter((v) => v !== value));
  return (
    <fieldset aria-describedby={props.hint ? hintId : undefined}>
      <legend>{props.legend}</legend>
      {options.length === 0 ? (
        <p class="muted" style={{ margin: '0.2rem 0' }}>
          {props.empty ?? 'Nothing to choose from.'}
        </p>
      ) : (
        <div class="checks">
          {options.map((o) => (
            <span key={o.value}>
              <label>
                <input
                  type="checkbox"
                  checked={props.selected.includes(o.value)}
                  onChange={(e) => toggle(o.value, e.currentTarget.checked)}
                />
                {o.value}
              </label>
              {o.note && (
                <span class="muted" style={{ fontSize: '0.82rem', marginLeft: '0.3rem' }}>
                  ({o.note})
                </span>
              )}
            </span>
          ))}
        </div>
      )}
      {props.hint && (
        <div id={hintId} class="muted" style={{ fontSize: '0.82rem', marginTop: '0.4rem' }}>
          {props.hint}
        </div>
      )}
    </fieldset>
  );
}

/** The selections of the model and MCP pickers. */
export interface Picks {
  models: string[];
  servers: string[];
  groups: string[];
}

/**
 * The "Models", "MCP servers" and "MCP access groups" checkbox groups. `inherit` says what
 * leaving the MCP pickers empty means for this kind of owner.
 */
export function Pickers(props: {
  choices: { data?: Choices; error?: Error; loading: boolean; reload: () => void };
  picks: Picks;
  onChange: (next: Picks) => void;
  modelsHint: ComponentChildren;
  mcpHint: ComponentChildren;
}) {
  const { data, error, loading } = props.choices;
  if (error) return <ErrorNote error={`Could not load the models and MCP servers to choose from: ${error.message}`} onRetry={props.choices.reload} />;
  if (!data && loading) return <Loading what="models and MCP servers" />;
  const choices = data ?? { models: [], servers: [], groups: [] };
  const set = (part: Partial<Picks>) => props.onChange({ ...props.picks, ...part });
  const serversOf = (group: string) =>
    choices.servers
      .filter((s) => s.groups.includes(group))
      .map((s) => s.name)
      .join(', ');
  return (
    <>
      <CheckGroup
        legend="Models"
        options={choices.models.map((value) => ({ value }))}
        selected={props.picks.models}
        onChange={(models) => set({ models })}
        hint={props.modelsHint}
        empty="The gateway has no models configured."
      />
      <CheckGroup
        legend="MCP servers"
        options={choices.servers.map((s) => ({
          value: s.name,
          note: s.groups.length ? `group ${s.groups.join(', ')}` : undefined,
        }))}
        selected={props.picks.servers}
        onChange={(servers) => set({ servers })}
        empty="No MCP servers are configured yet."
      />
      <CheckGroup
        legend="MCP access groups"
        options={choices.groups.map((value) => {
          const servers = serversOf(value);
          return { value, note: servers ? servers : undefined };
        })}
        selected={props.picks.groups}
        onChange={(groups) => set({ groups })}
        hint={props.mcpHint}
        empty="No MCP server names an access group."
      />
    </>
  );
}

/** The `object_permission` for a create request: `undefined` when nothing is picked. */
export function permissionOf(picks: Picks): ObjectPermission | undefined {
  if (!picks.servers.length && !picks.groups.length) return undefined;
  const permission: ObjectPermission = {};
  if (picks.servers.length) permission.mcp_servers = picks.servers;
  if (picks.groups.length) permission.mcp_access_groups = picks.groups;
  return permission;
}

/**
 * The `object_permission` for an update. The gateway merges it into the stored one, so an
 * empty picker is sent as `null` (removed) and `mcp_tool_permissions`, which these forms do
 * not edit, is left as it is.
 */
export function permissionPatch(picks: Picks): ObjectPermission {
  return {
    mcp_servers: picks.servers.length ? picks.servers : null,
    mcp_access_groups: picks.groups.length ? picks.groups : null,
  };
}

/** The pickers' selections of an existing key or team. */
export function picksOf(models: string[], permission: ObjectPermission | null | undefined): Picks {
  return {
    models: [...models],
    servers: [...(permission?.mcp_servers ?? [])],
    groups: [...(permission?.mcp_access_groups ?? [])],
  };
}

/** An `object_permission` in a table cell; `unset` is shown when it says nothing. */
export function PermissionSummary(props: { permission: ObjectPermission | null | undefined; unset: ComponentChildren }) {
  const p = props.permission;
  const servers = p?.mcp_servers ?? null;
  const groups = p?.mcp_access_groups ?? null;
  const tools = p?.mcp_tool_permissions ? Object.keys(p.mcp_tool_permissions) : [];
  if (servers === null && groups === null && tools.length === 0) {
    return <span class="muted">{props.unset}</span>;
  }
  return (
    <div style={{ display: 'grid', gap: '0.15rem' }}>
      {servers !== null && (
        <div>
          <span class="muted">Servers: </span>
          {servers.length ? servers.join(', ') : 'none'}
        </div>
      )}
      {groups !== null && (
        <div>
          <span class="muted">Groups: </span>
          {groups.length ? groups.join(', ') : 'none'}
        </div>
      )}
      {tools.length > 0 && (
        <div>
          <span class="muted">Tools limited on: </span>
          {tools.join(', ')}
        </div>
      )}
    </div>
  );
}

/** A list of models in a table cell; empty means every model. */
export function ModelsSummary(props: { models: string[] }) {
  return props.models.length ? <span>{props.models.join(', ')}</span> : <span class="muted">All models</span>;
}

/** The "Max budget (USD)" field of the key and team forms; its text goes through `budgetOf`. */
export function BudgetField(props: { value: string; onInput: (value: string) => void; hint: string; error?: string }) {
  return (
    <Field label="Max budget (USD)" hint={props.hint} error={props.error}>
      {(id) => (
        <input
          id={id}
          type="number"
          min="0"
          step="0.01"
          inputMode="decimal"
          value={props.value}
          onInput={(e) => props.onInput(e.currentTarget.value)}
        />
      )}
    </Field>
  );
}

/** "12.5" → 12.5, "" → null; `undefined` when it is not an amount. */
export function budgetOf(text: string): number | null | undefined {
  const t = text.trim();
  if (!t) return null;
  const n = Number(t);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** A JSON object typed in a textarea; "" → `{}`; a message when it is not an object. */
export function jsonObjectOf(text: string): Record<string, unknown> | string {
  if (!text.trim()) return {};
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    return 'Metadata must be a JSON object, like {"owner": "alice"}.';
  } catch (e) {
    return `Metadata is not valid JSON: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** Splits a failed save into a message for the field the server named, if it is one of ours. */
export function fieldErrorOf(error: unknown, fields: string[]): { field?: string; message: string } {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ApiError && error.param && fields.includes(error.param)) return { field: error.param, message };
  return { message };
}

/** One column of a [`RecordList`]. */
export interface Column<T> {
  label: string;
  render: (row: T) => ComponentChildren;
  num?: boolean;
}

const NARROW = '(max-width: 760px)';

/** Whether the screen is as narrow as the one the stylesheet switches to its phone layout at. */
function useNarrow(): boolean {
  const [narrow, setNarrow] = useState(() => matchMedia(NARROW).matches);
  useEffect(() => {
    const query = matchMedia(NARROW);
    const on = () => setNarrow(query.matches);
    query.addEventListener('change', on);
    return () => query.removeEventListener('change', on);
  }, []);
  return narrow;
}

/**
 * Records with many columns and per-row actions: a table on wide screens, and on a phone a
 * card per record, so that the actions are not scrolled out of sight at the far right.
 */
export function RecordList<T>(props: {
  caption: string;
  /** The first column's heading; its cells are `title`. */
  titleLabel: string;
  rows: T[];
  rowKey: (row: T) => string;
  title: (row: T) => ComponentChildren;
  columns: Column<T>[];
  actions: (row: T) => ComponentChildren;
}) {
  const narrow = useNarrow();
  if (narrow) {
    return (
      <ul aria-label={props.caption} style={{ listStyle: 'none', margin: 0, padding: 0, display: 'grid', gap: '0.75rem' }}>
        {props.rows.map((row) => (
          <li key={props.rowKey(row)} class="card">
            <div style={{ marginBottom: '0.5rem' }}>{props.title(row)}</div>
            <dl style={{ display: 'grid', gridTemplateColumns: 'max-content 1fr', gap: '0.3rem 0.75rem', margin: '0 0 0.75rem' }}>
              {props.columns.map((c) => (
                <Fragment key={c.label}>
                  <dt class="muted" style={{ fontSize: '0.85rem' }}>
                    {c.label}
                  </dt>
                  <dd style={{ margin: 0, minWidth: 0, overflowWrap: 'anywhere' }}>{c.render(row)}</dd>
                </Fragment>
              ))}
            </dl>
            <div class="row">{props.actions(row)}</div>
          </li>
        ))}
      </ul>
    );
  }
  return (
    <Table caption={props.caption}>
      <thead>
        <tr>
          <th scope="col">{props.titleLabel}</th>
          {props.columns.map((c) => (
            <th scope="col" key={c.label} class={c.num ? 'num' : undefined}>
              {c.label}
            </th>
          ))}
          <th scope="col">Actions</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((row) => (
          <tr key={props.rowKey(row)}>
            <td style={{ minWidth: '9rem' }}>{props.title(row)}</td>
            {props.columns.map((c) => (
              <td key={c.label} class={c.num ? 'num' : undefined}>
                {c.render(row)}
              </td>
            ))}
            <td>
              <div class="row" style={{ flexWrap: 'nowrap' }}>
                {props.actions(row)}
              </div>
            </td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}
