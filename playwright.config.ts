import { defineConfig } from '@playwright/test';

/**
 * End-to-end tests: a real sipcast server (packages/server/dist/main.js, started per test file by
 * tests/e2e/support/server.ts) and Debian's Chromium. Playwright's own browser download is not used.
 */
export default defineConfig({
  testDir: 'tests/e2e',
  workers: 1,
  fullyParallel: false,
  // CI retries a failed test once; Playwright then reports it as "flaky" (never as plain passed), so an
  // intermittent failure stays visible in the output. Local runs do not retry.
  retries: process.env.CI ? 1 : 0,
  reporter: 'list',
  timeout: 60_000,
  use: {
    headless: true,
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--autoplay-policy=no-user-gesture-required',
      ],
    },
  },
});
