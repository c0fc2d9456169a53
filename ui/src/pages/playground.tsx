// The Playground: a chat through the gateway's own `POST /v1/responses`, with the gateway's MCP
// servers offered as LiteLLM-style `mcp` tools (`server_url: "litellm_proxy"`), so what it shows
// is exactly what an API client of this gateway gets: the tool listings, each tool call with its
// output or error, approvals, and the answer, streamed live or as one JSON body.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, postSse } from '../api';
import type { SseEvent } from '../api';
import type { Route } from '../router';
import { Empty, ErrorNote, Field, Loading, Notice, Page, messageOf, useAsync } from '../components/ui';
import { OutputItemView } from './playground_items';
import type { OutputItem } from './playground_items';

interface ModelList {
  data: { id: string }[];
}

/** The part of `GET /v1/mcp/server` this page uses. */
interface McpServer {
  server_name: string;
  description?: string | null;
  status?: string | null;
  health_check_error?: string | null;
}

interface Usage {
  input_tokens?: number;
  output_tokens?: number;
  total_tokens?: number;
}

/** The response object, as far as the page reads it. */
interface ResponseObject {
  id: string;
  status?: string;
  model?: string;
  output?: OutputItem[];
  usage?: Usage | null;
  error?: { message?: string; code?: string } | null;
  incomplete_details?: { reason?: string } | null;
}

type Approval = 'never' | 'always';

interface UserEntry {
  kind: 'user';
  key: number;
  text: string;
  /** Set for an approval answer rather than a typed message. */
  answer?: boolean;
}

interface AssistantEntry {
  kind: 'assistant';
  key: number;
  model: string;
  /** Indexed by `output_index`, in the order the gateway adds them. */
  items: OutputItem[];
  /** Known from `response.created` on, before the response is finished. */
  responseId?: string;
  status: 'running' | 'completed' | 'incomplete' | 'failed' | 'stopped';
  usage?: Usage | null;
  error?: string;
  incompleteReason?: string;
}

type Entry = UserEntry | AssistantEntry;

let nextKey = 1;

