// The failing variant of the example: the same site and projects, tests from failing/ (a checkout whose total is
// asserted wrong), so a run of it exits 1 with the assertion, a screenshot and a trace.
import base from './playwright.config';
import { defineConfig } from '@playwright/test';

export default defineConfig({ ...base, testDir: './failing' });
