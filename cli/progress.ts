/**
 * A one-line progress bar on a terminal: `[=========>          ] 12/40 building WebAssembly`.
 * It draws only when the stream is a TTY (piped output and CI logs stay clean), redraws at most
 * every 50 ms, and erases itself when done so the command's own output follows undisturbed.
 */

export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

const WIDTH = 24;
const REDRAW_MS = 50;

export class Progress {
  private done = 0;
  private label = '';
  private lastDraw = 0;
  private drawn = false;
  private readonly enabled: boolean;

  constructor(
    private readonly stream: ProgressStream,
    private total: number,
    options: { quiet?: boolean; now?: () => number } = {},
  ) {
    this.enabled = stream.isTTY === true && options.quiet !== true;
    this.now = options.now ?? (() => performance.now());
  }

  private readonly now: () => number;

  /** Moves to step `done` of `total` (or by one), naming what is under way. */
  update(label: string, done = this.done + 1, total = this.total): void {
    this.label = label;
    this.done = Math.min(done, total);
    this.total = total;
    const t = this.now();
    if (this.drawn && t - this.lastDraw < REDRAW_MS && this.done < this.total) return;
    this.lastDraw = t;
    this.draw();
  }

  /** Erases the bar. */
  finish(): void {
    if (!this.enabled || !this.drawn) return;
    this.stream.write('\r\u001b[2K');
    this.drawn = false;
  }

  /** The bar's text (without the carriage return). */
  render(): string {
    const filled = this.total === 0 ? WIDTH : Math.round((WIDTH * this.done) / this.total);
    const bar =
      filled >= WIDTH
        ? '='.repeat(WIDTH)
        : `${'='.repeat(filled)}>${' '.repeat(WIDTH - filled - 1)}`;
    const line = `[${bar}] ${String(this.done)}/${String(this.total)} ${this.label}`;
    const columns = this.stream.columns ?? 80;
    return line.length > columns - 1 ? line.slice(0, columns - 1) : line;
  }

  private draw(): void {
    if (!this.enabled) return;
    this.stream.write(`\r\u001b[2K${this.render()}`);
    this.drawn = true;
  }
}
