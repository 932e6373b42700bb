#!/usr/bin/env node
// The CLI from the sources, through tsx (a dev dependency): for working in a clone, and what the
// tests run, so they never test a stale build. The package's bin is the build, dist/node/cli.js.
import { register } from 'tsx/esm/api';
register();
await import('./cli.ts');
