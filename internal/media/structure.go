package media

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// checkStructure walks the whole container of a video or audio file that is
// kept as uploaded, from its first byte to its last: every frame, page, box,
// element or chunk must be where the one before it says, and nothing unknown
// may come before, between or after them. A file that only begins like media
// (an MPEG frame header, then a PDF, a zip or a script) is refused here.
//
// What a valid container carries (PCM samples, an mdat box, a tag's text)
// is not inspected: those bytes can be anything. Keeping a browser from
// reading them as a document is the media origin's serving (the sniffed
// Content-Type, nosniff, a sandbox CSP), not this check.
//
// Each walk reads b in place: no copy, O(1) extra memory.
func checkStructure(b []byte, f Format) error {
	switch f {
	case MP3:
		return checkMP3(b)
	case OGG:
		return checkOgg(b)
	case MP4, M4A:
		return checkISOBMFF(b)
	case WebM:
		return checkWebM(b)
	case WAV:
		return checkWAV(b)
	case FLAC:
		return checkFLAC(b)
	}
	return reject("%s files are not accepted as video or audio", f.MIME)
}

// ---- MP3: [ID3v2 tags [zero padding]] MPEG audio frames [APEv2 tag] [ID3v1 tag] ----

// maxID3v2Padding bounds the zero bytes some taggers leave between an ID3v2
// tag and the first frame, outside the tag's size (the tag's own padding is
// inside it).
const maxID3v2Padding = 64 << 10

// checkMP3 accepts ID3v2 tags at the start, optionally followed by at most
// maxID3v2Padding zero bytes, then MPEG audio frames whose headers' computed
// lengths lead exactly from one to the next, all of the same MPEG version,
// layer and sample rate, then at most an APEv2 tag and an ID3v1 tag. The
// last frame may be cut short by the end of the file (a download or a cut
// that stopped inside it), if a whole frame came before it and its own
// header is whole and continues the stream. Free-format frames (no bitrate
// in the header, so no length) are refused: their end cannot be known
// without decoding.
func checkMP3(b []byte) error {
	p, err := id3v2Skip(b)
	if err != nil {
		return reject("the MP3 file is malformed: %s", err)
	}
	if p > 0 {
		zeros := 0
		for p+zeros < len(b) && b[p+zeros] == 0 && zeros <= maxID3v2Padding {
			zeros++
		}
		if zeros > maxID3v2Padding {
			return reject("the MP3 file has more than %d zero bytes after its ID3v2 tag", maxID3v2Padding)
		}
		p += zeros
	}
	var stream uint32 // the header bits every frame must share
	frames := 0
	for {
		if p == len(b) || mp3TrailerIs(b[p:]) {
			if frames == 0 {
				return reject("the MP3 file has no MPEG audio frames")
			}
			return nil
		}
		n, key, why := mpegFrame(b[p:])
		if why != "" {
			return reject("the MP3 file is malformed at byte %d: %s", p, why)
		}
		if frames == 0 {
			stream = key
		} else if key != stream {
			return reject("the MP3 file is malformed at byte %d: the frame's MPEG version, layer or sample rate differs from the first frame's", p)
		}
		if n > len(b)-p {
			// The file ends inside this frame. After a whole frame of the
			// same stream that is a cut or interrupted file; alone it is
			// only a header in front of other bytes.
			if frames == 0 {
				return reject("the MP3 file is malformed at byte %d: the MPEG audio frame is cut short", p)
			}
			return nil
		}
		frames++
		p += n
	}
}

// id3v2Skip is where the ID3v2 tags at the start of b end: 0 when there is none.
func id3v2Skip(b []byte) (int, error) {
	p := 0
	for len(b)-p >= 3 && string(b[p:p+3]) == "ID3" {
		n, err := id3v2Length(b[p:])
		if err != nil {
			return 0, err
		}
		p += n
	}
	return p, nil
}

// id3v2Length is the length of the ID3v2 tag at the start of b, header and
// footer included.
func id3v2Length(b []byte) (int, error) {
	if len(b) < 10 {
		return 0, structError("its ID3v2 tag is cut short")
	}
	version, flags := b[3], b[5]
	var known byte // the flag bits each version defines
	switch version {
	case 2:
		known = 0xC0
	case 3:
		known = 0xE0
	case 4:
		known = 0xF0
	}
	if known == 0 || b[4] == 0xFF || flags&^known != 0 {
		return 0, structError("its ID3v2 tag has an unknown version or flags")
	}
	size := 0
	for _, c := range b[6:10] { // "syncsafe": 7 bits a byte
		if c >= 0x80 {
			return 0, structError("its ID3v2 tag size is malformed")
		}
		size = size<<7 | int(c)
	}
	n := 10 + size
	if version == 4 && flags&0x10 != 0 { // a footer repeats the header at the end
		n += 10
	}
	if n > len(b) {
		return 0, structError("its ID3v2 tag is cut short")
	}
	return n, nil
}

