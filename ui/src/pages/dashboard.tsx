// The Dashboard: how the gateway has been used over a chosen period, worked out in the browser
// from the recorded calls (`GET /spend/logs`): totals, errors, latency, spend, requests and
// latency per time bucket, the most-used MCP tools and models. A virtual key sees its own calls.
import { useId } from 'preact/hooks';
import type { ComponentChildren } from 'preact';
import { href, type Route } from '../router';
import { isAdmin, useSession } from '../session';
import { BarList, LineChart, StackedBarChart } from '../components/chart';
import { Empty, ErrorNote, Loading, Notice, Page, formatMs, formatUsd, useAsync } from '../components/ui';
import { MAX_LIMIT, fetchLogs, isFailure, isMcp, targetOf, type LogRow } from './logs';

interface Period {
  label: string;
  /** Width of one bucket, ms. */
  bucket: number;
  buckets: number;
  /** How one bucket is named in headings: "per hour". */
  per: string;
  tick: (start: Date) => string;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const clock = (d: Date) => d.toLocaleTimeString([], { hour: 'numeric', minute: '2-digit' });

const PERIODS: Record<string, Period> = {
  '1h': { label: 'Last hour', bucket: 5 * MINUTE, buckets: 12, per: 'per 5 minutes', tick: clock },
  '24h': { label: 'Last 24 hours', bucket: HOUR, buckets: 24, per: 'per hour', tick: clock },
  '7d': {
    label: 'Last 7 days',
    bucket: 6 * HOUR,
    buckets: 28,
    per: 'per 6 hours',
    // Only day starts are labelled; the axis has no room for four labels a day.
    tick: (d) => (d.getHours() === 0 ? `${d.toLocaleDateString([], { weekday: 'short' })} ${d.getDate()}` : ''),
  },
};
const DEFAULT_PERIOD = '24h';

interface TimeSpan {
  start: number;
  end: number;
  period: Period;
}

/**
 * Buckets aligned to whole local minutes, hours or days (so labels read 14:00, not 14:37), the
 * last one holding now: it reaches back further than its name by at most one
 * bucket.
 */
function spanOf(period: Period, now: number): TimeSpan {
  const offset = new Date(now).getTimezoneOffset() * MINUTE;
  const end = Math.floor((now - offset) / period.bucket) * period.bucket + period.bucket + offset;
  return { start: end - period.buckets * period.bucket, end, period };
}

interface Loaded {
  span: TimeSpan;
  rows: LogRow[];
  /** Whether any call was ever recorded, asked only when the period has none. */
  everCalled: boolean;
}

async function load(period: Period): Promise<Loaded> {
  const span = spanOf(period, Date.now());
  const rows = await fetchLogs({ start_date: new Date(span.start).toISOString(), limit: MAX_LIMIT });
  const everCalled = rows.length > 0 || (await fetchLogs({ limit: 1 })).length > 0;
  return { span, rows, everCalled };
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function durations(rows: LogRow[]): number[] {
  return rows.map((r) => r.request_duration_ms).sort((a, b) => a - b);
}

const percent = (part: number, whole: number) => (whole === 0 ? '0%' : `${((part / whole) * 100).toFixed(part === whole || part === 0 ? 0 : 1)}%`);

export function Dashboard(props: { route: Route }) {
  const { session } = useSession();
  const periodId = props.route.query.get('period') ?? DEFAULT_PERIOD;
  const period = PERIODS[periodId] ?? PERIODS[DEFAULT_PERIOD];
  const data = useAsync(() => load(period), [periodId]);
  const selectId = useId();

  const choose = (e: Event) => {
    const value = (e.currentTarget as HTMLSelectElement).value;
    location.hash = value === DEFAULT_PERIOD ? href('dashboard') : `${href('dashboard')}?period=${value}`;
  };

  return (
    <Page
      title="Dashboard"
      actions={
        <>
          <label for={selectId} style={{ fontWeight: 600, fontSize: '0.9rem' }}>
            Period
          </label>
          <select id={selectId} value={PERIODS[periodId] ? periodId : DEFAULT_PERIOD} onChange={choose} style={{ width: 'auto' }}>
            {Object.entries(PERIODS).map(([id, p]) => (
              <option key={id} value={id}>
                {p.label}
              </option>
            ))}
          </select>
          <button type="button" onClick={data.reload} disabled={data.loading}>
            {data.loading && data.data ? 'Refreshing…' : 'Refresh'}
          </button>
        </>
      }
    >
      {!isAdmin() && (
        <p class="muted">
          These are the calls made with your key{session?.key_alias ? ` (${session.key_alias})` : ''}.
        </p>
      )}
      <ErrorNote error={data.error} onRetry={data.reload} />
      {data.loading && !data.data && <Loading what="usage" />}
      {data.data && <Overview loaded={data.data} />}
    </Page>
  );
}

function Overview(props: { loaded: Loaded }) {
  const { rows, span, everCalled } = props.loaded;
  const period = span.period;
  if (rows.length === 0) {
    return everCalled ? (
      <Empty>
        No calls in the {period.label.toLowerCase()}. Choose a longer period, or see every call on the{' '}
        <a href={href('logs')}>Logs</a> page.
      </Empty>
    ) : (
      <Empty>
        No calls yet. Numbers and charts appear here once the gateway has answered calls: send a message from the{' '}
        <a href={href('playground')}>Playground</a>, or try a tool on the <a href={href('tools')}>MCP tools</a> page.
      </Empty>
    );
  }

  const failures = rows.filter(isFailure);
  const mcp = rows.filter(isMcp);
  const sorted = durations(rows);
  const spend = rows.reduce((sum, r) => sum + (r.spend || 0), 0);
  const tokens = rows.reduce((sum, r) => sum + (r.total_tokens || 0), 0);

  return (
    <>
      {rows.length >= MAX_LIMIT && (
        <Notice kind="warn">
          This period has more than {MAX_LIMIT.toLocaleString()} calls; only the newest {MAX_LIMIT.toLocaleString()} are
          counted, so totals are low and the earliest buckets are incomplete. Choose a shorter period for exact numbers.
        </Notice>
      )}
      <ul class="cards" aria-label={`Totals for the ${period.label.toLowerCase()}`} style={statGrid}>
        <Stat label="Requests" value={rows.length.toLocaleString()} note={`${(rows.length - mcp.length).toLocaleString()} LLM, ${mcp.length.toLocaleString()} MCP`} />
        <Stat
          label="Errors"
          value={failures.length.toLocaleString()}
          note={`${percent(failures.length, rows.length)} error rate`}
          bad={failures.length > 0}
        />
        <Stat label="p50 latency" value={formatMs(percentile(sorted, 50))} note="median call" />
        <Stat label="p95 latency" value={formatMs(percentile(sorted, 95))} note="95% of calls were faster" />
        <Stat label="Spend" value={formatUsd(spend)} note={`${tokens.toLocaleString()} tokens`} />
        <Stat
          label="MCP tool calls"
          value={mcp.length.toLocaleString()}
          note={`${mcp.filter(isFailure).length.toLocaleString()} failed`}
        />
      </ul>
      <div style={chartGrid}>
        <ChartCard title="Requests" subtitle={`${period.per}, errors in red`}>
          <RequestsChart rows={rows} span={span} />
        </ChartCard>
        <ChartCard title="Latency" subtitle={`p50 and p95 ${period.per}`}>
          <LatencyChart rows={rows} span={span} />
        </ChartCard>
        <ChartCard title="Most-used tools" subtitle="MCP tools by calls; open one to see its server's tools">
          <TopTools rows={mcp} />
        </ChartCard>
        <ChartCard title="Top models" subtitle="LLM calls by model">
          <TopModels rows={rows.filter((r) => !isMcp(r))} />
        </ChartCard>
      </div>
      <p class="muted" style={{ marginTop: '1rem' }}>
        Each call is listed on the <a href={`${href('logs')}?start_date=${localDate(span.start)}`}>Logs</a> page.
      </p>
    </>
  );
}

// Six stats fit one row on a laptop and two columns on a phone.
const statGrid = {
  listStyle: 'none',
  padding: 0,
  margin: '0 0 1rem',
  gridTemplateColumns: 'repeat(auto-fill, minmax(9.5rem, 1fr))',
};
// Two charts a row at most: three squeeze the tables into wrapping every cell.
const chartGrid = {
  display: 'grid',
  gridTemplateColumns: 'repeat(auto-fit, minmax(min(100%, 26rem), 1fr))',
  gap: '1rem',
};

function localDate(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function Stat(props: { label: string; value: string; note?: string; bad?: boolean }) {
  return (
    <li class="card stat">
      <div class="label">{props.label}</div>
      <div class="value" style={props.bad ? { color: 'var(--bad)' } : undefined}>
        {props.value}
      </div>
      {props.note && (
        <div class="muted" style={{ fontSize: '0.82rem' }}>
          {props.note}
        </div>
      )}
    </li>
  );
}

function ChartCard(props: { title: string; subtitle: string; children: ComponentChildren }) {
  const id = useId();
  return (
    <section class="card" aria-labelledby={id} style={{ minWidth: 0 }}>
      <h2 id={id} style={{ margin: 0 }}>
        {props.title}
      </h2>
      <p class="muted" style={{ margin: '0 0 0.6rem', fontSize: '0.85rem' }}>
        {props.subtitle}
      </p>
      {props.children}
    </section>
  );
}

/** The rows of each bucket, oldest bucket first. */
function bucketRows(rows: LogRow[], span: TimeSpan): LogRow[][] {
  const buckets: LogRow[][] = Array.from({ length: span.period.buckets }, () => []);
  for (const row of rows) {
    const t = Date.parse(row.startTime);
    if (Number.isNaN(t) || t < span.start) continue;
    // A row stamped after the span's end (another replica's clock) counts in the last bucket.
    const i = Math.min(buckets.length - 1, Math.floor((t - span.start) / span.period.bucket));
    buckets[i].push(row);
  }
  return buckets;
}

function axisOf(span: TimeSpan): { ticks: string[]; bucketNames: string[] } {
  const ticks: string[] = [];
  const bucketNames: string[] = [];
  for (let i = 0; i < span.period.buckets; i++) {
    const start = new Date(span.start + i * span.period.bucket);
    const end = new Date(start.getTime() + span.period.bucket);
    ticks.push(span.period.tick(start));
    bucketNames.push(
      `${start.toLocaleString([], { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' })}–${clock(end)}`,
    );
  }
  return { ticks, bucketNames };
}

function RequestsChart(props: { rows: LogRow[]; span: TimeSpan }) {
  const buckets = bucketRows(props.rows, props.span);
  const errors = buckets.map((b) => b.filter(isFailure).length);
  const ok = buckets.map((b, i) => b.length - errors[i]);
  const axis = axisOf(props.span);
  const busiest = buckets.reduce((best, b, i) => (b.length > buckets[best].length ? i : best), 0);
  const totalErrors = errors.reduce((a, b) => a + b, 0);
  return (
    <StackedBarChart
      label={`Requests ${props.span.period.per}`}
      summary={`${props.rows.length} requests, ${totalErrors} of them errors; the busiest was ${axis.bucketNames[busiest]} with ${buckets[busiest].length}.`}
      ticks={axis.ticks}
      bucketNames={axis.bucketNames}
      integer
      format={(v) => String(v)}
      series={[
        { name: 'Succeeded', tone: 'accent', values: ok },
        { name: 'Failed', tone: 'bad', values: errors },
      ]}
    />
  );
}

function LatencyChart(props: { rows: LogRow[]; span: TimeSpan }) {
  const buckets = bucketRows(props.rows, props.span).map(durations);
  const p50 = buckets.map((b) => percentile(b, 50));
  const p95 = buckets.map((b) => percentile(b, 95));
  const axis = axisOf(props.span);
  const all = durations(props.rows);
  const worst = p95.reduce<number>((best, v, i) => ((v ?? -1) > (p95[best] ?? -1) ? i : best), 0);
  return (
    <LineChart
      label={`Latency ${props.span.period.per}`}
      summary={`Overall p50 was ${formatMs(percentile(all, 50))} and p95 ${formatMs(percentile(all, 95))}; the slowest bucket was ${axis.bucketNames[worst]} with p95 ${formatMs(p95[worst])}.`}
      ticks={axis.ticks}
      bucketNames={axis.bucketNames}
      format={formatMs}
      series={[
        { name: 'p50', tone: 'accent', values: p50 },
        { name: 'p95', tone: 'warn', values: p95, dashed: true },
      ]}
    />
  );
}

interface Group {
  key: string;
  rows: LogRow[];
}

/** Rows grouped by `keyOf`, the biggest groups first, at most `top` of them. */
function topGroups(rows: LogRow[], keyOf: (row: LogRow) => string, top: number): Group[] {
  const groups = new Map<string, LogRow[]>();
  for (const row of rows) {
    const key = keyOf(row);
    const list = groups.get(key);
    if (list) list.push(row);
    else groups.set(key, [row]);
  }
  return [...groups.entries()]
    .map(([key, list]) => ({ key, rows: list }))
    .sort((a, b) => b.rows.length - a.rows.length || a.key.localeCompare(b.key))
    .slice(0, top);
}

function TopTools(props: { rows: LogRow[] }) {
  if (props.rows.length === 0) {
    return (
      <Empty>
        No MCP tool calls in this period. Try one on the <a href={href('tools')}>MCP tools</a> page.
      </Empty>
    );
  }
  const groups = topGroups(props.rows, (r) => `${r.mcp_server ?? ''}/${targetOf(r)}`, 10);
  return (
    <BarList
      caption="Most-used MCP tools"
      itemHeading="Tool"
      extraHeadings={['p50']}
      items={groups.map((g) => {
        const first = g.rows[0];
        const server = first.mcp_server ?? '';
        return {
          key: g.key,
          label: (
            <>
              {server ? <a href={href('tools', server)}>{targetOf(first)}</a> : targetOf(first)}
              {server && <span class="muted"> on {server}</span>}
            </>
          ),
          value: g.rows.length,
          errors: g.rows.filter(isFailure).length,
          extra: [formatMs(percentile(durations(g.rows), 50))],
        };
      })}
    />
  );
}

function TopModels(props: { rows: LogRow[] }) {
  if (props.rows.length === 0) {
    return (
      <Empty>
        No LLM calls in this period. Send one from the <a href={href('playground')}>Playground</a>.
      </Empty>
    );
  }
  const groups = topGroups(props.rows, (r) => r.model, 10);
  return (
    <BarList
      caption="Top models"
      itemHeading="Model"
      extraHeadings={['Tokens', 'Spend']}
      items={groups.map((g) => ({
        key: g.key,
        label: <span class="mono">{g.key}</span>,
        value: g.rows.length,
        errors: g.rows.filter(isFailure).length,
        extra: [g.rows.reduce((s, r) => s + (r.total_tokens || 0), 0).toLocaleString(), formatUsd(g.rows.reduce((s, r) => s + (r.spend || 0), 0))],
      }))}
    />
  );
}
