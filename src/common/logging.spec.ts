import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import {
  createLoggers,
  FailureStreak,
  logRequest,
  PinoNestLogger,
  redactUrl,
  REPEAT_INTERVAL_MS,
} from './logging';

function capture(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  const config = AppConfig.load({ LOG_LEVEL: level, ADMIN_PASSWORD: 'x'.repeat(12) });
  return { lines, logs: createLoggers(config, sink) };
}

describe('PinoNestLogger', () => {
  it("takes Nest's (message, context) and pino's ({ err }, message) call styles", () => {
    const { lines, logs } = capture();
    const nest = new PinoNestLogger(logs.app);
    nest.log('started', 'Bootstrap');
    nest.warn({ err: new Error('boom'), attempt: 2 }, 'delivery failed', 'Worker');
    nest.error(new Error('bad thing'), 'Filter');
    nest.error('handler failed', 'Error: x\n    at f (file.js:1:1)', 'ExceptionsHandler');
    nest.debug('hidden at info', 'Ctx');
    expect(lines).toEqual([
      expect.objectContaining({ level: 30, context: 'Bootstrap', msg: 'started' }),
      expect.objectContaining({
        level: 40,
        context: 'Worker',
        attempt: 2,
        err: expect.objectContaining({ message: 'boom', type: 'Error' }),
        msg: 'delivery failed',
      }),
      expect.objectContaining({
        level: 50,
        context: 'Filter',
        err: expect.objectContaining({ message: 'bad thing' }),
        msg: 'bad thing',
      }),
      expect.objectContaining({
        level: 50,
        context: 'ExceptionsHandler',
        err: expect.objectContaining({ stack: 'Error: x\n    at f (file.js:1:1)' }),
        msg: 'handler failed',
      }),
    ]);
  });

  it("is the application logger behind Nest's Logger, and redacts secrets in objects", () => {
    const { lines, logs } = capture();
    Logger.overrideLogger(new PinoNestLogger(logs.app));
    try {
      new Logger('Users').warn({ user: { name: 'a', password: 'hunter2hunter2' } }, 'odd');
    } finally {
      Logger.overrideLogger(false);
    }
    expect(lines).toEqual([
      expect.objectContaining({
        context: 'Users',
        user: { name: 'a', password: '[Redacted]' },
        msg: 'odd',
      }),
    ]);
  });
});

describe('repeated warnings and errors', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  function dbDown(): Error {
    return new Error('connect ECONNREFUSED 127.0.0.1:5432');
  }

  it('N identical errors in an interval: one line with the stack, one "repeated N-1 times"', () => {
    const { lines, logs } = capture();
    const nest = new PinoNestLogger(logs.app);
    for (let i = 0; i < 500; i++) {
      nest.error({ err: dbDown(), requestId: `r${i}` }, 'connect ECONNREFUSED', 'Filter');
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 50,
      context: 'Filter',
      requestId: 'r0',
      err: {
        message: 'connect ECONNREFUSED 127.0.0.1:5432',
        stack: expect.stringContaining('\n    at '),
      },
      msg: 'connect ECONNREFUSED',
    });
    jest.advanceTimersByTime(REPEAT_INTERVAL_MS);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toEqual(
      expect.objectContaining({
        level: 50,
        context: 'Filter',
        repeated: 499,
        error: 'Error: connect ECONNREFUSED 127.0.0.1:5432',
        msg: 'connect ECONNREFUSED (repeated 499 times)',
      }),
    );
    expect(JSON.stringify(lines[1])).not.toContain('    at ');
    // A new interval starts with the full line again.
    nest.error({ err: dbDown() }, 'connect ECONNREFUSED', 'Filter');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatchObject({ err: { stack: expect.any(String) } });
  });

  it('keeps different errors, contexts and levels apart, and info lines uncounted', () => {
    const { lines, logs } = capture();
    const nest = new PinoNestLogger(logs.app);
    for (let i = 0; i < 3; i++) {
      nest.error({ err: dbDown() }, 'query failed', 'A');
      nest.error({ err: new Error('timeout exceeded') }, 'query failed', 'A');
      nest.error({ err: dbDown() }, 'query failed', 'B');
      nest.warn({ err: dbDown() }, 'query failed', 'A');
      nest.log('request served', 'A');
    }
    expect(lines.map((l) => [l.level, l.context, l.msg])).toEqual([
      [50, 'A', 'query failed'],
      [50, 'A', 'query failed'],
      [50, 'B', 'query failed'],
      [40, 'A', 'query failed'],
      [30, 'A', 'request served'],
      [30, 'A', 'request served'],
      [30, 'A', 'request served'],
    ]);
    nest.repeats.flush();
    expect(lines.slice(7).map((l) => [l.level, l.context, l.repeated, l.error])).toEqual([
      [50, 'A', 2, 'Error: connect ECONNREFUSED 127.0.0.1:5432'],
      [50, 'A', 2, 'Error: timeout exceeded'],
      [50, 'B', 2, 'Error: connect ECONNREFUSED 127.0.0.1:5432'],
      [40, 'A', 2, 'Error: connect ECONNREFUSED 127.0.0.1:5432'],
    ]);
  });

  it('writes no summary for an error that came once', () => {
    const { lines, logs } = capture();
    new PinoNestLogger(logs.app).error(dbDown(), 'Filter');
    jest.advanceTimersByTime(REPEAT_INTERVAL_MS);
    expect(lines).toHaveLength(1);
  });
});

