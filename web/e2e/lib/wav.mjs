// WAV files the journeys upload, written on the spot (canonical PCM: a 44-byte header + samples).

/** A mono PCM WAV of `data` (already encoded samples) at `rate` Hz and `bits` per sample. */
export function monoWav(data, rate, bits) {
  const block = bits / 8;
  const head = Buffer.alloc(44);
  head.write("RIFF", 0);
  head.writeUInt32LE(36 + data.length, 4);
  head.write("WAVEfmt ", 8);
  head.writeUInt32LE(16, 16);
  head.writeUInt16LE(1, 20); // PCM
  head.writeUInt16LE(1, 22); // mono
  head.writeUInt32LE(rate, 24);
  head.writeUInt32LE(rate * block, 28); // bytes per second
  head.writeUInt16LE(block, 32);
  head.writeUInt16LE(bits, 34);
  head.write("data", 36);
  head.writeUInt32LE(data.length, 40);
  return Buffer.concat([head, data]);
}
