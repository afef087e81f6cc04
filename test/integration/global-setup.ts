import type { TestProject } from 'vitest/node';
import { type Emulators, LOCAL_REGION, startEmulators } from '../../local/emulators.js';

/** What integration tests receive through `inject('emulators')`. */
export type ProvidedEmulators = Pick<Emulators, 'region' | 'endpoints'>;

declare module 'vitest' {
  export interface ProvidedContext {
    emulators: ProvidedEmulators;
  }
}

/**
 * Starts the emulators once for the integration project. With `TIERQ_TEST_ENDPOINT` set
 * (e.g. http://localhost:4566 for LocalStack) nothing is started and both services use it.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const external = process.env.TIERQ_TEST_ENDPOINT;
  if (external) {
    project.provide('emulators', { region: LOCAL_REGION, endpoints: { sqs: external, dynamodb: external } });
    return async () => {};
  }

  const emulators = await startEmulators();
  project.provide('emulators', { region: emulators.region, endpoints: emulators.endpoints });
  return () => emulators.stop();
}
