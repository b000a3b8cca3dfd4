package media

import "github.com/rampart-social/rampart/internal/testutil"

// The image bombs live in testutil (the instance tests upload them too).
type jpegComponent = testutil.JPEGComponent

var (
	flatJPEG    = testutil.FlatJPEG
	zeroPNG     = testutil.ZeroPNG
	jpegSegment = testutil.JPEGSegment
)
