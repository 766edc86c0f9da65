/**
 * One runtime per host and port: the vendor binary always listens on 0.0.0.0:8000 (reference §1.4),
 * so a second config node pointing at the same port would fight the first for it. Claims live in
 * this process; a runtime left by another process is found by the pid file instead.
 */
import { Ax650Error } from '../errors';

const claims = new Map<number, string>();

export function claimRuntimePort(port: number, owner: string): void {
  const holder = claims.get(port);
  if (holder !== undefined && holder !== owner) {
    throw new Ax650Error('DUPLICATE_RUNTIME', `Another ax650-runtime node (${holder}) already runs the NPU runtime on port ${port}; use one runtime node per host and point every node at it.`, {
      params: { port, holder },
    });
  }
  claims.set(port, owner);
}

export function releaseRuntimePort(port: number, owner: string): void {
  if (claims.get(port) === owner) claims.delete(port);
}
