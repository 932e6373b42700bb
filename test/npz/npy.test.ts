// .npy headers and decoding, below the zip layer: header dict parsing, dtype table, byte order,
// float16, Fortran order, and the view-or-copy rule for typed arrays.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeNpy, dtypeOf, parseNpyHeader } from '../../src/npz/npy.ts';
import { parsePyLiteral } from '../../src/npz/pyliteral.ts';
import { NpzError } from '../../src/npz/errors.ts';

const enc = new TextEncoder();
function npy(dict: string, major = 1): Uint8Array {
  const pre = major === 1 ? 10 : 12;
  const out = new Uint8Array(pre + dict.length);
  out.set([0x93, ...enc.encode('NUMPY'), major, 0, dict.length & 0xff, dict.length >> 8]); // < 64 KiB here
  out.set(enc.encode(dict), pre);
  return out;
}
const header = (dict: string, major = 1) => parseNpyHeader(npy(dict, major), 'f.npz', 'm');

test('header dicts as numpy writes them: (), (n,), any key order, v2 and v3', () => {
  const dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (7, 7, 3, 64), }   \n";
  assert.equal(header(dict), { descr: '<f4', fortranOrder: false, shape: [7, 7, 3, 64], headerLength: 10 + dict.length });
  assert.equal(header("{'descr': '>f8', 'fortran_order': True, 'shape': (), }\n").shape, []);
  assert.equal(header("{'shape': (5,), 'fortran_order': False, 'descr': '|u1'}\n", 2).shape, [5]);
  assert.equal(header('{"descr": "<i4", "fortran_order": False, "shape": (3L, 4L)}', 3).shape, [3, 4]);
  assert.is(header("{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (2,), }").descr, '[["a","<f4"],["b","<i4"]]');
});

test('garbage headers are NpzErrors naming file and member', () => {
  const bad = [
    "{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }",
    "{'descr': '<f4', 'fortran_order': False}",
    "{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} trailing",
    "['descr', '<f4']",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}",
    '((((((((((((((((((((((((((((((((',
    '',
  ];
  for (const dict of bad) {
    assert.throws(() => header(dict), (e: Error) => e instanceof NpzError && e.message.startsWith('f.npz: member "m"'), dict);
  }
  const wrongMagic = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}");
  wrongMagic[1] = 0x4f;
  assert.throws(() => parseNpyHeader(wrongMagic, 'f.npz', 'm'), /bad magic/);
  assert.throws(() => header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", 4), /version 4/);
});

test('python literal parser: the repr subset and nothing more', () => {
  // (dicts come back without a prototype, so a '__proto__' key is just a key: compare as JSON)
  const v = parsePyLiteral("{'a': (1, -2,), 'b': [True, None, \"x\"], 'c': {}}");
  assert.equal(JSON.parse(JSON.stringify(v)), { a: [1, -2], b: [true, null, 'x'], c: {} });
  for (const s of ["{'a': 1.5}", "{'a': 'x\\'}", "{1: 2}", "{'a' 1}", '(1 2)', "'unterminated"]) assert.throws(() => parsePyLiteral(s), undefined, s);
});

test('dtype table: decodable set, byte orders, item sizes of listed-only dtypes', () => {
  assert.equal(dtypeOf('<f4'), { dtype: 'float32', itemSize: 4, littleEndian: true });
  assert.equal(dtypeOf('>i4'), { dtype: 'int32', itemSize: 4, littleEndian: false });
  assert.equal(dtypeOf('|b1').dtype, 'bool');
  assert.equal(dtypeOf('<V2'), { dtype: null, itemSize: 2, littleEndian: true });
  assert.equal(dtypeOf('<U3').itemSize, 12);
  assert.is(dtypeOf('|f4').dtype, null); // a 4-byte type without byte order is ambiguous
  assert.is(dtypeOf('<c8').dtype, null);
  assert.equal(dtypeOf('[["a","<f4"]]'), { dtype: null, itemSize: null, littleEndian: true });
});

const h = (descr: string, shape: number[], fortranOrder = false) => ({ descr, shape, fortranOrder, headerLength: 0 });

test('little-endian f4 is a view when 4-aligned, an aligned copy otherwise', () => {
  const values = new Float32Array([1.5, -2, 3.25, 1e-30, -0, Infinity]);
  const raw = new Uint8Array(values.buffer);
  const aligned = decodeNpy(raw, h('<f4', [2, 3]), 'float32');
  assert.is(aligned.buffer, raw.buffer);
  assert.equal([...aligned], [...values]);
  const shifted = new Uint8Array(raw.length + 1);
  shifted.set(raw, 1);
  const copy = decodeNpy(shifted.subarray(1), h('<f4', [6]), 'float32');
  assert.is.not(copy.buffer, shifted.buffer);
  assert.is(copy.byteOffset % 4, 0);
  assert.equal([...copy], [...values]);
});

test('big-endian f4/f8/i4 and float16 are converted, bit-exactly', () => {
  const be = new DataView(new ArrayBuffer(8 * 3));
  [0.1, -7.5, 1e300].forEach((v, i) => be.setFloat64(8 * i, v, false));
  assert.equal([...decodeNpy(new Uint8Array(be.buffer), h('>f8', [3]), 'float64')], [0.1, -7.5, 1e300]);
  [Math.fround(0.1), -7.5, 3e38].forEach((v, i) => be.setFloat32(4 * i, v, false));
  assert.equal([...decodeNpy(new Uint8Array(be.buffer, 0, 12), h('>f4', [3]), 'float32')], [Math.fround(0.1), -7.5, Math.fround(3e38)]);
  [-(2 ** 31), 7, 2 ** 31 - 1].forEach((v, i) => be.setInt32(4 * i, v, false));
  assert.equal([...decodeNpy(new Uint8Array(be.buffer, 0, 12), h('>i4', [3]), 'int32')], [-(2 ** 31), 7, 2 ** 31 - 1]);
  // float16 bit patterns: 1, -2, 65504 (max), 2^-24 (smallest subnormal), 2^-14 (smallest normal), -inf, NaN.
  const bits = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0xfc00, 0x7e00];
  const f16 = new Uint8Array(new Uint16Array(bits).buffer);
  const got = decodeNpy(f16, h('<f2', [7]), 'float16');
  assert.equal([...got].slice(0, 6), [1, -2, 65504, 2 ** -24, 2 ** -14, -Infinity]);
  assert.ok(Number.isNaN(got[6]));
});

test('Fortran order is transposed to C order (ranks 2..4, with 1-sized axes)', () => {
  for (const shape of [[3, 5], [2, 3, 4], [1, 4, 1], [2, 1, 3, 5]]) {
    const n = shape.reduce((a, b) => a * b, 1);
    // Element (i0..ik) sits at Σ i_k·Π_{j<k} d_j in Fortran order; give it the value of its C index.
    const f = new Float32Array(n);
    const idx = new Array(shape.length).fill(0);
    for (let c = 0; c < n; c++) {
      let off = 0, stride = 1;
      for (let k = 0; k < shape.length; k++) (off += idx[k] * stride), (stride *= shape[k]);
      f[off] = c;
      for (let k = shape.length - 1; k >= 0 && ++idx[k] === shape[k]; k--) idx[k] = 0;
    }
    const out = decodeNpy(new Uint8Array(f.buffer), h('<f4', shape, true), 'float32');
    assert.equal([...out], Array.from({ length: n }, (_, i) => i), shape.join('x'));
  }
});

test.run();
