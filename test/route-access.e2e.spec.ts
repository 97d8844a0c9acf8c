import { DiscoveryService, MetadataScanner, ModulesContainer, Reflector } from '@nestjs/core';
import { PRIVILEGE_KEY, PUBLIC_KEY } from '../src/auth/auth.decorator';
import { createTestApp, TestApp } from './support/test-app';

/** Deny by default: every route must declare @Public() or @Auth(). */
describe('route access declarations', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it("every controller route declares @Public() or @Auth(), and only the contract's routes are public", () => {
    const discovery = new DiscoveryService(t.app.get(ModulesContainer));
    const scanner = new MetadataScanner();
    const reflector = new Reflector();
    const undeclared: string[] = [];
    const publicRoutes: string[] = [];
    let count = 0;
    for (const wrapper of discovery.getControllers()) {
      const instance = wrapper.instance as object | undefined;
      if (!instance) continue;
      const proto = Object.getPrototypeOf(instance) as Record<string, unknown>;
      for (const name of scanner.getAllMethodNames(proto)) {
        const handler = proto[name] as () => unknown;
        if (Reflect.getMetadata('path', handler) === undefined) continue;
        count++;
        const targets = [handler, wrapper.metatype as () => unknown];
        const label = `${(wrapper.metatype as { name: string }).name}.${name}`;
        if (reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets)) publicRoutes.push(label);
        else if (reflector.getAllAndOverride<string>(PRIVILEGE_KEY, targets) === undefined)
          undeclared.push(label);
      }
    }
    expect(count).toBeGreaterThan(10);
    expect(undeclared).toEqual([]);
    const allowedPublic = [
      'HealthController.live',
      'HealthController.ready',
      'OAuthController.token',
      'SessionController.signIn',
    ];
    expect(publicRoutes.filter((r) => !allowedPublic.includes(r))).toEqual([]);
  });

  it('every operation in the OpenAPI document has security, or is one of the public routes', async () => {
    const doc = await t.api().get('/docs-json');
    const open: string[] = [];
    for (const [path, ops] of Object.entries(
      doc.body.paths as Record<string, Record<string, { security?: unknown[] }>>,
    )) {
      for (const [method, op] of Object.entries(ops)) {
        if (!op.security || op.security.length === 0) open.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(open.sort()).toEqual(expect.arrayContaining(['GET /health/live', 'GET /health/ready']));
    expect(
      open.filter(
        (o) =>
          ![
            'GET /health/live',
            'GET /health/ready',
            'POST /api/v1/oauth/token',
            'POST /api/v1/session',
          ].includes(o),
      ),
    ).toEqual([]);
  });
});
