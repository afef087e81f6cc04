/**
 * The part of Lambda's API the local stack serves: its event source mappings (REST-JSON under
 * `/2015-03-31/event-source-mappings/`), so `tierq pause tier` sends the same calls to the local
 * gateway as to AWS. `Get`, `List`, and `Update` of `Enabled`: the runner's mappings cannot be
 * reconfigured otherwise while it runs. IAM is asked first, by the gateway, as for every request.
 */

import type { MappingStatus } from './event-source-runner.js';
import type { AuthorizationRequest } from './iam/evaluator.js';
import type { WireAnswer } from './wire-faults.js';

/** What the gateway needs from the event source runner. */
export interface LocalLambdaApi {
  mappings(): readonly MappingStatus[];
  setEnabled(uuid: string, enabled: boolean): MappingStatus | undefined;
}

/** One Lambda API request as the gateway parsed it. */
export interface LambdaRequest {
  readonly operation:
    | 'GetEventSourceMapping'
    | 'UpdateEventSourceMapping'
    | 'ListEventSourceMappings'
    | 'unsupported';
  readonly uuid?: string;
  readonly query: URLSearchParams;
  readonly body: Record<string, unknown>;
}

const PREFIX = '/2015-03-31/event-source-mappings';

/**
 * Reads the operation from the method and path (Lambda's REST binding).
 *
 * @example
 * lambdaRequest('PUT', '/2015-03-31/event-source-mappings/1f0e…', '{"Enabled":false}').operation; // 'UpdateEventSourceMapping'
 */
export function lambdaRequest(method: string, url: string, text: string): LambdaRequest {
  const parsed = new URL(url, 'http://local');
  let body: Record<string, unknown> = {};
  try {
    const value: unknown = JSON.parse(text === '' ? '{}' : text);
    if (value !== null && typeof value === 'object') body = value as Record<string, unknown>;
  } catch {
    body = { '(unparsable body)': text };
  }
  const rest = parsed.pathname.startsWith(PREFIX) ? parsed.pathname.slice(PREFIX.length) : undefined;
  const uuid = rest?.replace(/^\/+|\/+$/g, '');
  const base = { query: parsed.searchParams, body };
  if (rest === undefined) return { operation: 'unsupported', ...base };
  if (uuid === '' && method === 'GET') return { operation: 'ListEventSourceMappings', ...base };
  if (uuid === undefined || uuid === '' || uuid.includes('/')) return { operation: 'unsupported', ...base };
  const id = decodeURIComponent(uuid);
  if (method === 'GET') return { operation: 'GetEventSourceMapping', uuid: id, ...base };
  if (method === 'PUT') return { operation: 'UpdateEventSourceMapping', uuid: id, ...base };
  return { operation: 'unsupported', ...base };
}

/**
 * What IAM is asked: `lambda:<Operation>` on the mapping's ARN with `lambda:FunctionArn` (List
 * supports no resource: `*`). An unknown id is asked about the ARN it would have.
 *
 * @example
 * lambdaAuthorization(request, api.mappings(), { region, accountId });
 */
export function lambdaAuthorization(
  request: LambdaRequest,
  mappings: readonly MappingStatus[],
  where: { readonly region: string; readonly accountId: string },
): AuthorizationRequest | undefined {
  const context = { 'aws:SecureTransport': 'true' };
  if (request.operation === 'unsupported') return undefined;
  if (request.operation === 'ListEventSourceMappings') {
    return { action: 'lambda:ListEventSourceMappings', resource: '*', context };
  }
  const mapping = mappings.find((m) => m.uuid === request.uuid);
  return {
    action: `lambda:${request.operation}`,
    resource:
      mapping?.arn ??
      `arn:aws:lambda:${where.region}:${where.accountId}:event-source-mapping:${request.uuid}`,
    context: mapping === undefined ? context : { ...context, 'lambda:FunctionArn': mapping.functionArn },
  };
}

/**
 * Answers an authorized request from the runner's mappings, as Lambda answers.
 *
 * @example
 * const answer = answerLambda(request, runner);
 */
export function answerLambda(request: LambdaRequest, api: LocalLambdaApi): WireAnswer {
  switch (request.operation) {
    case 'ListEventSourceMappings': {
      const source = request.query.get('EventSourceArn');
      const fn = request.query.get('FunctionName');
      const found = api
        .mappings()
        .filter((m) => source === null || m.queueArn === source)
        .filter((m) => fn === null || m.functionArn === fn || m.functionArn.endsWith(`:function:${fn}`));
      return json(200, { EventSourceMappings: found.map(configuration) });
    }
    case 'GetEventSourceMapping': {
      const mapping = api.mappings().find((m) => m.uuid === request.uuid);
      return mapping === undefined ? notFound(request.uuid) : json(200, configuration(mapping));
    }
    case 'UpdateEventSourceMapping': {
      const { Enabled, ...others } = request.body;
      const unsupported = Object.keys(others);
      if (unsupported.length > 0 || (Enabled !== undefined && typeof Enabled !== 'boolean')) {
        return error(
          400,
          'InvalidParameterValueException',
          unsupported.length > 0
            ? `tierq local can change only Enabled of an event source mapping, not ${unsupported.join(', ')}`
            : 'Enabled must be a boolean',
        );
      }
      const mapping =
        Enabled === undefined
          ? api.mappings().find((m) => m.uuid === request.uuid)
          : api.setEnabled(request.uuid ?? '', Enabled);
      return mapping === undefined ? notFound(request.uuid) : json(202, configuration(mapping));
    }
    default:
      return error(
        400,
        'InvalidParameterValueException',
        'tierq local serves only GetEventSourceMapping, UpdateEventSourceMapping and ListEventSourceMappings',
      );
  }
}

/**
 * Lambda's AccessDeniedException (HTTP 403), naming the principal, action and resource.
 *
 * @example
 * lambdaAccessDenied(principal.arn, ask.action, ask.resource);
 */
export function lambdaAccessDenied(principalArn: string, action: string, resource: string): WireAnswer {
  return error(
    403,
    'AccessDeniedException',
    `User: ${principalArn} is not authorized to perform: ${action} on resource: ${resource} ` +
      `because no identity-based policy allows the ${action} action`,
  );
}

function configuration(m: MappingStatus) {
  return {
    UUID: m.uuid,
    EventSourceMappingArn: m.arn,
    EventSourceArn: m.queueArn,
    FunctionArn: m.functionArn,
    BatchSize: m.batchSize,
    MaximumBatchingWindowInSeconds: m.maxBatchingWindowSeconds,
    ScalingConfig: { MaximumConcurrency: m.maximumConcurrency },
    FunctionResponseTypes: m.reportBatchItemFailures ? ['ReportBatchItemFailures'] : [],
    State: m.state,
    StateTransitionReason: 'USER_INITIATED',
    LastModified: m.lastModified,
  };
}

function notFound(uuid: string | undefined): WireAnswer {
  return error(
    404,
    'ResourceNotFoundException',
    `The resource you requested does not exist. (Service: Lambda, UUID: ${uuid})`,
  );
}

function error(status: number, type: string, message: string): WireAnswer {
  return {
    status,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': type },
    body: JSON.stringify({ Type: 'User', Message: message }),
  };
}

function json(status: number, value: unknown): WireAnswer {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
}
