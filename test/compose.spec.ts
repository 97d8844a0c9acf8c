import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import draft07MetaSchema from 'ajv/dist/refs/json-schema-draft-07.json';
import { generate } from 'selfsigned';
import { parseDocument } from 'yaml';
import { AppConfig, EnvironmentVariables } from '../src/config/app-config';

/*
 * Checks docker-compose.yml against the official compose-spec JSON schema (no Docker engine
 * is needed), plus what the deployment relies on; and the Dockerfile's user and healthcheck.
 */

const root = join(__dirname, '..');
const read = (file: string): string => readFileSync(join(root, file), 'utf8');

type Env = Record<string, string | undefined>;

interface Service {
  build?: unknown;
  image?: string;
  depends_on?: string[] | Record<string, { condition?: string }>;
  environment?: string[] | Record<string, string | number | boolean | null>;
  healthcheck?: { test?: string | string[]; disable?: boolean };
  volumes?: (string | { type?: string; source?: string; target?: string })[];
}

interface ComposeFile {
  version?: unknown;
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

/** Every variable the app validates at start-up (optional ones have no initializer). */
const APP_VARIABLES = [
  ...new Set([
    ...Object.keys(new EnvironmentVariables()),
    'DATABASE_URL',
    'TLS_CERT_PATH',
    'TLS_KEY_PATH',
    'ADMIN_PASSWORD',
  ]),
];

/**
 * The compose-spec schema that `docker compose` validates against. dclint ships a copy;
 * its package "exports" hide the file from require(), so locate it via package.json.
 */
function composeSchema(): Record<string, unknown> {
  const dir = dirname(require.resolve('dclint/package.json'));
  return JSON.parse(readFileSync(join(dir, 'schemas', 'compose.schema.json'), 'utf8')) as Record<
    string,
    unknown
  >;
}

let validateCompose: ValidateFunction | undefined;

function schemaErrors(document: unknown): string[] {
  if (!validateCompose) {
    const schema = composeSchema();
    // The schema is not written for Ajv's strict mode (e.g. keywords without "type").
    const ajv = new Ajv({ allErrors: true, strict: false });
    // It names draft-07 by its https URL; Ajv registers the meta-schema under http.
    ajv.addMetaSchema({ ...draft07MetaSchema, $id: String(schema.$schema) });
    validateCompose = ajv.compile(schema);
  }
  const validate = validateCompose;
  if (validate(document)) return [];
  return (validate.errors ?? []).map(
    (e: ErrorObject) =>
      `${e.instancePath || '/'}: ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`,
  );
}

/** Parses YAML as compose does: duplicate keys are errors, `<<` merge keys are allowed. */
function parseYaml(source: string): unknown {
  const doc = parseDocument(source, { merge: true, uniqueKeys: true });
  const problems = [...doc.errors, ...doc.warnings].map((e) => e.message);
  if (problems.length > 0) throw new Error(`YAML problems:\n${problems.join('\n')}`);
  return doc.toJS();
}

const VARIABLE =
  /\$(?:(\$)|\{([A-Za-z_]\w*)(?:(:?[-?+])((?:[^{}]|\{[^{}]*\})*))?\}|([A-Za-z_]\w*))/g;

/**
 * Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR:+alt}, $VAR and $$.
 * Stricter than compose: an unset variable without a default throws instead of becoming "".
 */
function interpolate(value: string, env: Env): string {
  return value.replace(
    VARIABLE,
    (_m: string, escaped?: string, braced?: string, op?: string, arg?: string, bare?: string) => {
      if (escaped) return '$';
      const name = (braced ?? bare) as string;
      const current = env[name];
      const isSet = op?.startsWith(':')
        ? current !== undefined && current !== ''
        : current !== undefined;
      switch (op?.replace(':', '')) {
        case '-':
          return isSet ? (current as string) : interpolate(arg ?? '', env);
        case '+':
          return isSet ? interpolate(arg ?? '', env) : '';
        case '?':
          if (!isSet) throw new Error(`required variable ${name}: ${arg ?? ''}`);
          return current as string;
        default:
          if (current === undefined) throw new Error(`\${${name}} is used without a default`);
          return current;
      }
    },
  );
}

function interpolateAll(node: unknown, env: Env): unknown {
  if (typeof node === 'string') return interpolate(node, env);
  if (Array.isArray(node)) return node.map((item) => interpolateAll(item, env));
  if (node !== null && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateAll(v, env)]));
  }
  return node;
}

function environmentOf(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const eq = entry.indexOf('=');
        return eq < 0 ? [entry, ''] : [entry.slice(0, eq), entry.slice(eq + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/** KEY=VALUE lines of a .env file. */
function parseDotenv(source: string): Record<string, string> {
  const entries = source
    .split('\n')
    .map((line) => /^([A-Za-z_]\w*)=(.*)$/.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m): [string, string] => [m[1], m[2]]);
  return Object.fromEntries(entries);
}

/** Dockerfile instructions as [KEYWORD, arguments], continuation lines joined, comments dropped. */
function dockerfileInstructions(source: string): [string, string][] {
  return source
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return [keyword.toUpperCase(), rest.join(' ')];
    });
}

