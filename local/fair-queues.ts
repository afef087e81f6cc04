/**
 * SQS fair queues on fauxqs. Since 2025 a standard SQS queue takes a `MessageGroupId` and uses it
 * to keep one group's (tenant's) backlog from raising the others' dwell time: when a group has
 * more messages in flight than the others, SQS delivers the others' first. fauxqs 1.9 accepts
 * the parameter on a standard queue but drops it and delivers strictly in order, so this module
 * adds the behaviour in the emulator's own process: it remembers each sent message's group
 * (from the request and fauxqs's answer) and, before each receive, moves to the front of the
 * queue the visible messages of the groups with the fewest messages in flight.
 */
/** A message as fauxqs 1.9 stores it (sqsStore.d.ts: `SqsMessage`), the part read here. */
interface StoredMessage {
  readonly messageId: string;
  messageGroupId?: string;
}

/** The part of fauxqs 1.9's `SqsQueue` this module patches and reads. */
interface PatchableQueue {
  readonly name: string;
  messages: StoredMessage[];
  readonly inflightMessages: Map<string, { readonly message: StoredMessage }>;
  isFifo(): boolean;
  processTimers(): void;
  dequeue(maxCount: number, ...rest: unknown[]): unknown[];
}

/** The part of Fastify's app this module hooks into (an `onSend` hook on every response). */
interface HookableApp {
  addHook(
    name: 'onSend',
    hook: (
      request: { headers: Record<string, unknown>; body: unknown },
      reply: unknown,
      payload: unknown,
      done: () => void,
    ) => void,
  ): unknown;
}

/** Message id → group of messages sent with a group and not yet seen by a receive. */
const groups = new Map<string, string>();
/** Queues (by name) that were ever sent a grouped message: only those are reordered. */
const grouped = new Set<string>();
const patched = new WeakSet<object>();

/**
 * Makes fauxqs's standard queues fair queues: hooks the app's responses to record the group of
 * every message sent with one (`SendMessage`, `SendMessageBatch`), and patches `SqsQueue`'s
 * `dequeue` to deliver first the visible messages whose group has the fewest in flight (and
 * among equals, the oldest). Queues never sent a group are delivered in order, untouched.
 *
 * @example
 * const { SqsQueue } = await import(sqsStoreFileUrl);
 * emulateFairQueues(buildApp({ stores }), SqsQueue.prototype);
 */
export function emulateFairQueues(app: HookableApp, queuePrototype: PatchableQueue): void {
  app.addHook('onSend', (request, _reply, payload, done) => {
    try {
      record(request, payload);
    } catch {
      // An answer that is not JSON (an error page) sent nothing to remember.
    }
    done();
  });
  if (patched.has(queuePrototype)) return;
  patched.add(queuePrototype);
  const dequeue = queuePrototype.dequeue;
  queuePrototype.dequeue = function fairDequeue(this: PatchableQueue, maxCount, ...rest) {
    if (!this.isFifo() && grouped.has(this.name)) {
      this.processTimers();
      putFairFirst(this, Math.min(maxCount, 10));
    }
    return dequeue.call(this, maxCount, ...rest);
  };
}

function record(request: { headers: Record<string, unknown>; body: unknown }, payload: unknown): void {
  const target = String(request.headers['x-amz-target'] ?? '');
  if (target !== 'AmazonSQS.SendMessage' && target !== 'AmazonSQS.SendMessageBatch') return;
  if (typeof payload !== 'string') return;
  const body = request.body as {
    QueueUrl?: string;
    MessageGroupId?: string;
    Entries?: { Id: string; MessageGroupId?: string }[];
  };
  const sent = JSON.parse(payload) as {
    MessageId?: string;
    Successful?: { Id: string; MessageId: string }[];
  };
  const queue = (body.QueueUrl ?? '').slice((body.QueueUrl ?? '').lastIndexOf('/') + 1);
  if (queue.endsWith('.fifo')) return;
  if (target === 'AmazonSQS.SendMessage') {
    if (body.MessageGroupId === undefined || sent.MessageId === undefined) return;
    groups.set(sent.MessageId, body.MessageGroupId);
    grouped.add(queue);
    return;
  }
  const groupOf = new Map((body.Entries ?? []).map((e) => [e.Id, e.MessageGroupId]));
  for (const { Id, MessageId } of sent.Successful ?? []) {
    const group = groupOf.get(Id);
    if (group === undefined) continue;
    groups.set(MessageId, group);
    grouped.add(queue);
  }
}

/** The group of a stored message, moved onto it the first time a receive looks at it. */
function groupOf(message: StoredMessage): string | undefined {
  if (message.messageGroupId === undefined) {
    const group = groups.get(message.messageId);
    if (group !== undefined) {
      message.messageGroupId = group;
      groups.delete(message.messageId);
    }
  }
  return message.messageGroupId;
}

/**
 * Moves the `count` visible messages a fair queue would deliver next to the front, in the order
 * it would deliver them: repeatedly, the oldest message of the group with the fewest in flight
 * (counting those picked already); a message without a group is never held back.
 */
function putFairFirst(queue: PatchableQueue, count: number): void {
  const inFlight = new Map<string, number>();
  for (const { message } of queue.inflightMessages.values()) {
    const group = groupOf(message);
    if (group !== undefined) inFlight.set(group, (inFlight.get(group) ?? 0) + 1);
  }
  // The first `count` visible messages of each group (and of no group), oldest first.
  const candidates = new Map<string | undefined, number[]>();
  queue.messages.forEach((message, index) => {
    const group = groupOf(message);
    const list = candidates.get(group) ?? [];
    if (list.length < count) list.push(index);
    candidates.set(group, list);
  });
  if (candidates.size <= 1) return;
  const picked: number[] = [];
  while (picked.length < count) {
    let best: { group: string | undefined; load: number; index: number } | undefined;
    for (const [group, list] of candidates) {
      const index = list[0];
      if (index === undefined) continue;
      const load = group === undefined ? 0 : (inFlight.get(group) ?? 0);
      if (best === undefined || load < best.load || (load === best.load && index < best.index)) {
        best = { group, load, index };
      }
    }
    if (best === undefined) break;
    picked.push(best.index);
    candidates.get(best.group)?.shift();
    if (best.group !== undefined) inFlight.set(best.group, best.load + 1);
  }
  const chosen = new Set(picked);
  queue.messages = [
    ...picked.map((i) => queue.messages[i] as StoredMessage),
    ...queue.messages.filter((_, i) => !chosen.has(i)),
  ];
}
