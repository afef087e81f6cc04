/**
 * Pausing a tier where Lambda pauses it: its event source mapping's `Enabled`. Disabled, the
 * mapping stops polling and the tier's messages stay in the queue; enabled again, it resumes.
 * The same calls reach AWS Lambda or the local stack's gateway, which answers them for its runner.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  GetEventSourceMappingCommand,
  type LambdaClient,
  UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';

/** A mapping's state as Lambda reports it (`Enabled`, `Disabling`, `Disabled`, `Enabling`, …). */
export type MappingState = string;

/** How long {@link setMappingEnabled} waits for the state to settle, and how often it looks. */
export interface SettleOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
}

/**
 * The state of one event source mapping.
 *
 * @example
 * ```ts
 * await mappingState(lambda, descriptor.eventSourceMappings.low); // 'Enabled'
 * ```
 */
export async function mappingState(lambda: LambdaClient, uuid: string): Promise<MappingState> {
  const { State } = await lambda.send(new GetEventSourceMappingCommand({ UUID: uuid }));
  return State ?? 'Unknown';
}

/**
 * Enables or disables a mapping and waits until Lambda reports it `Enabled` or `Disabled` (a
 * batch already received still finishes meanwhile). Returns the last state seen and whether it
 * settled within `timeoutMs` (default 60 s); the change goes on after a timeout.
 *
 * @example
 * ```ts
 * const { state, settled } = await setMappingEnabled(lambda, uuid, false); // 'Disabled', true
 * ```
 */
export async function setMappingEnabled(
  lambda: LambdaClient,
  uuid: string,
  enabled: boolean,
  options: SettleOptions = {},
): Promise<{ state: MappingState; settled: boolean }> {
  const wanted = enabled ? 'Enabled' : 'Disabled';
  const { State } = await lambda.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: enabled }));
  let state = State ?? 'Unknown';
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (state !== wanted && Date.now() < deadline) {
    await sleep(options.intervalMs ?? 500);
    state = await mappingState(lambda, uuid);
  }
  return { state, settled: state === wanted };
}
