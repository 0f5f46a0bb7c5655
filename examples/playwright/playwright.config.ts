// The original's Playwright layout: one project per <viewport>-<browser>, which is what Corral's work queue passes as
// --project for each task of spec_context_map.json.
//
// Browsers: chrome runs Debian's chromium (apt-get install chromium) at CHROMIUM_PATH or /usr/bin/chromium, or
// Playwright's own Chromium when neither exists (npx playwright install chromium). Firefox and WebKit need
// Playwright's patched builds (npx playwright install firefox webkit); where they are missing, Corral skips their
// tasks and says so.
import { defineConfig, devices } from '@playwright/test';
import * as fs from 'fs';

function chromium(): string | undefined {
  for (const candidate of [process.env.CHROMIUM_PATH, '/usr/bin/chromium']) {
    if (candidate && fs.existsSync(candidate)) return candidate;
  }
  return undefined; // Playwright's own build
}

const chrome = { launchOptions: { executablePath: chromium(), args: ['--disable-gpu', '--disable-dev-shm-usage'] } };

export default defineConfig({
  testDir: './tests',
  // Corral retries a task as a whole (and reports it flaky); Playwright's own retries would hide that.
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 3_000 },
  fullyParallel: false,
  reporter: [['list']],
  use: {
    // SITE_PORT is the port the site printed when it started (webServer.wait below).
    baseURL: `http://127.0.0.1:${process.env.SITE_PORT ?? 0}`,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  webServer: {
    command: 'node site/server.js',
    wait: { stdout: /site listening on http:\/\/127\.0\.0\.1:(?<site_port>\d+)/ },
    timeout: 15_000,
    reuseExistingServer: false,
  },
  projects: [
    { name: 'desktop-chrome', use: { ...devices['Desktop Chrome'], ...chrome } },
    { name: 'mobile-chrome', use: { ...devices['Pixel 7'], ...chrome } },
    { name: 'desktop-firefox', use: { ...devices['Desktop Firefox'] } },
    { name: 'mobile-firefox', use: { ...devices['Desktop Firefox'], viewport: { width: 412, height: 839 } } },
    { name: 'desktop-webkit', use: { ...devices['Desktop Safari'] } },
    { name: 'mobile-webkit', use: { ...devices['iPhone 14'] } },
  ],
});
