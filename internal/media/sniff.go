package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// Kind is what an upload is, as Mastodon's attachment types name it.
type Kind string

const (
	Image Kind = "image"
	Video Kind = "video"
	Audio Kind = "audio"
)

// Format is one allowed file format.
type Format struct {
	MIME string
	Kind Kind
	Ext  string
}

// The allow-list. Anything else — SVG, HTML, XML, JSON, PDF, archives,
// executables — is refused, whatever the client claims.
var (
	JPEG = Format{"image/jpeg", Image, "jpg"}
	PNG  = Format{"image/png", Image, "png"}
	GIF  = Format{"image/gif", Image, "gif"}
	WebP = Format{"image/webp", Image, "webp"}
	MP4  = Format{"video/mp4", Video, "mp4"}
	WebM = Format{"video/webm", Video, "webm"}
	MP3  = Format{"audio/mpeg", Audio, "mp3"}
	OGG  = Format{"audio/ogg", Audio, "ogg"}
	M4A  = Format{"audio/mp4", Audio, "m4a"}
	WAV  = Format{"audio/wav", Audio, "wav"}
	FLAC = Format{"audio/flac", Audio, "flac"}
)

// Formats lists every accepted format, for the instance entity.
var Formats = []Format{JPEG, PNG, GIF, WebP, MP4, WebM, MP3, OGG, M4A, WAV, FLAC}

// ErrRejected wraps every refusal of an upload's content; its message is
// safe to show the uploader.
var ErrRejected = errors.New("upload rejected")

func reject(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrRejected, fmt.Sprintf(format, args...))
}

// Sniff decides an upload's format from its first bytes (at least 512 are
// best). The client's Content-Type and file name never count.
func Sniff(head []byte) (Format, error) {
	if len(head) == 0 {
		return Format{}, reject("the file is empty")
	}
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		return JPEG, nil
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return PNG, nil
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return GIF, nil
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return WebP, nil
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WAVE":
		return WAV, nil
	case bytes.HasPrefix(head, []byte{0x1A, 0x45, 0xDF, 0xA3}):
		if bytes.Contains(head[:min(len(head), 64)], []byte("webm")) {
			return WebM, nil
		}
		return Format{}, reject("Matroska files other than WebM are not accepted")
	case len(head) >= 12 && string(head[4:8]) == "ftyp":
		return isoFormat(head)
	case bytes.HasPrefix(head, []byte("OggS")):
		return OGG, nil
	case bytes.HasPrefix(head, []byte("fLaC")):
		return FLAC, nil
	case bytes.HasPrefix(head, []byte("ID3")):
		// Some taggers put ID3v2 tags before a FLAC stream too; seen only
		// when head holds the whole tags.
		if p, err := id3v2Skip(head); err == nil && bytes.HasPrefix(head[p:], []byte("fLaC")) {
			return FLAC, nil
		}
		return MP3, nil
	case len(head) >= 2 && head[0] == 0xFF && head[1]&0xE0 == 0xE0 && head[1]&0x06 != 0:
		return MP3, nil // an MPEG audio frame header
	}
	return Format{}, reject("this file type is not accepted; upload an image (JPEG, PNG, GIF, WebP), a video (MP4, WebM) or audio (MP3, Ogg, M4A, WAV, FLAC)")
}

// isoAudioBrands are the ISO-BMFF major brands of M4A audio; isoVideoBrands
// those of the MP4 and QuickTime video that is accepted.
var (
	isoAudioBrands = map[string]bool{"M4A ": true, "M4B ": true, "M4P ": true}
	isoVideoBrands = map[string]bool{"isom": true, "iso2": true, "iso4": true, "iso5": true, "iso6": true, "mp41": true, "mp42": true,
		"avc1": true, "M4V ": true, "M4VP": true, "dash": true, "MSNV": true, "3gp4": true, "3gp5": true, "3g2a": true, "qt  ": true}
)

// isoFormat tells MP4 video from M4A audio by the ISO-BMFF major brand. A
// file whose major brand is not listed (3gp6 from ffmpeg, Sony's XAVC, mmp4)
// is still MP4 when one of its compatible brands is a listed video brand, as
// players read it; the container walk, not the brand, is what checks it.
// HEIF and AVIF images list none of them.
func isoFormat(head []byte) (Format, error) {
	size := binary.BigEndian.Uint32(head[:4])
	if size < 8 {
		return Format{}, reject("the MP4 file is malformed")
	}
	brand := string(head[8:12])
	switch {
	case isoAudioBrands[brand]:
		return M4A, nil
	case isoVideoBrands[brand]:
		return MP4, nil
	}
	// Compatible brands follow the major brand and its minor version.
	for p := 16; p+4 <= min(int(min(size, 1<<12)), len(head)); p += 4 {
		if isoVideoBrands[string(head[p:p+4])] {
			return MP4, nil
		}
	}
	return Format{}, reject("the MP4 brand %q is not accepted", brand)
}

// markup are byte strings that have no business in a media file and would
// matter only if a browser were ever tricked into reading it as a document.
var markup = [][]byte{[]byte("<script"), []byte("<html"), []byte("<svg"), []byte("<?xml"), []byte("<!doctype"), []byte("<iframe"),
	[]byte("<body"), []byte("javascript:"), []byte(`"@context"`)}

// checkNoMarkup refuses files kept as uploaded (video, audio) that carry
// document markup: polyglots that sniff as media but hide a page. It reads
// the file through a fixed window lowered to ASCII lower case, so it costs
// the same small buffer however large the file (no lower-cased copy).
func checkNoMarkup(b []byte) error {
	const window = 32 << 10
	overlap := 0 // a marker may straddle two windows: keep the tail
	for _, m := range markup {
		overlap = max(overlap, len(m)-1)
	}
	var buf [window]byte
	for start := 0; start < len(b); start += window - overlap {
		chunk := buf[:copy(buf[:], b[start:])]
		for i, c := range chunk {
			if 'A' <= c && c <= 'Z' {
				chunk[i] = c + 'a' - 'A'
			}
		}
		for _, m := range markup {
			if bytes.Contains(chunk, m) {
				return reject("the file contains %q: media files with embedded documents are not accepted", m)
			}
		}
	}
	return nil
}
