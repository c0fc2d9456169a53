// Small hand-written SVG charts for the dashboard: stacked bars of counts per time bucket, lines
// of values per bucket, and a horizontal bar list. No chart library: these few shapes do not
// justify one in a bundle the gateway embeds. Every chart has a text alternative (an aria-label
// summary on the drawing and its numbers as a table), since a picture alone says nothing to a
// screen reader.
import type { ComponentChildren } from 'preact';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { Table } from './ui';

/** The colour of a series, from style.css's palette so dark mode follows. */
export type Tone = 'accent' | 'bad' | 'warn';

const TONE_COLOR: Record<Tone, string> = { accent: 'var(--accent)', bad: 'var(--bad)', warn: 'var(--warn)' };

/** One series of a chart: a value (or nothing) per bucket. */
export interface Series {
  name: string;
  tone: Tone;
  values: (number | null)[];
  /** Drawn dashed (lines), so two lines differ by more than colour. */
  dashed?: boolean;
}

export interface ChartProps {
  /** What the chart shows; names its table and starts its aria-label. */
  label: string;
  /** One sentence of what the chart says (totals, peaks) for screen readers. */
  summary: string;
  /** Short axis label per bucket, e.g. `14:00`. */
  ticks: string[];
  /** Full name per bucket for the table and tooltips, e.g. `21 Nov, 14:00–15:00`. */
  bucketNames: string[];
  series: Series[];
  /** How values read on the axis, tooltips and table. */
  format?: (value: number) => string;
  /** Axis steps are whole numbers (counts). */
  integer?: boolean;
  height?: number;
}

const MARGIN = { top: 10, right: 8, bottom: 20, left: 46 };

