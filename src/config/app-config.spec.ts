import { AppConfig, ConfigError, databaseWaitBoundMs } from './app-config';

describe('AppConfig', () => {
  it('applies documented defaults', () => {
    const c = AppConfig.load({});
    expect(c.env).toMatchObject({
      DATA_DIR: './data',
      HOST: '0.0.0.0',
      PORT: 8443,
      TLS: 'on',
      LOG_LEVEL: 'info',
      MAX_CONCURRENT_REQUESTS: 256,
      TRUST_PROXY: '',
      AUTH_CACHE_TTL_SECONDS: 5,
      LOCKOUT_PRINCIPAL_FAILURES: 10,
      LOCKOUT_IP_FAILURES: 100,
      LOCKOUT_WINDOW_MINUTES: 15,
      LOCKOUT_DURATION_MINUTES: 15,
    });
    expect(c.usesEmbeddedDatabase).toBe(true);
    expect(c.trustedProxies).toEqual([]);
  });

  it('reads and converts values', () => {
    const c = AppConfig.load({
      PORT: '9443',
      TLS: 'off',
      DATABASE_URL: 'postgres://u@h/db',
      TRUST_PROXY: '10.0.0.0/8, ::1',
    });
    expect(c.env.PORT).toBe(9443);
    expect(c.env.TLS).toBe('off');
    expect(c.usesEmbeddedDatabase).toBe(false);
    expect(c.trustedProxies.map(([a, p]) => `${a.toString()}/${p}`)).toEqual([
      '10.0.0.0/8',
      '::1/128',
    ]);
  });

  it.each([
    [{ PORT: 'eighty' }, /PORT/],
    [{ PORT: '70000' }, /PORT: PORT must not be greater than 65535/],
    [{ TLS: 'yes' }, /TLS: TLS must be one of the following values: on, off/],
    [{ LOG_LEVEL: 'trace' }, /LOG_LEVEL/],
    [{ MAX_CONCURRENT_REQUESTS: '0' }, /MAX_CONCURRENT_REQUESTS/],
    [{ ADMIN_PASSWORD: 'short' }, /ADMIN_PASSWORD/],
    [{ AUTH_CACHE_TTL_SECONDS: '60' }, /AUTH_CACHE_TTL_SECONDS/],
    [{ TLS_CERT_PATH: '/x.crt' }, /TLS_CERT_PATH and TLS_KEY_PATH must be set together/],
    [{ TRUST_PROXY: '10.0.0.0/99' }, /TRUST_PROXY/],
    [{ TRUST_PROXY: 'proxy.example' }, /TRUST_PROXY/],
  ])('rejects %j with one line naming the variable', (env, message) => {
    let error: unknown;
    try {
      AppConfig.load(env);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('bounds the wait for the database at 10 s', () => {
    const env = AppConfig.load({}).env;
    expect(databaseWaitBoundMs(env)).toBe(9000);
    expect(() =>
      AppConfig.load({
        DATABASE_ACQUIRE_TIMEOUT_MS: '3000',
        DATABASE_STATEMENT_TIMEOUT_MS: '5000',
      }),
    ).toThrow(/DATABASE_ACQUIRE_TIMEOUT_MS \+ DATABASE_STATEMENT_TIMEOUT_MS \+ 1000 is 12000 ms/);
    expect(() => AppConfig.load({ DATABASE_STATEMENT_TIMEOUT_MS: '50' })).toThrow(
      /DATABASE_STATEMENT_TIMEOUT_MS/,
    );
  });

  it('ignores variables it does not know', () => {
    expect(() => AppConfig.load({ SOMETHING_ELSE: 'x', PATH: '/bin' })).not.toThrow();
  });
});
