// Where the time goes for one image: GPU timestamps per kernel group (bench/profile-groups.ts).
// `node --import tsx bench/profile.ts [WxH]` (full-size synthetic checkpoint); the same table
// follows the timings in `npm run bench:model -- --profile`.
import { createNodeRuntime } from '../src/runtime/gpu.node.ts';
import { createScorer } from '../src/index.node.ts';
import { writeSyntheticCheckpoint } from '../tools/write-checkpoint.ts';
import { formatGroups, groupTimings } from './profile-groups.ts';

const [w, h] = (process.argv[2] ?? '1024x768').split('x').map(Number);
const rt = await createNodeRuntime({ profile: true });
const scorer = await createScorer({ checkpoint: writeSyntheticCheckpoint({ config: 'full', numClasses: 1, seed: 0 }), runtime: rt });
const img = { width: w, height: h, data: new Uint8Array(w * h * 3).map((_, i) => (i * 2654435761) >>> 24) };
await scorer.score(img);
await rt.timings();
const r = await scorer.score(img);
const groups = groupTimings(await rt.timings());
const total = groups.filter((g) => !g.group.startsWith(' ')).reduce((a, g) => a + g.ms, 0);
console.log(`${w}x${h}, ${r.tokens} tokens on ${rt.adapterName}: wall ${r.timings.total.toFixed(0)} ms, GPU sum ${total.toFixed(0)} ms`);
for (const line of formatGroups(groups)) console.log(line);
scorer.dispose();
rt.destroy();
