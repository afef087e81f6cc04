/**
 * One progress line on stderr: rewritten in place on a terminal, printed at most every few
 * seconds otherwise (CI logs, pipes), so a full run shows it is alive without flooding the log.
 *
 * @example
 * const progress = new Progress();
 * progress.stage('1/4 producer');
 * progress.update('round 2/6 · tierq');
 * progress.log('producer done in 12.3 s');
 */
export class Progress {
  private stageLabel = '';
  private lastWrite = 0;
  private lineShown = false;
  private readonly startedAt = Date.now();

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly quietIntervalMs = 5_000,
  ) {}

  /** Starts a new stage (a benchmark); its name prefixes every update. */
  stage(label: string): void {
    this.stageLabel = label;
    this.update('starting', true);
  }

  /** Shows `detail` for the current stage; throttled unless `force`. */
  update(detail: string, force = false): void {
    const now = Date.now();
    const interval = this.stream.isTTY ? 100 : this.quietIntervalMs;
    if (!force && now - this.lastWrite < interval) return;
    this.lastWrite = now;
    const elapsed = ((now - this.startedAt) / 1000).toFixed(0).padStart(4);
    const line = `[${elapsed} s] ${this.stageLabel}: ${detail}`;
    if (this.stream.isTTY) {
      const width = this.stream.columns ?? 120;
      this.stream.write(`\r\x1b[2K${line.slice(0, width - 1)}`);
      this.lineShown = true;
    } else {
      this.stream.write(`${line}\n`);
    }
  }

  /** Prints a line that stays (above the progress line on a terminal). */
  log(line: string): void {
    this.clear();
    this.stream.write(`${line}\n`);
  }

  /** Removes the progress line, e.g. before the final report. */
  clear(): void {
    if (this.lineShown) this.stream.write('\r\x1b[2K');
    this.lineShown = false;
  }
}
