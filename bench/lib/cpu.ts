/**
 * CPU time from /proc, for the end-to-end benchmark: the machine's as a whole and that of given
 * processes (the function sandboxes), which `process.cpuUsage()` cannot see. Linux only; where
 * /proc is missing the figures are 0.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** Busy and total CPU seconds of the whole machine since boot, summed over its cores. */
export function machineCpuSeconds(): { busy: number; total: number } {
  try {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    // idle and iowait are the 4th and 5th fields; the rest is work.
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: (total - idle) / TICKS_PER_SECOND, total: total / TICKS_PER_SECOND };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** User + system CPU seconds a process has used so far; 0 once it has exited. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name in parentheses may hold spaces: count fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** The pid of DynamoDB Local listening on `endpoint` (this checkout's emulator), if pgrep finds it. */
export function dynamoDbLocalPid(endpoint: string): number | undefined {
  try {
    const port = new URL(endpoint).port;
    const found = execFileSync('pgrep', ['-f', `DynamoDBLocal.jar .*-port ${port}$`], { encoding: 'utf8' });
    return Number(found.trim().split('\n')[0]) || undefined;
  } catch {
    return undefined;
  }
}
