#!/usr/bin/env node
import { loadSettings, SettingsError } from './config/Settings.js';
import { SipcastServer } from './SipcastServer.js';
import { Logger } from './util/Logger.js';

async function main(): Promise<void> {
  let settings;
  try {
    settings = loadSettings();
  } catch (err) {
    if (err instanceof SettingsError) {
      process.stderr.write(`sipcast: bad setting: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = new Logger(settings.logLevel);
  const server = new SipcastServer(settings, log);
  await server.start();
  const host = settings.bind === '0.0.0.0' ? '127.0.0.1' : settings.bind;
  process.stdout.write(
    `sipcast ready ws=ws://${host}:${server.wsPort} http=http://${host}:${server.httpPort} player=http://${host}:${server.httpPort}/player/\n`,
  );
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: stopping`);
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    server.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: Error) => {
  process.stderr.write(`sipcast: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
