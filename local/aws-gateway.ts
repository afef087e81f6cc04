/**
 * The local stack's front door to the emulators, holding requests to the AWS rules the emulators
 * do not enforce: IAM (each request evaluated against the template's policies for the caller's
 * principal, denied as AWS denies) and SQS's 12-hour visibility limit, measured from the
 * receive. Everything the functions, the event source runner, producers and the CLI send to the
 * local stack goes through it; the emulators' own endpoints are for provisioning only.
 */
import { Agent, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { forward, operationOf, readBody } from './http-relay.js';
import type { IamEvaluator } from './iam/evaluator.js';
import type { LocalIam, LocalPrincipal } from './iam/principals.js';
import { authorizationRequests, type ParsedRequest, type ResourceArns } from './iam/requests.js';
import {
  answerLambda,
  type LocalLambdaApi,
  lambdaAccessDenied,
  lambdaAuthorization,
  lambdaRequest,
} from './lambda-api.js';
import { type AwsError, awsErrorAnswer, type WireAnswer } from './wire-faults.js';

/** SQS keeps a received message invisible for at most 12 hours from the receive. */
export const MAX_VISIBILITY_SECONDS = 43_200;

/** What the gateway enforces, once the stack's principals are known. */
export interface GatewayRules {
  readonly iam: LocalIam;
  readonly evaluator: IamEvaluator;
  readonly arns: ResourceArns;
}

/** Options for {@link startAwsGateway}. */
export interface AwsGatewayOptions {
  /** The emulators' own endpoints. */
  readonly targets: { readonly sqs: string; readonly dynamodb: string };
  /** Called once per (principal, action, resource) denied, and for other notable events. */
  readonly log?: (line: string) => void;
  /** Loopback interface to listen on. Default 127.0.0.1. */
  readonly host?: string;
  /** Clock (epoch ms) for the visibility limit; tests move it on. Default `Date.now`. */
  readonly now?: () => number;
  /** Region of the ARNs the Lambda API names. Default us-east-1. */
  readonly region?: string;
}

/** Counters for tests and the summary. */
export interface GatewayStats {
  requests: number;
  denied: number;
  /** ChangeMessageVisibility entries refused for reaching past 12 hours from the receive. */
  visibilityRefused: number;
}

/** A running gateway. */
export interface AwsGateway {
  /** Where clients send requests: one endpoint per service (`lambda`: event source mappings). */
  readonly endpoints: { readonly sqs: string; readonly dynamodb: string; readonly lambda: string };
  /** Starts enforcing IAM; until then every request is allowed (provisioning happens first). */
  enforce(rules: GatewayRules): void;
  /** Answers Lambda's event source mapping API from `api` (the runner); until then it is unavailable. */
  serveLambda(api: LocalLambdaApi): void;
  stats(): GatewayStats;
  stop(): Promise<void>;
}

/**
 * Starts the gateway on two loopback ports in front of the emulators.
 *
 * @example
 * const gateway = await startAwsGateway({ targets: emulators.endpoints, log: console.log });
 * gateway.enforce({ iam, evaluator, arns });
 */
export async function startAwsGateway(options: AwsGatewayOptions): Promise<AwsGateway> {
  const log = options.log ?? (() => {});
  const now = options.now ?? Date.now;
  const host = options.host ?? '127.0.0.1';
  const stats: GatewayStats = { requests: 0, denied: 0, visibilityRefused: 0 };
  const reported = new Set<string>();
  /** Receipt handle → when its receive answered, for the 12-hour visibility limit. */
  const receivedAt = new Map<string, number>();
  let rules: GatewayRules | undefined;
  let byKey = new Map<string, LocalPrincipal>();
  let lambdaApi: LocalLambdaApi | undefined;
  const logOnce = (line: string) => {
    if (!reported.has(line)) {
      reported.add(line);
      log(line);
    }
  };

  /** Lambda's REST API for the runner's event source mappings: IAM first, then the runner answers. */
  const handleLambda = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const text = (await readBody(req)).toString('utf8');
    stats.requests += 1;
    const request = lambdaRequest(req.method ?? 'GET', req.url ?? '/', text);
    const where = {
      region: options.region ?? 'us-east-1',
      accountId: rules?.iam.accountId ?? '000000000000',
    };
    const principal = rules === undefined ? undefined : byKey.get(accessKeyOf(req) ?? '');
    const ask = lambdaAuthorization(request, lambdaApi?.mappings() ?? [], where);
    if (rules !== undefined && principal !== undefined && ask !== undefined) {
      let allowed = false;
      try {
        allowed = (await rules.evaluator.authorize(principal, ask)).allowed;
      } catch (error) {
        logOnce(`IAM could not evaluate ${ask.action} on ${ask.resource}: ${String(error)}; denied`);
      }
      if (!allowed) {
        stats.denied += 1;
        logOnce(`IAM denied ${principal.logicalId}: ${ask.action} on ${ask.resource}`);
        return send(res, lambdaAccessDenied(principal.arn, ask.action, ask.resource));
      }
    }
    if (lambdaApi === undefined) {
      return send(res, {
        status: 503,
        headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'ServiceException' },
        body: JSON.stringify({ Message: 'the local stack runs no event source mappings yet' }),
      });
    }
    send(res, answerLambda(request, lambdaApi));
  };

  const handle = async (
    service: 'sqs' | 'dynamodb',
    target: URL,
    agent: Agent,
    req: IncomingMessage,
    res: ServerResponse,
    hungUp: AbortSignal,
  ): Promise<void> => {
    const body = await readBody(req);
    stats.requests += 1;
    const text = body.toString('utf8');
    const protocol = req.headers['x-amz-target'] === undefined ? 'query' : 'json';
    const request: ParsedRequest = {
      service,
      operation: operationOf(req, text),
      input: parseInput(protocol, text),
    };

    if (rules !== undefined) {
      const principal = byKey.get(accessKeyOf(req) ?? '');
      // A key the template does not name is the account's administrator, as deploy credentials are.
      if (principal !== undefined) {
        const denied = await firstDenial(principal, request, rules, (line) => {
          if (!reported.has(line)) {
            reported.add(line);
            log(line);
          }
        });
        if (denied !== undefined) {
          stats.denied += 1;
          return send(res, awsErrorAnswer(service, protocol, denied));
        }
      }
    }

    if (service === 'sqs') {
      const refused = visibilityBeyondLimit(request, receivedAt, now());
      if (refused !== undefined) {
        stats.visibilityRefused += refused.entries;
        if (refused.answer !== undefined) return send(res, awsErrorAnswer(service, protocol, refused.answer));
        // A batch: refused entries fail, the rest go through.
        return void (await forwardBatchWithFailures(
          target,
          agent,
          req,
          res,
          request,
          refused.failed,
          hungUp,
        ));
      }
    }

    const upstream = await forward(target, agent, req, body, hungUp);
    if (service === 'sqs' && request.operation === 'ReceiveMessage' && upstream.status === 200) {
      rememberReceipts(upstream.body, receivedAt, now());
    }
    const deleted = request.operation === 'DeleteMessage' || request.operation === 'DeleteMessageBatch';
    if (service === 'sqs' && deleted && upstream.status === 200) forgetReceipts(request, receivedAt);
    res.writeHead(upstream.status, upstream.headers);
    res.end(upstream.body);
  };

  const servers: Server[] = [];
  const agents: Agent[] = [];
  const listen = async (service: 'sqs' | 'dynamodb' | 'lambda', targetUrl: string): Promise<string> => {
    const target = new URL(targetUrl);
    const agent = new Agent({ keepAlive: true });
    agents.push(agent);
    const server = createServer((req, res) => {
      if (service === 'lambda') {
        handleLambda(req, res).catch(() => {
          if (!res.headersSent && !res.destroyed) res.writeHead(502).end();
          else res.destroy();
        });
        return;
      }
      const hungUp = new AbortController();
      res.once('close', () => {
        if (!res.writableFinished) hungUp.abort();
      });
      handle(service, target, agent, req, res, hungUp.signal).catch(() => {
        if (!res.headersSent && !res.destroyed) res.writeHead(502).end();
        else res.destroy();
      });
    });
    servers.push(server);
    server.listen(0, host);
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    const { port } = server.address() as AddressInfo;
    return `http://${host}:${port}`;
  };
  let endpoints: { sqs: string; dynamodb: string; lambda: string };
  try {
    endpoints = {
      sqs: await listen('sqs', options.targets.sqs),
      dynamodb: await listen('dynamodb', options.targets.dynamodb),
      // Lambda is not emulated: the gateway itself answers its event source mapping API.
      lambda: await listen('lambda', 'http://127.0.0.1:0'),
    };
  } catch (error) {
    for (const server of servers) server.close();
    for (const agent of agents) agent.destroy();
    throw error;
  }

  const sweep = setInterval(() => {
    const oldest = now() - MAX_VISIBILITY_SECONDS * 1000;
    for (const [handle, at] of receivedAt) if (at < oldest) receivedAt.delete(handle);
  }, 60_000);
  sweep.unref();

  return {
    endpoints,
    enforce(next) {
      rules = next;
      byKey = new Map(next.iam.principals.map((p) => [p.credentials.accessKeyId, p]));
    },
    serveLambda(api) {
      lambdaApi = api;
    },
    stats: () => ({ ...stats }),
    async stop() {
      clearInterval(sweep);
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      );
      for (const agent of agents) agent.destroy();
    },
  };
}

