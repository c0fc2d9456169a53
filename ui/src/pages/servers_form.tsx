// The add / edit form of the MCP servers page: every transport and auth type
// `POST`/`PUT /v1/mcp/server` accept, LiteLLM's "paste a JSON config" for stdio servers, and
// the rules for secrets the gateway only ever shows masked ("****").
import { useState } from 'preact/hooks';
import { api } from '../api';
import { ErrorNote, Field, splitList } from '../components/ui';

/** A server as `GET /v1/mcp/server` shows it (`routes/mcp_servers.rs`, `show_with`). */
export interface McpServer {
  server_id: string | null;
  server_name: string;
  alias: string | null;
  description: string | null;
  /** `null` for keys other than the master key (connection details are hidden from them). */
  url: string | null;
  spec_path: string | null;
  transport: string;
  auth_type: string | null;
  credentials: { auth_value?: string; client_id?: string; client_secret?: string; scopes?: string[] } | null;
  mcp_info: Record<string, unknown> | null;
  mcp_access_groups: string[] | null;
  allowed_tools: string[] | null;
  disallowed_tools: string[] | null;
  allowed_params: Record<string, string[]> | null;
  extra_headers: string[] | null;
  /** Header names → "****". */
  static_headers: Record<string, string> | null;
  command: string | null;
  args: string[] | null;
  /** Variable names → "****". */
  env: Record<string, string> | null;
  token_url: string | null;
  allow_all_keys: boolean;
  /** `config` (config.yaml, read-only) or `db` (managed through the API). */
  source: 'db' | 'config';
  created_at: string | null;
  created_by: string | null;
  updated_at: string | null;
  updated_by: string | null;
  status: string | null;
  last_health_check: string | null;
  health_check_error: string | null;
  tools_count: number | null;
}

/** How the gateway shows a stored secret. */
const MASK = '****';

type Transport = 'http' | 'sse' | 'stdio';
type OAuthFlow = 'client_credentials' | 'authorization_code';

const TRANSPORTS: { value: Transport; label: string }[] = [
  { value: 'http', label: 'Streamable HTTP' },
  { value: 'sse', label: 'SSE' },
  { value: 'stdio', label: 'stdio' },
];

/**
 * The auth types the gateway serves (`junction-hub` `upstream_config.rs`, `junction-mcp`
 * `auth.rs`). LiteLLM's token-exchange and SigV4 types are left out: the API refuses them
 * ("this server cannot be served").
 */
const AUTH_TYPES: { value: string; label: string; secret?: string; hint?: string }[] = [
  { value: '', label: 'None' },
  { value: 'api_key', label: 'API key (X-API-Key header)', secret: 'API key value', hint: 'Sent as the X-API-Key header.' },
  {
    value: 'bearer_token',
    label: 'Bearer token',
    secret: 'Bearer token',
    hint: 'Sent as “Authorization: Bearer <token>”.',
  },
  {
    value: 'basic',
    label: 'Basic (user:password)',
    secret: 'User and password',
    hint: 'Written as user:password; sent base64-encoded as “Authorization: Basic …”.',
  },
  {
    value: 'authorization',
    label: 'Authorization header (as is)',
    secret: 'Authorization header value',
    hint: 'The whole Authorization header value, sent unchanged.',
  },
  { value: 'token', label: 'Token (GitHub style)', secret: 'Token value', hint: 'Sent as “Authorization: token <value>”.' },
  { value: 'oauth2', label: 'OAuth2' },
];

interface FormState {
  name: string;
  alias: string;
  description: string;
  transport: Transport;
  url: string;
  specPath: string;
  command: string;
  args: string;
  env: string;
  authType: string;
  authValue: string;
  oauthFlow: OAuthFlow;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scopes: string;
  staticHeaders: string;
  extraHeaders: string;
  accessGroups: string;
  allowedTools: string;
  disallowedTools: string;
  allowedParams: string;
  allowAllKeys: boolean;
  timeout: string;
}

