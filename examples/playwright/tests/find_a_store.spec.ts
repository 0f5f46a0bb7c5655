import { test, expect } from './site';

// The slow spec: every search waits for the store finder's (simulated) geocoder.
const geocoder = 1_500;

test.describe('find a store', () => {
  test('lists the nearest store first', async ({ page }) => {
    await page.goto('/stores');
    await page.getByLabel('Postcode').fill('EH1');
    await page.goto(`/stores?postcode=EH1&geocoder-ms=${geocoder}`);
    await expect(page.locator('#stores .store').first()).toContainText('Old Town');
    await expect(page.locator('#stores .store')).toHaveCount(5);
  });

  test('opens a store with its hours', async ({ page }) => {
    await page.goto(`/stores?postcode=G1&geocoder-ms=${geocoder}`);
    await page.getByRole('link', { name: 'Merchant City' }).click();
    await expect(page.locator('#hours')).toHaveText('Open 9-19');
  });

  test('says when a postcode is unknown', async ({ page }) => {
    await page.goto('/stores');
    await page.getByLabel('Postcode').fill('ZZ9');
    await page.getByRole('button', { name: 'Find a store' }).click();
    await expect(page.getByRole('alert')).toHaveText('We do not know the postcode ZZ9');
  });
});
