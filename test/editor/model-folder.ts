/**
 * A model folder as a user without Git LFS gets it: the vendor layout and run script, but the
 * runtime binary is the 130-byte pointer file Git leaves in its place.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createSimModelDir, SIM_BINARY_NAME } from '../../simulator/model-dir';

export const LFS_POINTER = 'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 9437464\n';

export interface ModelFolder {
  dir: string;
  remove(): Promise<void>;
}

export async function lfsPointerFolder(): Promise<ModelFolder> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ax650-lfs-'));
  await createSimModelDir(dir, { axmodelNum: 4 });
  await writeFile(path.join(dir, SIM_BINARY_NAME), LFS_POINTER, { mode: 0o755 });
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
