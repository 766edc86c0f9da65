/**
 * While a stopped axllm reply drains (the runtime generates on after a client disconnect), the engine
 * prints each token to its console. A draining engine that prints nothing for the stop bound is not
 * draining but wedged (a stuck NPU call: it also ignores SIGINT), so the runtime is declared wedged
 * then instead of at the end of the much longer drain allowance (stopDrainMs).
 */
import { Ax650Error } from '../errors';

export interface SilenceWatch {
  /** Rejects with RUNTIME_WEDGED after `silentMs` with no output; never resolves. */
  readonly silent: Promise<never>;
  dispose(): void;
}

/** The runtime's raw output (ProcessSet). */
export interface OutputSource {
  on(event: 'output', listener: (text: string) => void): unknown;
  off(event: 'output', listener: (text: string) => void): unknown;
}

export function watchSilence(output: OutputSource, silentMs: number): SilenceWatch {
  let timer: NodeJS.Timeout | undefined;
  let fire: (e: Ax650Error) => void = () => undefined;
  const silent = new Promise<never>((_, reject) => {
    fire = reject;
  });
  // Nobody may be listening any more once the drain ended some other way.
  silent.catch(() => undefined);
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      output.off('output', arm);
      fire(new Ax650Error('RUNTIME_WEDGED', `The runtime printed nothing for ${Math.round(silentMs / 1000)} s while finishing a stopped reply: its NPU is stuck.`, { params: { ms: silentMs } }));
    }, silentMs);
  };
  output.on('output', arm);
  arm();
  return {
    silent,
    dispose: () => {
      clearTimeout(timer);
      output.off('output', arm);
    },
  };
}
