import { Inject, Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';

interface Counter {
  failures: number[];
  lockedUntil: number;
}

/**
 * Repeated authentication failures lock a principal (LOCKOUT_PRINCIPAL_FAILURES) or a source
 * IP (LOCKOUT_IP_FAILURES) within LOCKOUT_WINDOW_MINUTES for LOCKOUT_DURATION_MINUTES.
 * Counters live in this instance's memory.
 */
@Injectable()
export class LockoutService {
  private readonly counters = new Map<string, Counter>();

  constructor(@Inject(AppConfig) private readonly config: AppConfig) {}

  /** Milliseconds until the lock on this principal or IP ends; 0 when not locked. */
  lockedFor(principalKey: string | undefined, ip: string, now = Date.now()): number {
    const remaining = (key: string): number =>
      Math.max(0, (this.counters.get(key)?.lockedUntil ?? 0) - now);
    return Math.max(principalKey ? remaining(`p:${principalKey}`) : 0, remaining(`ip:${ip}`));
  }

  /** Records a failure; returns which of the two just became locked. */
  recordFailure(
    principalKey: string | undefined,
    ip: string,
    now = Date.now(),
  ): { principal: boolean; ip: boolean } {
    const env = this.config.env;
    return {
      principal: principalKey
        ? this.bump(`p:${principalKey}`, env.LOCKOUT_PRINCIPAL_FAILURES, now)
        : false,
      ip: this.bump(`ip:${ip}`, env.LOCKOUT_IP_FAILURES, now),
    };
  }

  /** A successful login clears the principal's failure count (not the IP's). */
  recordSuccess(principalKey: string): void {
    const c = this.counters.get(`p:${principalKey}`);
    if (c && c.lockedUntil === 0) this.counters.delete(`p:${principalKey}`);
  }

  private bump(key: string, limit: number, now: number): boolean {
    const windowMs = this.config.env.LOCKOUT_WINDOW_MINUTES * 60_000;
    const c = this.counters.get(key) ?? { failures: [], lockedUntil: 0 };
    if (c.lockedUntil !== 0 && c.lockedUntil <= now) {
      c.lockedUntil = 0;
      c.failures = [];
    }
    c.failures = c.failures.filter((t) => t > now - windowMs);
    c.failures.push(now);
    this.counters.set(key, c);
    if (c.lockedUntil === 0 && c.failures.length >= limit) {
      c.lockedUntil = now + this.config.env.LOCKOUT_DURATION_MINUTES * 60_000;
      return true;
    }
    return false;
  }

  /** Drops expired entries; called periodically so memory stays bounded. */
  sweep(now = Date.now()): void {
    const windowMs = this.config.env.LOCKOUT_WINDOW_MINUTES * 60_000;
    for (const [key, c] of this.counters) {
      if (c.lockedUntil <= now && (c.failures.at(-1) ?? 0) <= now - windowMs)
        this.counters.delete(key);
    }
  }
}
