/** Child of rows/tokenizer.ts: the tokenizer figures in a process that has loaded nothing else. */
import { benchTokenizer } from '../tokenizer';

benchTokenizer().then(
  (rows) => process.stdout.write(`${JSON.stringify(rows)}\n`),
  (e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  },
);
