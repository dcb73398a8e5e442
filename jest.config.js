/** @type {import('jest').Config} */
const shared = { testEnvironment: 'node', testTimeout: 60_000 };

module.exports = {
  ...shared,
  globalSetup: '<rootDir>/test/helpers/global-setup.js',
  reporters: ['default', '<rootDir>/test/helpers/summary-reporter.js'],
  projects: [
    {
      ...shared,
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.test.ts'],
      transform: { '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }] },
    },
    {
      // The cards and their tests are ES modules, as HubSpot builds them: @hubspot/ui-extensions and tinyspy ship ESM
      // only, and CommonJS cannot require them under --experimental-vm-modules. Here every .ts/.tsx file is ESM.
      ...shared,
      displayName: 'cards',
      roots: ['<rootDir>/test/hubspot-project'],
      testMatch: ['**/*.test.tsx'],
      extensionsToTreatAsEsm: ['.ts', '.tsx'],
      transform: {
        '^.+\\.tsx?$': ['ts-jest', {
          useESM: true,
          diagnostics: false,
          tsconfig: '<rootDir>/test/hubspot-project/tsconfig.json',
        }],
      },
    },
  ],
};
