/** Task lookup by id or idempotency key, and the enqueue form. */
import { ApiError, el, get, post, showError } from './api.js';

interface TaskState {
  id: string;
  status: string;
  taskId?: string;
  task?: string;
  attempts?: number;
  result?: unknown;
  error?: string;
  createdAt?: string;
  updatedAt?: string;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function stateView(state: TaskState): HTMLElement {
  const fields: [string, string | HTMLElement][] = [
    ['task', state.task ?? '–'],
    ['task id', state.taskId ?? state.id],
    ['status', el('span', { className: `status-${state.status}`, text: state.status })],
    ['attempts', String(state.attempts ?? 0)],
    ['last error', state.error ?? '–'],
    ['result', state.result === undefined ? '–' : JSON.stringify(state.result)],
    ['created', state.createdAt ?? '–'],
    ['updated', state.updatedAt ?? '–'],
  ];
  return el(
    'dl',
    { attrs: { 'aria-label': `record of ${state.task ?? state.id}` } },
    ...fields.flatMap(([k, v]) => [
      el('dt', { text: k }),
      typeof v === 'string' ? el('dd', { text: v }) : el('dd', {}, v),
    ]),
  );
}

/**
 * Wires the task lookup.
 *
 * @example
 * startTaskLookup();
 */
export function startTaskLookup(): void {
  const form = $<HTMLFormElement>('task-lookup');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const key = String(new FormData(form).get('key') ?? '').trim();
    const out = $('task-result');
    out.dataset.state = 'loading';
    try {
      const { states } = await get<{ states: TaskState[] }>(`/tasks/${encodeURIComponent(key)}`);
      out.replaceChildren(
        ...(states.length === 0
          ? [
              el('p', {
                text: `no record under "${key}": never run, not run yet, or its record expired (TTL)`,
              }),
            ]
          : states.map(stateView)),
      );
      showError(undefined);
    } catch (error) {
      out.replaceChildren();
      showError(error);
    } finally {
      out.dataset.state = 'done';
    }
  });
}

/**
 * Wires the enqueue form: the payload must parse as JSON before anything is sent.
 *
 * @example
 * startEnqueue(['high', 'low']);
 */
export function startEnqueue(tiers: readonly string[]): void {
  const form = $<HTMLFormElement>('enqueue-form');
  const tierSelect = form.elements.namedItem('tier') as HTMLSelectElement;
  tiers.forEach((tier, i) => {
    const option = el('option', { text: tier, attrs: { value: tier } });
    // The producer's default: the middle tier.
    if (i === Math.floor(tiers.length / 2)) option.selected = true;
    tierSelect.append(option);
  });
  const payloadField = form.elements.namedItem('payload') as HTMLTextAreaElement;
  const check = (): unknown => {
    try {
      const value = JSON.parse(payloadField.value);
      payloadField.removeAttribute('aria-invalid');
      $('payload-error').textContent = '';
      return value;
    } catch (error) {
      payloadField.setAttribute('aria-invalid', 'true');
      $('payload-error').textContent = `the payload is not valid JSON: ${(error as Error).message}`;
      throw error;
    }
  };
  payloadField.addEventListener('input', () => {
    try {
      check();
    } catch {
      // Shown beside the field.
    }
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    let payload: unknown;
    try {
      payload = check();
    } catch {
      payloadField.focus();
      return;
    }
    const data = new FormData(form);
    const id = String(data.get('id') ?? '').trim();
    const result = $('enqueue-result');
    try {
      const sent = await post<{ id: string; status: string }>('/enqueue', {
        task: String(data.get('task') ?? '').trim(),
        tier: String(data.get('tier')),
        payload,
        ...(id === '' ? {} : { id }),
      });
      result.textContent = `${sent.status} ${sent.id}`;
      showError(undefined);
    } catch (error) {
      result.textContent = error instanceof ApiError ? `not sent: ${error.message}` : '';
      if (!(error instanceof ApiError)) showError(error);
    }
  });
}
