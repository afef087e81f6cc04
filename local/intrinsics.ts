/** A resource the local runner created, as `Ref` and `Fn::GetAtt` see it. */
export interface LocalResource {
  readonly logicalId: string;
  readonly type: string;
  /** What `Ref` returns: a queue URL, a table name, a function name. */
  readonly ref: string;
  /** What `Fn::GetAtt` returns, by attribute name. */
  readonly attributes: Readonly<Record<string, string>>;
}

/** Values of the `AWS::*` pseudo parameters for the local stack. */
export interface PseudoParameters {
  readonly region: string;
  readonly accountId: string;
  readonly stackName: string;
}

/**
 * Thrown for a value the local runner cannot compute: an intrinsic it does not implement, or a
 * reference to a resource it does not create. Names where the value was found.
 */
export class LocalResolveError extends Error {
  constructor(
    readonly where: string,
    readonly problem: string,
  ) {
    super(`${where}: ${problem}`);
    this.name = 'LocalResolveError';
  }
}

/** Turns template values with intrinsics into plain values. */
export type Resolve = (value: unknown, where: string) => unknown;

/**
 * Builds a resolver for `Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`, `Fn::Select`, `Fn::Split`
 * and the pseudo parameters, over the resources created so far. Anything else throws a
 * {@link LocalResolveError} naming `where` (e.g. `"Consumer Environment.Variables.X"`), so a new
 * intrinsic in the template is a loud failure rather than a silently wrong local stack.
 *
 * @example
 * const resolve = createResolver(resources, { region, accountId, stackName }, template.Resources);
 * const env = resolve(fn.Properties?.Environment, 'Consumer Environment');
 */
export function createResolver(
  resources: ReadonlyMap<string, LocalResource>,
  pseudo: PseudoParameters,
  templateResources: Readonly<Record<string, { Type: string }>>,
): Resolve {
  const pseudoValues: Record<string, string> = {
    'AWS::Region': pseudo.region,
    'AWS::AccountId': pseudo.accountId,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
    'AWS::StackName': pseudo.stackName,
    'AWS::StackId': `arn:aws:cloudformation:${pseudo.region}:${pseudo.accountId}:stack/${pseudo.stackName}/local`,
  };

  const created = (logicalId: string, where: string): LocalResource => {
    const resource = resources.get(logicalId);
    if (resource) return resource;
    const type = templateResources[logicalId]?.Type;
    throw new LocalResolveError(
      where,
      type === undefined
        ? `references "${logicalId}", which is not in the template`
        : `references ${logicalId} (${type}), a resource type the local runner does not create`,
    );
  };

  const ref = (name: string, where: string): string =>
    pseudoValues[name] ?? created(name, `${where} {Ref: ${name}}`).ref;

  const getAtt = (logicalId: string, attribute: string, where: string): string => {
    const resource = created(logicalId, `${where} {Fn::GetAtt: ${logicalId}.${attribute}}`);
    const value = resource.attributes[attribute];
    if (value === undefined) {
      throw new LocalResolveError(
        where,
        `Fn::GetAtt ${logicalId}.${attribute}: the local ${resource.type} has only ${Object.keys(resource.attributes).join(', ')}`,
      );
    }
    return value;
  };

  const sub = (template: string, vars: Record<string, unknown>, where: string): string =>
    template.replace(/\$\{([^}]+)\}/g, (_match, name: string) => {
      if (name.startsWith('!')) return `\${${name.slice(1)}}`;
      if (name in vars) return String(vars[name]);
      const dot = name.indexOf('.');
      return dot === -1 ? ref(name, where) : getAtt(name.slice(0, dot), name.slice(dot + 1), where);
    });

  const resolve: Resolve = (value, where) => {
    if (Array.isArray(value)) return value.map((v, i) => resolve(v, `${where}[${i}]`));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    const [first] = entries;
    if (entries.length === 1 && first && (first[0] === 'Ref' || first[0].startsWith('Fn::'))) {
      return intrinsic(first[0], first[1], where);
    }
    const out: Record<string, unknown> = {};
    for (const [key, v] of entries) out[key] = resolve(v, `${where}.${key}`);
    return out;
  };

  const intrinsic = (name: string, arg: unknown, where: string): unknown => {
    switch (name) {
      case 'Ref':
        return ref(String(arg), where);
      case 'Fn::GetAtt': {
        const [id, attribute] = Array.isArray(arg) ? arg : String(arg).split(/\.(.*)/s);
        return getAtt(String(id), String(attribute), where);
      }
      case 'Fn::Join': {
        const [delimiter, parts] = arg as [string, unknown];
        return (resolve(parts, where) as unknown[]).join(delimiter);
      }
      case 'Fn::Sub': {
        const [template, vars] = typeof arg === 'string' ? [arg, {}] : (arg as [string, object]);
        return sub(template, resolve(vars, where) as Record<string, unknown>, where);
      }
      case 'Fn::Select': {
        const [index, list] = arg as [unknown, unknown];
        return (resolve(list, where) as unknown[])[Number(resolve(index, where))];
      }
      case 'Fn::Split': {
        const [delimiter, source] = arg as [string, unknown];
        return String(resolve(source, where)).split(delimiter);
      }
      default:
        throw new LocalResolveError(where, `${name} is not supported by the local runner`);
    }
  };

  return resolve;
}
