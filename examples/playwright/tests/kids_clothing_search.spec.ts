import { test, expect } from './site';

// Flaky by attempt, on purpose: on a work queue's first attempt (ATTEMPT=1, set by Corral's worker) the catalogue's
// backend answers slower than the assertion waits, so the first attempt fails and the retry passes: Corral reports the
// task flaky with both attempts. Run outside Corral (no ATTEMPT) it always passes.
const latency = process.env.ATTEMPT === '1' ? 5_000 : 0;

test.describe('kids clothing search', () => {
  test('filters by size and colour', async ({ page }) => {
    await page.goto(`/kids?latency=${latency}`);
    await page.getByLabel('6-7 years').check();
    await page.getByLabel('blue').check();
    await expect(page.locator('#clothes .item')).toHaveCount(2);
    await expect(page.locator('#kids-count')).toHaveText('2 items');
  });

  test('adds a filtered item to the cart', async ({ page }) => {
    await page.goto('/kids');
    await page.getByLabel('Search').fill('raincoat');
    await expect(page.locator('#clothes .item')).toHaveCount(1);
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await expect(page).toHaveURL(/\/cart$/);
    await expect(page.locator('#cart .line .name')).toHaveText(['Rainbow raincoat']);
    await expect(page.locator('#cart-count')).toHaveText('1');
  });
});
