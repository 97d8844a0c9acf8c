import { hash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';

const N = 1 << 15;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;
const MAX_MEM = 128 * N * R * 2;

function scryptAsync(
  secret: string,
  salt: Buffer,
  n: number,
  r: number,
  p: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, KEY_LENGTH, { N: n, r, p, maxmem: MAX_MEM }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/**
 * Slow hashing for passwords and client secrets (scrypt, N=2^15, r=8, p=1), stored as
 * `scrypt$N$r$p$salt$hash`. Verified credentials are remembered as a SHA-256 under a key
 * that lives only in this process (a prefix MAC: the memo is only ever compared with memos
 * this process made), so a repeat request costs one fast hash, not a scrypt. The memo
 * covers the stored hash, so a changed password or rotated secret misses.
 *
 * Verifications of the same (secret, stored hash) that overlap share one scrypt: a burst of
 * first requests with one credential (after a start, a rotation or a memo eviction) would
 * otherwise queue one slow hash per request on the thread pool. Only successes are memoised.
 */
@Injectable()
export class PasswordHasher {
  private readonly memoKey = randomBytes(32).toString('hex');
  private readonly verified = new Map<string, true>();
  private static readonly MEMO_LIMIT = 10_000;
  /** Verifications running now, by memo; past the limit a verification runs unshared. */
  private readonly inFlight = new Map<string, Promise<boolean>>();
  private static readonly IN_FLIGHT_LIMIT = 1_000;

  async hash(secret: string): Promise<string> {
    const salt = randomBytes(16);
    const key = await scryptAsync(secret, salt, N, R, P);
    return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
  }

  verify(secret: string, stored: string): Promise<boolean> {
    const memo = this.memoFor(secret, stored);
    if (this.verified.has(memo)) return Promise.resolve(true);
    const running = this.inFlight.get(memo);
    if (running) return running;
    const check = this.slowVerify(secret, stored).then((ok) => {
      if (ok) this.remember(memo);
      return ok;
    });
    if (this.inFlight.size < PasswordHasher.IN_FLIGHT_LIMIT) {
      this.inFlight.set(memo, check);
      const done = (): void => void this.inFlight.delete(memo);
      check.then(done, done);
    }
    return check;
  }

  /**
   * Whether this process has verified exactly this secret against this stored hash (no scrypt
   * runs): while the database is unreachable only such credentials are accepted (AuthService).
   */
  remembers(secret: string, stored: string): boolean {
    return this.verified.has(this.memoFor(secret, stored));
  }

  private async slowVerify(secret: string, stored: string): Promise<boolean> {
    const parts = stored.split('$');
    if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
    const [n, r, p] = parts.slice(1, 4).map(Number);
    const expected = Buffer.from(parts[5], 'base64');
    const actual = await scryptAsync(secret, Buffer.from(parts[4], 'base64'), n, r, p);
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }

  /** A hash to compare against when the principal does not exist, so timing does not tell. */
  private dummy?: Promise<string>;
  async burn(secret: string): Promise<void> {
    this.dummy ??= this.hash(randomBytes(16).toString('hex'));
    await this.verify(secret, await this.dummy);
  }

  private memoFor(secret: string, stored: string): string {
    // One-shot crypto.hash: a third of createHmac's cost, on every authenticated request.
    return hash('sha256', `${this.memoKey}\0${stored}\0${secret}`, 'base64');
  }

  private remember(memo: string): void {
    if (this.verified.size >= PasswordHasher.MEMO_LIMIT) {
      const oldest = this.verified.keys().next().value;
      if (oldest !== undefined) this.verified.delete(oldest);
    }
    this.verified.set(memo, true);
  }
}