/** The node -e script of an exec-form healthcheck test (["CMD", "node", "-e", script]). */
function probeScript(test: unknown): string {
  if (!Array.isArray(test) || test.length !== 4 || test.slice(0, 3).join(' ') !== 'CMD node -e') {
    throw new Error(`expected ["CMD", "node", "-e", <script>], got ${JSON.stringify(test)}`);
  }
  return String(test[3]);
}

/** The exec-form test of the Dockerfile's HEALTHCHECK, as compose would spell it. */
function dockerfileProbe(healthcheckArgs: string | undefined): string {
  const exec: unknown = JSON.parse(healthcheckArgs?.replace(/^.*?\bCMD\s+/, '') ?? 'null');
  return probeScript(Array.isArray(exec) ? ['CMD', ...(exec as unknown[])] : exec);
}

describe('docker-compose.yml', () => {
  let raw: unknown;
  let compose: ComposeFile;
  beforeAll(() => {
    raw = parseYaml(read('docker-compose.yml'));
    // What compose runs with only the one required variable set: the rest at their defaults.
    compose = interpolateAll(raw, { POSTGRES_PASSWORD: 'a-password-from-env' }) as ComposeFile;
  });
  const api = (): Service => compose.services.api;
  const postgres = (): Service => compose.services.postgres;

  it('is valid against the compose-spec schema, before and after interpolation', () => {
    expect(schemaErrors(raw)).toEqual([]);
    expect(schemaErrors(compose)).toEqual([]);
  });

  it('the schema check does reject a broken file', () => {
    const broken = structuredClone(compose) as unknown as {
      services: Record<string, Record<string, unknown>>;
    };
    broken.services.api.depends_on = { postgres: { condition: 'healthy' } };
    broken.services.api.helthcheck = {};
    const errors = schemaErrors(broken).join('\n');
    expect(errors).toMatch(/\/services\/api: must NOT have additional properties.*helthcheck/);
    expect(errors).toMatch(
      /\/services\/api\/depends_on\/postgres\/condition: must be equal to one of/,
    );
  });

  it('refuses to start without POSTGRES_PASSWORD, saying which variable to set', () => {
    for (const env of [{}, { POSTGRES_PASSWORD: '' }]) {
      expect(() => interpolateAll(raw, env)).toThrow(
        'required variable POSTGRES_PASSWORD: set POSTGRES_PASSWORD in .env',
      );
    }
    // ...and .env.example, copied as it is, does not supply one either.
    expect(() => interpolateAll(raw, parseDotenv(read('.env.example')))).toThrow(
      /required variable POSTGRES_PASSWORD/,
    );
  });

  it('holds no default secret: every password-like variable is required or empty', () => {
    const source = read('docker-compose.yml');
    const secretDefaults = [...source.matchAll(VARIABLE)]
      .filter(
        ([, , name, op, arg]) =>
          /PASSWORD|SECRET|TOKEN|KEY/.test(name ?? '') &&
          op?.replace(':', '') !== '?' &&
          (arg ?? '') !== '',
      )
      .map(([m]) => m);
    expect(secretDefaults).toEqual([]);
    for (const [, , name, op] of source.matchAll(VARIABLE)) {
      if (name === 'POSTGRES_PASSWORD') expect(op).toBe(':?');
    }
  });

  it('has no obsolete top-level version key', () => {
    expect(compose).not.toHaveProperty('version');
  });

  it('defines the api (built here) and postgres services', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'postgres']);
    expect(api().build).toBeDefined();
    expect(postgres().image).toMatch(/^postgres:1[67](\.\d+)*-alpine$/);
  });

  it('starts api only once postgres is healthy', () => {
    expect(api().depends_on).toMatchObject({ postgres: { condition: 'service_healthy' } });
  });

  it('gives both services an enabled healthcheck', () => {
    for (const name of ['api', 'postgres']) {
      const healthcheck = compose.services[name].healthcheck;
      expect({ name, disable: healthcheck?.disable ?? false }).toEqual({ name, disable: false });
      expect(healthcheck?.test?.length).toBeGreaterThan(0);
    }
    expect(postgres().healthcheck?.test?.toString()).toMatch(/pg_isready/);
  });

  it('points api at the postgres service with the credentials postgres is created with', () => {
    const url = new URL(environmentOf(api()).DATABASE_URL);
    const pg = environmentOf(postgres());
    expect(url.protocol).toMatch(/^postgres(ql)?:$/);
    expect(url.hostname).toBe('postgres');
    expect(decodeURIComponent(url.username)).toBe(pg.POSTGRES_USER);
    expect(decodeURIComponent(url.password)).toBe(pg.POSTGRES_PASSWORD);
    expect(url.pathname).toBe(`/${pg.POSTGRES_DB}`);
  });

  it('keeps postgres data and api DATA_DIR in named volumes', () => {
    const namedVolumeAt = (service: Service, target: string): string | undefined => {
      for (const volume of service.volumes ?? []) {
        const [source, path] =
          typeof volume === 'string' ? volume.split(':') : [volume.source, volume.target];
        if (path === target && source !== undefined && !/^[./~]/.test(source)) return source;
      }
      return undefined;
    };
    const declared = Object.keys(compose.volumes ?? {});
    expect(declared).toContain(namedVolumeAt(postgres(), '/var/lib/postgresql/data'));
    expect(declared).toContain(namedVolumeAt(api(), '/data'));
  });

  it("gives api an environment the app's own config validator accepts", () => {
    const env = environmentOf(api());
    expect(Object.keys(env).filter((k) => !APP_VARIABLES.includes(k))).toEqual([]);
    expect(() => AppConfig.load(env)).not.toThrow();
    // ...also with the values a user gets by copying .env.example to .env.
    const fromExample = interpolateAll(raw, {
      ...parseDotenv(read('.env.example')),
      POSTGRES_PASSWORD: 'the-one-you-set',
    }) as ComposeFile;
    expect(() => AppConfig.load(environmentOf(fromExample.services.api))).not.toThrow();
  });

  it("probes api health the same way as the Dockerfile's HEALTHCHECK", () => {
    const dockerfile = dockerfileInstructions(read('Dockerfile'));
    const healthcheck = dockerfile.find(([keyword]) => keyword === 'HEALTHCHECK');
    expect(probeScript(api().healthcheck?.test)).toBe(dockerfileProbe(healthcheck?.[1]));
  });
});