function send(res: ServerResponse, answer: WireAnswer): void {
  res.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) });
  res.end(answer.body);
}

/** The access key of a SigV4-signed request (`Credential=AKID/date/region/service/aws4_request`). */
function accessKeyOf(req: IncomingMessage): string | undefined {
  const match = /Credential=([^/,\s]+)\//.exec(String(req.headers.authorization ?? ''));
  return match?.[1];
}

function parseInput(protocol: 'json' | 'query', text: string): Record<string, unknown> {
  if (protocol === 'query') return Object.fromEntries(new URLSearchParams(text));
  try {
    const parsed: unknown = JSON.parse(text === '' ? '{}' : text);
    return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    // The emulator answers a malformed body with its own error.
    return {};
  }
}

/**
 * The first of a request's authorization questions IAM denies, as the error AWS answers with;
 * undefined when all are allowed. A request whose questions cannot be read or evaluated is
 * denied too (failing closed), with the reason logged.
 */
async function firstDenial(
  principal: LocalPrincipal,
  request: ParsedRequest,
  rules: GatewayRules,
  logOnce: (line: string) => void,
): Promise<AwsError | undefined> {
  const { service } = request;
  let asks: ReturnType<typeof authorizationRequests>;
  try {
    asks = authorizationRequests(request, rules.arns);
  } catch (error) {
    logOnce(
      `IAM could not read ${service} ${request.operation} from ${principal.logicalId}: ${String(error)}`,
    );
    return validation(
      service,
      `tierq local could not read the ${request.operation} request for IAM: ${String(error)}`,
    );
  }
  for (const ask of asks) {
    let decision: Awaited<ReturnType<GatewayRules['evaluator']['authorize']>>;
    try {
      decision = await rules.evaluator.authorize(principal, ask);
    } catch (error) {
      logOnce(`IAM could not evaluate ${ask.action} on ${ask.resource}: ${String(error)}; denied`);
      decision = { allowed: false, result: 'ImplicitlyDenied' };
    }
    if (decision.allowed) continue;
    logOnce(`IAM denied ${principal.logicalId}: ${ask.action} on ${ask.resource} (${decision.result})`);
    return accessDenied(service, principal.arn, ask.action, ask.resource, decision.deniedBy);
  }
  return undefined;
}

