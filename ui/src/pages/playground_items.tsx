// How the Playground shows one output item of a Responses answer (`message`, `mcp_list_tools`,
// `mcp_call`, `mcp_approval_request`, `function_call`, anything else as JSON). Each card carries
// `data-item-type` so browser tests find items by type without depending on their layout.
import type { ComponentChildren } from 'preact';
import { Badge, Json } from '../components/ui';

/** One item of a response's `output`, in every shape the gateway produces (fields optional). */
export interface OutputItem {
  type: string;
  id?: string;
  status?: string;
  role?: string;
  content?: { type: string; text?: string; refusal?: string }[];
  server_label?: string;
  name?: string;
  arguments?: string;
  output?: string | null;
  error?: unknown;
  tools?: { name: string; description?: string }[];
  approval_request_id?: string | null;
  call_id?: string;
}

/** What the user did, or may do, with an `mcp_approval_request`. */
export interface ApprovalState {
  /** `true` approved, `false` denied, `undefined` not answered yet. */
  answer: boolean | undefined;
  /** Whether the buttons work now (not while another request runs). */
  actionable: boolean;
  onAnswer: (approve: boolean) => void;
}

const card = { padding: '0.55rem 0.75rem', margin: '0.45rem 0' };
const title = { margin: 0, fontSize: '0.92rem' };
const label = { fontWeight: 600, fontSize: '0.82rem', color: 'var(--muted)', margin: '0.4rem 0 0.1rem' };

export function OutputItemView(props: { item: OutputItem; approval?: ApprovalState }) {
  const { item } = props;
  switch (item.type) {
    case 'message':
      return <MessageItem item={item} />;
    case 'mcp_list_tools':
      return <ListToolsItem item={item} />;
    case 'mcp_call':
      return <CallItem item={item} />;
    case 'mcp_approval_request':
      return <ApprovalItem item={item} approval={props.approval} />;
    case 'function_call':
      return (
        <Card item={item} status={item.status}>
          <p style={{ margin: '0.2rem 0' }}>
            The model asked for the client function <code>{item.name}</code>. The playground offers no
            functions of its own, so it does not run it.
          </p>
          <Arguments text={item.arguments} />
        </Card>
      );
    default:
      return (
        <Card item={item} status={item.status}>
          <Json value={item} label={`${item.type} item`} />
        </Card>
      );
  }
}

/** The assistant's text; a cursor shows while it is still arriving. */
function MessageItem(props: { item: OutputItem }) {
  const { item } = props;
  const parts = item.content ?? [];
  const text = parts.map((p) => p.text ?? '').join('');
  const refusal = parts.map((p) => p.refusal ?? '').join('');
  const arriving = item.status === 'in_progress';
  return (
    <div data-item-type="message" data-status={item.status} style={{ margin: '0.45rem 0' }}>
      <div style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
        {text}
        {arriving && (
          <span aria-hidden="true" class="muted">
            ▍
          </span>
        )}
      </div>
      {refusal && <div class="notice warn">The model refused: {refusal}</div>}
      {item.status === 'incomplete' && <p class="muted" style={{ margin: '0.2rem 0', fontSize: '0.85rem' }}>(cut off)</p>}
    </div>
  );
}

function ListToolsItem(props: { item: OutputItem }) {
  const { item } = props;
  const tools = item.tools ?? [];
  const error = item.error ? errorText(item.error) : '';
  const status = error ? 'failed' : (item.status ?? (tools.length ? 'completed' : undefined));
  return (
    <Card item={item} status={status} server={item.server_label}>
      {error ? (
        <ItemError text={error} />
      ) : tools.length ? (
        <p style={{ margin: '0.25rem 0 0', overflowWrap: 'anywhere' }}>
          <span class="muted">{tools.length === 1 ? '1 tool: ' : `${tools.length} tools: `}</span>
          {tools.map((t, i) => (
            <span key={t.name}>
              {i > 0 && ', '}
              <code title={t.description}>{t.name}</code>
            </span>
          ))}
        </p>
      ) : (
        <p class="muted" style={{ margin: '0.25rem 0 0' }}>
          {status === 'in_progress' ? 'Listing tools…' : 'No tools offered to this key.'}
        </p>
      )}
    </Card>
  );
}

function CallItem(props: { item: OutputItem }) {
  const { item } = props;
  const error = item.error ? errorText(item.error) : '';
  return (
    <Card item={item} status={item.status} server={item.server_label} tool={item.name}>
      <Arguments text={item.arguments} />
      {item.status === 'in_progress' && !error && <p class="muted" style={{ margin: '0.3rem 0 0' }}>Running…</p>}
      {error && (
        <>
          <div style={label}>Error</div>
          <ItemError text={error} />
        </>
      )}
      {typeof item.output === 'string' && (
        <>
          <div style={label}>Output</div>
          <Output text={item.output} />
        </>
      )}
      {item.approval_request_id && (
        <p class="muted" style={{ margin: '0.3rem 0 0', fontSize: '0.82rem' }}>
          Approved request <span class="mono">{item.approval_request_id}</span>
        </p>
      )}
    </Card>
  );
}

