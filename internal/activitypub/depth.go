package activitypub

import "fmt"

// MaxDepth is how deeply a fetched document may nest objects and arrays.
// Real documents stay under ten; encoding/json would accept ten thousand,
// and every reader here walks what it decodes.
const MaxDepth = 32

// CheckDepth refuses a JSON document that nests deeper than MaxDepth. It
// scans bytes (strings skipped) without decoding, so it costs one pass
// and no allocation; whether the document is valid JSON is the decoder's
// question.
func CheckDepth(body []byte) error {
	depth, inString, escaped := 0, false, false
	for _, c := range body {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > MaxDepth {
				return &OriginError{Reason: fmt.Sprintf("the document nests deeper than %d", MaxDepth)}
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}
