// `npm start`: Node-RED on http://127.0.0.1:1880 with this package installed, every example flow on
// its own tab sharing ONE runtime node (one runtime per host), on the simulator unless a card is present,
// and the Dashboard 2 chat of examples/dashboard-chat.json at /dashboard/ax650-chat.
// Ctrl-C stops Node-RED, which stops the runtime and the tokenizer it started, and the MQTT broker.
//
// The flows live in .demo/flows.json. The first start writes the examples there; later starts keep the
// file, so edits made in the editor survive. `npm start -- --reset` (or AX650_DEMO_RESET=1) writes the
// examples afresh. Without a model folder the simulator plays `axllm serve` with a 2026 flat folder (what new
// users download). Environment: PORT (1880), AX650_MODE (auto | hardware | simulator), AX650_MODEL_DIR,
// AX650_RUNTIME (auto | axllm | main-api),
// AX650_DEMO_DIR (.demo), AX650_DEMO_MQTT_PORT (1883), AX650_DEMO_RESET.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { startNodeRed, exampleFlows } = require(join(root, 'dist/test/helpers/node-red-process.js'));

const port = Number(process.env.PORT ?? 1880);
const mqttPort = Number(process.env.AX650_DEMO_MQTT_PORT ?? 1883);
const reset = process.argv.includes('--reset') || process.env.AX650_DEMO_RESET === '1';
const RUNTIME_ID = 'demo-runtime';
const EXAMPLE_BROKER = 'mqtt://127.0.0.1:1883';
const runtime = {
  id: RUNTIME_ID, type: 'ax650-runtime', name: 'NPU (demo)', mode: process.env.AX650_MODE ?? 'auto', runtime: process.env.AX650_RUNTIME ?? 'auto',
  modelDir: process.env.AX650_MODEL_DIR ?? '', devices: 'auto', tokenizerMode: 'builtin', tokenizerPort: 12345,
  startOn: 'deploy', queueLimit: 32, loadStallSec: 60, maxCrashes: 5, modelName: 'qwen3-ax650', flags: '', simEnv: '', runtimePort: '',
};

// The MQTT example talks MQTT v5 to a broker on 127.0.0.1:1883. Start Debian's mosquitto there when it is
// installed; otherwise an in-process aedes broker, which speaks only MQTT 3.1.1 (the demo's bridge is switched to it).
const { startAedes, startMosquitto, stopMosquitto, mosquittoPath } = require(join(root, 'dist/test/mqtt/brokers.js'));
let stopBroker = async () => undefined;
let mqttV311 = false;
try {
  if (mosquittoPath()) {
    const broker = await startMosquitto({ port: mqttPort });
    // stopMosquitto also removes the broker's temporary ax650-mosq-* folder.
    stopBroker = () => stopMosquitto(broker);
    console.log(`MQTT broker (mosquitto) on mqtt://127.0.0.1:${mqttPort}`);
  } else {
    const broker = await startAedes({ port: mqttPort });
    stopBroker = () => broker.close();
    mqttV311 = true;
    console.log(`MQTT broker (aedes, in-process, MQTT 3.1.1) on mqtt://127.0.0.1:${mqttPort}; install mosquitto for MQTT v5`);
  }
} catch (e) {
  console.log(`MQTT: could not start a broker on ${mqttPort} (${e.code ?? e.message}); the MQTT example uses whatever listens there.`);
}

/** What this start needs in a flow, whether it is fresh or kept: the broker it started, the runtime settings given in the environment. */
function adapt(flows) {
  return flows.map((n) => {
    // The example's broker is the one this script starts; a broker the user chose is left alone.
    if (n.type === 'ax650-mqtt' && n.broker === EXAMPLE_BROKER) return { ...n, broker: `mqtt://127.0.0.1:${mqttPort}`, ...(mqttV311 ? { protocolVersion: '4' } : {}) };
    if (n.type === 'ax650-mqtt' && n.broker === `mqtt://127.0.0.1:${mqttPort}`) return mqttV311 ? { ...n, protocolVersion: '4' } : n;
    if (n.id === RUNTIME_ID) {
      const env = {};
      if (process.env.AX650_MODE) env.mode = process.env.AX650_MODE;
      if (process.env.AX650_MODEL_DIR !== undefined) env.modelDir = process.env.AX650_MODEL_DIR;
      if (process.env.AX650_RUNTIME) env.runtime = process.env.AX650_RUNTIME;
      return { ...n, ...env };
    }
    return n;
  });
}

const userDir = resolve(process.env.AX650_DEMO_DIR ?? join(root, '.demo'));
mkdirSync(userDir, { recursive: true });

// The camera examples need a vision-language model. Without a model folder of the user's, they run on a second
// simulated runtime with a VL folder (Qwen3-VL-2B's layout, in the demo folder); with one, on the user's runtime.
const VL_RUNTIME_ID = 'demo-runtime-vl';
const vlModelDir = join(userDir, 'vl-model');
if (process.env.AX650_MODEL_DIR === undefined && !existsSync(join(vlModelDir, 'config.json'))) {
  const { createAxllmSimModelDir } = require(join(root, 'dist/simulator/axllm/model-dir.js'));
  await createAxllmSimModelDir(vlModelDir, { vision: true });
}
function withVisionRuntime(flows) {
  if (process.env.AX650_MODEL_DIR !== undefined) return flows;
  const vision = new Set(flows.filter((n) => n.type === 'tab' && /^vision-/.test(n.label)).map((n) => n.id));
  const vlRuntime = {
    ...runtime, id: VL_RUNTIME_ID, name: 'VL (demo simulator)', mode: 'simulator', runtime: 'axllm', modelDir: vlModelDir,
    modelName: 'qwen3-vl', tokenizerPort: 12346, runtimePort: 8001,
  };
  return [vlRuntime, ...flows.map((n) => (vision.has(n.z) && n.runtime === RUNTIME_ID ? { ...n, runtime: VL_RUNTIME_ID } : n))];
}
const flowFile = join(userDir, 'flows.json');
const kept = !reset && existsSync(flowFile);
const flows = adapt(kept ? JSON.parse(readFileSync(flowFile, 'utf8')) : withVisionRuntime(exampleFlows(runtime)));
if (kept) {
  // Only what this start must change is written back; everything else the user edited stays as it is.
  if (JSON.stringify(JSON.parse(readFileSync(flowFile, 'utf8'))) !== JSON.stringify(flows)) writeFileSync(flowFile, JSON.stringify(flows, null, 2));
  console.log(`Using the flows kept in ${flowFile} (npm start -- --reset brings back the examples).`);
} else {
  console.log(`${reset ? 'Reset: ' : ''}the example flows written to ${flowFile}.`);
}

// Under `npm start` the `node` on PATH may be the Node 22 of node_modules/.bin (the Node-RED 5 test leg's);
// Node-RED runs on the Node that runs npm.
const nodeBin = process.env.npm_node_execpath && /node$/.test(process.env.npm_node_execpath) ? process.env.npm_node_execpath : process.execPath;
const nr = await startNodeRed({
  nodeBin, port, userDir, flows: kept ? undefined : flows, echo: true, modules: ['@flowfuse/node-red-dashboard'],
  settings: { logging: { console: { level: 'info' } } },
});
console.log(`\nNode-RED with the AX650 nodes: ${nr.url}\nDashboard chat:                ${nr.url}/dashboard/ax650-chat   (Ctrl-C to stop)\n`);
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await nr.stop();
  await stopBroker();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