// mp3TrailerIs reports whether b is exactly the tags an MP3 file may end
// with: an APEv2 (or APEv1) tag, an ID3v1 tag, or an APE tag then an ID3v1 tag.
func mp3TrailerIs(b []byte) bool {
	if len(b) >= 128 && string(b[len(b)-128:len(b)-125]) == "TAG" {
		b = b[:len(b)-128]
		if len(b) == 0 {
			return true
		}
	}
	if len(b) < 32 {
		return false
	}
	footer := b[len(b)-32:]
	if string(footer[:8]) != "APETAGEX" {
		return false
	}
	version := binary.LittleEndian.Uint32(footer[8:12])
	size := int64(binary.LittleEndian.Uint32(footer[12:16])) // items and footer, not the header
	hasHeader := binary.LittleEndian.Uint32(footer[20:24])&(1<<31) != 0
	if version != 1000 && version != 2000 || size < 32 {
		return false
	}
	if hasHeader {
		size += 32
	}
	return size == int64(len(b)) && (!hasHeader || string(b[:8]) == "APETAGEX")
}

// mpegBitrates are the bitrates in kbit/s by [MPEG-1 or not][layer I, II, III][index].
var mpegBitrates = [2][3][16]int{
	{
		{0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448, 0},
		{0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 0},
		{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0},
	},
	{
		{0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256, 0},
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0},
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0},
	},
}

// mpegFrame reads the MPEG audio frame header at the start of b and returns
// the frame's length (which may be more than b holds: the caller decides)
// and the bits every frame of the stream shares, or why it is not a frame.
func mpegFrame(b []byte) (length int, key uint32, why string) {
	if len(b) < 4 || b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return 0, 0, "the data is not an MPEG audio frame"
	}
	version := b[1] >> 3 & 3 // 0 MPEG-2.5, 1 reserved, 2 MPEG-2, 3 MPEG-1
	layer := b[1] >> 1 & 3   // 0 reserved, 1 layer III, 2 layer II, 3 layer I
	bitrateIndex, rateIndex, padding := b[2]>>4, b[2]>>2&3, int(b[2]>>1&1)
	switch {
	case version == 1 || layer == 0 || rateIndex == 3 || b[3]&3 == 2:
		return 0, 0, "the MPEG audio frame header uses reserved values"
	case bitrateIndex == 0:
		return 0, 0, "free-format MPEG audio is not accepted"
	case bitrateIndex == 15:
		return 0, 0, "the MPEG audio frame header has an invalid bitrate"
	}
	mpeg1 := version == 3
	table := 1
	if mpeg1 {
		table = 0
	}
	bitrate := mpegBitrates[table][3-layer][bitrateIndex] * 1000
	rate := [3]int{44100, 48000, 32000}[rateIndex]
	switch version {
	case 2:
		rate /= 2
	case 0:
		rate /= 4
	}
	switch {
	case layer == 3: // layer I: 4-byte slots
		length = (12*bitrate/rate + padding) * 4
	case layer == 1 && !mpeg1: // layer III of MPEG-2 and 2.5: half the samples a frame
		length = 72*bitrate/rate + padding
	default:
		length = 144*bitrate/rate + padding
	}
	return length, uint32(b[1]&0xFE)<<8 | uint32(b[2]&0x0C), ""
}

// ---- Ogg: pages, each with its CRC-32 ----

// checkOgg accepts pages from the first byte to the last: the capture
// pattern, version 0, known flags, a segment table, a body of the length it
// gives, and a CRC-32 that checks. The first page begins a stream of an
// audio codec (Vorbis, Opus, FLAC, Speex) or an Ogg Skeleton.
func checkOgg(b []byte) error {
	if len(b) == 0 {
		return reject("the Ogg file is empty")
	}
	for p, page := 0, 0; p < len(b); page++ {
		if len(b)-p < 27 || string(b[p:p+4]) != "OggS" {
			return reject("the Ogg file is malformed at byte %d: the data is not an Ogg page", p)
		}
		flags := b[p+5]
		if b[p+4] != 0 || flags&^7 != 0 {
			return reject("the Ogg file is malformed at byte %d: unknown page version or flags", p)
		}
		segments := int(b[p+26])
		body := p + 27 + segments
		if body > len(b) {
			return reject("the Ogg file is cut short at byte %d", p)
		}
		end := body
		for _, n := range b[p+27 : body] {
			end += int(n)
		}
		if end > len(b) {
			return reject("the Ogg file is cut short at byte %d", p)
		}
		crc := oggCRC(0, b[p:p+22])
		for range 4 { // the CRC field counts as zeros
			crc = crc<<8 ^ oggCRCTable[byte(crc>>24)]
		}
		crc = oggCRC(crc, b[p+26:end])
		if crc != binary.LittleEndian.Uint32(b[p+22:p+26]) {
			return reject("the Ogg file is malformed at byte %d: the page's CRC does not match", p)
		}
		if page == 0 {
			if flags&2 == 0 {
				return reject("the Ogg file does not begin a stream")
			}
			if !oggCodecIsAudio(b[body:end]) {
				return reject("the Ogg file is not Vorbis, Opus, FLAC or Speex audio")
			}
		}
		p = end
	}
	return nil
}

