import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The library's one Powertools logger (JSON, service `tierq`). Per-task keys (task id and name)
 * are attached with `logger.appendKeys` around each record.
 *
 * @example
 * logger.info('task succeeded', { taskId: 'a1', task: 'echo' });
 */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'tierq' });
