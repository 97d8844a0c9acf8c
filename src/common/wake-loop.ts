/**
 * Runs a task on demand, never two at once: a wake() while it runs asks for exactly one more run
 * right after (however many wakes arrived), so no request is lost and none piles up.
 */
export class WakeLoop {
  private running?: Promise<void>;
  private again = false;
  private halted = false;

  constructor(
    private readonly task: () => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** True once stop() was called: long tasks check it between steps. */
  get stopped(): boolean {
    return this.halted;
  }

  /** Runs the task now, or once more right after the run in progress. */
  wake(): void {
    if (this.halted) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.runUntilIdle().finally(() => (this.running = undefined));
  }

  /** No run starts after this call; resolves when the run in progress (if any) has ended. */
  stop(): Promise<void> {
    this.halted = true;
    return this.running ?? Promise.resolve();
  }

  private async runUntilIdle(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.task();
      } catch (err) {
        this.onError(err);
      }
    } while (this.again && !this.halted);
  }
}