// oggCodecIsAudio reports whether a stream's first packet names a codec
// that audio/ogg serves.
func oggCodecIsAudio(packet []byte) bool {
	for _, magic := range []string{"\x01vorbis", "OpusHead", "\x7fFLAC", "Speex   ", "fishead\x00"} {
		if len(packet) >= len(magic) && string(packet[:len(magic)]) == magic {
			return true
		}
	}
	return false
}

// oggCRCTable is Ogg's CRC-32: polynomial 0x04C11DB7, not reflected, no
// initial or final XOR (not hash/crc32's IEEE variant).
var oggCRCTable = func() (t [256]uint32) {
	for i := range t {
		c := uint32(i) << 24
		for range 8 {
			if c&0x80000000 != 0 {
				c = c<<1 ^ 0x04C11DB7
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

func oggCRC(crc uint32, p []byte) uint32 {
	for _, c := range p {
		crc = crc<<8 ^ oggCRCTable[byte(crc>>24)^c]
	}
	return crc
}

// ---- MP4 and M4A: ISO base media file format boxes ----

// isoTopLevel are the boxes ISO/IEC 14496-12 and QuickTime put at the top
// level of a file; any other is refused.
var isoTopLevel = map[string]bool{"ftyp": true, "styp": true, "moov": true, "mdat": true, "free": true, "skip": true, "wide": true,
	"uuid": true, "meta": true, "moof": true, "mfra": true, "sidx": true, "ssix": true, "prft": true, "emsg": true, "pdin": true, "udta": true}

// isoContainers are boxes that hold only boxes in every variant of the
// format, so their children are walked too.
var isoContainers = map[string]bool{"moov": true, "trak": true, "mdia": true, "minf": true, "stbl": true, "edts": true, "dinf": true,
	"mvex": true, "moof": true, "traf": true, "mfra": true}

// checkISOBMFF accepts top-level boxes that tile the file exactly (32- or
// 64-bit sizes; size 0 only for the last, reaching the end): ftyp first,
// exactly one moov, only known top-level box types. The children of the
// boxes that hold only boxes (moov, trak, mdia, …) must tile their parent
// exactly too, and moov must hold an mvhd.
func checkISOBMFF(b []byte) error {
	moovs := 0
	for p, n := 0, 0; p < len(b); n++ {
		size, header, err := isoBox(b[p:], true)
		if err != nil {
			return reject("the MP4 file is malformed at byte %d: %s", p, err)
		}
		typ := b[p+4 : p+8]
		switch {
		case n == 0 && string(typ) != "ftyp":
			return reject("the MP4 file does not begin with an ftyp box")
		case n > 0 && string(typ) == "ftyp":
			return reject("the MP4 file has a second ftyp box at byte %d", p)
		case !isoTopLevel[string(typ)]:
			return reject("the MP4 file has an unknown top-level box at byte %d", p)
		case string(typ) == "ftyp" && (size-header < 8 || (size-header)%4 != 0):
			return reject("the MP4 file's ftyp box is malformed")
		}
		if isoContainers[string(typ)] {
			if err := isoChildren(b[p+header:p+size], 1); err != nil {
				return reject("the MP4 file is malformed in the box at byte %d: %s", p, err)
			}
		}
		if string(typ) == "moov" {
			moovs++
			if !isoHasChild(b[p+header:p+size], "mvhd") {
				return reject("the MP4 file's moov box has no mvhd box")
			}
		}
		p += size
	}
	if moovs != 1 {
		return reject("the MP4 file has %d moov boxes; exactly one is required", moovs)
	}
	return nil
}

// structError says what is malformed inside a container, for the
// rejection message that names where.
type structError string

func (e structError) Error() string { return string(e) }

// isoBox reads the box header at the start of b: the box's whole size and
// its header's length. Size 0 (the box reaches the end) is allowed only at
// the top level.
func isoBox(b []byte, topLevel bool) (size, header int, err error) {
	if len(b) < 8 {
		return 0, 0, structError("a box header is cut short")
	}
	for _, c := range b[4:8] { // box types are printable; QuickTime uses © in some
		if (c < 0x20 || c > 0x7E) && c != 0xA9 {
			return 0, 0, structError("a box type is not printable")
		}
	}
	size64, header := uint64(binary.BigEndian.Uint32(b)), 8
	switch size64 {
	case 0:
		if !topLevel {
			return 0, 0, structError("a box inside another has size 0")
		}
		size64 = uint64(len(b))
	case 1:
		if len(b) < 16 {
			return 0, 0, structError("a 64-bit box header is cut short")
		}
		size64, header = binary.BigEndian.Uint64(b[8:16]), 16
	}
	if size64 < uint64(header) {
		return 0, 0, structError("a box is smaller than its header")
	}
	if size64 > uint64(len(b)) {
		return 0, 0, structError("a box reaches past the end of its container")
	}
	return int(size64), header, nil
}

// maxISODepth bounds the walk into nested boxes (real files nest container
// boxes five deep: moov/trak/mdia/minf/stbl).
const maxISODepth = 8

// isoChildren checks that boxes tile b exactly, walking into containers.
func isoChildren(b []byte, depth int) error {
	if depth > maxISODepth {
		return structError("boxes are nested too deep")
	}
	for p := 0; p < len(b); {
		size, header, err := isoBox(b[p:], false)
		if err != nil {
			return err
		}
		if isoContainers[string(b[p+4:p+8])] {
			if err := isoChildren(b[p+header:p+size], depth+1); err != nil {
				return err
			}
		}
		p += size
	}
	return nil
}

// isoHasChild reports whether b, a container's payload already checked by
// isoChildren, holds a box of type kind.
func isoHasChild(b []byte, kind string) bool {
	for p := 0; p < len(b); {
		size, _, err := isoBox(b[p:], false)
		if err != nil {
			return false
		}
		if string(b[p+4:p+8]) == kind {
			return true
		}
		p += size
	}
	return false
}

// ---- WebM: EBML elements ----

// EBML and Matroska element IDs (length marker included) that the walk knows.
const (
	ebmlHeaderID  = 0x1A45DFA3
	ebmlDocTypeID = 0x4282
	ebmlVoidID    = 0xEC
	ebmlCRC32ID   = 0xBF
	mkvSegmentID  = 0x18538067
	mkvClusterID  = 0x1F43B675
	mkvInfoID     = 0x1549A966
	mkvTracksID   = 0x1654AE6B
)

// webmSegmentChildren are the elements WebM allows directly in a Segment.
// Attachments (0x1941A469), which Matroska allows, are not among them.
var webmSegmentChildren = map[uint32]bool{0x114D9B74: true /* SeekHead */, mkvInfoID: true, mkvTracksID: true, mkvClusterID: true,
	0x1C53BB6B: true /* Cues */, 0x1043A770: true /* Chapters */, 0x1254C367: true /* Tags */, ebmlVoidID: true, ebmlCRC32ID: true}

// webmClusterChildren are the elements WebM allows in a Cluster.
var webmClusterChildren = map[uint32]bool{0xE7: true /* Timestamp */, 0x5854: true /* SilentTracks */, 0xA7: true /* Position */, 0xAB: true, /* PrevSize */
	0xA3: true /* SimpleBlock */, 0xA0: true /* BlockGroup */, ebmlVoidID: true, ebmlCRC32ID: true}

// checkWebM accepts an EBML header whose DocType is "webm", then one
// Segment reaching exactly to the end of the file (a Segment of unknown
// size reaches it by definition). The Segment holds only the elements WebM
// allows there, each of whose children tile it exactly; a Cluster's
// children must be those a Cluster may hold. Only a Segment and a Cluster
// may have an unknown size, as Matroska allows: such a Cluster ends where
// an element that is not a Cluster's child begins. An Info and a Tracks
// element are required.
func checkWebM(b []byte) error {
	id, size, n, unknown, err := ebmlElement(b)
	if err != nil || id != ebmlHeaderID || unknown {
		return reject("the WebM file does not begin with an EBML header")
	}
	header := b[n : n+size]
	webm := false
	for q := 0; q < len(header); {
		id, size, n, unknown, err := ebmlElement(header[q:])
		if err != nil || unknown {
			return reject("the WebM file's EBML header is malformed")
		}
		if id == ebmlDocTypeID {
			v := bytes.TrimRight(header[q+n:q+n+size], "\x00")
			webm = string(v) == "webm"
		}
		q += n + size
	}
	if !webm {
		return reject("the WebM file's DocType is not webm")
	}
	p := n + size
	id, size, n, unknown, err = ebmlElement(b[p:])
	if err != nil || id != mkvSegmentID {
		return reject("the WebM file has no Segment after its EBML header")
	}
	end := len(b) // a Segment of unknown size reaches the end of the file
	if !unknown {
		end = p + n + size
	}
	if end != len(b) {
		return reject("the WebM file has data after its Segment")
	}
	info, tracks := false, false
	for q := p + n; q < end; {
		id, size, n, unknown, err := ebmlElement(b[q:])
		if err != nil {
			return reject("the WebM file is malformed at byte %d: %s", q, err)
		}
		if !webmSegmentChildren[id] {
			return reject("the WebM file has an element WebM does not allow in a Segment at byte %d", q)
		}
		info, tracks = info || id == mkvInfoID, tracks || id == mkvTracksID
		var next int
		switch {
		case unknown && id == mkvClusterID:
			next, err = webmOpenCluster(b, q+n)
		case unknown:
			err = structError("only a Segment or a Cluster may have an unknown size")
		default:
			next = q + n + size
			if id != ebmlVoidID && id != ebmlCRC32ID { // the others hold elements; these, bytes
				err = ebmlChildren(b[q+n:next], id == mkvClusterID)
			}
		}
		if err != nil {
			return reject("the WebM file is malformed in the element at byte %d: %s", q, err)
		}
		q = next
	}
	if !info || !tracks {
		return reject("the WebM file has no Info or no Tracks element")
	}
	return nil
}

// webmOpenCluster walks the children of a Cluster of unknown size that
// starts at b[p:] and returns where the Cluster ends: at the end of the
// file or where an element that a Cluster cannot hold begins (which the
// Segment's walk then accepts as the next Cluster, Cues, … or refuses).
func webmOpenCluster(b []byte, p int) (int, error) {
	for p < len(b) {
		id, size, n, unknown, err := ebmlElement(b[p:])
		if err != nil {
			return 0, err
		}
		if !webmClusterChildren[id] { // the Segment's walk judges what follows
			return p, nil
		}
		if unknown {
			return 0, structError("an element in a Cluster has an unknown size")
		}
		p += n + size
	}
	return p, nil
}

// ebmlChildren checks that elements of known size tile b exactly; in a
// Cluster, only a Cluster's children are allowed.
func ebmlChildren(b []byte, cluster bool) error {
	for p := 0; p < len(b); {
		id, size, n, unknown, err := ebmlElement(b[p:])
		if err != nil {
			return err
		}
		if unknown {
			return structError("an element has an unknown size where that is not allowed")
		}
		if cluster && !webmClusterChildren[id] {
			return structError("a Cluster holds an element WebM does not allow there")
		}
		p += n + size
	}
	return nil
}

// ebmlElement reads the element header at the start of b: its ID (1–4
// bytes, length marker kept), its data size (1–8 bytes) and the header's
// length. A size whose bits are all ones is unknown (size is then 0);
// otherwise the data must fit in b.
func ebmlElement(b []byte) (id uint32, size, n int, unknown bool, err error) {
	if len(b) == 0 {
		return 0, 0, 0, false, structError("an element header is cut short")
	}
	idLen := bits.LeadingZeros8(b[0]) + 1
	if idLen > 4 || len(b) < idLen+1 {
		return 0, 0, 0, false, structError("an element ID is malformed or cut short")
	}
	for _, c := range b[:idLen] {
		id = id<<8 | uint32(c)
	}
	if v, all := id&(1<<(7*idLen)-1), uint32(1)<<(7*idLen)-1; v == 0 || v == all {
		return 0, 0, 0, false, structError("an element ID is reserved")
	}
	sizeLen := bits.LeadingZeros8(b[idLen]) + 1
	if sizeLen > 8 || len(b) < idLen+sizeLen {
		return 0, 0, 0, false, structError("an element size is malformed or cut short")
	}
	v := uint64(b[idLen]) & (0xFF >> sizeLen)
	for _, c := range b[idLen+1 : idLen+sizeLen] {
		v = v<<8 | uint64(c)
	}
	n = idLen + sizeLen
	if v == 1<<(7*sizeLen)-1 {
		return id, 0, n, true, nil
	}
	if v > uint64(len(b)-n) {
		return 0, 0, 0, false, structError("an element reaches past the end of its parent")
	}
	return id, int(v), n, false, nil
}

// ---- WAV: RIFF chunks ----

// checkWAV accepts a RIFF/WAVE file whose RIFF size is the file's length
// less 8, and whose chunks (printable IDs, each padded to an even length;
// a missing pad byte after the last is tolerated, as writers often omit it)
// reach exactly to its end, with one fmt chunk of at least 16 bytes and
// non-zero channels, sample rate and block alignment, then one data chunk.
//
// A WAV written where its writer could not go back to fix the sizes (a
// pipe, a recording that stopped) is accepted too, narrowly: its data
// chunk is then the last and runs to the end of the file, and its header
// is one such writers leave. Either the RIFF size and the data size are
// placeholders, each 0 or 0xFFFFFFFF (ffmpeg to a pipe), or the data size
// is more than the file holds and the RIFF size is what it would be had the
// data that size (sox's and arecord's guesses for a pipe, 0x7FFFF000 and
// 0x7FFFFF00; a file cut short inside its data).
func checkWAV(b []byte) error {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return reject("the WAV file does not begin with a RIFF/WAVE header")
	}
	riff := binary.LittleEndian.Uint32(b[4:8])
	exact := int64(riff) == int64(len(b))-8
	format, data := false, false
	for p := 12; p < len(b); {
		if len(b)-p < 8 {
			return reject("the WAV file is malformed at byte %d: a chunk header is cut short", p)
		}
		for _, c := range b[p : p+4] {
			if c < 0x20 || c > 0x7E {
				return reject("the WAV file is malformed at byte %d: the data is not a chunk", p)
			}
		}
		size := int64(binary.LittleEndian.Uint32(b[p+4 : p+8]))
		body := p + 8
		if string(b[p:p+4]) == "data" && !exact {
			if !format || data {
				return reject("the WAV file's data chunk is not the one data chunk after the fmt chunk")
			}
			if wavOpenData(riff, body, size, len(b)) {
				return nil // the data runs to the end of the file
			}
			return reject("the WAV file's RIFF size does not match its length")
		}
		if size > int64(len(b)-body) {
			return reject("the WAV file is malformed at byte %d: a chunk reaches past the end of the file", p)
		}
		chunk := b[body : body+int(size)]
		switch string(b[p : p+4]) {
		case "fmt ":
			if format {
				return reject("the WAV file has a second fmt chunk")
			}
			format = true
			if len(chunk) < 16 {
				return reject("the WAV file's fmt chunk is too short")
			}
			channels, rate, align := binary.LittleEndian.Uint16(chunk[2:4]), binary.LittleEndian.Uint32(chunk[4:8]), binary.LittleEndian.Uint16(chunk[12:14])
			if channels == 0 || rate == 0 || align == 0 {
				return reject("the WAV file's fmt chunk has no channels, sample rate or block alignment")
			}
		case "data":
			if !format || data {
				return reject("the WAV file's data chunk is not the one data chunk after the fmt chunk")
			}
			data = true
		}
		p = body + int(size)
		if size&1 == 1 && p < len(b) {
			p++ // the pad byte
		}
	}
	if !exact {
		return reject("the WAV file's RIFF size does not match its length")
	}
	if !format || !data {
		return reject("the WAV file has no fmt or no data chunk")
	}
	return nil
}

// wavOpenData reports whether a data chunk whose body starts at body, in a
// file of n bytes whose RIFF size is not n-8, has a header that writers
// leave when they cannot fix the sizes: then the data runs to the end.
func wavOpenData(riff uint32, body int, size int64, n int) bool {
	if riff == 0 || riff == 0xFFFFFFFF {
		return size == 0 || size == 0xFFFFFFFF
	}
	whole := int64(body) - 8 + size // the RIFF size had the data been size bytes
	return size > int64(n-body) && (int64(riff) == whole || size&1 == 1 && int64(riff) == whole+1)
}

// ---- FLAC: metadata blocks, then frames checked by their CRCs ----

// checkFLAC accepts "fLaC", then metadata blocks up to the one flagged
// last (STREAMINFO first and only there, no reserved block types), then
// frames to the end of the file. Each frame begins with the sync code and
// a header whose CRC-8 checks and whose channels, sample size and sample
// rate agree with STREAMINFO; it ends where its CRC-16 checks and either
// the file ends or the next frame's header follows, which must carry the
// next frame or sample number; no frame is longer than STREAMINFO's maximum
// frame size when that is given. Subframes are not decoded: a frame's bytes
// between its header and its CRC-16 are payload, like a WAV's samples (and
// zero bytes after the last frame cannot be told from it by its CRC, which
// stays zero over them).
//
// Two tags that taggers add and FLAC decoders skip are accepted: ID3v2 tags
// before "fLaC" (id3lib's id3v2, mutagen's mid3v2) and an ID3v1 tag, the
// last 128 bytes beginning "TAG", after the last frame (id3v2 -1, old
// foobar2000).
func checkFLAC(b []byte) error {
	p, err := id3v2Skip(b)
	if err != nil {
		return reject("the FLAC file is malformed: %s", err)
	}
	if len(b)-p < 4 || string(b[p:p+4]) != "fLaC" {
		return reject("the FLAC file does not begin with fLaC")
	}
	p += 4
	var info flacStreamInfo
	for first := true; ; first = false {
		if len(b)-p < 4 {
			return reject("the FLAC file's metadata is cut short")
		}
		last, typ := b[p]&0x80 != 0, b[p]&0x7F
		n := int(b[p+1])<<16 | int(b[p+2])<<8 | int(b[p+3])
		switch {
		case first && (typ != 0 || n != 34):
			return reject("the FLAC file does not begin with a STREAMINFO block")
		case !first && typ == 0:
			return reject("the FLAC file has a second STREAMINFO block")
		case typ > 6:
			return reject("the FLAC file has a metadata block of a reserved type")
		case n > len(b)-p-4:
			return reject("the FLAC file's metadata is cut short")
		}
		if first {
			si := b[p+4 : p+4+34]
			info = flacStreamInfo{
				maxFrame: int(si[7])<<16 | int(si[8])<<8 | int(si[9]),
				rate:     uint32(si[10])<<12 | uint32(si[11])<<4 | uint32(si[12])>>4,
				channels: (si[12]>>1)&7 + 1,
				bps:      ((si[12]&1)<<4 | si[13]>>4) + 1,
			}
			if info.rate == 0 {
				return reject("the FLAC file's STREAMINFO has no sample rate")
			}
		}
		p += 4 + n
		if last {
			break
		}
	}
	info.tag = -1
	if len(b)-p >= 128 && string(b[len(b)-128:len(b)-125]) == "TAG" {
		info.tag = len(b) - 128 // the frames may end here instead of at the end of the file
	}
	if p == len(b) || p == info.tag {
		return reject("the FLAC file has no audio frames")
	}
	h, ok := flacFrameHeader(b[p:], info)
	if !ok {
		return reject("the FLAC file is malformed at byte %d: the data is not a FLAC frame", p)
	}
	for {
		end, next, why := flacFrameEnd(b, p, h, info)
		if why != "" {
			return reject("the FLAC file is malformed in the frame at byte %d: %s", p, why)
		}
		if end == len(b) || end == info.tag {
			return nil
		}
		p, h = end, next
	}
}

// flacStreamInfo is what every frame header must agree with.
type flacStreamInfo struct {
	maxFrame      int // bytes; 0 when unknown
	tag           int // where a trailing ID3v1 tag begins; -1 without one
	rate          uint32
	channels, bps byte
}

// flacHeader is a parsed frame header.
type flacHeader struct {
	length    int    // bytes, CRC-8 included
	variable  bool   // variable block size: number counts samples, not frames
	number    uint64 // frame or first-sample number
	blockSize uint64
}

// flacFrameEnd finds the end of the frame that starts at b[p:] with header
// h: the first position past the header where the CRC-16 of the frame so far
// is zero (its stored CRC-16 matches) and the file ends, the ID3v1 tag
// begins or another frame's header begins, which must then be numbered right after this frame. A
// frame longer than STREAMINFO's maximum frame size (when given) is refused.
func flacFrameEnd(b []byte, p int, h flacHeader, info flacStreamInfo) (end int, next flacHeader, why string) {
	want := h.number + 1
	if h.variable {
		want = h.number + h.blockSize
	}
	limit := len(b)
	if info.maxFrame > 0 {
		limit = min(limit, p+info.maxFrame)
	}
	crc := flacCRC16(0, b[p:p+h.length])
	for i := p + h.length; i < limit; {
		crc = crc<<8 ^ flacCRC16Table[byte(crc>>8)^b[i]]
		i++
		if crc != 0 {
			continue
		}
		n, ok := flacFrameHeader(b[i:], info)
		if i != len(b) && i != info.tag && !ok {
			continue
		}
		// A boundary: the CRC-16 checks and the file or the frames end, or a frame header follows.
		switch {
		case i-p < h.length+3:
			return 0, flacHeader{}, "the frame has no subframe" // at least one subframe byte, then the CRC-16
		case i == len(b) || i == info.tag:
			return i, flacHeader{}, ""
		case n.variable != h.variable:
			return 0, flacHeader{}, "the next frame changes the blocking strategy"
		case n.number != want:
			return 0, flacHeader{}, "the next frame is not numbered right after this one"
		}
		return i, n, ""
	}
	if limit < len(b) {
		return 0, flacHeader{}, "no valid CRC-16 and next frame within STREAMINFO's maximum frame size"
	}
	return 0, flacHeader{}, "the frame does not end with a valid CRC-16 before another frame or the end of the file"
}

// flacFrameHeader parses the frame header at the start of b and checks its
// CRC-8 and its agreement with STREAMINFO.
func flacFrameHeader(b []byte, info flacStreamInfo) (flacHeader, bool) {
	if len(b) < 6 || b[0] != 0xFF || b[1]&0xFE != 0xF8 {
		return flacHeader{}, false
	}
	h := flacHeader{variable: b[1]&1 == 1}
	sizeCode, rateCode := b[2]>>4, b[2]&0x0F
	channelCode, sampleCode := b[3]>>4, b[3]>>1&7
	if sizeCode == 0 || rateCode == 15 || channelCode > 10 || b[3]&1 != 0 {
		return flacHeader{}, false
	}
	channels := channelCode + 1
	if channelCode >= 8 { // left/side, right/side, mid/side
		channels = 2
	}
	if channels != info.channels {
		return flacHeader{}, false
	}
	// Bits a sample by code; the reserved code 3 is 0, which no stream has.
	if sampleCode != 0 && [8]byte{0, 8, 12, 0, 16, 20, 24, 32}[sampleCode] != info.bps {
		return flacHeader{}, false
	}
	// The frame or sample number, coded like UTF-8 (up to 36 bits).
	p := 4
	lead := b[p]
	extra := 0
	switch {
	case lead < 0x80:
	case lead >= 0xC0 && lead < 0xFF:
		extra = bits.LeadingZeros8(^lead) - 1
	default:
		return flacHeader{}, false
	}
	if extra > 5 && !h.variable || len(b) < p+1+extra {
		return flacHeader{}, false
	}
	h.number = uint64(lead & (0x7F >> extra))
	for _, c := range b[p+1 : p+1+extra] {
		if c&0xC0 != 0x80 {
			return flacHeader{}, false
		}
		h.number = h.number<<6 | uint64(c&0x3F)
	}
	p += 1 + extra
	// The block size and sample rate, possibly read from the end of the header.
	tail := [16]int{6: 1, 7: 2}[sizeCode] + [16]int{12: 1, 13: 2, 14: 2}[rateCode]
	if len(b) < p+tail+1 {
		return flacHeader{}, false
	}
	switch {
	case sizeCode == 1:
		h.blockSize = 192
	case sizeCode <= 5:
		h.blockSize = 576 << (sizeCode - 2)
	case sizeCode == 6:
		h.blockSize = uint64(b[p]) + 1
		p++
	case sizeCode == 7:
		h.blockSize = uint64(binary.BigEndian.Uint16(b[p:])) + 1
		p += 2
	default:
		h.blockSize = 256 << (sizeCode - 8)
	}
	var rate uint32
	switch rateCode {
	case 0:
		rate = info.rate
	case 12:
		rate = uint32(b[p]) * 1000
		p++
	case 13:
		rate = uint32(binary.BigEndian.Uint16(b[p:]))
		p += 2
	case 14:
		rate = uint32(binary.BigEndian.Uint16(b[p:])) * 10
		p += 2
	default:
		rate = [12]uint32{0, 88200, 176400, 192000, 8000, 16000, 22050, 24000, 32000, 44100, 48000, 96000}[rateCode]
	}
	if rate != info.rate || flacCRC8(b[:p]) != b[p] {
		return flacHeader{}, false
	}
	h.length = p + 1
	return h, true
}

// flacCRC8Table and flacCRC16Table are FLAC's CRCs: polynomials 0x07 and
// 0x8005, not reflected, initial value 0.
var flacCRC8Table = func() (t [256]byte) {
	for i := range t {
		c := byte(i)
		for range 8 {
			if c&0x80 != 0 {
				c = c<<1 ^ 0x07
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

var flacCRC16Table = func() (t [256]uint16) {
	for i := range t {
		c := uint16(i) << 8
		for range 8 {
			if c&0x8000 != 0 {
				c = c<<1 ^ 0x8005
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()

func flacCRC8(p []byte) byte {
	var crc byte
	for _, c := range p {
		crc = flacCRC8Table[crc^c]
	}
	return crc
}

func flacCRC16(crc uint16, p []byte) uint16 {
	for _, c := range p {
		crc = crc<<8 ^ flacCRC16Table[byte(crc>>8)^c]
	}
	return crc
}
