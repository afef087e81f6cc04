/** Operations on the dead-letter queue: peek, replay, purge, and reading a letter. */
export { type DeadLetterInfo, describeDeadLetter, REDRIVEN_BY_SQS } from './dead-letter-info.js';
export { type PeekDeadLettersOptions, peekDeadLetters } from './peek.js';
export { type PurgeDeadLettersOptions, purgeDeadLetters } from './purge.js';
export {
  type ReplayDeadLettersOptions,
  type ReplayOutcome,
  type ReplayProgress,
  type ReplayResult,
  replayDeadLetters,
  replayTier,
} from './replay.js';
