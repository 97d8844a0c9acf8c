import { createServer } from 'node:net';

/** A free loopback port (listen on 0, close). */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() =>
        typeof address === 'object' && address
          ? done(address.port)
          : fail(new Error('no port was assigned')),
      );
    });
  });
}
