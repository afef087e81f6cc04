/**
 * The overview: cards, the tier table, uPlot charts of the last minutes, per-task figures, alarm
 * states, and any section `tierq status --json` adds (flow control) shown as it comes.
 */
import uPlot from 'uplot';
import { el, get, row, showError } from './api.js';

interface TierNow {
  visible: number;
  inFlight: number;
  delayed: number;
  oldestAgeSeconds: number | null;
}
interface Latency {
  p50Ms: number | null;
  p95Ms: number | null;
  count: number;
}
interface Overview {
  description: string;
  at: string;
  status: {
    tiers: Record<string, TierNow>;
    dlq: { visible: number };
    perMinute?: { completed: number; failed: number };
  } & Record<string, unknown>;
  activity: {
    windowSeconds?: number;
    perTask?: Record<
      string,
      {
        completed: number;
        failed: number;
        retried: number;
        deadLettered: number;
        deferred: number;
        latency: Latency;
      }
    >;
    perTier?: Record<string, { acknowledged: number; retried: number; processing: number }>;
    latency?: Latency;
    alarms?: Record<string, string>;
  } | null;
  history: {
    t: number;
    tiers: Record<string, TierNow>;
    dlq: number;
    completedPerMinute: number | null;
    failedPerMinute: number | null;
    latencyP50Ms: number | null;
    latencyP95Ms: number | null;
  }[];
}

/** `tierq status --json` sections the overview draws itself; any other is shown generically. */
const KNOWN_SECTIONS = new Set(['tiers', 'dlq', 'perMinute']);
const PALETTE = ['#e5534b', '#d4a72c', '#57ab5a', '#539bf5', '#b083f0', '#e0823d', '#39c5cf', '#9198a1'];

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '–' : `${Math.round(v)} ms`);
const age = (s: number | null) => (s === null ? '–' : `${s} s`);

function card(label: string, value: string): HTMLElement {
  return el(
    'div',
    { className: 'card' },
    el('div', { className: 'value', text: value }),
    el('div', { className: 'label', text: label }),
  );
}

/** One chart per figure; a series per tier (or per line for the throughput chart). */
interface ChartSpec {
  readonly title: string;
  readonly unit: string;
  readonly series: (o: Overview) => { label: string; values: (number | null)[] }[];
}

const perTier =
  (pick: (t: TierNow) => number | null) =>
  (o: Overview): { label: string; values: (number | null)[] }[] =>
    Object.keys(o.status.tiers).map((tier) => ({
      label: tier,
      values: o.history.map((p) => {
        const t = p.tiers[tier];
        return t === undefined ? null : pick(t);
      }),
    }));

const CHARTS: readonly ChartSpec[] = [
  { title: 'Visible messages', unit: '', series: perTier((t) => t.visible) },
  { title: 'In flight', unit: '', series: perTier((t) => t.inFlight) },
  { title: 'Delayed', unit: '', series: perTier((t) => t.delayed) },
  { title: 'Oldest message age', unit: 's', series: perTier((t) => t.oldestAgeSeconds) },
  {
    title: 'Completed and failed per minute',
    unit: '',
    series: (o) => [
      { label: 'completed', values: o.history.map((p) => p.completedPerMinute) },
      { label: 'failed attempts', values: o.history.map((p) => p.failedPerMinute) },
      { label: 'dead letters', values: o.history.map((p) => p.dlq) },
    ],
  },
  {
    title: 'Enqueue → completion latency',
    unit: 'ms',
    series: (o) => [
      { label: 'p50', values: o.history.map((p) => p.latencyP50Ms) },
      { label: 'p95', values: o.history.map((p) => p.latencyP95Ms) },
    ],
  },
];

/** Keeps one uPlot per chart, rebuilt only when its series change (a tier appears). */
function charts(container: HTMLElement) {
  const plots = new Map<string, { plot: uPlot; labels: string }>();
  const axisColour = () =>
    getComputedStyle(document.documentElement).getPropertyValue('--muted').trim() || '#888';
  return (o: Overview) => {
    const times = o.history.map((p) => p.t);
    for (const spec of CHARTS) {
      const series = spec.series(o);
      const data = [times, ...series.map((s) => s.values)] as uPlot.AlignedData;
      const labels = series.map((s) => s.label).join(',');
      const existing = plots.get(spec.title);
      if (existing && existing.labels === labels) {
        existing.plot.setData(data);
        continue;
      }
      existing?.plot.destroy();
      let box = container.querySelector<HTMLElement>(`[data-chart="${spec.title}"]`);
      if (box === null) {
        box = el(
          'figure',
          {
            className: 'chart',
            attrs: { 'data-chart': spec.title, 'aria-label': `${spec.title} over the last minutes` },
          },
          el('h3', { text: spec.title }),
        );
        container.append(box);
      }
      const stroke = axisColour();
      const plot = new uPlot(
        {
          width: Math.max(360, box.clientWidth - 12),
          height: 180,
          series: [
            {},
            ...series.map((s, i) => ({
              label: s.label,
              stroke: PALETTE[i % PALETTE.length] as string,
              width: 1.5,
              spanGaps: true,
              value: (_: uPlot, v: number | null) =>
                v === null ? '–' : `${Math.round(v * 10) / 10}${spec.unit}`,
            })),
          ],
          axes: [
            { stroke, grid: { stroke: 'rgba(128,128,128,0.15)' } },
            { stroke, grid: { stroke: 'rgba(128,128,128,0.15)' }, size: 50 },
          ],
          scales: { y: { range: (_u, min, max) => [Math.min(0, min ?? 0), Math.max(1, max ?? 1)] } },
          cursor: { drag: { x: false, y: false } },
        },
        data,
        box,
      );
      plots.set(spec.title, { plot, labels });
    }
  };
}

