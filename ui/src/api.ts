// The gateway's HTTP API as the UI uses it: JSON in and out with the signed-in key, errors
// turned into `ApiError` carrying the server's own message, and Server-Sent Events read from a
// POST (which EventSource cannot do).
import { currentKey, signOutExpired } from './session';

/** An answer that was not 2xx, with the message from the gateway's OpenAI-style error body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

function headers(json: boolean): Record<string, string> {
  const h: Record<string, string> = { Authorization: `Bearer ${currentKey() ?? ''}` };
  if (json) h['Content-Type'] = 'application/json';
  return h;
}

/** The message of an error body in any of the shapes the gateway answers with. */
function messageOf(status: number, text: string): { message: string; param?: string } {
  try {
    const body = JSON.parse(text);
    // LiteLLM's MCP REST routes answer `{"error": "<code>", "message": "<sentence>"}`.
    if (typeof body?.error === 'string' && typeof body?.message === 'string') {
      return { message: body.message };
    }
    const err = body?.error ?? body?.detail ?? body;
    if (typeof err === 'string') return { message: err };
    if (err && typeof err.message === 'string') return { message: err.message, param: err.param ?? undefined };
    if (err?.error && typeof err.error === 'string') return { message: err.error };
  } catch {
    // not JSON: fall through to the text itself
  }
  return { message: text.trim() || `HTTP ${status}` };
}

async function failure(res: Response): Promise<ApiError> {
  const { message, param } = messageOf(res.status, await res.text());
  if (res.status === 401) signOutExpired(message);
  return new ApiError(res.status, message, param);
}

/** Calls the gateway and returns its JSON answer (`undefined` for an empty body). */
export async function api<T = unknown>(method: Method, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: headers(body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, `The gateway did not answer (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!res.ok) throw await failure(res);
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** `path?name=value&…`, leaving out empty values. */
export function withQuery(path: string, query: Record<string, string | number | undefined | null>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && String(value) !== '') params.set(name, String(value));
  }
  const q = params.toString();
  return q ? `${path}?${q}` : path;
}

/** One Server-Sent Event. */
export interface SseEvent {
  event: string;
  data: string;
}

/**
 * POSTs `body` and hands each Server-Sent Event of the answer to `onEvent` as it arrives.
 * Resolves when the stream ends; rejects with `ApiError` for a non-2xx answer.
 */
export async function postSse(
  path: string,
  body: unknown,
  onEvent: (event: SseEvent) => void,
  signal?: AbortSignal,
): Promise<void> {
  const res = await fetch(path, {
    method: 'POST',
    headers: { ...headers(true), Accept: 'text/event-stream' },
    body: JSON.stringify(body),
    signal,
  });
  if (!res.ok) throw await failure(res);
  if (!res.body) return;
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n?/g, '\n');
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length) onEvent({ event, data: data.join('\n') });
    }
  }
}
