package media

import (
	"bytes"
	"encoding/binary"
	"image/jpeg"
	"testing"
)

func box(kind string, payload []byte) []byte {
	b := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint32(b, uint32(8+len(payload)))
	copy(b[4:], kind)
	return append(b, payload...)
}

func TestContainerDurations(t *testing.T) {
	// MP4: ftyp, then moov/mvhd version 0 with timescale 1000 and duration 12500.
	mvhd := make([]byte, 100)
	binary.BigEndian.PutUint32(mvhd[12:], 1000)
	binary.BigEndian.PutUint32(mvhd[16:], 12500)
	mp4 := append(box("ftyp", []byte("isom\x00\x00\x02\x00isomiso2")), box("moov", box("mvhd", mvhd))...)
	if f, err := Sniff(mp4); err != nil || f != MP4 {
		t.Fatalf("fixture sniffs as %v, %v", f, err)
	}
	if d := Duration(mp4, MP4); d != 12.5 {
		t.Errorf("MP4 duration %v, want 12.5", d)
	}

	// WAV: 1 s of 8 kHz mono 16-bit = 16000 bytes at 16000 bytes/s, then 0.5 s more.
	fmtChunk := make([]byte, 16)
	binary.LittleEndian.PutUint16(fmtChunk[0:], 1)
	binary.LittleEndian.PutUint16(fmtChunk[2:], 1)
	binary.LittleEndian.PutUint32(fmtChunk[4:], 8000)
	binary.LittleEndian.PutUint32(fmtChunk[8:], 16000)
	var wav bytes.Buffer
	wav.WriteString("RIFF\x00\x00\x00\x00WAVE")
	wav.WriteString("fmt ")
	binary.Write(&wav, binary.LittleEndian, uint32(16))
	wav.Write(fmtChunk)
	wav.WriteString("data")
	binary.Write(&wav, binary.LittleEndian, uint32(24000))
	wav.Write(make([]byte, 24000))
	if d := Duration(wav.Bytes(), WAV); d != 1.5 {
		t.Errorf("WAV duration %v, want 1.5", d)
	}

	// FLAC: STREAMINFO with 44100 Hz and 88200 samples = 2 s.
	si := make([]byte, 34)
	rate, total := uint32(44100), uint64(88200)
	si[10], si[11], si[12] = byte(rate>>12), byte(rate>>4), byte(rate<<4)|0x02
	si[13] = 0xF0 | byte(total>>32)
	binary.BigEndian.PutUint32(si[14:], uint32(total))
	flac := append([]byte("fLaC\x80\x00\x00\x22"), si...)
	if d := Duration(flac, FLAC); d != 2 {
		t.Errorf("FLAC duration %v, want 2", d)
	}

	// Garbage never panics and gives 0.
	for _, f := range []Format{MP4, WAV, FLAC, MP3} {
		if d := Duration([]byte("\x00\x00\x00\x01moovjunk"), f); d != 0 {
			t.Errorf("%s: garbage gave %v", f.MIME, d)
		}
	}
}

func TestGenericPreviewIsAJPEG(t *testing.T) {
	img, err := jpeg.Decode(bytes.NewReader(genericPreview()))
	if err != nil {
		t.Fatalf("generic preview: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 320 || b.Dy() != 180 {
		t.Errorf("generic preview is %v", b)
	}
}