describe('FailureStreak', () => {
  it('logs a retry loop going down and coming back up, not every try', () => {
    const { lines, logs } = capture();
    Logger.overrideLogger(new PinoNestLogger(logs.app));
    try {
      const streak = new FailureStreak(new Logger('Feeds'), 'feed poll');
      streak.succeeded();
      for (let i = 0; i < 40; i++) streak.failed(new Error(`attempt ${i} refused`), { attempt: i });
      streak.succeeded();
      streak.succeeded();
      streak.failed(new Error('refused again'));
    } finally {
      Logger.overrideLogger(false);
    }
    expect(lines).toEqual([
      expect.objectContaining({
        level: 40,
        context: 'Feeds',
        attempt: 0,
        err: expect.objectContaining({ message: 'attempt 0 refused', stack: expect.any(String) }),
        msg: 'feed poll failed; retrying until it works again',
      }),
      expect.objectContaining({
        level: 30,
        failures: 40,
        ms: expect.any(Number),
        msg: expect.stringMatching(
          /^feed poll works again after 40 failed attempt\(s\) over \d+ ms$/,
        ),
      }),
      expect.objectContaining({
        level: 40,
        err: expect.objectContaining({ message: 'refused again' }),
      }),
    ]);
  });
});

describe('logRequest', () => {
  function exchange(status: number, finished: boolean) {
    const req = Object.assign(new EventEmitter(), {
      method: 'GET',
      url: '/api/v1/me?token=abc&page=2',
      headers: { 'user-agent': 'curl/8', authorization: 'Basic c2VjcmV0' },
      id: 'req-1',
      clientIp: '10.0.0.1',
      principal: { type: 'client', name: 'ind_x', id: 'i', role: 'Analyst' },
    }) as unknown as IncomingMessage;
    const res = { statusCode: status, writableFinished: finished } as ServerResponse;
    return { req, res };
  }

  it('logs one allow-listed line per request: info when it succeeded, error otherwise', () => {
    const { lines, logs } = capture();
    for (const [status, finished] of [
      [200, true],
      [401, true],
      [200, false],
    ] as const) {
      const { req, res } = exchange(status, finished);
      logRequest(logs.requests, req, res, performance.now() - 5);
    }
    expect(lines[0]).toEqual({
      level: 30,
      time: expect.any(Number),
      pid: process.pid,
      hostname: expect.any(String),
      req: {
        id: 'req-1',
        method: 'GET',
        url: '/api/v1/me?token=%5BRedacted%5D&page=2',
        userAgent: 'curl/8',
      },
      res: { statusCode: 200 },
      responseTime: expect.any(Number),
      ip: '10.0.0.1',
      principal: { type: 'client', name: 'ind_x' },
      msg: expect.stringMatching(/^GET \/api\/v1\/me\?token=%5BRedacted%5D&page=2 200 \d+ms$/),
    });
    expect(lines[0].responseTime).toBeGreaterThanOrEqual(4);
    expect(lines[1]).toMatchObject({ level: 50, res: { statusCode: 401 } });
    expect(lines[2]).toMatchObject({ level: 50, msg: expect.stringContaining('aborted after') });
    expect(JSON.stringify(lines)).not.toContain('c2VjcmV0');
  });

  it('at LOG_LEVEL=error keeps only the error responses', () => {
    const { lines, logs } = capture('error');
    for (const status of [200, 204, 404, 500]) {
      const { req, res } = exchange(status, true);
      logRequest(logs.requests, req, res, performance.now());
    }
    expect(lines.map((l) => (l.res as { statusCode: number }).statusCode)).toEqual([404, 500]);
  });
});

describe('redactUrl', () => {
  it.each([
    ['/a', '/a'],
    ['/a?client_secret=s&x=1', '/a?client_secret=%5BRedacted%5D&x=1'],
    ['/a?Password=p&apiKey=k', '/a?Password=%5BRedacted%5D&apiKey=%5BRedacted%5D'],
    // A secret pasted where it does not belong: a path segment or an ordinary value.
    ['/api/v1/users/inds_abc-_9', '/api/v1/users/[Redacted]'],
    ['/a?q=indt_Zz0&x=winds_y', '/a?q=%5BRedacted%5D&x=winds_y'],
  ])('%s → %s', (url, expected) => expect(redactUrl(url)).toBe(expected));
});
