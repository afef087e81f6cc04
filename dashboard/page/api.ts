/**
 * The page's calls to its server. The token travels in the cookie the server set when the
 * printed URL was opened; POSTs are same-origin JSON, as the server insists.
 */

/** An answer the server refused or failed, with its message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

async function parse<T>(response: Response): Promise<T> {
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = { error: text || response.statusText };
  }
  if (!response.ok) {
    throw new ApiError(response.status, (body as { error?: string }).error ?? response.statusText);
  }
  return body as T;
}

/** GET `path` (under /api) as JSON. */
export async function get<T>(path: string): Promise<T> {
  return parse<T>(await fetch(`/api${path}`, { credentials: 'same-origin' }));
}

/** POST `body` as JSON to `path` (under /api). */
export async function post<T>(path: string, body: unknown): Promise<T> {
  return parse<T>(
    await fetch(`/api${path}`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );
}

/** Shows `error` in the page's alert line, or clears it. */
export function showError(error: unknown): void {
  const line = document.getElementById('error') as HTMLElement;
  if (error === undefined) {
    line.hidden = true;
    return;
  }
  line.textContent = error instanceof Error ? error.message : String(error);
  line.hidden = false;
}

/** Creates an element with text, attributes and children. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { text?: string; className?: string; attrs?: Record<string, string> } = {},
  ...children: Node[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.text !== undefined) node.textContent = props.text;
  if (props.className !== undefined) node.className = props.className;
  for (const [name, value] of Object.entries(props.attrs ?? {})) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/** A table row of cells; numbers are right-aligned. */
export function row(cells: readonly (string | number | Node)[], header = false): HTMLTableRowElement {
  const tr = el('tr');
  cells.forEach((cell, i) => {
    const td = el(header && i === 0 ? 'th' : 'td', header && i === 0 ? { attrs: { scope: 'row' } } : {});
    if (cell instanceof Node) td.append(cell);
    else td.textContent = String(cell);
    if (typeof cell === 'number') td.className = 'num';
    tr.append(td);
  });
  return tr;
}
