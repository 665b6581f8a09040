import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // End-to-end tests start servers and processes; two cores here.
    maxWorkers: 2,
    // Processes the tests start print plain text (picocolors turns colours on when CI is set).
    env: { NO_COLOR: '1' },
  },
});
