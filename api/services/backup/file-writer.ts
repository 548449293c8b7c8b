/**
 * Writes a backup file: the content lines are hashed and gzipped into a temporary file as they
 * come, then the header (which holds their checksum and counts) is written as a gzip member of
 * its own, the content copied after it, the whole fsynced and renamed into place. A file with
 * the final name is always whole; a failed backup leaves nothing behind.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import type { BackupHeader } from './format';

/** Lines are handed to gzip in chunks of about this many bytes. */
const chunkBytes = 256 * 1024;

export class BackupFileWriter {
  private readonly hash = createHash('sha256');
  private readonly gzip = zlib.createGzip();
  private readonly written: Promise<void>;
  private pending: string[] = [];
  private pendingBytes = 0;
  private failure: Error | undefined;

  private constructor(
    readonly file: string,
    private readonly contentFile: string,
    private readonly partFile: string,
  ) {
    this.written = pipeline(this.gzip, fs.createWriteStream(contentFile, { mode: 0o600 }));
    this.written.catch((err: unknown) => {
      this.failure = err instanceof Error ? err : new Error(String(err));
    });
  }

  /** Opens the temporary files next to `file` (so the final rename stays on one file system). */
  static async open(file: string): Promise<BackupFileWriter> {
    const target = path.resolve(file);
    await fsp.access(path.dirname(target), fs.constants.W_OK);
    const suffix = randomBytes(6).toString('hex');
    return new BackupFileWriter(
      target,
      `${target}.${suffix}.content.tmp`,
      `${target}.${suffix}.part.tmp`,
    );
  }

  /** Appends one line (without its newline). */
  async line(text: string): Promise<void> {
    const line = `${text}\n`;
    this.pending.push(line);
    this.pendingBytes += line.length;
    if (this.pendingBytes >= chunkBytes) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    if (this.pending.length === 0) return;
    const chunk = Buffer.from(this.pending.join(''), 'utf8');
    this.pending = [];
    this.pendingBytes = 0;
    this.hash.update(chunk);
    if (!this.gzip.write(chunk)) await once(this.gzip, 'drain');
  }

  /**
   * Finishes the content, writes the header with its checksum in front of it and renames the
   * file into place; returns the checksum and the file's size.
   */
  async commit(
    header: Omit<BackupHeader, 'content_sha256'>,
  ): Promise<{ sha256: string; bytes: number }> {
    await this.flush();
    this.gzip.end();
    await this.written;
    const sha256 = this.hash.digest('hex');
    const full: BackupHeader = { ...header, content_sha256: sha256 };
    await fsp.writeFile(this.partFile, zlib.gzipSync(`${JSON.stringify(full)}\n`), {
      mode: 0o600,
    });
    await pipeline(
      fs.createReadStream(this.contentFile),
      fs.createWriteStream(this.partFile, { flags: 'a' }),
    );
    const handle = await fsp.open(this.partFile, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(this.partFile, this.file);
    await fsp.rm(this.contentFile, { force: true });
    return { sha256, bytes: (await fsp.stat(this.file)).size };
  }

  /** Removes the temporary files after a failure. */
  async abort(): Promise<void> {
    this.gzip.destroy();
    await this.written.catch(() => undefined);
    await fsp.rm(this.contentFile, { force: true });
    await fsp.rm(this.partFile, { force: true });
  }
}