/** AWS's AccessDenied: SQS answers 403 and names the action in lower case; DynamoDB answers 400. */
function accessDenied(
  service: 'sqs' | 'dynamodb',
  principalArn: string,
  action: string,
  resource: string,
  deniedBy: 'identity' | 'resource' | undefined,
): AwsError {
  const named = service === 'sqs' ? action.toLowerCase() : action;
  const why =
    deniedBy === undefined
      ? `because no identity-based policy allows the ${named} action`
      : `with an explicit deny in ${deniedBy === 'identity' ? 'an identity-based' : 'a resource-based'} policy`;
  const message = `User: ${principalArn} is not authorized to perform: ${named} on resource: ${resource} ${why}`;
  const type = 'com.amazon.coral.service#AccessDeniedException';
  return service === 'sqs'
    ? { status: 403, type, code: 'AccessDenied', message, side: 'Sender' }
    : { status: 400, type, code: 'AccessDeniedException', message, side: 'Sender' };
}

function validation(service: 'sqs' | 'dynamodb', message: string): AwsError {
  return service === 'sqs'
    ? {
        status: 400,
        type: 'com.amazonaws.sqs#InvalidParameterValue',
        code: 'InvalidParameterValue',
        message,
        side: 'Sender',
      }
    : {
        status: 400,
        type: 'com.amazon.coral.validate#ValidationException',
        code: 'ValidationException',
        message,
        side: 'Sender',
      };
}

