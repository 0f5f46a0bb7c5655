// Shared by the specs: the test function with baseURL set from the port the site printed (SITE_PORT is exported by
// the webServer's wait pattern after the config was read, so it is read here, in the worker, again).
import { test as base, expect } from '@playwright/test';

export const test = base.extend({
  baseURL: async ({}, use) => use(`http://127.0.0.1:${process.env.SITE_PORT}`),
});

export { expect };
