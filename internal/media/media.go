// Package media owns the media origin: which uploads are accepted (sniffed
// against an allow-list, never trusted by name or Content-Type), how they are
// made safe (images decoded and re-encoded; video and audio walked to the
// end of their container and checked for embedded documents), where they
// are stored (random keys, atomic writes)
// and how the media host serves them (only files a live row references,
// with the inert headers of internal/httpsec).
package media
