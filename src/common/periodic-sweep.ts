/**
 * A sweep run on a timer and on demand (tests call runOnce), one at a time per instance: a caller
 * arriving while a sweep runs joins it. The timer does not keep the process alive.
 */
export class PeriodicSweep<T> {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<T> | undefined;

  constructor(
    private readonly sweep: () => Promise<T>,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.runOnce().catch((err: unknown) => this.onError(err));
    }, intervalMs);
    this.timer.unref();
  }

  runOnce(): Promise<T> {
    this.running ??= this.sweep().finally(() => (this.running = undefined));
    return this.running;
  }

  /**
   * Stops the timer and waits for the sweep in progress, whatever its outcome: a failure is not
   * dropped here, it reaches whoever started that sweep (the timer hands it to onError, a
   * runOnce caller gets the rejection), so reporting it again would log it twice.
   */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.allSettled([this.running]);
  }
}
