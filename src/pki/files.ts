import { chmod, mkdir, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

/** Writes a private key (or any secret) readable by its owner only, atomically. */
export async function writeKeyFile(path: string, pem: string): Promise<void> {
  await writeAtomically(path, pem, 0o600);
}

/** Writes a certificate (public) atomically. */
export async function writeCertFile(path: string, pem: string): Promise<void> {
  await writeAtomically(path, pem, 0o644);
}

async function writeAtomically(path: string, content: string, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  const temporary = `${path}.tmp-${process.pid}`;
  await writeFile(temporary, content, { mode });
  // The mode argument is filtered by the umask and ignored for existing files.
  await chmod(temporary, mode);
  await rename(temporary, path);
}
