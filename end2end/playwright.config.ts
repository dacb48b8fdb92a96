import { defineConfig } from "@playwright/test";

// The server is started by .ci/test.sh (a release build on a fresh SQLite database); this
// config only drives Debian's Chromium against it, once with JavaScript and once without.
const launchOptions = {
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
};

export default defineConfig({
  testDir: "./tests",
  globalSetup: "./global-setup.ts",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: process.env.CI ? [["list"]] : [["list"]],
  use: {
    baseURL: process.env.BASE_URL ?? "http://127.0.0.1:3000",
    trace: "retain-on-failure",
  },
  projects: [
    { name: "js", use: { browserName: "chromium", launchOptions } },
    { name: "no-js", use: { browserName: "chromium", javaScriptEnabled: false, launchOptions } },
  ],
});
