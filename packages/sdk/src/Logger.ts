/** Log severities, most severe first. */
export type LogSeverity = 'ERROR' | 'WARN' | 'INFO' | 'DEBUG' | 'TRACE';

/** A sink for log lines, e.g. to forward them to your own logger. */
export type CustomLogger = (severity: LogSeverity, prefix: string, ...args: unknown[]) => void;

/** Logger options (`init({logger})`, `createSession({logger})`); `null` silences the logger. */
export interface LoggerOptions {
  /** Lowest severity written. Default "INFO". */
  severity?: LogSeverity;
  /** Where lines go instead of the console. */
  customLogger?: CustomLogger;
  /** Set false to silence the logger. Default true. */
  enableLogs?: boolean;
}

const ORDER: Record<LogSeverity, number> = { ERROR: 0, WARN: 1, INFO: 2, DEBUG: 3, TRACE: 4 };

/**
 * The SDK's logger (`Flashphoner.getLogger()`), with the Flashphoner call
 * shape `logger.info(prefix, ...args)`.
 */
export class Logger {
  private severity: LogSeverity;
  private enabled: boolean;
  private readonly sink: CustomLogger | undefined;

  /** @param options - see {@link LoggerOptions}; `null` gives a silent logger. */
  constructor(options?: LoggerOptions | null) {
    this.severity = options?.severity ?? 'INFO';
    this.enabled = options !== null && options?.enableLogs !== false;
    this.sink = options?.customLogger;
  }

  /** Changes the lowest severity written. */
  setLevel(severity: LogSeverity): void {
    this.severity = severity;
  }

  /** Current lowest severity written. */
  getLevel(): LogSeverity {
    return this.severity;
  }

  /** Turns the logger on or off. */
  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
  }

  /** Logs at ERROR. */
  error(prefix: string, ...args: unknown[]): void {
    this.write('ERROR', prefix, args);
  }

  /** Logs at WARN. */
  warn(prefix: string, ...args: unknown[]): void {
    this.write('WARN', prefix, args);
  }

  /** Logs at INFO. */
  info(prefix: string, ...args: unknown[]): void {
    this.write('INFO', prefix, args);
  }

  /** Logs at DEBUG. */
  debug(prefix: string, ...args: unknown[]): void {
    this.write('DEBUG', prefix, args);
  }

  /** Logs at TRACE. */
  trace(prefix: string, ...args: unknown[]): void {
    this.write('TRACE', prefix, args);
  }

  private write(severity: LogSeverity, prefix: string, args: unknown[]): void {
    if (!this.enabled || ORDER[severity] > ORDER[this.severity]) return;
    if (this.sink) {
      this.sink(severity, prefix, ...args);
      return;
    }
    const line = `${new Date().toISOString()} ${severity} ${prefix} -`;
    const out = severity === 'ERROR' ? console.error : severity === 'WARN' ? console.warn : console.log;
    out(line, ...args);
  }
}
