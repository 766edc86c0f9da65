/** Loopback probes shared by the simulator tests. */
import * as net from 'node:net';

/** True when a TCP connect to 127.0.0.1:port is refused (the runtime listens only once the model is loaded). */
export function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(true));
  });
}