function fill(table: string, rows: HTMLTableRowElement[]): void {
  const body = document.querySelector(`#${table} tbody`) as HTMLElement;
  body.replaceChildren(...rows);
}

/** Shows every section of the status document the overview does not draw itself. */
function extraSections(status: Record<string, unknown>): HTMLElement[] {
  return Object.entries(status)
    .filter(([name]) => !KNOWN_SECTIONS.has(name))
    .map(([name, value]) => {
      const section = el('section', { attrs: { 'aria-label': name } }, el('h3', { text: name }));
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
        const table = el('table', {}, el('caption', { text: name }));
        const body = el('tbody');
        for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
          body.append(row([key, typeof v === 'object' ? JSON.stringify(v) : String(v)], true));
        }
        table.append(body);
        section.append(table);
      } else section.append(el('pre', { text: JSON.stringify(value, null, 2) }));
      return section;
    });
}

function render(o: Overview, draw: (o: Overview) => void): void {
  const { status, activity } = o;
  (document.getElementById('target') as HTMLElement).textContent = o.description;
  (document.getElementById('updated') as HTMLElement).textContent =
    `updated ${new Date(o.at).toLocaleTimeString()}`;
  const window = activity?.windowSeconds;
  const perSecond =
    status.perMinute === undefined
      ? '–'
      : (status.perMinute.completed / Math.max(1, window ?? 60)).toFixed(1);
  const processing = Object.values(activity?.perTier ?? {}).reduce((a, t) => a + t.processing, 0);
  (document.getElementById('cards') as HTMLElement).replaceChildren(
    card('completed / s', perSecond),
    card('failed attempts / min', status.perMinute === undefined ? '–' : String(status.perMinute.failed)),
    card('latency p50', ms(activity?.latency?.p50Ms)),
    card('latency p95', ms(activity?.latency?.p95Ms)),
    card('processing', activity?.perTier === undefined ? '–' : String(processing)),
    card('dead letters', String(status.dlq.visible)),
  );
  fill(
    'tiers',
    Object.entries(status.tiers).map(([tier, t]) => {
      const a = activity?.perTier?.[tier];
      return row(
        [
          tier,
          t.visible,
          t.inFlight,
          t.delayed,
          age(t.oldestAgeSeconds),
          a?.processing ?? '–',
          a?.acknowledged ?? '–',
          a?.retried ?? '–',
        ],
        true,
      );
    }),
  );
  const tasks = Object.entries(activity?.perTask ?? {});
  fill(
    'per-task',
    tasks.length === 0
      ? [row(['no task figures yet: nothing ran in the last minute, or the source has none'])]
      : tasks.map(([task, t]) =>
          row(
            [
              task,
              t.completed,
              (t.completed / Math.max(1, window ?? 60)).toFixed(2),
              t.failed,
              t.retried,
              t.deadLettered,
              t.deferred,
              ms(t.latency.p50Ms),
              ms(t.latency.p95Ms),
            ],
            true,
          ),
        ),
  );
  const alarms = Object.entries(activity?.alarms ?? {});
  fill(
    'alarms',
    alarms.length === 0
      ? [row(['no alarm states known'])]
      : alarms.map(([name, state]) =>
          row([name, el('span', { className: `state-${state}`, text: state })], true),
        ),
  );
  (document.getElementById('status-extra') as HTMLElement).replaceChildren(...extraSections(status));
  draw(o);
}

/**
 * Polls the overview every `intervalMs` while the section is shown, without reloading the page.
 *
 * @example
 * const overview = startOverview(2_000);
 */
export function startOverview(intervalMs: number): { refresh(): Promise<void> } {
  const draw = charts(document.getElementById('charts') as HTMLElement);
  let busy = false;
  const refresh = async () => {
    if (busy) return;
    busy = true;
    try {
      render(await get<Overview>('/overview'), draw);
      showError(undefined);
    } catch (error) {
      showError(error);
    } finally {
      busy = false;
    }
  };
  setInterval(() => {
    if (!(document.getElementById('overview') as HTMLElement).hidden) void refresh();
  }, intervalMs);
  return { refresh };
}
