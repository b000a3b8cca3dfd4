package testutil

import (
	"encoding/binary"
)

// MP4 is a minimal well-formed MP4: an ftyp box (brand isom), a moov box
// holding an mvhd (1 s), and an mdat box holding payload. It passes the
// media package's container check; the payload is what tests vary.
func MP4(payload []byte) []byte {
	box := func(kind string, content ...[]byte) []byte {
		n := 8
		for _, c := range content {
			n += len(c)
		}
		b := binary.BigEndian.AppendUint32(make([]byte, 0, n), uint32(n))
		b = append(b, kind...)
		for _, c := range content {
			b = append(b, c...)
		}
		return b
	}
	mvhd := make([]byte, 100) // version 0: timescale 1000, duration 1000
	binary.BigEndian.PutUint32(mvhd[12:], 1000)
	binary.BigEndian.PutUint32(mvhd[16:], 1000)
	out := box("ftyp", []byte("isom\x00\x00\x02\x00isomiso2avc1mp41"))
	out = append(out, box("moov", box("mvhd", mvhd))...)
	return append(out, box("mdat", payload)...)
}

// WAV is a well-formed RIFF/WAVE file of 8 kHz mono 16-bit PCM whose data
// chunk holds pcm (padded to an even length as RIFF requires).
func WAV(pcm []byte) []byte {
	pad := len(pcm) & 1
	b := []byte("RIFF")
	b = binary.LittleEndian.AppendUint32(b, uint32(4+8+16+8+len(pcm)+pad))
	b = append(b, "WAVEfmt "...)
	b = binary.LittleEndian.AppendUint32(b, 16)
	b = binary.LittleEndian.AppendUint16(b, 1)     // PCM
	b = binary.LittleEndian.AppendUint16(b, 1)     // mono
	b = binary.LittleEndian.AppendUint32(b, 8000)  // samples a second
	b = binary.LittleEndian.AppendUint32(b, 16000) // bytes a second
	b = binary.LittleEndian.AppendUint16(b, 2)     // block alignment
	b = binary.LittleEndian.AppendUint16(b, 16)    // bits a sample
	b = append(b, "data"...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(pcm)))
	b = append(b, pcm...)
	if pad == 1 {
		b = append(b, 0)
	}
	return b
}

// CraftedWAV is issue 9's file: RIFF/WAVE, a JUNK chunk, then a fmt chunk
// whose bytes end exactly at the end of the file; 1,056,768 bytes, a
// multiple of 8192, so a server's read buffer has no spare capacity past it
// (a read past len but within cap would not panic) and wavDuration's read
// past the end panicked and ended the process.
func CraftedWAV() []byte {
	const size = 1056768
	b := make([]byte, size)
	copy(b, "RIFF")
	binary.LittleEndian.PutUint32(b[4:], size-8)
	copy(b[8:], "WAVEJUNK")
	fmtAt := size - 16
	binary.LittleEndian.PutUint32(b[16:], uint32(fmtAt-20))
	copy(b[fmtAt:], "fmt ")
	binary.LittleEndian.PutUint32(b[fmtAt+4:], 8)
	return b[:size:size]
}
