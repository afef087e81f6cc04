/**
 * IAM policy evaluation for the local stack, by `@cloud-copilot/iam-simulate` (a maintained,
 * thorough evaluator of AWS's documented logic). It is AGPL-3.0, so it is never a runtime
 * dependency of tierq: it is loaded only here, when the local stack enforces IAM, and a clear
 * error names the install command when it is missing.
 *
 * Decisions are cached. Each evaluation takes 1–2 ms, and a key-scoped table request carries
 * `dynamodb:LeadingKeys` values that differ every time; but a decision depends on a value only
 * through which of the policies' patterns it matches, so values are cached by that signature.
 */
import type { LocalIam, LocalPrincipal, PolicyDocument } from './principals.js';

/** One authorization question: may the principal do `action` on `resource` in this context? */
export interface AuthorizationRequest {
  readonly action: string;
  readonly resource: string;
  readonly context: Readonly<Record<string, string | readonly string[]>>;
}

/** The evaluator's answer. */
export interface Decision {
  readonly allowed: boolean;
  /** `Allowed`, `ImplicitlyDenied` or `ExplicitlyDenied`. */
  readonly result: string;
  /** For an explicit deny: whether an identity or a resource policy denied. */
  readonly deniedBy?: 'identity' | 'resource';
}

/** Evaluates requests of the template's principals. */
export interface IamEvaluator {
  authorize(principal: LocalPrincipal, request: AuthorizationRequest): Promise<Decision>;
  /** Evaluations actually run (the rest were answered from the cache). */
  evaluations(): number;
}

/** The package and the command that installs it, for the error when it is missing. */
export const IAM_EVALUATOR_PACKAGE = '@cloud-copilot/iam-simulate';

type Simulator = typeof import('@cloud-copilot/iam-simulate');

/**
 * Loads the evaluator for `iam`; throws an error naming the package, its license and how to
 * install it (or to run without IAM) when it is not installed.
 *
 * @example
 * const evaluator = await loadIamEvaluator(readLocalIam(template, resolve, names));
 */
export async function loadIamEvaluator(iam: LocalIam): Promise<IamEvaluator> {
  let simulator: Simulator;
  try {
    simulator = await import('@cloud-copilot/iam-simulate');
  } catch (cause) {
    throw new Error(
      `IAM enforcement needs ${IAM_EVALUATOR_PACKAGE} (AGPL-3.0, not a dependency of tierq): ` +
        `install it with \`npm i -D ${IAM_EVALUATOR_PACKAGE}\`, or run without IAM (--no-iam)`,
      { cause },
    );
  }
  const cache = new Map<string, Promise<Decision>>();
  const signatures = new Map<LocalPrincipal, ContextSignature>();
  let evaluations = 0;
  return {
    evaluations: () => evaluations,
    authorize(principal, request) {
      let signature = signatures.get(principal);
      if (signature === undefined) {
        const resourcePolicies = [...iam.resourcePolicies.values()];
        signature = contextSignature([...principal.policies.map((p) => p.policy), ...resourcePolicies]);
        signatures.set(principal, signature);
      }
      const key = `${principal.logicalId}\u0000${request.action}\u0000${request.resource}\u0000${signature(request.context)}`;
      let decision = cache.get(key);
      if (decision === undefined) {
        evaluations += 1;
        decision = simulate(simulator, iam, principal, request);
        cache.set(key, decision);
        // A failed evaluation is not a decision: ask again next time.
        decision.catch(() => cache.delete(key));
      }
      return decision;
    },
  };
}

async function simulate(
  { runSimulation, getDenialReasons }: Simulator,
  iam: LocalIam,
  principal: LocalPrincipal,
  request: AuthorizationRequest,
): Promise<Decision> {
  const resourcePolicy = iam.resourcePolicies.get(request.resource);
  const result = await runSimulation(
    {
      request: {
        principal: principal.arn,
        action: request.action,
        resource: { resource: request.resource, accountId: iam.accountId },
        contextVariables: Object.fromEntries(
          Object.entries(request.context).map(([k, v]) => [k, typeof v === 'string' ? v : [...v]]),
        ),
      },
      identityPolicies: principal.policies.map((p) => ({ name: p.name, policy: p.policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(resourcePolicy === undefined ? {} : { resourcePolicy }),
    },
    {},
  );
  if (result.resultType === 'error') {
    throw new Error(
      `IAM evaluation of ${request.action} on ${request.resource} failed: ${result.errors.message}`,
    );
  }
  if (result.overallResult !== 'ExplicitlyDenied' || result.resultType !== 'single') {
    return { allowed: result.overallResult === 'Allowed', result: result.overallResult };
  }
  const explicit = getDenialReasons(result.result.analysis).find((d) => d.denialType === 'Explicit');
  return {
    allowed: false,
    result: result.overallResult,
    deniedBy: explicit?.policyType === 'resource' ? 'resource' : 'identity',
  };
}

/** Turns a request context into a cache key that is equal exactly when every policy decides alike. */
type ContextSignature = (context: AuthorizationRequest['context']) => string;

const STRING_OPERATORS = /^(ForAllValues:|ForAnyValue:)?String(Not)?(Equals|Like)(IgnoreCase)?(IfExists)?$/;

/**
 * For each context key the policies test only with string operators, a value's signature is the
 * list of the policies' patterns it matches; keys tested otherwise keep their values, and keys no
 * policy tests are left out.
 */
function contextSignature(policies: readonly PolicyDocument[]): ContextSignature {
  const patterns = new Map<string, { pattern: string; like: boolean; ignoreCase: boolean }[]>();
  const exact = new Set<string>();
  for (const policy of policies) {
    for (const statement of policy.Statement) {
      const condition = (statement.Condition ?? {}) as Record<string, Record<string, unknown>>;
      for (const [operator, tests] of Object.entries(condition)) {
        const string = STRING_OPERATORS.exec(operator);
        for (const [key, values] of Object.entries(tests)) {
          const k = key.toLowerCase();
          // Another operator, or a pattern with a policy variable: keep the key's values as they are.
          if (string === null || [values].flat().some((v) => String(v).includes('${'))) {
            exact.add(k);
            continue;
          }
          const list = patterns.get(k) ?? [];
          for (const pattern of [values].flat()) {
            list.push({
              pattern: String(pattern),
              like: string[3] === 'Like',
              ignoreCase: string[4] !== undefined,
            });
          }
          patterns.set(k, list);
        }
      }
    }
  }
  const matchers = new Map(
    [...patterns].map(([key, list]) => [key, list.map((p) => matcher(p.pattern, p.like, p.ignoreCase))]),
  );
  return (context) =>
    Object.entries(context)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([key, value]) => {
        const k = key.toLowerCase();
        const values = [value].flat();
        if (exact.has(k)) return `${k}=${JSON.stringify(values)}`;
        const tests = matchers.get(k);
        // No policy tests this key: the decision cannot depend on it.
        if (tests === undefined) return '';
        const distinct = new Set(values.map((v) => tests.map((test) => (test(v) ? '1' : '0')).join('')));
        return `${k}~${[...distinct].sort().join(',')}`;
      })
      .join(';');
}

/** IAM's `StringLike` (`*` any run, `?` one character) or `StringEquals`. */
function matcher(pattern: string, like: boolean, ignoreCase: boolean): (value: string) => boolean {
  if (!like) return ignoreCase ? (v) => v.toLowerCase() === pattern.toLowerCase() : (v) => v === pattern;
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  const regex = new RegExp(`^${source}$`, ignoreCase ? 'is' : 's');
  return (v) => regex.test(v);
}
