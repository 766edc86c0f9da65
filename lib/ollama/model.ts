/**
 * The one model this facade serves, described in Ollama's and OpenAI's shapes, and its
 * keep_alive bookkeeping. The NPU model stays loaded while the runtime runs (a reload takes
 * minutes), so keep_alive only moves the `expires_at` that /api/ps reports.
 */
import { createHash } from 'node:crypto';
import type { JobRunner } from '../runtime/types';
import { HttpError } from './http-io';
import { DEFAULT_KEEP_ALIVE_MS, FOREVER_MS } from './options';

export interface ModelDetails {
  parent_model: string;
  format: string;
  family: string;
  families: string[];
  parameter_size: string;
  quantization_level: string;
}

export interface ModelDescription {
  details?: Partial<ModelDetails>;
  /** Bytes of the model files, reported as `size` (0 when unknown). */
  sizeBytes?: number;
}

const DEFAULT_DETAILS: ModelDetails = {
  parent_model: '',
  format: 'axmodel',
  family: 'qwen3',
  families: ['qwen3'],
  parameter_size: '4B',
  quantization_level: 'W8A16',
};

/** Ollama names are `name:tag` with `latest` implied; matching ignores case like Ollama's registry names. */
function canonical(name: string): string {
  const n = name.trim().toLowerCase();
  return n.includes(':') ? n : `${n}:latest`;
}

/** A name, or where to read it on every request (the runtime's name is only known after its preflight). */
export type ModelNameSource = string | (() => string);

export class ServedModel {
  readonly details: ModelDetails;
  private readonly sizeBytes: number;
  private readonly modifiedAt = new Date().toISOString();
  private keepAliveMs = DEFAULT_KEEP_ALIVE_MS;
  private lastUsedAt = Date.now();
  private active = 0;

  constructor(
    private readonly modelName: ModelNameSource,
    private readonly runner: JobRunner,
    description: ModelDescription = {},
  ) {
    this.details = { ...DEFAULT_DETAILS, ...description.details };
    this.sizeBytes = description.sizeBytes ?? 0;
  }

  get name(): string {
    const n = typeof this.modelName === 'string' ? this.modelName : this.modelName();
    return n.includes(':') ? n : `${n}:latest`;
  }

  /** Not a content digest (the axmodel files are not read here): a stable id clients can key on. */
  get digest(): string {
    return createHash('sha256').update(this.name).digest('hex');
  }

  /** Throws Ollama's 404 unless `requested` names this model. */
  check(requested: string): void {
    if (canonical(requested) !== canonical(this.name)) {
      throw new HttpError(404, `model '${requested}' not found`, 'model_not_found');
    }
  }

  /** Called when a request starts and ends, as Ollama's refcount defers expiry while one runs. */
  use(keepAliveMs: number | undefined): () => void {
    if (keepAliveMs !== undefined) this.keepAliveMs = keepAliveMs;
    this.active += 1;
    return () => {
      this.active -= 1;
      this.lastUsedAt = Date.now();
    };
  }

  expiresAt(): string {
    const from = this.active > 0 ? Date.now() : this.lastUsedAt;
    const ms = this.keepAliveMs < 0 ? FOREVER_MS : this.keepAliveMs;
    return new Date(from + ms).toISOString();
  }

  /** Loaded means the runtime has the model on the NPU (or is only between two jobs). */
  loaded(): boolean {
    const { state } = this.runner.info();
    return state === 'ready' || state === 'busy' || state === 'resetting';
  }

  tagsEntry(): unknown {
    return {
      name: this.name,
      model: this.name,
      modified_at: this.modifiedAt,
      size: this.sizeBytes,
      digest: this.digest,
      details: this.details,
    };
  }

  psEntry(): unknown {
    const info = this.runner.info();
    return {
      name: this.name,
      model: this.name,
      size: this.sizeBytes,
      digest: this.digest,
      details: this.details,
      expires_at: this.expiresAt(),
      // The model lives in the card's own memory, which is what size_vram means to a client.
      size_vram: this.sizeBytes,
      context_length: info.maxTokenLen ?? 0,
    };
  }

  showBody(): unknown {
    const info = this.runner.info();
    const arch = this.details.family;
    return {
      license: '',
      modelfile: `# Served by the AX650 NPU runtime through @axnpu/node-red-ax650\nFROM ${this.name}\n`,
      parameters: '',
      template: '',
      system: '',
      details: this.details,
      model_info: {
        'general.architecture': arch,
        'general.basename': this.name.split(':')[0],
        'general.quantization': this.details.quantization_level,
        [`${arch}.context_length`]: info.maxTokenLen ?? 0,
        [`${arch}.prefill_max_token_num`]: info.prefillMaxTokenNum ?? 0,
      },
      capabilities: this.runner.info().vision === true ? ['completion', 'thinking', 'vision'] : ['completion', 'thinking'],
      modified_at: this.modifiedAt,
    };
  }

  openAiEntry(): unknown {
    return {
      id: this.name.replace(/:latest$/, ''),
      object: 'model',
      created: Math.floor(Date.parse(this.modifiedAt) / 1000),
      owned_by: 'axera',
    };
  }
}
