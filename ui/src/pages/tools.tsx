// The MCP tools page: every tool the signed-in key may use, grouped by server, under the name an
// MCP client calls it by over /mcp (with a button to copy that name), and a form that calls a
// tool through the REST facade (`POST /mcp-rest/tools/call`) and shows its answer.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { JSX } from 'preact';
import { api } from '../api';
import { href, navigate, type Route } from '../router';
import { isAdmin } from '../session';
import { Badge, CopyButton, Empty, ErrorNote, Field, Json, Loading, Notice, Page, formatMs, useAsync } from '../components/ui';

/** The part of a JSON Schema the argument skeleton is built from. */
interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  default?: unknown;
  const?: unknown;
  enum?: unknown[];
  examples?: unknown[];
  anyOf?: Schema[];
  oneOf?: Schema[];
}

/** Who serves a tool of `GET /v1/mcp/tools`, and the tool's own name there (`original_name`). */
interface McpInfo {
  server_id: string;
  server_name: string;
  alias?: string;
  original_name: string;
}

/** A tool of `GET /v1/mcp/tools`, named as MCP clients see it (`name`). */
interface Tool {
  name: string;
  title?: string;
  description?: string | null;
  inputSchema?: Schema;
  annotations?: { readOnlyHint?: boolean; destructiveHint?: boolean };
  mcp_info: McpInfo;
}

/** The tools of one server, and that server (the `mcp_info` of its first tool). */
interface Group {
  info: McpInfo;
  tools: Tool[];
}

/** What the REST call answers: an MCP `CallToolResult`. */
interface CallResult {
  content?: Content[];
  structuredContent?: unknown;
  isError?: boolean;
  [other: string]: unknown;
}

interface Content {
  type: string;
  text?: string;
  data?: string;
  mimeType?: string;
  [other: string]: unknown;
}

function groupByServer(tools: Tool[]): Group[] {
  const groups = new Map<string, Group>();
  for (const tool of [...tools].sort((a, b) => a.name.localeCompare(b.name))) {
    const group = groups.get(tool.mcp_info.server_id) ?? { info: tool.mcp_info, tools: [] };
    group.tools.push(tool);
    groups.set(tool.mcp_info.server_id, group);
  }
  return [...groups.values()].sort((a, b) => a.info.server_name.localeCompare(b.info.server_name));
}

/** A server as the page names it: its name, and its alias when it has one. */
function serverLabel(info: McpInfo): string {
  return info.alias && info.alias !== info.server_name ? `${info.server_name} · alias ${info.alias}` : info.server_name;
}

/** A placeholder value for a schema: its default or first allowed value, else an empty one of its type. */
function placeholder(schema: Schema | undefined, depth: number): unknown {
  if (!schema || typeof schema !== 'object') return null;
  if ('default' in schema) return schema.default;
  if ('const' in schema) return schema.const;
  if (schema.enum?.length) return schema.enum[0];
  if (schema.examples?.length) return schema.examples[0];
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants?.length) {
    return placeholder(variants.find((v) => v.type !== 'null') ?? variants[0], depth);
  }
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  const type = types.find((t) => t !== 'null') ?? (schema.properties ? 'object' : types[0]);
  switch (type) {
    case 'string':
      return '';
    case 'number':
    case 'integer':
      return 0;
    case 'boolean':
      return false;
    case 'array':
      return [];
    case 'object':
      // Nested objects get their own skeleton, but not without end (recursive schemas).
      return depth < 3 ? skeleton(schema, depth + 1) : {};
    default:
      return null;
  }
}

/** An arguments object with every property of the schema, required ones first. */
function skeleton(schema: Schema | undefined, depth = 0): Record<string, unknown> {
  const properties = schema?.properties ?? {};
  const required = (schema?.required ?? []).filter((name) => name in properties);
  const names = [...required, ...Object.keys(properties).filter((n) => !required.includes(n))];
  const out: Record<string, unknown> = {};
  for (const name of names) out[name] = placeholder(properties[name], depth);
  return out;
}

