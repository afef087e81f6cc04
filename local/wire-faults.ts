import { randomUUID } from 'node:crypto';

/**
 * What the wire proxy can do to one request instead of answering it normally. Test-only: these
 * exist to prove that tierq survives what AWS does on a bad day.
 *
 * @example
 * const policy = randomWirePolicy({ share: 0.05, faults: [WireFault.throttle, WireFault.dropAfter] });
 */
export const WireFault = {
  /** The service's own throttling error (DynamoDB alternates ThrottlingException and ProvisionedThroughputExceededException; SQS RequestThrottled). */
  throttle: 'throttle',
  /** The service's own 500 (DynamoDB InternalServerError, SQS InternalError). */
  internalError: 'internal-error',
  /** A bare `500 Internal Server Error` with a text body, as a load balancer would answer. */
  plain500: 'plain-500',
  /** The connection is closed before the request is forwarded: nothing happened. */
  dropBefore: 'drop-before',
  /** The request is forwarded and took effect, then the connection is closed before the answer. */
  dropAfter: 'drop-after',
} as const;
export type WireFault = (typeof WireFault)[keyof typeof WireFault];

/** The services the proxy understands. */
export type WireService = 'dynamodb' | 'sqs';

/** One request, as a {@link WirePolicy} sees it. */
export interface WireRequest {
  readonly service: WireService;
  /** `UpdateItem`, `ReceiveMessage`, …: from `X-Amz-Target` (JSON protocols) or `Action=` (query). */
  readonly action: string;
  /** The SDK's attempt number (`amz-sdk-request: attempt=2; max=3`); 1 when the header is absent. */
  readonly attempt: number;
  /** The SDK's maximum attempts; 1 when the header is absent. */
  readonly maxAttempts: number;
  readonly body: string;
}

/** Decides the fate of one request: a fault, or undefined to forward it untouched. */
export type WirePolicy = (request: WireRequest) => WireFault | undefined;

/** Options for {@link randomWirePolicy}. */
export interface RandomWirePolicyOptions {
  /** Share of eligible requests that get a fault, 0–1. */
  readonly share: number;
  /** The faults to draw from, with equal odds. */
  readonly faults: readonly WireFault[];
  /** Eligible actions; default all. */
  readonly actions?: readonly string[];
  /** A further filter, e.g. to spare the SDK's last attempt of some requests. */
  readonly when?: (request: WireRequest) => boolean;
  /** A source of numbers in [0, 1); seed one for a reproducible run. Default `Math.random`. */
  readonly random?: () => number;
}

/**
 * A policy that faults a fixed share of eligible requests, picking the fault at random.
 *
 * @example
 * proxy.setPolicy(randomWirePolicy({ share: 0.05, faults: Object.values(WireFault), actions: ['UpdateItem'] }));
 */
export function randomWirePolicy(options: RandomWirePolicyOptions): WirePolicy {
  const random = options.random ?? Math.random;
  const actions = options.actions === undefined ? undefined : new Set(options.actions);
  return (request) => {
    if (actions !== undefined && !actions.has(request.action)) return undefined;
    if (options.when !== undefined && !options.when(request)) return undefined;
    if (random() >= options.share) return undefined;
    return options.faults[Math.floor(random() * options.faults.length)];
  };
}

/** An HTTP answer the proxy sends in place of the service's. */
export interface WireAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * The error a real endpoint sends for `fault`, in the service's wire format: AWS JSON 1.0 with
 * `__type` (and, for SQS, the `x-amzn-query-error` header the SDK reads the code from), or the
 * SQS query protocol's XML. `n` alternates DynamoDB's two throttling errors.
 *
 * @example
 * const answer = wireErrorAnswer('dynamodb', 'json', WireFault.throttle, 0);
 */
export function wireErrorAnswer(
  service: WireService,
  protocol: 'json' | 'query',
  fault: typeof WireFault.throttle | typeof WireFault.internalError | typeof WireFault.plain500,
  n: number,
): WireAnswer {
  const requestId = randomUUID();
  if (fault === WireFault.plain500) {
    return {
      status: 500,
      headers: { 'content-type': 'text/plain', 'x-amzn-requestid': requestId },
      body: 'Internal Server Error',
    };
  }
  return awsErrorAnswer(service, protocol, errorOf(service, fault, n), requestId);
}

/** An error as a service words it: HTTP status, `__type`, query-protocol code and side. */
export interface AwsError {
  readonly status: number;
  readonly type: string;
  readonly code: string;
  readonly message: string;
  readonly side: 'Sender' | 'Receiver';
}

/**
 * The answer a service sends for `error`, in the request's protocol (SQS's JSON protocol also
 * carries the query-protocol code, from which the SDK names the error).
 *
 * @example
 * const answer = awsErrorAnswer('sqs', 'json', { status: 400, type, code: 'AccessDenied', message, side: 'Sender' });
 */
export function awsErrorAnswer(
  service: WireService,
  protocol: 'json' | 'query',
  error: AwsError,
  requestId: string = randomUUID(),
): WireAnswer {
  const { status, type, code, message, side } = error;
  if (protocol === 'query') {
    const xml =
      '<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">' +
      `<Error><Type>${side}</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message><Detail/></Error>` +
      `<RequestId>${requestId}</RequestId></ErrorResponse>`;
    return { status, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body: xml };
  }
  const headers: Record<string, string> = {
    'content-type': 'application/x-amz-json-1.0',
    'x-amzn-requestid': requestId,
  };
  if (service === 'sqs') headers['x-amzn-query-error'] = `${code};${side}`;
  return { status, headers, body: JSON.stringify({ __type: type, message }) };
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The error each service really sends for a fault (types and messages as AWS words them). */
function errorOf(
  service: WireService,
  fault: typeof WireFault.throttle | typeof WireFault.internalError,
  n: number,
) {
  if (service === 'sqs') {
    return fault === WireFault.throttle
      ? sqs(400, 'RequestThrottled', 'Request is throttled.', 'Sender')
      : sqs(500, 'InternalError', 'We encountered an internal error. Please try again.', 'Receiver');
  }
  if (fault === WireFault.internalError) {
    return dynamo(500, 'com.amazonaws.dynamodb.v20120810#InternalServerError', 'Internal server error');
  }
  // On-demand tables answer ThrottlingException; provisioned ones the older exception. Both are seen.
  return n % 2 === 0
    ? dynamo(
        400,
        'com.amazon.coral.availability#ThrottlingException',
        'Rate of requests exceeds the allowed throughput.',
      )
    : dynamo(
        400,
        'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
        'The level of configured provisioned throughput for the table was exceeded. ' +
          'Consider increasing your provisioning level with the UpdateTable API.',
      );
}

function dynamo(status: number, type: string, message: string): AwsError {
  return { status, type, code: type.slice(type.indexOf('#') + 1), message, side: 'Receiver' };
}

function sqs(status: number, code: string, message: string, side: 'Sender' | 'Receiver'): AwsError {
  return { status, type: `com.amazonaws.sqs#${code}`, code, message, side };
}
