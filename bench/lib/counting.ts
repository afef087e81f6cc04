import { performance } from 'node:perf_hooks';

/** Requests of one operation, as counted on the wire (every attempt, SDK retries included). */
export interface OperationTally {
  requests: number;
  /** Sum of round-trip times (request sent to response parsed), ms. */
  ms: number;
  /** `ConsumedCapacity.CapacityUnits` summed as the server reported it (DynamoDB only). */
  reportedCapacity: number;
  /** Keys read, by consistency: GetItem counts 1, BatchGetItem every key it asked for. */
  consistentKeys: number;
  eventualKeys: number;
  /** Items written: 1 per PutItem, UpdateItem or DeleteItem, every put or delete of a BatchWriteItem. */
  writeItems: number;
}

/** A snapshot: operation name (e.g. `UpdateItem`) to its tally. */
export type Tallies = Record<string, OperationTally>;

type Input = Record<string, unknown>;
type Handler = (args: { input: Input }) => Promise<{ output: Input }>;
type Middleware = (next: Handler, context: { commandName?: string }) => Handler;
/** The slice of the SDK's middleware stack used here; the real type is the SDK's generic stack. */
interface StackLike {
  add(middleware: Middleware, options: { step: 'initialize' | 'deserialize'; name: string }): void;
}

// Operations that accept ReturnConsumedCapacity.
const CAPACITY_OPERATIONS = new Set(
  [
    'GetItem',
    'PutItem',
    'UpdateItem',
    'DeleteItem',
    'BatchGetItem',
    'BatchWriteItem',
    'Query',
    'Scan',
  ].concat(['TransactGetItems', 'TransactWriteItems']),
);

const emptyTally = (): OperationTally => ({
  requests: 0,
  ms: 0,
  reportedCapacity: 0,
  consistentKeys: 0,
  eventualKeys: 0,
  writeItems: 0,
});

/**
 * A counting wrapper for SDK v3 clients: middleware on the client's own stack counts every
 * request by operation, times it, and for DynamoDB asks for `ReturnConsumedCapacity: 'TOTAL'`
 * and adds up what the server reports. Nothing in the code under test changes: the benchmark
 * passes the counted client in where the code takes a client.
 *
 * @example
 * const counter = new RequestCounter({ consumedCapacity: true });
 * const ddb = counter.attach(new DynamoDBClient(config));
 * await store.acquire(input);
 * counter.total(); // 1
 */
export class RequestCounter {
  private readonly ops = new Map<string, OperationTally>();
  /** Start and end (performance.now() ms) of every request since the last `takeIntervals()`. */
  private intervals: [number, number][] = [];

  constructor(private readonly options: { consumedCapacity?: boolean } = {}) {}

  /** Adds the counting middleware to `client` and returns it. */
  attach<C extends { middlewareStack: unknown }>(client: C): C {
    const stack = client.middlewareStack as StackLike;
    const operation = (context: { commandName?: string }) =>
      (context.commandName ?? 'Unknown').replace(/Command$/, '');
    // Initialize runs once per call: ask for capacity and note which keys a read asks for.
    stack.add(
      (next, context) => async (args) => {
        const op = operation(context);
        const tally = this.tally(op);
        if (this.options.consumedCapacity && CAPACITY_OPERATIONS.has(op)) {
          args.input.ReturnConsumedCapacity = 'TOTAL';
        }
        countReadKeys(op, args.input, tally);
        tally.writeItems += writeItemsOf(op, args.input);
        const result = await next(args);
        tally.reportedCapacity += reportedUnits(result.output.ConsumedCapacity);
        return result;
      },
      { step: 'initialize', name: 'benchCountCalls' },
    );
    // Deserialize sits inside the retry loop, so it sees every attempt on the wire.
    stack.add(
      (next, context) => async (args) => {
        const tally = this.tally(operation(context));
        const start = performance.now();
        tally.requests += 1;
        try {
          return await next(args);
        } finally {
          const end = performance.now();
          tally.ms += end - start;
          this.intervals.push([start, end]);
        }
      },
      { step: 'deserialize', name: 'benchCountRequests' },
    );
    return client;
  }

  /** Requests sent so far, all operations. */
  total(): number {
    let sum = 0;
    for (const tally of this.ops.values()) sum += tally.requests;
    return sum;
  }

  /** A copy of the tallies, safe to keep while counting goes on. */
  snapshot(): Tallies {
    return Object.fromEntries([...this.ops].map(([op, tally]) => [op, { ...tally }]));
  }

  /** The request intervals recorded since the previous call, and forgets them. */
  takeIntervals(): [number, number][] {
    const taken = this.intervals;
    this.intervals = [];
    return taken;
  }

  private tally(op: string): OperationTally {
    let tally = this.ops.get(op);
    if (tally === undefined) {
      tally = emptyTally();
      this.ops.set(op, tally);
    }
    return tally;
  }
}

/**
 * `after − before`, operation by operation.
 *
 * @example
 * const spent = diffTallies(counter.snapshot(), before);
 */
export function diffTallies(after: Tallies, before: Tallies): Tallies {
  const out: Tallies = {};
  for (const [op, a] of Object.entries(after)) {
    const b = before[op] ?? emptyTally();
    out[op] = {
      requests: a.requests - b.requests,
      ms: a.ms - b.ms,
      reportedCapacity: a.reportedCapacity - b.reportedCapacity,
      consistentKeys: a.consistentKeys - b.consistentKeys,
      eventualKeys: a.eventualKeys - b.eventualKeys,
      writeItems: a.writeItems - b.writeItems,
    };
  }
  return out;
}

/**
 * Sum of requests over every operation of `tallies`.
 *
 * @example
 * totalRequests(counter.snapshot());
 */
export function totalRequests(tallies: Tallies): number {
  return Object.values(tallies).reduce((sum, t) => sum + t.requests, 0);
}

/** Items a write request names: a BatchWriteItem bills each of its puts and deletes as a write. */
function writeItemsOf(op: string, input: Input): number {
  if (op === 'PutItem' || op === 'UpdateItem' || op === 'DeleteItem') return 1;
  if (op !== 'BatchWriteItem') return 0;
  const tables = (input.RequestItems ?? {}) as Record<string, unknown[]>;
  return Object.values(tables).reduce((sum, requests) => sum + requests.length, 0);
}

function countReadKeys(op: string, input: Input, tally: OperationTally): void {
  if (op === 'GetItem') {
    if (input.ConsistentRead === true) tally.consistentKeys += 1;
    else tally.eventualKeys += 1;
  } else if (op === 'BatchGetItem') {
    const tables = (input.RequestItems ?? {}) as Record<
      string,
      { Keys?: unknown[]; ConsistentRead?: boolean }
    >;
    for (const request of Object.values(tables)) {
      const keys = request.Keys?.length ?? 0;
      if (request.ConsistentRead === true) tally.consistentKeys += keys;
      else tally.eventualKeys += keys;
    }
  }
}

function reportedUnits(consumed: unknown): number {
  const list = Array.isArray(consumed) ? consumed : consumed === undefined ? [] : [consumed];
  return list.reduce(
    (sum: number, c) => sum + Number((c as { CapacityUnits?: number }).CapacityUnits ?? 0),
    0,
  );
}
