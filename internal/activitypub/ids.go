package activitypub

import "encoding/json"

// IDs reads a JSON value that is one id or a list of them; a list entry
// may also be an object with an id. At most 1,000 are read.
func IDs(raw json.RawMessage) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []json.RawMessage
	if json.Unmarshal(raw, &many) != nil {
		var obj struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(raw, &obj) == nil && obj.ID != "" {
			return []string{obj.ID}
		}
		return nil
	}
	var out []string
	for _, m := range many[:min(len(many), 1000)] {
		var s string
		var obj struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(m, &s) == nil {
			out = append(out, s)
		} else if json.Unmarshal(m, &obj) == nil && obj.ID != "" {
			out = append(out, obj.ID)
		}
	}
	return out
}
