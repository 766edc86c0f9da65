/**
 * Finds the chat template the vendor service would render with. `qwen3_tokenizer_uid.py` loads a second
 * tokenizer, `AutoTokenizer.from_pretrained("qwen2.5_tokenizer")`, and uses it for nothing but
 * `apply_chat_template` (its ids always come from `qwen3_tokenizer`), so only that folder's template matters.
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';

/** The Qwen2.5 template shipped with this package, used when a model folder has no `qwen2.5_tokenizer/`. */
export const BUNDLED_TEMPLATE_CONFIG = path.resolve(__dirname, 'assets/qwen2.5_tokenizer/tokenizer_config.json');

export interface ChatTemplateSource {
  template: string;
  /** The file the template was read from. */
  file: string;
}

/**
 * transformers reads `chat_template` from tokenizer_config.json, either one string or a list of named
 * templates (then "default" is used), and newer releases prefer a separate `chat_template.jinja`.
 */
export function templateFromConfig(config: unknown): string | undefined {
  if (typeof config !== 'object' || config === null) return undefined;
  const value: unknown = (config as Record<string, unknown>)['chat_template'];
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    for (const entry of value) {
      if (typeof entry !== 'object' || entry === null) continue;
      const { name, template } = entry as Record<string, unknown>;
      if (name === 'default' && typeof template === 'string') return template;
    }
  }
  return undefined;
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

async function fromFolder(folder: string): Promise<ChatTemplateSource | undefined> {
  const jinjaFile = path.join(folder, 'chat_template.jinja');
  const jinja = await readIfExists(jinjaFile);
  if (jinja !== undefined) return { template: jinja, file: jinjaFile };
  const configFile = path.join(folder, 'tokenizer_config.json');
  const config = await readIfExists(configFile);
  if (config === undefined) return undefined;
  const template = templateFromConfig(JSON.parse(config));
  return template === undefined ? undefined : { template, file: configFile };
}

/** The model folder's `qwen2.5_tokenizer/` template when present, else the bundled copy. */
export async function loadChatTemplate(modelDir: string): Promise<ChatTemplateSource> {
  const own = await fromFolder(path.join(modelDir, 'qwen2.5_tokenizer'));
  if (own) return own;
  const bundled = await fromFolder(path.dirname(BUNDLED_TEMPLATE_CONFIG));
  if (!bundled) throw new Error(`the bundled chat template is missing: ${BUNDLED_TEMPLATE_CONFIG}`);
  return bundled;
}
