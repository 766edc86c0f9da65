/**
 * Whether the runtime's HTTP port can be reached from the network, for the health node's
 * `exposedPort` warning. The vendor binary always binds 0.0.0.0 (reference §1.4, vendor-fixed); the
 * simulator binds 127.0.0.1 unless its AX650_SIM_BIND knob (from the runtime node's simulator
 * settings or the environment Node-RED runs in) names another address.
 */
import type { RuntimeConfig } from '../runtime/config';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export function runtimeReachableFromNetwork(cfg: Pick<RuntimeConfig, 'simulator' | 'simulatorEnv'>, env: NodeJS.ProcessEnv = process.env): boolean {
  if (!cfg.simulator) return true;
  const bind = cfg.simulatorEnv['AX650_SIM_BIND'] || env['AX650_SIM_BIND'] || '127.0.0.1';
  return !LOOPBACK.test(bind);
}
