import crypto from 'node:crypto';
import { PasswordHasher } from './password-hasher';

describe('PasswordHasher', () => {
  let hasher: PasswordHasher;
  let stored: string;
  let scrypts: jest.SpyInstance;

  beforeAll(async () => {
    stored = await new PasswordHasher().hash('the right secret');
  });
  beforeEach(() => {
    hasher = new PasswordHasher();
    // Calls through: counts the slow hashes, the real ones still run.
    scrypts = jest.spyOn(crypto, 'scrypt');
  });
  afterEach(() => scrypts.mockRestore());

  it('verifies the right secret and rejects a wrong one or a malformed hash', async () => {
    await expect(hasher.verify('the right secret', stored)).resolves.toBe(true);
    await expect(hasher.verify('a wrong secret', stored)).resolves.toBe(false);
    await expect(hasher.verify('the right secret', 'bcrypt$whatever')).resolves.toBe(false);
  });

  it('answers 32 concurrent first verifications of one credential with one scrypt', async () => {
    const results = await Promise.all(
      Array.from({ length: 32 }, () => hasher.verify('the right secret', stored)),
    );
    expect(results).toEqual(Array(32).fill(true));
    expect(scrypts).toHaveBeenCalledTimes(1);
    // Memoised: later requests cost no scrypt at all.
    await expect(hasher.verify('the right secret', stored)).resolves.toBe(true);
    expect(scrypts).toHaveBeenCalledTimes(1);
  });

  it('shares a failing verification while it runs but does not memoise the failure', async () => {
    const burst = await Promise.all(
      Array.from({ length: 8 }, () => hasher.verify('a wrong secret', stored)),
    );
    expect(burst).toEqual(Array(8).fill(false));
    expect(scrypts).toHaveBeenCalledTimes(1);
    await expect(hasher.verify('a wrong secret', stored)).resolves.toBe(false);
    expect(scrypts).toHaveBeenCalledTimes(2);
  });

  it('does not share between different secrets or different stored hashes', async () => {
    const rotated = await hasher.hash('the right secret');
    scrypts.mockClear();
    const results = await Promise.all([
      hasher.verify('the right secret', stored),
      hasher.verify('the right secret', rotated),
      hasher.verify('a wrong secret', stored),
    ]);
    expect(results).toEqual([true, true, false]);
    expect(scrypts).toHaveBeenCalledTimes(3);
  });

  it('still verifies, unshared, once the in-flight limit is reached', async () => {
    // 1,000 distinct wrong secrets fill the in-flight map; the next ones run on their own.
    const wrong = Array.from({ length: 1_002 }, (_, i) =>
      hasher.verify(`wrong-${i}`, 'scrypt$1024$1$1$c2FsdA==$aGFzaA=='),
    );
    const right = [
      hasher.verify('the right secret', stored),
      hasher.verify('the right secret', stored),
    ];
    expect(await Promise.all(wrong)).toEqual(Array(1_002).fill(false));
    expect(await Promise.all(right)).toEqual([true, true]);
    // Both right ones ran their own scrypt: the map was full when they started.
    expect(scrypts).toHaveBeenCalledTimes(1_004);
    // Settled verifications leave the map: sharing works again.
    scrypts.mockClear();
    await Promise.all([hasher.verify('another', stored), hasher.verify('another', stored)]);
    expect(scrypts).toHaveBeenCalledTimes(1);
  });
});