function invalidVisibility(requested: number): AwsError {
  return {
    status: 400,
    type: 'com.amazonaws.sqs#InvalidParameterValue',
    code: 'InvalidParameterValue',
    message:
      `Value ${requested} for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the ` +
      `message is beyond the limit [${MAX_VISIBILITY_SECONDS} seconds].`,
    side: 'Sender',
  };
}

/**
 * ChangeMessageVisibility counts from now, but SQS caps the total at 12 hours from the receive:
 * returns the error for a single change, or the refused entries of a batch; undefined when all fit.
 */
function visibilityBeyondLimit(
  request: ParsedRequest,
  receivedAt: ReadonlyMap<string, number>,
  now: number,
): { entries: number; answer?: AwsError; failed: Map<string, AwsError> } | undefined {
  const check = (handle: unknown, timeout: unknown): AwsError | undefined => {
    const at = receivedAt.get(String(handle));
    const seconds = Number(timeout);
    if (at === undefined || !Number.isFinite(seconds)) return undefined;
    const held = Math.floor((now - at) / 1000);
    return held + seconds > MAX_VISIBILITY_SECONDS ? invalidVisibility(seconds) : undefined;
  };
  const { operation, input } = request;
  if (operation === 'ChangeMessageVisibility') {
    const answer = check(input.ReceiptHandle, input.VisibilityTimeout);
    return answer === undefined ? undefined : { entries: 1, answer, failed: new Map() };
  }
  if (operation !== 'ChangeMessageVisibilityBatch') return undefined;
  const failed = new Map<string, AwsError>();
  for (const entry of (input.Entries ?? []) as {
    Id?: string;
    ReceiptHandle?: string;
    VisibilityTimeout?: number;
  }[]) {
    const error = check(entry.ReceiptHandle, entry.VisibilityTimeout);
    if (error !== undefined) failed.set(String(entry.Id), error);
  }
  return failed.size === 0 ? undefined : { entries: failed.size, failed };
}

/**
 * Sends a ChangeMessageVisibilityBatch without its refused entries and adds those to the answer's
 * `Failed` list, as SQS answers a batch with some invalid entries.
 */
async function forwardBatchWithFailures(
  target: URL,
  agent: Agent,
  req: IncomingMessage,
  res: ServerResponse,
  request: ParsedRequest,
  refused: ReadonlyMap<string, AwsError>,
  signal: AbortSignal,
): Promise<void> {
  const entries = (request.input.Entries ?? []) as { Id?: string }[];
  const kept = entries.filter((e) => !refused.has(String(e.Id)));
  const failed = [...refused].map(([Id, error]) => ({
    Id,
    SenderFault: true,
    Code: error.code,
    Message: error.message,
  }));
  let answer: { Successful?: unknown[]; Failed?: unknown[] } = { Successful: [], Failed: [] };
  if (kept.length > 0) {
    const upstream = await forward(
      target,
      agent,
      req,
      Buffer.from(JSON.stringify({ ...request.input, Entries: kept })),
      signal,
    );
    if (upstream.status !== 200) {
      res.writeHead(upstream.status, upstream.headers);
      return void res.end(upstream.body);
    }
    answer = JSON.parse(upstream.body.toString('utf8')) as typeof answer;
  }
  const out = JSON.stringify({
    Successful: answer.Successful ?? [],
    Failed: [...(answer.Failed ?? []), ...failed],
  });
  res.writeHead(200, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(out),
  });
  res.end(out);
}

/**
 * Notes when each receipt handle of a ReceiveMessage answer was received. Read off the text, not
 * parsed: the answer can hold 10 MiB of bodies. Receipt handles are base64-like, with no quotes.
 * A query-protocol (XML) answer has no `"ReceiptHandle"` and is not tracked.
 */
function rememberReceipts(body: Buffer, receivedAt: Map<string, number>, now: number): void {
  for (const [, handle] of body.toString('utf8').matchAll(/"ReceiptHandle"\s*:\s*"([^"\\]+)"/g)) {
    if (handle !== undefined) receivedAt.set(handle, now);
  }
}

function forgetReceipts(request: ParsedRequest, receivedAt: Map<string, number>): void {
  const { input } = request;
  if (typeof input.ReceiptHandle === 'string') receivedAt.delete(input.ReceiptHandle);
  for (const entry of (input.Entries ?? []) as { ReceiptHandle?: string }[]) {
    if (entry.ReceiptHandle !== undefined) receivedAt.delete(entry.ReceiptHandle);
  }
}