/** The arguments text as an object, or why it is not one. */
function parseArguments(text: string): { value: Record<string, unknown> } | { error: string } {
  // An empty box means "no arguments", which is what a tool without parameters wants.
  if (!text.trim()) return { value: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { error: `Not valid JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const what = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    return { error: `The arguments must be a JSON object ({ … }), not ${what}.` };
  }
  return { value: value as Record<string, unknown> };
}

const layout: JSX.CSSProperties = { display: 'flex', flexWrap: 'wrap', gap: '1rem', alignItems: 'flex-start' };
// Side by side when both fit (list ≥ 18rem, detail ≥ 24rem), stacked otherwise, with no media query.
const listPane: JSX.CSSProperties = { flex: '1 1 18rem', minWidth: 0 };
const detailPane: JSX.CSSProperties = { flex: '2 1 24rem', minWidth: 0 };
const plainList: JSX.CSSProperties = { listStyle: 'none', margin: 0, padding: 0 };
const toolItem: JSX.CSSProperties = { padding: '0.5rem 0', borderTop: '1px solid var(--border)' };
const nameButton: JSX.CSSProperties = { textAlign: 'left', wordBreak: 'break-all' };

export function Tools(props: { route: Route }) {
  const wantedServer = props.route.rest[0] ?? '';
  const wantedTool = props.route.rest[1] ?? '';
  const listing = useAsync(async () => {
    const { tools } = await api<{ tools: Tool[] }>('GET', '/v1/mcp/tools');
    // A tool whose server was removed while the list was made comes without `mcp_info`: it
    // cannot be called, and the next load will not list it.
    return tools.filter((t) => t.mcp_info);
  }, []);
  const tools = listing.data;
  const groups = useMemo(() => groupByServer(tools ?? []), [tools]);

  const [server, setServer] = useState('');
  const [search, setSearch] = useState('');
  const [selectedName, setSelectedName] = useState<string | null>(null);
  const detailHeading = useRef<HTMLHeadingElement>(null);

  /** The group a server name in the address stands for (name, id or alias, any case). */
  const groupNamed = (name: string) => {
    const n = name.toLowerCase();
    return groups.find((g) => [g.info.server_name, g.info.server_id, g.info.alias].some((x) => x && x.toLowerCase() === n));
  };
  const unknownServer = Boolean(tools && wantedServer && !groupNamed(wantedServer));

  // The address decides the server filter (the servers page links to `#/tools/<server>`) and,
  // optionally, the open tool (`#/tools/<server>/<exposed name>`).
  useEffect(() => {
    if (!tools) return;
    const group = wantedServer ? groupNamed(wantedServer) : undefined;
    setServer(group?.info.server_id ?? '');
    if (wantedTool) {
      const tool = group?.tools.find((t) => t.name === wantedTool || t.mcp_info.original_name === wantedTool);
      if (tool) setSelectedName(tool.name);
    }
  }, [tools, wantedServer, wantedTool]);

  const chooseServer = (id: string) => {
    setServer(id);
    const group = groups.find((g) => g.info.server_id === id);
    // Keeps the address in step so that reload and the back button show the same server.
    if (group) navigate('tools', group.info.server_name);
    else if (props.route.rest.length) navigate('tools');
  };

  const select = (tool: Tool) => {
    setSelectedName(tool.name);
    // On a narrow screen the detail is below the list: moving focus there scrolls it into view.
    setTimeout(() => detailHeading.current?.focus(), 0);
  };

  const query = search.trim().toLowerCase();
  const shown = groups
    .filter((g) => !server || g.info.server_id === server)
    .map((g) => ({
      ...g,
      tools: g.tools.filter(
        (t) => !query || [t.name, t.mcp_info.original_name, t.title, t.description].some((s) => s && s.toLowerCase().includes(query)),
      ),
    }))
    .filter((g) => g.tools.length > 0);
  const shownCount = shown.reduce((n, g) => n + g.tools.length, 0);
  const selected = tools?.find((t) => t.name === selectedName) ?? null;

  return (
    <Page
      title="MCP tools"
      actions={
        <button type="button" onClick={listing.reload} disabled={listing.loading}>
          {listing.loading && tools ? 'Refreshing…' : 'Refresh'}
        </button>
      }
    >
      <p class="muted" style={{ marginTop: 0 }}>
        The tools this key may use. MCP clients connected to <code>/mcp</code> call a tool by the name shown here.
        Select a tool to see its input schema and try it.
      </p>
      <ErrorNote error={listing.error} onRetry={listing.reload} />
      {unknownServer && (
        <Notice kind="warn">
          No tools of a server named “{wantedServer}” are available to this key (it may be down, have no tools, or not
          be granted). Showing all servers.
        </Notice>
      )}
      {!tools && listing.loading && <Loading what="tools" />}
      {tools && tools.length === 0 && (
        <Empty>
          {isAdmin() ? (
            <>
              No MCP tools yet. Add a server on the <a href={href('servers')}>MCP servers</a> page, or wait for the
              configured ones to connect and press Refresh.
            </>
          ) : (
            <>This key may not use any MCP tools. Ask an admin to grant it MCP servers or access groups.</>
          )}
        </Empty>
      )}
      {tools && tools.length > 0 && (
        <div style={layout}>
          <div style={listPane}>
            <div class="row" style={{ alignItems: 'flex-end', marginBottom: '0.5rem' }}>
              <div style={{ flex: '1 1 9rem' }}>
                <Field label="Server">
                  {(id) => (
                    <select id={id} value={server} onChange={(e) => chooseServer(e.currentTarget.value)}>
                      <option value="">All servers ({tools.length} tools)</option>
                      {groups.map((g) => (
                        <option key={g.info.server_id} value={g.info.server_id}>
                          {serverLabel(g.info)} ({g.tools.length})
                        </option>
                      ))}
                    </select>
                  )}
                </Field>
              </div>
              <div style={{ flex: '1 1 9rem' }}>
                <Field label="Search tools">
                  {(id) => (
                    <input
                      id={id}
                      type="search"
                      value={search}
                      placeholder="Name or description"
                      onInput={(e) => setSearch(e.currentTarget.value)}
                    />
                  )}
                </Field>
              </div>
            </div>
            <p class="sr-only" role="status" aria-live="polite">
              {shownCount} {shownCount === 1 ? 'tool' : 'tools'} shown
            </p>
            {shown.length === 0 && <Empty>No tool matches “{search.trim()}”.</Empty>}
            {shown.map((g) => (
              <section
                key={g.info.server_id}
                class="card"
                style={{ marginBottom: '0.75rem', padding: '0.25rem 1rem 0.5rem' }}
                aria-label={`Tools of ${g.info.server_name}`}
              >
                <h2 class="row" style={{ margin: '0.5rem 0' }}>
                  <span>{serverLabel(g.info)}</span>
                  <Badge>
                    {g.tools.length} {g.tools.length === 1 ? 'tool' : 'tools'}
                  </Badge>
                </h2>
                <ul style={plainList}>
                  {g.tools.map((t) => (
                    <ToolItem key={t.name} tool={t} selected={t.name === selectedName} onSelect={() => select(t)} />
                  ))}
                </ul>
              </section>
            ))}
          </div>
          <div style={detailPane}>
            {selected ? (
              <ToolDetail key={selected.name} tool={selected} headingRef={detailHeading} />
            ) : (
              <div class="card muted">Select a tool by its name to see its input schema and call it.</div>
            )}
          </div>
        </div>
      )}
    </Page>
  );
}

function ToolItem(props: { tool: Tool; selected: boolean; onSelect: () => void }) {
  const t = props.tool;
  return (
    <li style={toolItem}>
      <div class="row" style={{ justifyContent: 'space-between', flexWrap: 'nowrap', alignItems: 'flex-start' }}>
        <button
          type="button"
          class="link mono"
          style={{ ...nameButton, fontWeight: props.selected ? 700 : 400 }}
          aria-current={props.selected ? 'true' : undefined}
          onClick={props.onSelect}
        >
          {t.name}
        </button>
        <span style={{ flexShrink: 0, whiteSpace: 'nowrap' }}>
          <CopyButton text={t.name} label="Copy name" />
        </span>
      </div>
      {t.title && <div style={{ fontWeight: 600, fontSize: '0.9rem' }}>{t.title}</div>}
      {t.description && (
        <div class="muted" style={{ fontSize: '0.88rem', whiteSpace: 'pre-line', overflowWrap: 'anywhere' }}>
          {t.description}
        </div>
      )}
    </li>
  );
}

interface Outcome {
  ms: number;
  result?: CallResult;
  error?: unknown;
}

function ToolDetail(props: { tool: Tool; headingRef: { current: HTMLHeadingElement | null } }) {
  const t = props.tool;
  const required = t.inputSchema?.required ?? [];
  const initial = useMemo(() => JSON.stringify(skeleton(t.inputSchema), null, 2), [t]);
  const [text, setText] = useState(initial);
  const [invalid, setInvalid] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>();
  const live = useRef(true);
  useEffect(
    () => () => {
      live.current = false;
    },
    [],
  );

  const submit = async (e?: Event) => {
    e?.preventDefault();
    if (busy) return;
    const parsed = parseArguments(text);
    if ('error' in parsed) {
      setInvalid(parsed.error);
      return;
    }
    setInvalid(undefined);
    setBusy(true);
    const started = performance.now();
    try {
      // The REST facade takes the server and the tool's own name there, not the exposed name.
      const { server_id, original_name } = t.mcp_info;
      const result = await api<CallResult | undefined>('POST', '/mcp-rest/tools/call', {
        server_id,
        name: original_name,
        arguments: parsed.value,
      });
      if (live.current) setOutcome({ ms: performance.now() - started, result: result ?? {} });
    } catch (error) {
      if (live.current) setOutcome({ ms: performance.now() - started, error });
    } finally {
      if (live.current) setBusy(false);
    }
  };

  const hints = t.annotations;
  return (
    <div class="card">
      <h2 ref={props.headingRef} tabIndex={-1} class="mono" style={{ marginTop: 0, fontSize: '1.1rem', wordBreak: 'break-all', outline: 'none' }}>
        {t.name}
      </h2>
      <p class="muted" style={{ margin: '0 0 0.5rem' }}>
        Server <strong>{serverLabel(t.mcp_info)}</strong> · upstream name <code>{t.mcp_info.original_name}</code>
      </p>
      {(hints?.readOnlyHint || hints?.destructiveHint) && (
        <div class="row" style={{ marginBottom: '0.5rem' }}>
          {hints.readOnlyHint && <Badge kind="ok">read-only</Badge>}
          {hints.destructiveHint && !hints.readOnlyHint && <Badge kind="warn">may modify data</Badge>}
        </div>
      )}
      {t.title && <p style={{ fontWeight: 600, margin: '0 0 0.25rem' }}>{t.title}</p>}
      {t.description && <p style={{ whiteSpace: 'pre-line', marginTop: 0, overflowWrap: 'anywhere' }}>{t.description}</p>}

      <h3>Input schema</h3>
      <Json value={t.inputSchema ?? {}} label="Input schema" />

      <h3>Try it</h3>
      <form onSubmit={submit} noValidate>
        <Field
          label="Arguments (JSON)"
          error={invalid}
          hint={
            <>
              {required.length ? `Required: ${required.join(', ')}. ` : 'No argument is required. '}
              Prefilled from the schema; Ctrl+Enter calls the tool.
            </>
          }
        >
          {(id) => (
            <textarea
              id={id}
              rows={Math.min(14, Math.max(4, text.split('\n').length + 1))}
              spellcheck={false}
              value={text}
              aria-invalid={invalid ? 'true' : undefined}
              onInput={(e) => {
                setText(e.currentTarget.value);
                if (invalid) setInvalid(undefined);
              }}
              onKeyDown={(e) => {
                if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) void submit(e);
              }}
            />
          )}
        </Field>
        <div class="row">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Calling…' : 'Call tool'}
          </button>
          <button
            type="button"
            disabled={busy || text === initial}
            onClick={() => {
              setText(initial);
              setInvalid(undefined);
            }}
          >
            Reset arguments
          </button>
        </div>
      </form>
      {outcome && <ResultView outcome={outcome} />}
    </div>
  );
}

function ResultView(props: { outcome: Outcome }) {
  const { ms, result, error } = props.outcome;
  const ref = useRef<HTMLElement>(null);
  // On a narrow screen the answer lands below the fold: bring it into view on every call.
  useEffect(() => ref.current?.scrollIntoView({ block: 'nearest' }), [props.outcome]);
  return (
    <section ref={ref} aria-label="Result" style={{ marginTop: '1rem' }}>
      <h3 class="row" style={{ marginTop: 0 }} aria-live="polite">
        <span>Result</span>
        {error ? (
          <Badge kind="bad">failed</Badge>
        ) : result?.isError ? (
          <Badge kind="bad" title="The tool reported an error">
            error
          </Badge>
        ) : (
          <Badge kind="ok">ok</Badge>
        )}
        <span class="muted" style={{ fontWeight: 400, fontSize: '0.88rem' }}>
          took {formatMs(ms)}
        </span>
      </h3>
      {error !== undefined && <ErrorNote error={error} />}
      {result && (
        <>
          {result.isError && <Notice kind="error">The tool answered with an error:</Notice>}
          {(result.content ?? []).map((c, i) => (
            <ContentView key={i} content={c} isError={Boolean(result.isError)} />
          ))}
          {!result.content?.length && result.structuredContent === undefined && <p class="muted">The tool returned no content.</p>}
          {result.structuredContent !== undefined && (
            <>
              <h4 style={{ margin: '0.6rem 0 0' }}>Structured content</h4>
              <Json value={result.structuredContent} label="Structured content" />
            </>
          )}
          <details style={{ marginTop: '0.5rem' }}>
            <summary>Raw response</summary>
            <Json value={result} label="Raw response" />
          </details>
        </>
      )}
    </section>
  );
}

function ContentView(props: { content: Content; isError: boolean }) {
  const c = props.content;
  if (c.type === 'text' && typeof c.text === 'string') {
    const style: JSX.CSSProperties = props.isError ? { color: 'var(--bad)', borderColor: 'var(--bad)' } : {};
    return (
      <pre class="code" tabIndex={0} aria-label="Text content" style={style}>
        {c.text}
      </pre>
    );
  }
  if (c.type === 'image' && typeof c.data === 'string' && /^image\/[\w.+-]+$/.test(c.mimeType ?? '')) {
    return (
      <p>
        <img src={`data:${c.mimeType};base64,${c.data}`} alt={`Image returned by the tool (${c.mimeType})`} style={{ maxWidth: '100%' }} />
      </p>
    );
  }
  // Long base64 payloads (audio, blobs) would drown the rest: shortened here, whole in the raw view.
  const shown = typeof c.data === 'string' && c.data.length > 200 ? { ...c, data: `${c.data.slice(0, 200)}… (${c.data.length} characters)` } : c;
  return <Json value={shown} label={`${c.type} content`} />;
}
