import { assetDirOf, type StackAssembly } from './assembly.js';
import type { LocalResource, PseudoParameters, Resolve } from './intrinsics.js';
import type { LocalFunctionDefinition } from './lambda-runtime.js';
import { physicalName } from './provision.js';

/** Lambda's defaults when the template leaves a property out. */
const LAMBDA_DEFAULTS = { timeoutSeconds: 3, memorySize: 128 } as const;

/**
 * Reads one `AWS::Lambda::Function` of the template into what the local runtime needs, resolving
 * its environment variables against the local resources. A variable the runner cannot compute
 * fails here, naming the function and the variable.
 *
 * @example
 * const definition = readFunctionDefinition(stack, 'TaskQueueConsumer956A21A7', local.resolve, local.pseudo, prefix);
 */
export function readFunctionDefinition(
  stack: StackAssembly,
  logicalId: string,
  resolve: Resolve,
  pseudo: PseudoParameters,
  namePrefix: string,
): LocalFunctionDefinition {
  const props = stack.template.Resources[logicalId]?.Properties ?? {};
  const name =
    typeof props.FunctionName === 'string' ? props.FunctionName : physicalName(namePrefix, logicalId, 64);
  const variables =
    (props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
  const environment: Record<string, string> = {};
  for (const [key, value] of Object.entries(variables)) {
    environment[key] = String(resolve(value, `${logicalId} Environment.Variables.${key}`));
  }
  const logging = props.LoggingConfig as { LogGroup?: unknown } | undefined;
  return {
    logicalId,
    name,
    arn: `arn:aws:lambda:${pseudo.region}:${pseudo.accountId}:function:${name}`,
    handler: typeof props.Handler === 'string' ? props.Handler : 'index.handler',
    codeDir: assetDirOf(stack, logicalId),
    timeoutSeconds: Number(props.Timeout ?? LAMBDA_DEFAULTS.timeoutSeconds),
    memorySize: Number(props.MemorySize ?? LAMBDA_DEFAULTS.memorySize),
    runtime: typeof props.Runtime === 'string' ? props.Runtime : 'nodejs22.x',
    environment,
    // The log group is not created locally, so its generated name is not known: use Lambda's default.
    logGroupName:
      logging?.LogGroup === undefined || typeof logging.LogGroup !== 'string'
        ? `/aws/lambda/${name}`
        : logging.LogGroup,
  };
}

/**
 * The local resource for a function, so `Ref`/`Fn::GetAtt` to it (event source mappings,
 * outputs) resolve.
 *
 * @example
 * local.resources.set(definition.logicalId, functionResource(definition));
 */
export function functionResource(definition: LocalFunctionDefinition): LocalResource {
  return {
    logicalId: definition.logicalId,
    type: 'AWS::Lambda::Function',
    ref: definition.name,
    attributes: { Arn: definition.arn },
  };
}
