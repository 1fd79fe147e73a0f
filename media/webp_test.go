package media

import (
	"encoding/binary"
	"hash/crc32"
)

// uniformWebP writes a lossless WebP (VP8L) of w × h pixels of one colour
// (SPEC 10 tests need a WebP wider than 1200 px and no encoder exists in
// Go): no transform, no colour cache, and five "simple" prefix codes of
// one 8-bit symbol each, so that every pixel takes zero bits.
func uniformWebP(w, h int, a, r, g, b byte) []byte {
	var bw bitWriter
	bw.write(0x2f, 8) // VP8L signature
	bw.write(uint32(w-1), 14)
	bw.write(uint32(h-1), 14)
	bw.write(0, 1)                              // alpha is not used
	bw.write(0, 3)                              // version 0
	bw.write(0, 1)                              // no transform
	bw.write(0, 1)                              // no colour cache
	bw.write(0, 1)                              // no meta prefix codes
	for _, sym := range []byte{g, r, b, a, 0} { // green, red, blue, alpha, distance
		bw.write(1, 1) // simple code
		bw.write(0, 1) // one symbol
		bw.write(1, 1) // of 8 bits
		bw.write(uint32(sym), 8)
	}
	data := bw.bytes()
	if len(data)%2 == 1 {
		data = append(data, 0)
	}
	out := []byte("RIFF\x00\x00\x00\x00WEBPVP8L")
	out = binary.LittleEndian.AppendUint32(out, uint32(len(bw.bytes())))
	out = append(out, data...)
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

type bitWriter struct {
	buf   []byte
	acc   uint64
	nbits uint
}

func (w *bitWriter) write(v uint32, n uint) {
	w.acc |= uint64(v) << w.nbits
	w.nbits += n
	for w.nbits >= 8 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc >>= 8
		w.nbits -= 8
	}
}

func (w *bitWriter) bytes() []byte {
	if w.nbits > 0 {
		return append(append([]byte{}, w.buf...), byte(w.acc))
	}
	return w.buf
}

// crc32IEEE is PNG's chunk checksum.
func crc32IEEE(b []byte) uint32 { return crc32.ChecksumIEEE(b) }
