// The encoder's small glue ops at a 512×384 photo's size: token embedding (343 patches + CLS,
// D = 384) and the AVA head's 10-way softmax. Both are tiny; they are here to show that.
import { timeGpu, type KernelBench } from '../harness.ts';
import { embedTokens } from '../../src/kernels/embed.ts';
import { softmaxRows } from '../../src/kernels/softmax.ts';
import { mulberry32, randomArray } from '../../tools/random.ts';

export const bench: KernelBench = async (rt) => {
  const N = 343, D = 384;
  const r = mulberry32(1);
  const inputs = [
    rt.upload(randomArray(N * D, 1), [N, D]),
    rt.upload(Uint32Array.from({ length: N }, () => Math.floor(r() * 100)), [N], 'u32'),
    rt.upload(Uint32Array.from({ length: N }, () => Math.floor(r() * 3)), [N], 'u32'),
    rt.upload(randomArray(100 * D, 2), [100, D]),
    rt.upload(randomArray(3 * D, 3), [3, D]),
    rt.upload(randomArray(D, 4)),
  ] as const;
  const logits = rt.upload(randomArray(10, 5), [1, 10]);
  const made: { dispose(): void }[] = [];
  const embedMs = await timeGpu(rt, () => void made.push(embedTokens(rt, ...inputs)));
  const softmaxMs = await timeGpu(rt, () => void made.push(softmaxRows(rt, logits)));
  for (const t of [...inputs, logits, ...made]) t.dispose();
  return [
    { kernel: 'embed', variant: 'tokens', shape: [N, D], ms: embedMs, gflops: null, chosen: true, adapter: rt.adapterName },
    { kernel: 'softmax', variant: 'rows', shape: [1, 10], ms: softmaxMs, gflops: null, chosen: true, adapter: rt.adapterName },
  ];
};
