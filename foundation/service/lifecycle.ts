import type { Logger } from '../telemetry/logger.js';

/** ShutdownStep is one thing to stop. */
export interface ShutdownStep {
  name: string;
  stop: () => Promise<void>;
}

/**
 * Lifecycle owns a process's signals. On SIGINT, SIGTERM, or the loss of the
 * parent that started it, it runs the shutdown steps in the reverse of the
 * order they were added (like `defer`: what started last stops first), each
 * bounded, and exits; a second signal exits at once. A request that throws is the
 * server's business; an error that escapes every handler is logged here, and
 * an uncaught exception (which leaves the process in an unknown state) stops
 * the process in order.
 */
export class Lifecycle {
  private readonly steps: ShutdownStep[] = [];
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly stepTimeoutMs: number,
  ) {}

  /** onShutdown adds a step, to run before every step added earlier. */
  onShutdown(step: ShutdownStep): void {
    this.steps.push(step);
  }

  /** listen installs the signal and error handlers. */
  listen(): void {
    let firstAt = 0;
    const begin = (reason: string) => {
      // A signal sent to a whole process group can arrive twice at once; only a later one means "now".
      if (this.stopping && Date.now() - firstAt < 1000) return;
      if (this.stopping) {
        this.logger.warn({ reason }, 'second stop request: exiting now');
        process.exit(1);
      }
      firstAt = Date.now();
      void this.shutdown(reason).then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.on('SIGINT', () => begin('SIGINT'));
    process.on('SIGTERM', () => begin('SIGTERM'));
    if (process.send) process.on('disconnect', () => begin('parent process gone'));
    process.on('unhandledRejection', (reason) => {
      this.logger.error({ err: reason }, 'unhandled promise rejection');
    });
    process.on('uncaughtException', (err) => {
      this.logger.fatal({ err }, 'uncaught exception: shutting down');
      process.exitCode = 1;
      if (!this.stopping) void this.shutdown('uncaught exception').finally(() => process.exit(1));
    });
  }

  /** shutdown runs every step once, newest first, and resolves when all have finished or timed out. */
  shutdown(reason: string): Promise<void> {
    this.stopping ??= (async () => {
      this.logger.info({ reason }, 'shutting down');
      for (const step of [...this.steps].reverse()) {
        const started = Date.now();
        let timer: NodeJS.Timeout | undefined;
        try {
          await Promise.race([
            step.stop(),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error('timed out')), this.stepTimeoutMs);
            }),
          ]);
          this.logger.debug({ step: step.name, ms: Date.now() - started }, 'stopped');
        } catch (err) {
          this.logger.error({ err, step: step.name }, 'shutdown step failed');
        } finally {
          clearTimeout(timer);
        }
      }
      this.logger.info('stopped');
      await new Promise<void>((resolve) => this.logger.flush(() => resolve()));
    })();
    return this.stopping;
  }
}