/** The width the chart has, so text stays at its real size instead of scaling with a viewBox. */
function useWidth(): [{ current: HTMLDivElement | null }, number] {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(0);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    setWidth(el.clientWidth);
    const observer = new ResizeObserver((entries) => {
      for (const entry of entries) setWidth(Math.floor(entry.contentRect.width));
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}

/** A round step near `raw` (1, 2 or 5 times a power of ten). */
function niceStep(raw: number, integer: boolean): number {
  if (!(raw > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  return integer ? Math.max(1, Math.round(step)) : step;
}

/** Axis ticks from 0 past `max` in about four steps. */
function axis(max: number, integer: boolean): number[] {
  const step = niceStep(max / 4, integer);
  const top = Math.max(step, Math.ceil(max / step) * step);
  const ticks: number[] = [];
  for (let v = 0; v <= top + step / 2; v += step) ticks.push(v);
  return ticks;
}

const plain = (v: number) => String(Math.round(v * 100) / 100);

/** The frame both bucket charts share: y axis with grid lines, x labels, and per-bucket tooltips. */
function Frame(props: ChartProps & { max: number; lines?: boolean; children: (geo: Geometry) => ComponentChildren }) {
  const [ref, width] = useWidth();
  const height = props.height ?? 180;
  const format = props.format ?? plain;
  const ticks = axis(props.max, props.integer ?? false);
  const top = ticks[ticks.length - 1] ?? 1;
  const plotW = Math.max(10, width - MARGIN.left - MARGIN.right);
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const n = Math.max(1, props.ticks.length);
  const band = plotW / n;
  const geo: Geometry = {
    band,
    x: (i) => MARGIN.left + i * band,
    y: (v) => MARGIN.top + plotH - (v / top) * plotH,
    baseline: MARGIN.top + plotH,
  };
  // Labels need about 44px each: one too close to the last drawn is left out rather than
  // overlapping. Empty labels (buckets inside a day on a week's chart) take no room.
  const shown = new Set<number>();
  let lastX = -Infinity;
  props.ticks.forEach((label, i) => {
    const x = geo.x(i) + band / 2;
    if (label && x - lastX >= 44) {
      shown.add(i);
      lastX = x;
    }
  });
  return (
    <div ref={ref}>
      {width > 0 && (
        <svg class="chart" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${props.label}. ${props.summary}`}>
          {ticks.map((t) => (
            <g key={t}>
              <line class="axis" x1={MARGIN.left} x2={MARGIN.left + plotW} y1={geo.y(t)} y2={geo.y(t)} />
              <text x={MARGIN.left - 5} y={geo.y(t) + 3} text-anchor="end">
                {format(t)}
              </text>
            </g>
          ))}
          {props.ticks.map((label, i) =>
            shown.has(i) ? (
              <text key={i} x={geo.x(i) + band / 2} y={height - 6} text-anchor="middle">
                {label}
              </text>
            ) : null,
          )}
          {props.children(geo)}
          {/* Invisible bands over each bucket carry its numbers as a hover tooltip. */}
          {props.bucketNames.map((name, i) => (
            <rect key={`tip${i}`} x={geo.x(i)} y={MARGIN.top} width={band} height={plotH} fill="transparent">
              <title>
                {name}
                {props.series.map((s) => `\n${s.name}: ${s.values[i] === null || s.values[i] === undefined ? '—' : format(s.values[i] as number)}`).join('')}
              </title>
            </rect>
          ))}
        </svg>
      )}
      <Legend series={props.series} lines={props.lines} />
      <DataTable {...props} />
    </div>
  );
}

interface Geometry {
  band: number;
  x: (bucket: number) => number;
  y: (value: number) => number;
  baseline: number;
}

function Legend(props: { series: Series[]; lines?: boolean }) {
  return (
    <ul class="row muted" style={{ listStyle: 'none', padding: 0, margin: '0.3rem 0 0', fontSize: '0.85rem', gap: '0.4rem 1rem' }}>
      {props.series.map((s) => (
        <li key={s.name} class="row" style={{ gap: '0.35rem' }}>
          <svg width="18" height="10" aria-hidden="true">
            {props.lines ? (
              <line x1="0" x2="18" y1="5" y2="5" stroke={TONE_COLOR[s.tone]} stroke-width="2" stroke-dasharray={s.dashed ? '4 2' : undefined} />
            ) : (
              <rect x="4" y="0" width="10" height="10" rx="2" fill={TONE_COLOR[s.tone]} />
            )}
          </svg>
          {s.name}
        </li>
      ))}
    </ul>
  );
}

/** Row headings read as plain cells: style.css styles `th` for column headings. */
const rowHeading = { fontWeight: 'normal', fontSize: 'inherit', color: 'inherit', whiteSpace: 'normal' };

/** The chart's numbers, folded away: the same data for screen readers and for copying. */
function DataTable(props: ChartProps) {
  const format = props.format ?? plain;
  return (
    <details style={{ marginTop: '0.4rem' }}>
      <summary>Show as table</summary>
      <Table caption={props.label}>
        <thead>
          <tr>
            <th scope="col">Time</th>
            {props.series.map((s) => (
              <th key={s.name} scope="col" class="num">
                {s.name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.bucketNames.map((name, i) => (
            <tr key={i}>
              <th scope="row" style={{ ...rowHeading, borderBottom: i === props.bucketNames.length - 1 ? 'none' : undefined }}>
                {name}
              </th>
              {props.series.map((s) => {
                const v = s.values[i];
                return (
                  <td key={s.name} class="num">
                    {v === null || v === undefined ? '—' : format(v)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </Table>
    </details>
  );
}

/** Bars per bucket with the series stacked bottom to top (e.g. successes, then errors). */
export function StackedBarChart(props: ChartProps) {
  const totals = props.ticks.map((_, i) => props.series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0));
  const max = Math.max(0, ...totals);
  return (
    <Frame {...props} max={max}>
      {(geo) => {
        const gap = Math.min(4, geo.band * 0.2);
        return props.ticks.map((_, i) => {
          let base = 0;
          return (
            <g key={i}>
              {props.series.map((s) => {
                const v = s.values[i] ?? 0;
                if (v <= 0) return null;
                const y0 = geo.y(base);
                base += v;
                const y1 = geo.y(base);
                return (
                  <rect
                    key={s.name}
                    x={geo.x(i) + gap / 2}
                    y={y1}
                    width={Math.max(1, geo.band - gap)}
                    height={Math.max(1, y0 - y1)}
                    fill={TONE_COLOR[s.tone]}
                  />
                );
              })}
            </g>
          );
        });
      }}
    </Frame>
  );
}

/** A line per series across the buckets; buckets without a value break the line. */
export function LineChart(props: ChartProps) {
  const max = Math.max(0, ...props.series.flatMap((s) => s.values.filter((v): v is number => v !== null)));
  return (
    <Frame {...props} max={max} lines>
      {(geo) =>
        props.series.map((s) => {
          const points = s.values.map((v, i) => (v === null ? null : ([geo.x(i) + geo.band / 2, geo.y(v)] as const)));
          let d = '';
          let pen = false;
          for (const p of points) {
            if (!p) {
              pen = false;
              continue;
            }
            d += `${pen ? 'L' : 'M'}${p[0].toFixed(1)},${p[1].toFixed(1)}`;
            pen = true;
          }
          return (
            <g key={s.name}>
              <path class="line" d={d} style={{ stroke: TONE_COLOR[s.tone] }} stroke-dasharray={s.dashed ? '5 3' : undefined} />
              {/* Dots, so a lone bucket between empty ones still shows. */}
              {points.map((p, i) => (p ? <circle key={i} cx={p[0]} cy={p[1]} r="2.5" fill={TONE_COLOR[s.tone]} /> : null))}
            </g>
          );
        })
      }
    </Frame>
  );
}

/** One item of a bar list: a label (often a link), its count, and how many of those failed. */
export interface BarItem {
  key: string;
  label: ComponentChildren;
  value: number;
  errors?: number;
  /** Extra columns after the counts, e.g. tokens or spend. */
  extra?: ComponentChildren[];
}

/**
 * A table whose count column carries a horizontal bar: the table is itself the text
 * alternative, so the bars are hidden from screen readers.
 */
export function BarList(props: {
  caption: string;
  itemHeading: string;
  items: BarItem[];
  valueHeading?: string;
  extraHeadings?: string[];
}) {
  const max = Math.max(1, ...props.items.map((i) => i.value));
  return (
    <Table caption={props.caption}>
      <thead>
        <tr>
          <th scope="col">{props.itemHeading}</th>
          <th scope="col" class="num">
            {props.valueHeading ?? 'Calls'}
          </th>
          <th scope="col" class="num">
            Errors
          </th>
          {props.extraHeadings?.map((h) => (
            <th key={h} scope="col" class="num">
              {h}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.items.map((item, row) => {
          const errors = item.errors ?? 0;
          const okShare = ((item.value - errors) / max) * 100;
          const badShare = (errors / max) * 100;
          return (
            <tr key={item.key}>
              <th
                scope="row"
                style={{
                  ...rowHeading,
                  wordBreak: 'break-word',
                  // style.css drops the last row's border from its cells only.
                  borderBottom: row === props.items.length - 1 ? 'none' : undefined,
                }}
              >
                {item.label}
                <svg width="100%" height="6" aria-hidden="true" style={{ display: 'block', marginTop: '0.25rem' }}>
                  <rect x="0" y="0" width={`${okShare}%`} height="6" rx="2" fill={TONE_COLOR.accent} />
                  {errors > 0 && <rect x={`${okShare}%`} y="0" width={`${badShare}%`} height="6" rx="2" fill={TONE_COLOR.bad} />}
                </svg>
              </th>
              <td class="num">{item.value}</td>
              <td class="num" style={errors > 0 ? { color: 'var(--bad)', fontWeight: 600 } : undefined}>
                {errors}
              </td>
              {item.extra?.map((cell, i) => (
                <td key={i} class="num" style={{ whiteSpace: 'nowrap' }}>
                  {cell}
                </td>
              ))}
            </tr>
          );
        })}
      </tbody>
    </Table>
  );
}
