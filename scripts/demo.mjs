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

const userDir = join(root, '.demo');
mkdirSync(userDir, { recursive: true });
const nr = await startNodeRed({
  port, userDir, flows: exampleFlows(runtime), echo: true, modules: ['@flowfuse/node-red-dashboard'],
  settings: { logging: { console: { level: 'info' } } },
});
console.log(`\nNode-RED with the AX650 nodes: ${nr.url}\nDashboard chat:                ${nr.url}/dashboard/ax650-chat   (Ctrl-C to stop)\n`);
const stop = async () => {
  await nr.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
