import { test, expect } from './site';

test.describe('album label search', () => {
  test('finds every record of a label', async ({ page }) => {
    await page.goto('/music');
    await page.getByLabel('Label').selectOption('Blue Note');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect(page.locator('#result-count')).toHaveText('3 records found');
    await expect(page.locator('#results .label')).toHaveText(['Blue Note', 'Blue Note', 'Blue Note']);
  });

  test('narrows a label by artist', async ({ page }) => {
    await page.goto('/music');
    await page.getByLabel('Search records').fill('coltrane');
    await page.getByLabel('Label').selectOption('Impulse!');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect(page.locator('#results .title')).toHaveText(['A Love Supreme']);
  });

  test('says when nothing matches', async ({ page }) => {
    await page.goto('/music?q=polka');
    await expect(page.locator('#result-count')).toHaveText('0 records found');
  });
});
