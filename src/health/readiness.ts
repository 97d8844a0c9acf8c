import { Injectable } from '@nestjs/common';

/**
 * What still keeps this instance from serving (GET /health/ready answers 503 meanwhile): a
 * component that loads at start-up holds readiness until it has.
 */
@Injectable()
export class Readiness {
  private readonly holds = new Set<symbol>();
  private readonly reasons = new Map<symbol, string>();

  /** Holds readiness; the returned function releases this hold (once is enough). */
  hold(reason: string): () => void {
    const id = Symbol(reason);
    this.holds.add(id);
    this.reasons.set(id, reason);
    return () => {
      this.holds.delete(id);
      this.reasons.delete(id);
    };
  }

  /** Why the instance is not ready yet; empty when it is. */
  pending(): string[] {
    return [...this.reasons.values()];
  }
}
