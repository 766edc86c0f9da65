/**
 * `axllm` main() for the simulator [M]: version/help, usage and exit codes, the model dir check,
 * the not-fatal config.json load, mode dispatch, `--port` through std::stoi (abort on garbage), the
 * port check before anything loads, LLM.Init, the console lines main and openai-api print, listen,
 * and SIGINT → stop the server, wait for responses in progress, Deinit, exit 0.
 */
import { existsSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { CxxException } from '../cmdline';
import { isWedged, terminate } from '../faults';
import { RequestLog } from '../request-log';
import { chooseMode, processStdoutSink, StdioBuffer } from '../stdout';
import { defaultConfig, loadConfig, resolveConfigPaths } from './config';
import { AxEngine } from './engine';
import { readAxllmKnobs, type AxllmKnobs } from './knobs';
import { initAxllm } from './loader';
import { AxLogger } from './logger';
import { AxServer } from './server';

/** The low byte of AXCL_ERR 0x8030010b, what main returns when axclInit fails. */
const AXCL_INIT_FAIL_STATUS = 0x0b;
/** Qwen3-VL at 448×448: (448 / 14 / 2)² vision tokens per image. */
const IMAGE_TOKENS = 256;

export function usage(prog: string): string {
  return [
    'Usage:',
    `  ${prog} version                     Print build and git version information`,
    `  ${prog} run <model_path> [options]    Run interactive chat mode`,
    `  ${prog} serve <model_path> [options]  Run HTTP API server mode`,
    '',
    'Arguments:',
    '  model_path    Path to model directory containing config.json and model files',
    '',
    'Serve options:',
    '  --port <port> Server port (default: 8000)',
    '',
    'Embedding model config:',
    '  Set "is_embedding": true in config.json to enable /v1/embeddings.',
    '',
    'Model directory structure:',
    '  model_path/',
    '    ├── config.json          # Model configuration',
    '    ├── tokenizer.txt        # Tokenizer model',
    '    ├── *.axmodel            # AXera model files',
    '    └── post_config.json     # Post-processing config (optional)',
    '',
  ].join('\n');
}

const VERSION = ['axllm version', '  git commit       : ax650-sim', '  git branch       : axllm', '  git dirty        : false', '  backend          : AXCL (simulated)', ''].join('\n');

/** std::stoi: optional whitespace and sign, then digits; the rest is ignored; none → invalid_argument. */
export function stoi(text: string): number {
  const m = /^\s*([+-]?\d+)/.exec(text);
  if (!m) throw new CxxException('std::invalid_argument', 'stoi');
  const value = Number(m[1]);
  if (value > 2147483647 || value < -2147483648) throw new CxxException('std::out_of_range', 'stoi');
  return value;
}

/** check_port_available [N]: bind INADDR_ANY:port (SO_REUSEADDR) and close. */
export function checkPort(port: number): Promise<string | undefined> {
  if (port < 1 || port > 65535) return Promise.resolve('invalid port (must be 1-65535)');
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'EADDRINUSE' ? 'port is already in use' : e.code === 'EACCES' ? 'permission denied' : 'bind failed'));
    probe.listen({ port, host: '0.0.0.0', exclusive: true }, () => probe.close(() => resolve(undefined)));
  });
}

function localIpv4(): string[] {
  return Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).filter((a) => a.family === 'IPv4' && !a.internal).map((a) => a.address));
}