export function Playground(_props: { route: Route }) {
  const models = useAsync(() => api<ModelList>('GET', '/v1/models'), []);
  const servers = useAsync(() => api<McpServer[]>('GET', '/v1/mcp/server'), []);

  const [model, setModel] = useState('');
  const [selected, setSelected] = useState<string[]>([]);
  const [approval, setApproval] = useState<Approval>('never');
  const [stream, setStream] = useState(true);
  const [instructions, setInstructions] = useState('');
  const [message, setMessage] = useState('');

  const [entries, setEntries] = useState<Entry[]>([]);
  const [answers, setAnswers] = useState<Record<string, boolean>>({});
  const [busy, setBusy] = useState(false);
  // Refs, not state: the running request reads and writes them from its own callbacks.
  const running = useRef<AbortController | null>(null);
  const lastResponseId = useRef<string | null>(null);
  // Bumped by "New conversation", so a request of the old one cannot set where the new one continues.
  const generation = useRef(0);

  const messageBox = useRef<HTMLTextAreaElement>(null);
  const log = useRef<HTMLDivElement>(null);
  const stick = useRef(true);

  const modelIds = models.data?.data.map((m) => m.id) ?? [];
  useEffect(() => {
    if (modelIds.length && !modelIds.includes(model)) setModel(modelIds[0]);
  }, [models.data]);

  // Follow the answer as it grows, unless the reader scrolled up to read something earlier.
  useEffect(() => {
    const box = log.current;
    if (box && stick.current) box.scrollTop = box.scrollHeight;
  }, [entries]);

  // Leaving the page stops reading the stream (the gateway finishes the response anyway).
  useEffect(() => () => running.current?.abort(), []);

  const patch = (key: number, change: (e: AssistantEntry) => AssistantEntry) =>
    setEntries((all) => all.map((e) => (e.key === key && e.kind === 'assistant' ? change(e) : e)));

  const tools = (extraLabel?: string) => {
    const labels = extraLabel && !selected.includes(extraLabel) ? [...selected, extraLabel] : selected;
    return labels.map((label) => ({
      type: 'mcp',
      server_label: label,
      server_url: 'litellm_proxy',
      require_approval: approval,
    }));
  };

  /** Sends one turn; `onHttpError` runs when the gateway refused it before starting. */
  const run = async (input: unknown[], user: UserEntry, extraLabel?: string, onHttpError?: () => void) => {
    if (running.current || !model) return;
    const controller = new AbortController();
    running.current = controller;
    setBusy(true);
    stick.current = true;
    const key = nextKey++;
    setEntries((all) => [...all, user, { kind: 'assistant', key, model, items: [], status: 'running' }]);

    const requestTools = tools(extraLabel);
    const body: Record<string, unknown> = { model, input, stream };
    if (requestTools.length) body.tools = requestTools;
    if (lastResponseId.current) body.previous_response_id = lastResponseId.current;
    // Instructions do not carry over with previous_response_id, so every turn sends them.
    if (instructions.trim()) body.instructions = instructions;

    const started = generation.current;
    let createdId: string | undefined;
    let finished = false;
    const finish = (response: ResponseObject) => {
      finished = true;
      if (generation.current === started) lastResponseId.current = response.id;
      patch(key, (e) => final(e, response));
    };
    try {
      if (stream) {
        await postSse(
          '/v1/responses',
          body,
          (event) => {
            const data = parse(event);
            if (!data) return;
            const response = data.response as ResponseObject | undefined;
            switch (event.event) {
              case 'response.created':
                if (response?.id) {
                  createdId = response.id;
                  patch(key, (e) => ({ ...e, responseId: response.id }));
                }
                return;
              case 'response.completed':
              case 'response.incomplete':
              case 'response.failed':
                if (response) finish(response);
                return;
              case 'error':
                finished = true;
                patch(key, (e) => ({ ...e, status: 'failed', error: eventError(data) }));
                return;
              default:
                patch(key, (e) => applyEvent(e, event.event, data));
            }
          },
          controller.signal,
        );
        if (!finished && !controller.signal.aborted) {
          patch(key, (e) => ({
            ...e,
            status: 'failed',
            error: 'The stream ended before the response finished (no response.completed event).',
          }));
        }
      } else {
        const response = await api<ResponseObject>('POST', '/v1/responses', body);
        // A stopped or discarded request's late answer is not this conversation's any more.
        if (!controller.signal.aborted) finish(response);
      }
    } catch (error) {
      // A stopped response is left out: the gateway finishes and stores it only later, so
      // continuing from its id could meet a 404; the next turn continues from the one before.
      if (!controller.signal.aborted) {
        if (!createdId) onHttpError?.();
        const text = error instanceof ApiError && error.status ? `HTTP ${error.status}: ${error.message}` : messageOf(error);
        patch(key, (e) => ({ ...e, status: 'failed', error: text }));
      }
    } finally {
      if (controller.signal.aborted) {
        patch(key, (e) => (e.status === 'running' ? { ...e, status: 'stopped' } : e));
      }
      if (running.current === controller) {
        running.current = null;
        setBusy(false);
      }
    }
  };

  const send = () => {
    const text = message.trim();
    if (!text || running.current || !model) return;
    setMessage('');
    void run([{ role: 'user', content: text }], { kind: 'user', key: nextKey++, text });
    messageBox.current?.focus();
  };

  const answer = (item: OutputItem, approve: boolean) => {
    const id = item.id;
    if (!id || running.current || !model) return;
    setAnswers((a) => ({ ...a, [id]: approve }));
    const text = `${approve ? 'Approved' : 'Denied'} the call of ${item.name ?? 'the tool'}`;
    void run(
      [{ type: 'mcp_approval_response', approval_request_id: id, approve }],
      { kind: 'user', key: nextKey++, text, answer: approve },
      // The approved call runs only if its server is among this request's tools.
      item.server_label,
      () =>
        setAnswers((a) => {
          const rest = { ...a };
          delete rest[id];
          return rest;
        }),
    );
    // The buttons go away; the message box is where the conversation goes on.
    messageBox.current?.focus();
  };

  const stop = () => running.current?.abort();

  const reset = () => {
    generation.current += 1;
    running.current?.abort();
    lastResponseId.current = null;
    setEntries([]);
    setAnswers({});
    messageBox.current?.focus();
  };

  const toggleServer = (name: string, on: boolean) =>
    setSelected((s) => (on ? [...s.filter((n) => n !== name), name] : s.filter((n) => n !== name)));

  const serverList = servers.data ?? [];

  return (
    <Page
      title="Playground"
      actions={
        <button type="button" onClick={reset} disabled={!entries.length && !busy}>
          New conversation
        </button>
      }
    >
      <div style={{ display: 'flex', flexWrap: 'wrap', gap: '1rem', alignItems: 'flex-start' }}>
        <section class="card" aria-labelledby="pg-settings" style={{ flex: '1 1 16rem', minWidth: 0 }}>
          <h2 id="pg-settings" style={{ marginTop: 0 }}>
            Settings
          </h2>
          {models.loading && !models.data ? (
            <Loading what="models" />
          ) : models.error ? (
            <ErrorNote error={models.error} onRetry={models.reload} />
          ) : !modelIds.length ? (
            <Notice kind="warn">This key may use no model, so there is nothing to chat with.</Notice>
          ) : (
            <Field label="Model">
              {(id) => (
                <select id={id} value={model} onChange={(e) => setModel(e.currentTarget.value)}>
                  {modelIds.map((m) => (
                    <option key={m} value={m}>
                      {m}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          )}

          <fieldset>
            <legend>MCP servers</legend>
            {servers.loading && !servers.data ? (
              <Loading what="MCP servers" />
            ) : servers.error ? (
              <ErrorNote error={servers.error} onRetry={servers.reload} />
            ) : !serverList.length ? (
              <p class="muted" style={{ margin: 0 }}>
                This key may use no MCP server; the model answers without tools.
              </p>
            ) : (
              <>
                <div class="checks" style={{ flexDirection: 'column' }}>
                  {serverList.map((s) => (
                    <div key={s.server_name}>
                      <label title={s.description ?? undefined}>
                        <input
                          type="checkbox"
                          checked={selected.includes(s.server_name)}
                          onChange={(e) => toggleServer(s.server_name, e.currentTarget.checked)}
                        />
                        {s.server_name}
                      </label>
                      {s.status && s.status !== 'healthy' && (
                        <span class="muted" style={{ fontSize: '0.82rem', marginLeft: '0.4rem' }} title={s.health_check_error ?? undefined}>
                          ({s.status})
                        </span>
                      )}
                    </div>
                  ))}
                </div>
                <p class="muted" style={{ margin: '0.4rem 0 0', fontSize: '0.82rem' }}>
                  Checked servers are offered to the model; the gateway runs their tools.
                </p>
              </>
            )}
          </fieldset>

          <Field
            label="Approval"
            hint={approval === 'always' ? 'Each tool call waits for your Approve or Deny.' : 'Tools run as soon as the model calls them.'}
          >
            {(id) => (
              <select id={id} value={approval} onChange={(e) => setApproval(e.currentTarget.value as Approval)}>
                <option value="never">never</option>
                <option value="always">always</option>
              </select>
            )}
          </Field>

          <div class="checks" style={{ marginBottom: '0.8rem' }}>
            <label>
              <input type="checkbox" checked={stream} onChange={(e) => setStream(e.currentTarget.checked)} />
              Stream
            </label>
          </div>

          <details>
            <summary style={{ cursor: 'pointer', fontWeight: 600, fontSize: '0.9rem' }}>Instructions (optional)</summary>
            <div style={{ marginTop: '0.5rem' }}>
              <Field label="Instructions" hint="A system message sent with every turn.">
                {(id) => (
                  <textarea
                    id={id}
                    rows={3}
                    value={instructions}
                    onInput={(e) => setInstructions(e.currentTarget.value)}
                  />
                )}
              </Field>
            </div>
          </details>
        </section>

        <section aria-labelledby="pg-conversation" style={{ flex: '1000 1 24rem', minWidth: 0 }}>
          <h2 id="pg-conversation" style={{ marginTop: 0 }}>
            Conversation
          </h2>
          <div
            ref={log}
            role="log"
            aria-label="Conversation"
            aria-live="polite"
            tabIndex={0}
            onScroll={(e) => {
              const box = e.currentTarget;
              stick.current = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
            }}
            style={{
              maxHeight: '65vh',
              overflowY: 'auto',
              ...(entries.length
                ? { background: 'var(--panel)', border: '1px solid var(--border)', borderRadius: 'var(--radius)', padding: '0 0.75rem' }
                : {}),
            }}
          >
            {entries.length ? (
              entries.map((entry) =>
                entry.kind === 'user' ? (
                  <UserTurn key={entry.key} entry={entry} />
                ) : (
                  <AssistantTurn
                    key={entry.key}
                    entry={entry}
                    answers={answers}
                    canAnswer={!busy}
                    onAnswer={answer}
                  />
                ),
              )
            ) : (
              <Empty>
                No messages yet. Pick a model, check the MCP servers whose tools it may use, and send a
                message. Tool listings, tool calls and the answer show here as they arrive.
              </Empty>
            )}
          </div>

          <form
            style={{ marginTop: '0.75rem' }}
            onSubmit={(e) => {
              e.preventDefault();
              send();
            }}
          >
            <Field label="Message" hint="Ctrl+Enter (⌘+Enter on a Mac) sends.">
              {(id) => (
                <textarea
                  id={id}
                  ref={messageBox}
                  rows={3}
                  value={message}
                  style={{ fontFamily: 'inherit', fontSize: 'inherit' }}
                  placeholder="Ask something, e.g. What time is it?"
                  onInput={(e) => setMessage(e.currentTarget.value)}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
                      e.preventDefault();
                      send();
                    }
                  }}
                />
              )}
            </Field>
            <div class="row" style={{ justifyContent: 'flex-end' }}>
              {lastResponseId.current && !busy && (
                <span class="muted" style={{ marginRight: 'auto', fontSize: '0.82rem' }}>
                  Continues from <span class="mono">{lastResponseId.current}</span>
                </span>
              )}
              {busy && (
                <button type="button" class="danger" onClick={stop}>
                  Stop
                </button>
              )}
              <button type="submit" class="primary" disabled={busy || !message.trim() || !model}>
                Send
              </button>
            </div>
          </form>
        </section>
      </div>
    </Page>
  );
}

function UserTurn(props: { entry: UserEntry }) {
  const { entry } = props;
  return (
    <div
      style={{
        margin: '0.6rem 0 0.6rem auto',
        maxWidth: '85%',
        width: 'fit-content',
        background: 'var(--info-bg)',
        borderRadius: 'var(--radius)',
        padding: '0.5rem 0.75rem',
      }}
    >
      <div class="muted" style={{ fontSize: '0.78rem', fontWeight: 600 }}>
        You
      </div>
      <div style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere', fontStyle: entry.answer === undefined ? undefined : 'italic' }}>
        {entry.text}
      </div>
    </div>
  );
}

function AssistantTurn(props: {
  entry: AssistantEntry;
  answers: Record<string, boolean>;
  canAnswer: boolean;
  onAnswer: (item: OutputItem, approve: boolean) => void;
}) {
  const { entry, answers } = props;
  const items = entry.items.filter(Boolean);
  const usage = entry.usage;
  return (
    <div style={{ margin: '0.6rem 0', maxWidth: '100%' }}>
      <div class="muted" style={{ fontSize: '0.78rem', fontWeight: 600 }}>
        Assistant · {entry.model}
      </div>
      {items.map((item, i) => (
        <OutputItemView
          key={item.id ?? i}
          item={item}
          approval={
            item.type === 'mcp_approval_request' && item.id
              ? {
                  answer: answers[item.id],
                  actionable: props.canAnswer && entry.status !== 'running',
                  onAnswer: (approve) => props.onAnswer(item, approve),
                }
              : undefined
          }
        />
      ))}
      {entry.status === 'running' && (
        <p class="muted" style={{ margin: '0.3rem 0' }}>
          {items.length ? 'Working…' : 'Waiting for the gateway…'}
        </p>
      )}
      {entry.status === 'stopped' && (
        <Notice kind="warn">
          Stopped. This turn is left out of the conversation: the next message continues from the answer before it.
        </Notice>
      )}
      {entry.status === 'incomplete' && (
        <Notice kind="warn">The response is incomplete{entry.incompleteReason ? `: ${entry.incompleteReason}` : ''}.</Notice>
      )}
      {entry.error && <ErrorNote error={entry.error} />}
      {entry.status === 'completed' && !items.length && <p class="muted">(The response has no output.)</p>}
      {(entry.responseId || usage) && (
        <p class="muted" style={{ margin: '0.2rem 0 0', fontSize: '0.78rem', overflowWrap: 'anywhere' }}>
          {usage && (
            <span>
              {usage.input_tokens ?? 0} in · {usage.output_tokens ?? 0} out · {usage.total_tokens ?? 0} tokens
              {entry.responseId ? ' · ' : ''}
            </span>
          )}
          {entry.responseId && <span class="mono">{entry.responseId}</span>}
        </p>
      )}
    </div>
  );
}

/** The entry once the response is over, from the final response object. */
function final(entry: AssistantEntry, response: ResponseObject): AssistantEntry {
  const status = response.status === 'incomplete' ? 'incomplete' : response.status === 'failed' ? 'failed' : 'completed';
  return {
    ...entry,
    // The final object is the truth; the streamed items were its preview.
    items: response.output?.length ? response.output : entry.items,
    responseId: response.id,
    model: response.model ?? entry.model,
    status,
    usage: response.usage,
    error: status === 'failed' ? (response.error?.message ?? 'The response failed.') : entry.error,
    incompleteReason: response.incomplete_details?.reason,
  };
}

/** One streamed event about an output item, applied to the entry. */
function applyEvent(entry: AssistantEntry, kind: string, data: Record<string, unknown>): AssistantEntry {
  const index = typeof data.output_index === 'number' ? data.output_index : -1;
  if (index < 0) return entry;
  const update = (change: (item: OutputItem) => OutputItem): AssistantEntry => {
    const current = entry.items[index];
    if (!current) return entry;
    const items = entry.items.slice();
    items[index] = change(current);
    return { ...entry, items };
  };
  switch (kind) {
    case 'response.output_item.added':
    case 'response.output_item.done': {
      const item = data.item as OutputItem | undefined;
      if (!item) return entry;
      const items = entry.items.slice();
      items[index] = item;
      return { ...entry, items };
    }
    case 'response.output_text.delta':
      return update((item) => setText(item, textOf(item) + String(data.delta ?? '')));
    case 'response.output_text.done':
      return update((item) => setText(item, String(data.text ?? textOf(item))));
    case 'response.mcp_call_arguments.delta':
    case 'response.function_call_arguments.delta':
      return update((item) => ({ ...item, arguments: (item.arguments ?? '') + String(data.delta ?? '') }));
    case 'response.mcp_call_arguments.done':
    case 'response.function_call_arguments.done':
      return update((item) => ({ ...item, arguments: String(data.arguments ?? item.arguments ?? '') }));
    case 'response.mcp_call.in_progress':
    case 'response.mcp_list_tools.in_progress':
      return update((item) => ({ ...item, status: 'in_progress' }));
    case 'response.mcp_call.completed':
    case 'response.mcp_list_tools.completed':
      return update((item) => ({ ...item, status: 'completed' }));
    case 'response.mcp_call.failed':
    case 'response.mcp_list_tools.failed':
      return update((item) => ({ ...item, status: 'failed' }));
    default:
      return entry;
  }
}

function textOf(item: OutputItem): string {
  return (item.content ?? []).map((p) => p.text ?? '').join('');
}

function setText(item: OutputItem, text: string): OutputItem {
  return { ...item, content: [{ type: 'output_text', text }] };
}

function parse(event: SseEvent): Record<string, unknown> | undefined {
  try {
    const data: unknown = JSON.parse(event.data);
    return data && typeof data === 'object' ? (data as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The message of an `error` event (`{error: {message}}` or `{message}`). */
function eventError(data: Record<string, unknown>): string {
  const inner = data.error as { message?: unknown } | string | undefined;
  if (typeof inner === 'string') return inner;
  if (inner && typeof inner.message === 'string') return inner.message;
  if (typeof data.message === 'string') return data.message;
  return 'The gateway reported an error.';
}
