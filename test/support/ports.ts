/**
 * Free TCP ports for real servers in tests. The OS picks the port (listen on :0), so parallel test files
 * never collide on a hard-coded number.
 */
import { createServer } from 'node:net';

/** Asks the OS for a currently free port on 127.0.0.1. The port is released before this resolves. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') {
        srv.close();
        reject(new Error('freePort: server has no TCP address'));
        return;
      }
      const { port } = addr;
      srv.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}