function ApprovalItem(props: { item: OutputItem; approval?: ApprovalState }) {
  const { item, approval } = props;
  const answer = approval?.answer;
  const status = answer === true ? 'approved' : answer === false ? 'denied' : 'waiting';
  return (
    <Card item={item} status={status} server={item.server_label} tool={item.name}>
      <Arguments text={item.arguments} />
      {answer === undefined ? (
        <div class="row" style={{ marginTop: '0.5rem' }}>
          <span>
            Run <code>{item.name}</code>?
          </span>
          <button
            type="button"
            class="primary small"
            disabled={!approval?.actionable}
            onClick={() => approval?.onAnswer(true)}
          >
            Approve
          </button>
          <button
            type="button"
            class="small danger"
            disabled={!approval?.actionable}
            onClick={() => approval?.onAnswer(false)}
          >
            Deny
          </button>
        </div>
      ) : (
        <p class="muted" style={{ margin: '0.3rem 0 0' }}>
          {answer ? 'You approved this call.' : 'You denied this call; the model is told it did not run.'}
        </p>
      )}
    </Card>
  );
}

const STATUS_KIND: Record<string, 'ok' | 'warn' | 'bad' | 'neutral'> = {
  completed: 'ok',
  approved: 'ok',
  in_progress: 'warn',
  waiting: 'warn',
  failed: 'bad',
  denied: 'bad',
  incomplete: 'bad',
};

/** A compact card: the item type as its title, its status, and what it concerns. */
function Card(props: {
  item: OutputItem;
  status?: string;
  server?: string;
  tool?: string;
  children: ComponentChildren;
}) {
  const { item, status } = props;
  const kind = status ? (STATUS_KIND[status] ?? 'neutral') : 'neutral';
  const edge = kind === 'bad' ? 'var(--bad)' : kind === 'warn' ? 'var(--warn)' : kind === 'ok' ? 'var(--ok)' : 'var(--border)';
  return (
    <div class="card" data-item-type={item.type} data-status={status} style={{ ...card, borderLeft: `4px solid ${edge}` }}>
      <div class="row" style={{ gap: '0.4rem 0.6rem' }}>
        <h3 class="mono" style={title}>
          {item.type}
        </h3>
        {status && <Badge kind={kind}>{status.replace('_', ' ')}</Badge>}
        {props.tool && (
          <span style={{ overflowWrap: 'anywhere' }}>
            <span class="muted">tool </span>
            <code>{props.tool}</code>
          </span>
        )}
        {props.server && (
          <span>
            <span class="muted">server </span>
            <code>{props.server}</code>
          </span>
        )}
      </div>
      {props.children}
    </div>
  );
}

/** A call's arguments: pretty JSON when they parse, else the text as the model gave it. */
function Arguments(props: { text: string | undefined }) {
  const text = props.text ?? '';
  if (!text.trim()) {
    return (
      <p class="muted" style={{ margin: '0.3rem 0 0', fontSize: '0.85rem' }}>
        No arguments.
      </p>
    );
  }
  const parsed = parseJson(text);
  return (
    <>
      <div style={label}>Arguments</div>
      {parsed === undefined ? (
        <pre class="code" tabIndex={0} aria-label="Arguments">
          {text}
        </pre>
      ) : (
        <Json value={parsed} label="Arguments" />
      )}
    </>
  );
}

/** A tool's output: pretty JSON when it is JSON, else the text. */
function Output(props: { text: string }) {
  const parsed = parseJson(props.text);
  return parsed !== undefined && typeof parsed === 'object' && parsed !== null ? (
    <Json value={parsed} label="Output" />
  ) : (
    <pre class="code" tabIndex={0} aria-label="Output">
      {props.text || '(empty)'}
    </pre>
  );
}

function ItemError(props: { text: string }) {
  return (
    <pre class="code" tabIndex={0} aria-label="Error" style={{ color: 'var(--bad)', background: 'var(--bad-bg)', maxHeight: '14rem' }}>
      {props.text}
    </pre>
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * An item's `error` as text: a tool's own error (`mcp_tool_execution_error`, its content
 * parts), a protocol error (message and JSON-RPC code), a plain string, or else the JSON.
 */
export function errorText(error: unknown): string {
  if (typeof error === 'string') return error;
  if (error && typeof error === 'object') {
    const e = error as { content?: unknown; message?: unknown; code?: unknown };
    if (Array.isArray(e.content)) {
      const texts = e.content
        .map((part) => (part && typeof part === 'object' && 'text' in part ? String((part as { text: unknown }).text) : JSON.stringify(part)))
        .join('\n');
      if (texts) return texts;
    }
    if (typeof e.message === 'string') return e.code !== undefined && e.code !== null ? `${e.message} (code ${String(e.code)})` : e.message;
  }
  return JSON.stringify(error, null, 2);
}
