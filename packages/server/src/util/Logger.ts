export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** Line logger to stderr with a level threshold. Callers never pass credentials. */
export class Logger {
  readonly #min: number;
  readonly #scope: string;

  constructor(level: LogLevel = 'info', scope = 'sipcast') {
    this.#min = ORDER[level];
    this.#scope = scope;
  }

  static parseLevel(v: string | undefined): LogLevel {
    return v && v in ORDER ? (v as LogLevel) : 'info';
  }

  child(scope: string): Logger {
    const level = (Object.keys(ORDER) as LogLevel[]).find((k) => ORDER[k] === this.#min) ?? 'info';
    return new Logger(level, `${this.#scope}:${scope}`);
  }

  debug(msg: string): void {
    this.#write(10, 'debug', msg);
  }
  info(msg: string): void {
    this.#write(20, 'info', msg);
  }
  warn(msg: string): void {
    this.#write(30, 'warn', msg);
  }
  error(msg: string): void {
    this.#write(40, 'error', msg);
  }

  #write(level: number, name: string, msg: string): void {
    if (level < this.#min) return;
    process.stderr.write(`${new Date().toISOString()} ${name} [${this.#scope}] ${msg}\n`);
  }
}