export async function serveMain(argv: string[], prog: string): Promise<void> {
  let knobs: AxllmKnobs;
  try {
    knobs = readAxllmKnobs(process.env);
  } catch (e) {
    process.stderr.write(`ax650-sim: ${(e as Error).message}\n`);
    process.exit(2);
  }
  const out = new StdioBuffer(processStdoutSink(), chooseMode(process.stdout.isTTY === true, knobs.sim.stdbuf));
  const log = new AxLogger({ out, err: (t) => void process.stderr.write(t), colour: process.stdout.isTTY === true, logFile: knobs.logFile });
  const exit = (code: number): never => {
    out.flush();
    process.exit(code);
  };
  // signal(SIGINT, __sigExit) comes first, but g_server.stop() does nothing before listen().
  let onSigint: () => void = () => undefined;
  // A wedged NPU (AX650_SIM_HANG=wedge) never gets through the clean path (it joins the stuck worker): the signal changes nothing.
  for (const sig of knobs.pr66Signals ? (['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const) : (['SIGINT'] as const)) process.on(sig, () => {
    if (!isWedged()) onSigint();
  });
  process.on('SIGPIPE', () => undefined);
  // With SIGPIPE ignored a write to a closed pipe fails with EPIPE and the real server goes on (its parent died): so does this one.
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);

  const first = argv[0];
  if (first === 'version' || first === '--version' || first === '-v') {
    out.write(VERSION);
    return exit(0);
  }
  if (first === '--help' || first === '-h') {
    out.write(usage(prog));
    return exit(0);
  }
  if (argv.length < 2) {
    out.write(usage(prog));
    return exit(255);
  }
  const mode = argv[0] ?? '';
  const modelPath = argv[1] ?? '';
  if (!existsSync(modelPath)) {
    log.e('main:2688', `Model path does not exist: ${modelPath}`);
    return exit(255);
  }
  const configPath = `${modelPath}/config.json`;
  const cfg = defaultConfig();
  if (!loadConfig(configPath, cfg, log)) {
    log.e('main:2697', `Failed to load config from: ${configPath}`);
    log.e('main:2699', 'Using default configuration');
  }
  resolveConfigPaths(cfg, modelPath);
  if (mode === 'run') {
    process.stderr.write('ax650-sim: `axllm run` (the interactive REPL) is not simulated; use `serve`\n');
    return exit(2);
  }
  if (mode !== 'serve') {
    log.e('main:2733', `Unknown mode: ${mode}`);
    out.write(usage(prog));
    return exit(255);
  }
  let port = cfg.port;
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--port' && i + 1 < argv.length) {
      try {
        port = stoi(argv[++i] ?? '');
      } catch (e) {
        terminate(e);
      }
    } else if (arg === '--help' || arg === '-h') {
      out.write(usage(prog));
      return exit(0);
    }
  }
  const portError = await checkPort(port);
  if (portError !== undefined) {
    log.e('run_server_mode:2010', `Port ${port} is unavailable: ${portError}`);
    return exit(255);
  }
  if (knobs.sim.initFail === 'axcl') return exit(AXCL_INIT_FAIL_STATUS);
  const devices = knobs.devices ?? cfg.devices;
  const requestLog = new RequestLog(knobs.sim.logFile ? path.resolve(knobs.sim.logFile) : undefined);
  const loaded = await initAxllm(cfg, devices, knobs, log);
  if (!loaded) {
    log.e('run_server_mode:2040', 'LLM.Init failed');
    return exit(255);
  }
  const engine = new AxEngine(knobs.sim, log, loaded.tokenizer, requestLog, cfg.kvCacheSlots);
  let timeoutMs = cfg.serverTimeoutMs;
  const server = new AxServer({
    cfg,
    knobs,
    engine,
    tokenizer: loaded.tokenizer,
    log,
    requestLog,
    imageTokens: IMAGE_TOKENS,
    modelName: cfg.modelName,
    vision: loaded.vision,
    maxTokenLen: loaded.maxTokenLen,
    prefillMaxTokenNum: loaded.prefillMaxTokenNum,
    get timeoutMs() {
      return timeoutMs;
    },
  });
  const deinit = (): never => {
    log.i('Deinit:210', `[cmm-sentry] Deinit: CMM balanced (baseline ${loaded.remainCmmMb + 2300} MB, now ${loaded.remainCmmMb + 2300} MB)`);
    for (const devid of devices) log.i('run:80', `AXCLWorker exit with devid ${devid}`);
    return exit(0);
  };

  log.printf(`Starting server on port ${port} with model '${cfg.modelName}'...\n`);
  const hosts = ['127.0.0.1', ...localIpv4().filter((h) => h !== '127.0.0.1')];
  log.printf('API URLs:\n');
  for (const h of hosts) log.printf(`  GET  http://${h}:${port}/health\n  GET  http://${h}:${port}/v1/models\n  POST http://${h}:${port}/v1/chat/completions\n`);
  log.printf('Aliases:\n');
  for (const h of hosts) log.printf(`  GET  http://${h}:${port}/models\n  POST http://${h}:${port}/chat/completions\n`);
  if (timeoutMs <= 0) {
    log.w('run_server_mode:2390', `invalid server_timeout_ms=${timeoutMs}, fallback to default 300000ms`);
    timeoutMs = 300000;
  }
  log.printFlush(`OpenAI API Server starting on http://${knobs.bind}:${port}\nMax concurrency: 1\nModels: ${cfg.modelName}\n`);
  await new Promise((r) => setTimeout(r, knobs.sim.listenDelayMs));
  server.server.once('error', () => {
    // listen() failing after the load (port taken in the race window): Deinit, exit 0.
    deinit();
  });
  server.server.listen(port, knobs.bind, () => {
    onSigint = () => {
      onSigint = () => undefined;
      void server.close().then(deinit);
    };
  });
}
