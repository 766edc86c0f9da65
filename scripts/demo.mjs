// `npm start`: Node-RED on http://127.0.0.1:1880 with this package installed, every example flow on
// its own tab sharing ONE runtime node (one runtime per host), on the simulator unless a card is present,
// and the Dashboard 2 chat of examples/dashboard-chat.json at /dashboard/ax650-chat.
// Ctrl-C stops Node-RED, which stops the runtime and the tokenizer it started.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { startNodeRed, exampleFlows } = require(join(root, 'dist/test/helpers/node-red-process.js'));

const port = Number(process.env.PORT ?? 1880);
const runtime = {
  id: 'demo-runtime', type: 'ax650-runtime', name: 'NPU (demo)', mode: process.env.AX650_MODE ?? 'auto',
  modelDir: process.env.AX650_MODEL_DIR ?? '', devices: 'auto', tokenizerMode: 'builtin', tokenizerPort: 12345,
  startOn: 'deploy', queueLimit: 32, loadStallSec: 60, maxCrashes: 5, modelName: 'qwen3-ax650', flags: '', simEnv: '', runtimePort: '',
};

// The MQTT example talks MQTT v5 to a broker on 127.0.0.1:1883. Start Debian's mosquitto there when it is
// installed; otherwise an in-process aedes broker, which speaks only MQTT 3.1.1 (the demo's bridge is switched to it).
const { startAedes, startMosquitto, mosquittoPath } = require(join(root, 'dist/test/mqtt/brokers.js'));
let broker = null;
let mqttV311 = false;
try {
  if (mosquittoPath()) {
    broker = await startMosquitto({ port: 1883 });
    console.log('MQTT broker (mosquitto) on mqtt://127.0.0.1:1883');
  } else {
    broker = await startAedes({ port: 1883 });
    mqttV311 = true;
    console.log('MQTT broker (aedes, in-process, MQTT 3.1.1) on mqtt://127.0.0.1:1883; install mosquitto for MQTT v5');
  }
} catch (e) {
  console.log(`MQTT: could not start a broker on 1883 (${e.code ?? e.message}); the MQTT example uses whatever listens there.`);
}

const userDir = join(root, '.demo');
mkdirSync(userDir, { recursive: true });
// Under `npm start` the `node` on PATH may be the Node 22 of node_modules/.bin (the Node-RED 5 test leg's);
// Node-RED runs on the Node that runs npm.
const nodeBin = process.env.npm_node_execpath && /node$/.test(process.env.npm_node_execpath) ? process.env.npm_node_execpath : process.execPath;
const nr = await startNodeRed({
  nodeBin, port, userDir, flows: exampleFlows(runtime).map((n) => (mqttV311 && n.type === 'ax650-mqtt' ? { ...n, protocolVersion: '4' } : n)), echo: true, modules: ['@flowfuse/node-red-dashboard'],
  settings: { logging: { console: { level: 'info' } } },
});
console.log(`\nNode-RED with the AX650 nodes: ${nr.url}\nDashboard chat:                ${nr.url}/dashboard/ax650-chat   (Ctrl-C to stop)\n`);
const stop = async () => {
  await nr.stop();
  await (broker?.stop ?? broker?.close)?.call(broker);
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