describe('.env.example', () => {
  const source = read('.env.example');

  it('documents every variable the app reads, with a comment giving its default', () => {
    const lines = source.split('\n').map((line) => line.trim());
    const undocumented = APP_VARIABLES.filter((name) => {
      let i = lines.findIndex((line) => line.startsWith(`${name}=`));
      if (i < 0) return true;
      while (i > 0 && /^[A-Za-z_]\w*=/.test(lines[i - 1])) i--; // variables grouped under one comment
      const comment: string[] = [];
      while (i > 0 && lines[i - 1].startsWith('#')) comment.unshift(lines[--i]);
      return !/Default/i.test(comment.join(' '));
    });
    expect(undocumented).toEqual([]);
  });

  it('holds values the app accepts', () => {
    expect(() => AppConfig.load(parseDotenv(source))).not.toThrow();
  });
});

describe('Dockerfile', () => {
  const instructions = dockerfileInstructions(read('Dockerfile'));
  const runtime = instructions.slice(instructions.map(([k]) => k).lastIndexOf('FROM'));
  const args = (keyword: string): string[] =>
    runtime.filter(([k]) => k === keyword).map(([, a]) => a);

  it('is multi-stage and runs the final stage as a non-root user', () => {
    expect(instructions.filter(([k]) => k === 'FROM').length).toBeGreaterThanOrEqual(2);
    const user = args('USER').at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
  });

  it('declares a HEALTHCHECK, the /data volume, port 8443 and the start command', () => {
    expect(args('HEALTHCHECK')).toHaveLength(1);
    expect(args('HEALTHCHECK')[0]).not.toMatch(/^NONE\b/i);
    expect(args('HEALTHCHECK')[0]).toContain('/health/live');
    expect(args('VOLUME').join(' ')).toContain('/data');
    expect(args('EXPOSE')).toContain('8443');
    expect(JSON.parse(args('CMD').at(-1) ?? 'null')).toEqual(['node', 'dist/main.js']);
  });

  describe('HEALTHCHECK probe, run against a stand-in server', () => {
    let script: string;
    let tls: { key: string; cert: string };
    const servers: Server[] = [];

    beforeAll(async () => {
      script = dockerfileProbe(args('HEALTHCHECK')[0]);
      const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
        keyType: 'ec',
        curve: 'P-256',
      });
      tls = { key: pems.private, cert: pems.cert };
    });
    afterAll(async () => {
      await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
    });

    const listen = async (secure: boolean, liveStatus: number): Promise<number> => {
      const handler: RequestListener = (req, res) => {
        res.statusCode = req.url === '/health/live' ? liveStatus : 404;
        res.end();
      };
      const server = secure ? createHttpsServer(tls, handler) : createHttpServer(handler);
      servers.push(server);
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      return (server.address() as AddressInfo).port;
    };

    const probe = (port: number, tlsSetting: string): Promise<number> =>
      new Promise((done) => {
        execFile(
          process.execPath,
          ['-e', script],
          { env: { ...process.env, PORT: String(port), TLS: tlsSetting }, timeout: 15_000 },
          (error) => done(error ? (typeof error.code === 'number' ? error.code : -1) : 0),
        );
      });

    it('passes on 200 over HTTPS with a self-signed certificate', async () => {
      expect(await probe(await listen(true, 200), 'on')).toBe(0);
    });

    it('fails when /health/live is not 200', async () => {
      expect(await probe(await listen(true, 503), 'on')).toBe(1);
    });

    it('uses plain HTTP when TLS=off', async () => {
      expect(await probe(await listen(false, 200), 'off')).toBe(0);
    });

    it('fails when nothing listens', async () => {
      const port = await listen(false, 200);
      const server = servers.pop() as Server;
      await new Promise((done) => server.close(done));
      expect(await probe(port, 'off')).toBe(1);
    });
  });
});
