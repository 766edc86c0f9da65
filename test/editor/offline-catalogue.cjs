// Preload for `node-red-dev validate` on a machine that cannot reach catalogue.nodered.org (this
// project's build machines): answers the catalogue request with an EMPTY catalogue, so every other
// check runs for real. P08 (similar names) and N01 (unique node types) then prove nothing and must
// be re-checked online. Usage (docs/editor.md):
//   node -r ./test/editor/offline-catalogue.cjs node_modules/node-red-dev/bin/run validate -p .
'use strict';
const path = require('node:path');
const axios = require(require.resolve('axios', { paths: [path.dirname(require.resolve('node-red-dev/package.json'))] }));

axios.interceptors.request.use((config) => {
  if (String(config.url).startsWith('https://catalogue.nodered.org/')) {
    process.stderr.write('offline-catalogue: answering ' + config.url + ' with an empty catalogue (P08/N01 not checked)\n');
    config.adapter = async () => ({ data: { modules: [] }, status: 200, statusText: 'OK', headers: {}, config, request: {} });
  }
  return config;
});
