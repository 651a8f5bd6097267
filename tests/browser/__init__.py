"""Page tests in a real browser (headless Debian Chromium driven by Playwright)."""
