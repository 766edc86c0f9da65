#!/usr/bin/env node
/**
 * ax650-sim: stands in for `main_api_axcl_aarch64` (G1 `/api`, gregm123456/ax-llm @086f4e6).
 * Same command line, console output, tokenizer conversation, HTTP API, timing and exit paths;
 * faults and speeds come from AX650_SIM_* environment variables (see simulator/README.md).
 * `ax650-sim serve <model_dir>` (or any command line with AX650_SIM_MODE=axllm, as the `axllm`
 * wrapper sets it) is the axllm half instead: simulator/axllm/.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { loadQwenTokenizer } from '../lib/tokenizer/qwen-tokenizer';
import { Logger } from './alog';
import { serveMain } from './axllm/serve';
import { CxxException, parseCommandLine, parseDevices } from './cmdline';
import { readSimConfig, type SimConfig } from './env';
import { isWedged, terminate } from './faults';
import { ApiServer } from './http-api';
import { SimLlm } from './llm';
import { initLlm } from './loader';
import { RequestLog } from './request-log';
import { chooseMode, processStdoutSink, StdioBuffer } from './stdout';
import { Worker } from './worker';

/** The low byte of AXCL_ERR 0x8030010b, which main() returns when axclInit fails. */
const AXCL_INIT_FAIL_STATUS = 0x0b;

async function main(): Promise<void> {
  let cfg: SimConfig;
  try {
    cfg = readSimConfig(process.env);
  } catch (e) {
    process.stderr.write(`ax650-sim: ${(e as Error).message}\n`);
    process.exit(2);
  }
  const parsed = parseCommandLine(cfg.argv0 ?? process.argv[1] ?? 'main_api_axcl_aarch64', process.argv.slice(2));
  if (parsed.kind === 'exit') {
    process.stderr.write(parsed.stderr);
    process.exit(parsed.code);
  }
  const args = parsed.args;
  const out = new StdioBuffer(processStdoutSink(), chooseMode(process.stdout.isTTY === true, cfg.stdbuf));
  const log = new Logger(out);
  const exit = (code: number): never => {
    out.flush();
    process.exit(code);
  };

  // signal(SIGINT, __sigExit) is installed first, but svr.stop() does nothing until listen() runs.
  let onSigint: () => void = () => undefined;
  // A wedged NPU (AX650_SIM_HANG=wedge) never gets through the clean path: SIGINT changes nothing.
  process.on('SIGINT', () => {
    if (!isWedged()) onSigint();
  });

  let devices: number[];
  try {
    devices = parseDevices(args.devices);
  } catch (e) {
    terminate(e);
  }
  if (cfg.initFail === 'axcl') exit(AXCL_INIT_FAIL_STATUS);

  // The real binary has no such step. Parsing tokenizer.json blocks the event loop for most of a
  // second, so it happens here, in the silent span where axclInit sits, before the first init line:
  // once the load starts printing, only AX650_SIM_LOAD_STALL may make it go quiet. A folder without
  // the file is usually a wrong CWD, where the real binary fails on its model files: the vendor init
  // runs first and decides; a file that is there but unusable is the simulator's own setup error.
  const cannotLoad = (e: unknown): never => {
    process.stderr.write(`ax650-sim: cannot load qwen3_tokenizer/ from ${process.cwd()}: ${(e as Error).message}\n`);
    return exit(2);
  };
  const localTokenizer = loadQwenTokenizer(process.cwd());
  localTokenizer.catch(() => undefined);
  if (existsSync(path.join('qwen3_tokenizer', 'tokenizer.json'))) await localTokenizer.catch(cannotLoad);
  const requestLog = new RequestLog(cfg.logFile ? path.resolve(cfg.logFile) : undefined);
  let model;
  try {
    model = await initLlm(args, devices, cfg, log, out);
  } catch (e) {
    if (e instanceof CxxException || e instanceof Error) terminate(e);
    throw e;
  }
  if (!model) {
    log.e('main', 444, 'lLaMa.Init failed');
    exit(255);
    return;
  }
  const local = await localTokenizer.catch(cannotLoad);
  const llm = new SimLlm({ cfg, log, out, tokenizer: model.tokenizer, encodeLocal: (text) => local.encode(text), decodeLocal: (ids) => local.decode(ids), requestLog });
  const sampling = model.sampling;
  const worker = new Worker(llm, model.tokenizer, out, cfg, requestLog, () => ({ ...sampling }));
  const api = new ApiServer({ worker, llm, sampling, log, requestLog });

  const shutdown = async (): Promise<void> => {
    await worker.stop();
    for (const devid of devices) log.i('run', 80, `AXCLWorker exit with devid ${devid}`);
    exit(0);
  };
  out.write(`Server running on port ${cfg.port}...\n`);
  out.flush();
  await new Promise((r) => setTimeout(r, cfg.listenDelayMs));
  api.server.once('error', () => {
    // listen() failing (port taken) falls through to the normal teardown: exit 0, no message.
    void shutdown();
  });
  api.server.listen(cfg.port, cfg.bind, () => {
    onSigint = () => {
      onSigint = () => undefined;
      api.server.close();
      api.server.closeIdleConnections();
      void shutdown();
    };
  });
}

const argv = process.argv.slice(2);
if (process.env['AX650_SIM_MODE'] === 'axllm' || argv[0] === 'serve' || argv[0] === 'run') {
  serveMain(argv, process.env['AX650_SIM_ARGV0'] || 'axllm').catch((e: unknown) => terminate(e));
} else {
  main().catch((e: unknown) => terminate(e));
}
