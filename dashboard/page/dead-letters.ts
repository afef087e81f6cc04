/**
 * The dead letters: a filtered table, a letter's details, and replay or purge of the selection
 * (or, with nothing selected, of the filter) after a confirmation, with progress and counts.
 */
import { el, get, post, row, showError } from './api.js';

interface Letter {
  id?: string;
  task?: string;
  tier?: string;
  reason: string;
  error?: string;
  attempts?: number;
  deadAt?: string;
  messageId: string;
  body: string;
}
interface Job {
  id: string;
  kind: 'replay' | 'purge';
  state: 'running' | 'done' | 'failed';
  replayed: number;
  skipped: number;
  failed: number;
  deleted: number | 'all';
  error?: string;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** Asks in the page's dialog; resolves true when confirmed. */
function confirmInPage(text: string): Promise<boolean> {
  const dialog = $<HTMLDialogElement>('confirm');
  $('confirm-text').textContent = text;
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
    dialog.returnValue = '';
    dialog.showModal();
  });
}

function describeJob(job: Job): string {
  if (job.kind === 'purge') {
    const deleted = job.deleted === 'all' ? 'the whole queue' : `${job.deleted} letter(s)`;
    return job.state === 'running'
      ? 'purging…'
      : `purge ${job.state}: deleted ${deleted}${job.error ? ` (${job.error})` : ''}`;
  }
  const counts = `replayed ${job.replayed}, skipped ${job.skipped}, failed ${job.failed}`;
  return `${job.state === 'running' ? 'replaying… ' : `replay ${job.state}: `}${counts}${job.error ? ` (${job.error})` : ''}`;
}

/**
 * Wires the dead-letters section.
 *
 * @example
 * const letters = startDeadLetters(['critical', 'high']);
 * await letters.refresh();
 */
