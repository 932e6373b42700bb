#!/usr/bin/env node
// The `musiq` bin: runs the TypeScript CLI through tsx (a clone has it as a dev dependency).
import { register } from 'tsx/esm/api';
register();
await import('./cli.ts');