const EMPTY: FormState = {
  name: '',
  alias: '',
  description: '',
  transport: 'http',
  url: '',
  specPath: '',
  command: '',
  args: '',
  env: '',
  authType: '',
  authValue: '',
  oauthFlow: 'client_credentials',
  tokenUrl: '',
  clientId: '',
  clientSecret: '',
  scopes: '',
  staticHeaders: '',
  extraHeaders: '',
  accessGroups: '',
  allowedTools: '',
  disallowedTools: '',
  allowedParams: '',
  allowAllKeys: false,
  timeout: '',
};

/** The form as it stands for a stored server; secrets start empty ("keep what is stored"). */
function stateOf(s: McpServer): FormState {
  const transport = (TRANSPORTS.find((t) => t.value === s.transport?.toLowerCase())?.value ?? 'http') as Transport;
  const creds = s.credentials ?? {};
  return {
    ...EMPTY,
    name: s.server_name,
    alias: s.alias ?? '',
    description: s.description ?? '',
    transport,
    url: s.url ?? '',
    specPath: s.spec_path ?? '',
    command: s.command ?? '',
    args: (s.args ?? []).join('\n'),
    env: Object.entries(s.env ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
    authType: s.auth_type && s.auth_type !== 'none' ? s.auth_type : '',
    // The API does not say which flow is stored; an oauth2 server without client credentials
    // passes each caller's token through.
    oauthFlow: s.auth_type === 'oauth2' && !s.token_url && !creds.client_id ? 'authorization_code' : 'client_credentials',
    tokenUrl: s.token_url ?? '',
    scopes: (creds.scopes ?? []).join(', '),
    staticHeaders: Object.entries(s.static_headers ?? {})
      .map(([k, v]) => `${k}: ${v}`)
      .join('\n'),
    extraHeaders: (s.extra_headers ?? []).join(', '),
    accessGroups: (s.mcp_access_groups ?? []).join(', '),
    allowedTools: (s.allowed_tools ?? []).join(', '),
    disallowedTools: (s.disallowed_tools ?? []).join(', '),
    allowedParams: Object.entries(s.allowed_params ?? {})
      .map(([tool, params]) => `${tool}: ${params.join(', ')}`)
      .join('\n'),
    allowAllKeys: s.allow_all_keys,
  };
}

/** One item a line, blank lines dropped. */
function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

/** `KEY<sep>value` lines → a map; the text of the first bad line is the error. */
function pairs(text: string, sep: '=' | ':'): { map: Record<string, string>; bad?: string } {
  const map: Record<string, string> = {};
  for (const line of lines(text)) {
    const at = line.indexOf(sep);
    const key = at > 0 ? line.slice(0, at).trim() : '';
    if (!key) return { map, bad: line };
    map[key] = line.slice(at + 1).trim();
  }
  return { map };
}

/** `tool: a, b` lines → `{tool: [a, b]}`. */
function params(text: string): { map: Record<string, string[]>; bad?: string } {
  const { map, bad } = pairs(text, ':');
  return { map: Object.fromEntries(Object.entries(map).map(([k, v]) => [k, splitList(v)])), bad };
}

type Errors = Partial<Record<keyof FormState, string>>;

function validate(f: FormState): Errors {
  const e: Errors = {};
  const name = f.name.trim();
  if (!name) e.name = 'Give the server a name.';
  else if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) e.name = 'Use 1 to 64 letters, digits and _ only.';
  if (f.transport === 'stdio') {
    if (!f.command.trim()) e.command = 'A stdio server needs the command that starts it.';
    if (pairs(f.env, '=').bad !== undefined) e.env = `Not KEY=value: “${pairs(f.env, '=').bad}”`;
  } else {
    const url = f.url.trim();
    // An OpenAPI spec may name its own base URL.
    if (!url && !f.specPath.trim()) e.url = 'An HTTP or SSE server needs its URL.';
    else if (url && !/^https?:\/\//.test(url)) e.url = 'The URL must start with http:// or https://.';
    if (pairs(f.staticHeaders, ':').bad !== undefined)
      e.staticHeaders = `Not “Name: value”: “${pairs(f.staticHeaders, ':').bad}”`;
  }
  if (f.timeout.trim() && !(Number(f.timeout) > 0)) e.timeout = 'A positive number of seconds.';
  if (params(f.allowedParams).bad !== undefined) e.allowedParams = `Not “tool: param, …”: “${params(f.allowedParams).bad}”`;
  return e;
}

/** Every field of the body that is not a secret, with what it clears to when empty. */
function plainFields(f: FormState): Record<string, unknown> {
  const http = f.transport !== 'stdio';
  const auth = http ? f.authType : '';
  const oauth = auth === 'oauth2';
  const clientCredentials = oauth && f.oauthFlow === 'client_credentials';
  const allowed = splitList(f.allowedTools);
  const disallowed = splitList(f.disallowedTools);
  const allowedParams = params(f.allowedParams).map;
  const timeout = f.timeout.trim();
  return {
    server_name: f.name.trim() || null,
    alias: f.alias.trim() || null,
    description: f.description.trim() || null,
    transport: f.transport,
    url: http ? f.url.trim() || null : null,
    spec_path: http ? f.specPath.trim() || null : null,
    command: http ? null : f.command.trim() || null,
    args: http ? [] : lines(f.args),
    auth_type: auth || null,
    oauth2_flow: oauth ? f.oauthFlow : null,
    token_url: clientCredentials ? f.tokenUrl.trim() || null : null,
    scopes: clientCredentials ? splitList(f.scopes) : [],
    extra_headers: http ? splitList(f.extraHeaders) : [],
    mcp_access_groups: splitList(f.accessGroups),
    // An empty allow list would hide every tool when the gateway enforces allow lists.
    allowed_tools: allowed.length ? allowed : null,
    disallowed_tools: disallowed.length ? disallowed : null,
    allowed_params: Object.keys(allowedParams).length ? allowedParams : null,
    allow_all_keys: f.allowAllKeys,
    timeout: timeout ? Number(timeout) : null,
  };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The `POST` body of a new server, or the `PUT` body of a change to `initial`: only what
 * changed, because the API keeps every field (and secret) a body does not name, and would
 * store a masked "****" as the secret itself.
 */
function bodyOf(f: FormState, initial?: FormState): { body: Record<string, unknown>; errors: Errors } {
  const errors: Errors = {};
  const plain = plainFields(f);
  const body: Record<string, unknown> = {};
  if (initial) {
    const before = plainFields(initial);
    for (const [k, v] of Object.entries(plain)) if (!same(v, before[k])) body[k] = v;
  } else {
    for (const [k, v] of Object.entries(plain)) if (v !== null && !same(v, [])) body[k] = v;
  }

  const http = f.transport !== 'stdio';
  const auth = http ? f.authType : '';
  const clientCredentials = auth === 'oauth2' && f.oauthFlow === 'client_credentials';
  const credentials: Record<string, string | null> = {};
  if (auth && auth !== 'oauth2' && f.authValue) credentials.auth_value = f.authValue;
  if (clientCredentials && f.clientId) credentials.client_id = f.clientId;
  if (clientCredentials && f.clientSecret) credentials.client_secret = f.clientSecret;
  if (initial) {
    const wasAuth = initial.transport !== 'stdio' ? initial.authType : '';
    if (wasAuth && !auth) {
      body.credentials = null;
    } else {
      // Secrets of an auth type no longer in use are dropped, not kept sealed and unused.
      if (wasAuth && wasAuth !== 'oauth2' && auth === 'oauth2') credentials.auth_value = null;
      if (wasAuth === 'oauth2' && !clientCredentials) {
        credentials.client_id = null;
        credentials.client_secret = null;
      }
      if (Object.keys(credentials).length) body.credentials = credentials;
    }
  } else if (Object.keys(credentials).length) {
    body.credentials = credentials;
  }

  // env and static_headers are replaced whole; their stored values are only shown masked.
  const masked = (text: string, sep: '=' | ':', key: 'env' | 'staticHeaders', field: string, on: boolean) => {
    const map = on ? pairs(text, sep).map : {};
    const wasOn = initial ? (key === 'env' ? initial.transport === 'stdio' : initial.transport !== 'stdio') : false;
    if (initial && on === wasOn && text === initial[key]) return;
    if (Object.values(map).includes(MASK)) {
      errors[key] =
        'Type the stored values again (shown as ****) or remove those lines: saving replaces all of them, and the gateway never shows their values.';
      return;
    }
    if (Object.keys(map).length) body[field] = map;
    else if (initial && wasOn && initial[key]) body[field] = null;
  };
  masked(f.env, '=', 'env', 'env', !http);
  masked(f.staticHeaders, ':', 'staticHeaders', 'static_headers', http);
  return { body, errors };
}

/** What a pasted JSON config fills in. */
interface Pasted {
  name?: string;
  transport?: Transport;
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  url?: string;
  others: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads `{"mcpServers": {"name": {...}}}` (Claude Desktop, Cursor, LiteLLM's UI), the same
 * under `servers` (VS Code), `{"name": {...}}`, or a single `{"command": ...}` object.
 */
export function parseJsonConfig(text: string): Pasted {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`This is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isObject(value)) throw new Error('Expected a JSON object.');
  const looksLikeServer = (v: Record<string, unknown>) => 'command' in v || 'url' in v;
  let name: string | undefined;
  let server: Record<string, unknown> | undefined;
  let others = 0;
  const map = isObject(value.mcpServers) ? value.mcpServers : isObject(value.servers) ? value.servers : undefined;
  if (looksLikeServer(value)) {
    server = value;
  } else {
    const entries = Object.entries(map ?? value).filter(([, v]) => isObject(v) && looksLikeServer(v));
    if (!entries.length) throw new Error('No server found: expected {"mcpServers": {"name": {"command": …}}} or {"command": …}.');
    [name] = entries[0];
    server = entries[0][1] as Record<string, unknown>;
    others = entries.length - 1;
  }
  const out: Pasted = { name, others };
  if (typeof server.command === 'string') {
    out.transport = 'stdio';
    out.command = server.command;
    if (Array.isArray(server.args)) out.args = server.args.map(String);
    if (isObject(server.env)) out.env = Object.fromEntries(Object.entries(server.env).map(([k, v]) => [k, String(v)]));
  } else if (typeof server.url === 'string') {
    const kind = String(server.type ?? server.transport ?? '').toLowerCase();
    out.transport = kind === 'sse' ? 'sse' : 'http';
    out.url = server.url;
  } else {
    throw new Error('The server has neither a "command" string nor a "url" string.');
  }
  return out;
}

/** The add / edit form. `server` set: edit that stored server. */
export function ServerForm(props: {
  server?: McpServer;
  groups: string[];
  onDone: (saved: McpServer) => void;
  onCancel: () => void;
}) {
  const editing = props.server;
  const [initial] = useState<FormState | undefined>(() => (editing ? stateOf(editing) : undefined));
  const [f, setF] = useState<FormState>(() => initial ?? EMPTY);
  const [errors, setErrors] = useState<Errors>({});
  const [serverError, setServerError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [json, setJson] = useState('');
  const [jsonError, setJsonError] = useState<string>();
  const [jsonDone, setJsonDone] = useState<string>();

  const set = <K extends keyof FormState>(key: K, value: FormState[K]) => setF((old) => ({ ...old, [key]: value }));
  const text = (key: keyof FormState) => ({
    value: String(f[key]),
    onInput: (e: Event) => set(key, (e.currentTarget as HTMLInputElement).value as never),
  });

  const stored = editing?.credentials ?? {};
  const secretHint = (isSet: boolean, what: string) =>
    isSet ? `A ${what} is stored (the gateway never shows it). Leave empty to keep it, or type a new one.` : undefined;
  const auth = AUTH_TYPES.find((a) => a.value === f.authType);
  // A stored auth type this form does not offer is still shown, so editing does not change it.
  const authTypes = auth ? AUTH_TYPES : [...AUTH_TYPES, { value: f.authType, label: f.authType }];
  const http = f.transport !== 'stdio';

  const fillFromJson = () => {
    setJsonError(undefined);
    setJsonDone(undefined);
    try {
      const p = parseJsonConfig(json);
      setF((old) => ({
        ...old,
        name: p.name ?? old.name,
        transport: p.transport ?? old.transport,
        command: p.command ?? old.command,
        args: p.args ? p.args.join('\n') : old.args,
        env: p.env
          ? Object.entries(p.env)
              .map(([k, v]) => `${k}=${v}`)
              .join('\n')
          : old.env,
        url: p.url ?? old.url,
      }));
      setJsonDone(
        `Filled in ${p.name ? `“${p.name}”` : 'the server'} from the JSON config.` +
          (p.others ? ` It has ${p.others} more server${p.others > 1 ? 's' : ''}; add each one separately.` : ''),
      );
    } catch (e) {
      setJsonError(e instanceof Error ? e.message : String(e));
    }
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setServerError(undefined);
    const found = validate(f);
    const { body, errors: bodyErrors } = bodyOf(f, initial);
    const all = { ...found, ...bodyErrors };
    setErrors(all);
    if (Object.keys(all).length) {
      const form = e.currentTarget as HTMLFormElement;
      // Let the error render first, then take the keyboard to it.
      setTimeout(() => form.querySelector<HTMLElement>('.field.invalid input, .field.invalid textarea, .field.invalid select')?.focus());
      return;
    }
    setBusy(true);
    try {
      const saved = editing
        ? await api<McpServer>('PUT', '/v1/mcp/server', { server_id: editing.server_id, ...body })
        : await api<McpServer>('POST', '/v1/mcp/server', body);
      props.onDone(saved);
    } catch (err) {
      setServerError(err);
    } finally {
      setBusy(false);
    }
  };

  // Suggestions complete the last comma-separated item, keeping those before it.
  const groupPrefix = f.accessGroups.includes(',') ? f.accessGroups.slice(0, f.accessGroups.lastIndexOf(',') + 1) + ' ' : '';
  const chosen = new Set(splitList(f.accessGroups));
  const suggestions = props.groups.filter((g) => !chosen.has(g));
  const advancedSet = Boolean(f.alias || f.allowedParams || f.timeout || f.specPath || f.extraHeaders || f.staticHeaders);

  return (
    <form onSubmit={submit} noValidate>
      <p class="muted">
        {editing
          ? 'Changes apply at once: the gateway reconnects to the server.'
          : 'The server is stored in the database and served at once by every gateway replica.'}
      </p>
      <div class="grid2" style={{ alignItems: 'start', gap: '0 1rem' }}>
        <Field label="Name" error={errors.name} hint="Letters, digits and _. Tools are listed as <name>-<tool>.">
          {(id) => <input id={id} name="server_name" autocomplete="off" required {...text('name')} />}
        </Field>
        <Field label="Transport">
          {(id) => (
            <select id={id} value={f.transport} onChange={(e) => set('transport', e.currentTarget.value as Transport)}>
              {TRANSPORTS.map((t) => (
                <option key={t.value} value={t.value}>
                  {t.label}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <Field label="Description">{(id) => <input id={id} {...text('description')} />}</Field>

      {http ? (
        <>
          <Field
            label="URL"
            error={errors.url}
            hint={f.transport === 'sse' ? 'The SSE endpoint, e.g. https://host/sse' : 'The MCP endpoint, e.g. https://host/mcp'}
          >
            {(id) => <input id={id} type="url" inputMode="url" placeholder="https://" {...text('url')} />}
          </Field>
          <fieldset>
            <legend>Authentication</legend>
            <Field label="Auth type" hint="How the gateway proves who it is to this server.">
              {(id) => (
                <select id={id} value={f.authType} onChange={(e) => set('authType', e.currentTarget.value)}>
                  {authTypes.map((a) => (
                    <option key={a.value} value={a.value}>
                      {a.label}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            {auth?.secret && (
              <Field
                label={auth.secret}
                hint={secretHint(stored.auth_value === MASK, 'value') ?? `${auth.hint} Leave empty to take it from each caller's x-mcp-auth header.`}
              >
                {(id) => (
                  <input
                    id={id}
                    type="password"
                    autocomplete="new-password"
                    placeholder={stored.auth_value === MASK ? '•••• (stored)' : ''}
                    {...text('authValue')}
                  />
                )}
              </Field>
            )}
            {f.authType === 'oauth2' && (
              <>
                <Field label="OAuth2 flow">
                  {(id) => (
                    <select id={id} value={f.oauthFlow} onChange={(e) => set('oauthFlow', e.currentTarget.value as OAuthFlow)}>
                      <option value="client_credentials">Client credentials (the gateway gets its own token)</option>
                      <option value="authorization_code">Each caller's own token (passed through)</option>
                    </select>
                  )}
                </Field>
                {f.oauthFlow === 'client_credentials' ? (
                  <>
                    <Field label="Token URL">
                      {(id) => <input id={id} type="url" placeholder="https://auth.example/oauth/token" {...text('tokenUrl')} />}
                    </Field>
                    <div class="grid2" style={{ alignItems: 'start', gap: '0 1rem' }}>
                      <Field label="Client ID" hint={secretHint(stored.client_id === MASK, 'client ID')}>
                        {(id) => (
                          <input
                            id={id}
                            autocomplete="off"
                            placeholder={stored.client_id === MASK ? '•••• (stored)' : ''}
                            {...text('clientId')}
                          />
                        )}
                      </Field>
                      <Field label="Client secret" hint={secretHint(stored.client_secret === MASK, 'client secret')}>
                        {(id) => (
                          <input
                            id={id}
                            type="password"
                            autocomplete="new-password"
                            placeholder={stored.client_secret === MASK ? '•••• (stored)' : ''}
                            {...text('clientSecret')}
                          />
                        )}
                      </Field>
                    </div>
                    <Field label="Scopes" hint="Comma separated.">
                      {(id) => <input id={id} {...text('scopes')} />}
                    </Field>
                  </>
                ) : (
                  <p class="muted">Each caller sends its own OAuth2 token with its request; the gateway passes it on.</p>
                )}
              </>
            )}
          </fieldset>
        </>
      ) : (
        <>
          <details style={{ marginBottom: '0.8rem' }}>
            <summary style={{ cursor: 'pointer', marginBottom: '0.4rem' }}>Paste a JSON config</summary>
            <Field
              label="JSON config"
              error={jsonError}
              hint={'An “mcpServers” block as Claude Desktop or Cursor use, or one {"command": …, "args": […], "env": {…}} object.'}
            >
              {(id) => (
                <textarea
                  id={id}
                  spellcheck={false}
                  placeholder={'{\n  "mcpServers": {\n    "time": {"command": "uvx", "args": ["mcp-server-time"]}\n  }\n}'}
                  value={json}
                  onInput={(e) => setJson(e.currentTarget.value)}
                />
              )}
            </Field>
            <div class="row" style={{ marginBottom: '0.8rem' }}>
              <button type="button" onClick={fillFromJson} disabled={!json.trim()}>
                Fill from JSON
              </button>
              {jsonDone && (
                <span class="muted" role="status">
                  {jsonDone}
                </span>
              )}
            </div>
          </details>
          <Field label="Command" error={errors.command} hint="Run by the gateway, on the gateway's machine.">
            {(id) => <input id={id} class="mono" spellcheck={false} autocomplete="off" {...text('command')} />}
          </Field>
          <div class="grid2" style={{ alignItems: 'start', gap: '0 1rem' }}>
            <Field label="Arguments" hint="One per line.">
              {(id) => <textarea id={id} spellcheck={false} {...text('args')} />}
            </Field>
            <Field
              label="Environment"
              error={errors.env}
              hint={
                initial?.env
                  ? 'KEY=value per line. Stored values show as ****; leave this unchanged to keep them.'
                  : 'KEY=value per line. Stored encrypted.'
              }
            >
              {(id) => <textarea id={id} spellcheck={false} {...text('env')} />}
            </Field>
          </div>
        </>
      )}

      <Field
        label="Access groups"
        hint={
          props.groups.length
            ? `Comma separated. Existing: ${props.groups.join(', ')}.`
            : 'Comma separated. A key or team given a group may use every server in it.'
        }
      >
        {(id) => (
          <>
            <input id={id} list={`${id}-groups`} autocomplete="off" {...text('accessGroups')} />
            <datalist id={`${id}-groups`}>
              {suggestions.map((g) => (
                <option key={g} value={groupPrefix + g} />
              ))}
            </datalist>
          </>
        )}
      </Field>
      <div class="grid2" style={{ alignItems: 'start', gap: '0 1rem' }}>
        <Field label="Allowed tools" hint="Comma separated; empty allows every tool.">
          {(id) => <input id={id} spellcheck={false} {...text('allowedTools')} />}
        </Field>
        <Field label="Disallowed tools" hint="Comma separated; ignored when allowed tools are set.">
          {(id) => <input id={id} spellcheck={false} {...text('disallowedTools')} />}
        </Field>
      </div>
      <div class="field">
        <label class="checks" style={{ flexWrap: 'nowrap', alignItems: 'flex-start' }}>
          <input type="checkbox" checked={f.allowAllKeys} onChange={(e) => set('allowAllKeys', e.currentTarget.checked)} />
          Every key may use this server, whatever its permissions
        </label>
      </div>

      <details open={advancedSet} style={{ marginBottom: '0.8rem' }}>
        <summary style={{ cursor: 'pointer' }}>More options</summary>
        <div class="grid2" style={{ marginTop: '0.6rem', alignItems: 'start', gap: '0 1rem' }}>
          <Field label="Alias" hint="Prefix of the tool names instead of the name.">
            {(id) => <input id={id} autocomplete="off" {...text('alias')} />}
          </Field>
          <Field
            label="Timeout (seconds)"
            error={errors.timeout}
            hint={editing ? 'For each tool call. The gateway does not show the stored value; leave empty to keep it.' : 'For each tool call.'}
          >
            {(id) => <input id={id} type="number" min="0" step="any" inputMode="decimal" {...text('timeout')} />}
          </Field>
        </div>
        <Field label="Allowed parameters" error={errors.allowedParams} hint="tool: param, param — one tool per line; other arguments are refused.">
          {(id) => <textarea id={id} spellcheck={false} style={{ minHeight: '3.5rem' }} {...text('allowedParams')} />}
        </Field>
        {http && (
          <>
            <Field
              label="Static headers"
              error={errors.staticHeaders}
              hint={
                initial?.staticHeaders
                  ? 'Name: value per line, sent with every request. Stored values show as ****; leave this unchanged to keep them.'
                  : 'Name: value per line, sent with every request. Stored encrypted.'
              }
            >
              {(id) => <textarea id={id} spellcheck={false} style={{ minHeight: '3.5rem' }} {...text('staticHeaders')} />}
            </Field>
            <Field label="Forwarded headers" hint="Comma separated names of caller request headers passed on to this server.">
              {(id) => <input id={id} spellcheck={false} {...text('extraHeaders')} />}
            </Field>
            <Field label="OpenAPI spec" hint="A path or URL of an OpenAPI spec: its operations become tools, called at the URL above.">
              {(id) => <input id={id} spellcheck={false} {...text('specPath')} />}
            </Field>
          </>
        )}
      </details>

      <ErrorNote error={serverError} />
      <div class="form-actions">
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? (editing ? 'Saving…' : 'Adding…') : editing ? 'Save changes' : 'Add server'}
        </button>
      </div>
    </form>
  );
}
