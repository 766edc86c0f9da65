/** Shared set-up for the facade tests: a FakeRunner behind a server on a free loopback port. */
import { FakeRunner, type FakeRunnerOptions } from '../helpers/fake-runner';
import { startApiServer, type ApiServer, type ApiServerOptions } from '../../lib/ollama/server';

export interface Harness {
  runner: FakeRunner;
  server: ApiServer;
  url: string;
}

export async function startHarness(
  runnerOpts: FakeRunnerOptions = {},
  serverOpts: Omit<ApiServerOptions, 'runner'> = {},
): Promise<Harness> {
  const runner = new FakeRunner(runnerOpts);
  const server = await startApiServer({ runner, port: 0, ...serverOpts });
  return { runner, server, url: server.url };
}

/** Polls a condition (state, not time) until it holds or the deadline passes. */
export async function waitFor(what: string, predicate: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}
