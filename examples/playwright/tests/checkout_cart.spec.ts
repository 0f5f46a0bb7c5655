import { test, expect } from './site';

test.describe('checkout cart', () => {
  test('adds, counts and totals', async ({ page }) => {
    await page.goto('/kids');
    await page.getByLabel('Search').fill('pyjamas');
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await page.goto('/kids');
    await page.getByLabel('Search').fill('pyjamas');
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await expect(page.locator('#cart .line .quantity')).toHaveText(['2']);
    await expect(page.locator('#total')).toHaveText('Total £36');
  });

  test('removes a line', async ({ page }) => {
    await page.goto('/kids');
    await page.getByLabel('Search').fill('boots');
    await page.getByRole('button', { name: 'Add to cart' }).click();
    await page.getByRole('button', { name: 'Remove' }).click();
    await expect(page.locator('#empty')).toHaveText('Your cart is empty');
  });
});
