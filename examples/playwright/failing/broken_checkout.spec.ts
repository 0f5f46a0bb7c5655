import { test, expect } from './site';

// Always fails: the total is asserted wrong, so the run shows the assertion, a screenshot and a trace.
test('charges the right total', async ({ page }) => {
  await page.goto('/kids');
  await page.getByLabel('Search').fill('raincoat');
  await page.getByRole('button', { name: 'Add to cart' }).click();
  await expect(page.locator('#total')).toHaveText('Total £23');
});

test('shows an empty cart', async ({ page }) => {
  await page.goto('/cart');
  await expect(page.locator('#empty')).toBeVisible();
});
