import { RecentValues, REMEMBER_REFRESH_MS } from '../src/detections/recent-values';

/** The recorder's memory of values it remembered for retro-scan lately (docs/api.md §11). */
describe('RecentValues', () => {
  const fresh = (r: RecentValues, type: string, value: string, who: number, sinceMs: number) => {
    r.hash(type, value);
    return r.fresh(who, sinceMs);
  };

  it('knows a value remembered within the refresh window, for the same principal and type only', () => {
    const r = new RecentValues();
    const now = Date.now();
    const hunter = r.principal('user', 'hunter');
    const siem = r.principal('client', 'hunter');
    expect(siem).not.toBe(hunter);
    expect(fresh(r, 'domain', 'a.example', hunter, now - REMEMBER_REFRESH_MS)).toBe(false);
    r.remembered('domain', 'a.example', 'user', 'hunter', now);
    expect(fresh(r, 'domain', 'a.example', hunter, now - REMEMBER_REFRESH_MS)).toBe(true);
    expect(fresh(r, 'domain', 'a.example', siem, now - REMEMBER_REFRESH_MS)).toBe(false);
    expect(fresh(r, 'url', 'a.example', hunter, now - REMEMBER_REFRESH_MS)).toBe(false);
    expect(fresh(r, 'domain', 'b.example', hunter, now - REMEMBER_REFRESH_MS)).toBe(false);
    // An hour later it is due again; remembering it again makes it fresh again.
    const later = now + REMEMBER_REFRESH_MS + 60_000;
    expect(fresh(r, 'domain', 'a.example', hunter, later - REMEMBER_REFRESH_MS)).toBe(false);
    r.remembered('domain', 'a.example', 'user', 'hunter', later);
    expect(fresh(r, 'domain', 'a.example', hunter, later - REMEMBER_REFRESH_MS)).toBe(true);
    // Another principal remembering it takes it over.
    r.remembered('domain', 'a.example', 'client', 'hunter', later);
    expect(fresh(r, 'domain', 'a.example', hunter, later - REMEMBER_REFRESH_MS)).toBe(false);
    expect(fresh(r, 'domain', 'a.example', siem, later - REMEMBER_REFRESH_MS)).toBe(true);
  });

  it('never looks fresher than it is: minutes are rounded down', () => {
    const r = new RecentValues();
    const who = r.principal('user', 'hunter');
    const at = Date.now() + 59_000;
    r.remembered('ip', '10.0.0.1', 'user', 'hunter', at);
    expect(fresh(r, 'ip', '10.0.0.1', who, at)).toBe(false);
    expect(fresh(r, 'ip', '10.0.0.1', who, at - 60_000)).toBe(true);
  });

  it('tells 800,000 distinct values apart and starts over when full', () => {
    const ip = (i: number) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`;
    const r = new RecentValues();
    const now = Date.now();
    const who = r.principal('client', 'siem');
    const n = 800_000;
    for (let i = 0; i < n; i += 2) r.remembered('ip', ip(i), 'client', 'siem', now);
    expect(r.size).toBe(n / 2);
    let wrong = 0;
    for (let i = 0; i < n; i++)
      if (fresh(r, 'ip', ip(i), who, now - 60_000) !== (i % 2 === 0)) wrong++;
    expect(wrong).toBe(0);
    for (let i = 1; i < n; i += 2) r.remembered('ip', ip(i), 'client', 'siem', now);
    // Past ~734,000 entries the table started over: bounded, and forgetting is always safe.
    expect(r.size).toBeLessThan(n);
    expect(fresh(r, 'ip', ip(n - 1), who, now - 60_000)).toBe(true);
  });

  it('starts over, principals included, when more than 1,024 principals were seen', () => {
    const r = new RecentValues();
    const now = Date.now();
    r.remembered('domain', 'x.example', 'user', 'p0', now);
    for (let i = 1; i < 1024; i++) r.principal('user', `p${i}`);
    expect(r.size).toBe(1);
    const p1024 = r.principal('user', 'p1024');
    expect(r.size).toBe(0);
    expect(p1024).toBe(0);
    expect(fresh(r, 'domain', 'x.example', p1024, now - 60_000)).toBe(false);
  });
});
