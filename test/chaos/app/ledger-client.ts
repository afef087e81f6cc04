/**
 * What the chaos consumer tells the ledger, a server in the test process and so outside the
 * system under test: each side effect a task applies, and when each invocation started and ended.
 */

/** One application of a task's side effect. */
export interface Application {
  /** The idempotency key: what "exactly once" is counted by. */
  readonly key: string;
  readonly mode: 'lock' | 'once';
  readonly attempt: number;
  /** The invocation's `context.awsRequestId`. */
  readonly invocationId: string;
  /** Epoch ms. */
  readonly at: number;
}

/**
 * One invocation of the consumer that ran to its end, with the keys of the records it reported
 * failed. An invocation killed before its end never posts one.
 */
export interface InvocationWindow {
  /** The invocation's `context.awsRequestId`. */
  readonly invocationId: string;
  /** Epoch ms, before any middleware ran. */
  readonly startedAt: number;
  /** Epoch ms, after every state write of the invocation (the completions among them). */
  readonly endedAt: number;
  /** Keys of records named in batchItemFailures: their outcome was not stored. */
  readonly failedKeys: readonly string[];
}

/** Ledger paths, shared by the client here and the server in test/chaos/ledger.ts. */
export const LedgerPath = { apply: '/apply', invocation: '/invocation' } as const;

/**
 * Posts to the ledger. A failed post throws, so the task fails and is retried: a side effect
 * counts only once the ledger has it, as with any external system.
 *
 * @example
 * await postToLedger(process.env.CHAOS_LEDGER_URL, LedgerPath.apply, application);
 */
export async function postToLedger(baseUrl: string, path: string, body: Application | InvocationWindow) {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`ledger ${path} answered ${response.status}`);
  await response.arrayBuffer();
}