export function startDeadLetters(tiers: readonly string[]): { refresh(): Promise<void> } {
  const filterForm = $<HTMLFormElement>('dlq-filter');
  const tierSelect = filterForm.elements.namedItem('tier') as HTMLSelectElement;
  for (const tier of tiers) tierSelect.append(el('option', { text: tier, attrs: { value: tier } }));
  const selected = new Set<string>();
  let listed: Letter[] = [];

  const filter = () => {
    const data = new FormData(filterForm);
    const pick = (name: string) => String(data.get(name) ?? '').trim() || undefined;
    return { task: pick('task'), tier: pick('tier'), reason: pick('reason') };
  };
  const scope = () => {
    const f = filter();
    const parts = Object.entries(f)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k} ${v}`);
    if (selected.size > 0) return `the ${selected.size} selected letter(s)`;
    return parts.length === 0 ? 'every dead letter' : `every dead letter with ${parts.join(', ')}`;
  };
  const showScope = () => {
    $('dlq-scope').textContent = `acts on ${scope()}`;
  };

  const showLetter = (letter: Letter) => {
    const fields: [string, string][] = [
      ['id', letter.id ?? '–'],
      ['task', letter.task ?? '–'],
      ['tier', letter.tier ?? '–'],
      ['reason', letter.reason],
      ['attempts', letter.attempts === undefined ? '–' : String(letter.attempts)],
      ['dead at', letter.deadAt ?? '–'],
      ['error', letter.error ?? '–'],
      ['message id', letter.messageId],
    ];
    $('letter-fields').replaceChildren(
      ...fields.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v })]),
    );
    let body = letter.body;
    try {
      body = JSON.stringify(JSON.parse(letter.body), null, 2);
    } catch {
      // Not JSON: shown as it is.
    }
    $('letter-body').textContent = body;
    $('letter-title').textContent = `Letter ${letter.id ?? letter.messageId}`;
    $('letter').hidden = false;
    $('letter-title').setAttribute('tabindex', '-1');
    $('letter-title').focus();
  };

  const refresh = async () => {
    const f = filter();
    const query = new URLSearchParams(
      Object.entries(f).filter((e): e is [string, string] => e[1] !== undefined),
    );
    query.set('limit', '500');
    try {
      const { letters } = await get<{ letters: Letter[] }>(`/dead-letters?${query}`);
      listed = letters;
      for (const id of [...selected]) if (!letters.some((l) => l.messageId === id)) selected.delete(id);
      $('letters-caption').textContent = `Dead letters: ${letters.length} listed`;
      $('reasons').replaceChildren(
        ...[...new Set(letters.map((l) => l.reason))].map((r) => el('option', { attrs: { value: r } })),
      );
      $('letters')
        .querySelector('tbody')
        ?.replaceChildren(
          ...(letters.length === 0
            ? [row(['', 'the dead-letter queue has no letters that match'])]
            : letters.map((l) => {
                const box = el('input', {
                  attrs: { type: 'checkbox', 'aria-label': `select ${l.id ?? l.messageId}` },
                });
                box.checked = selected.has(l.messageId);
                box.addEventListener('change', () => {
                  if (box.checked) selected.add(l.messageId);
                  else selected.delete(l.messageId);
                  showScope();
                });
                const details = el('button', {
                  text: 'Details',
                  attrs: { type: 'button', 'aria-label': `details of ${l.id ?? l.messageId}` },
                });
                details.addEventListener('click', () => showLetter(l));
                const tr = row([
                  box,
                  l.id ?? '–',
                  l.task ?? '–',
                  l.tier ?? '–',
                  l.reason,
                  l.attempts ?? '–',
                  l.deadAt ?? '–',
                  l.error ?? '',
                  details,
                ]);
                tr.cells[7]?.classList.add('error');
                tr.cells[4]?.classList.add('nowrap');
                tr.dataset.messageId = l.messageId;
                return tr;
              })),
        );
      ($('select-all') as HTMLInputElement).checked = letters.length > 0 && selected.size === letters.length;
      showScope();
      showError(undefined);
    } catch (error) {
      showError(error);
    }
  };

  const run = async (kind: 'replay' | 'purge') => {
    const what = scope();
    const question =
      kind === 'purge'
        ? `Delete ${what} for good? This cannot be undone.`
        : `Send ${what} back to their tiers with a fresh attempt budget?`;
    if (!(await confirmInPage(question))) {
      $('dlq-progress').textContent = `${kind} cancelled`;
      return;
    }
    const body = { ...filter(), ...(selected.size > 0 ? { messageIds: [...selected] } : {}) };
    const buttons = [$<HTMLButtonElement>('replay'), $<HTMLButtonElement>('purge')];
    for (const b of buttons) b.disabled = true;
    try {
      let job = await post<Job>(
        `/dead-letters/${kind}`,
        kind === 'purge' ? { ...body, confirm: true } : body,
      );
      $('dlq-progress').textContent = describeJob(job);
      while (job.state === 'running') {
        await new Promise((resolve) => setTimeout(resolve, 300));
        job = await get<Job>(`/jobs/${job.id}`);
        $('dlq-progress').textContent = describeJob(job);
      }
      selected.clear();
      await refresh();
    } catch (error) {
      showError(error);
    } finally {
      for (const b of buttons) b.disabled = false;
    }
  };

  filterForm.addEventListener('submit', (event) => {
    event.preventDefault();
    selected.clear();
    void refresh();
  });
  $('dlq-refresh').addEventListener('click', () => void refresh());
  $('replay').addEventListener('click', () => void run('replay'));
  $('purge').addEventListener('click', () => void run('purge'));
  $('select-all').addEventListener('change', (event) => {
    const on = (event.target as HTMLInputElement).checked;
    selected.clear();
    if (on) for (const l of listed) selected.add(l.messageId);
    for (const box of $('letters').querySelectorAll<HTMLInputElement>('tbody input[type=checkbox]'))
      box.checked = on;
    showScope();
  });
  return { refresh };
}
