/**
 * NPY (NumPy's array file format, version 1.0) for f64 arrays, C order: numpy.load, R's RcppCNPy
 * and Julia's NPZ.jl read it directly.
 */

/** Encodes a row-major f64 array of the given shape as NPY bytes. */
export function encodeNpy(data: Float64Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new Error(`NPY: shape [${shape.join(', ')}] holds ${count} values, data has ${data.length}`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // magic (6) + version (2) + header length (2) + header + newline, padded to a multiple of 64
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  // NPY data is little-endian; so is every platform ionsweep runs on, but write it explicitly
  const view = new DataView(out.buffer, 10 + header.length);
  for (let i = 0; i < data.length; i++) view.setFloat64(i * 8, data[i], true);
  return out;
}
