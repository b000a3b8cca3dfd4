package inbox

import (
	"errors"
	"strings"
	"testing"
)

const bob = "https://b.example/users/bob"

func TestParseHoldsActivitiesToTheOriginRules(t *testing.T) {
	note := func(id, by string) string {
		return `{"id":"` + id + `","type":"Note","attributedTo":"` + by + `","content":"x"}`
	}
	act := func(id, typ, object string) string {
		return `{"id":"` + id + `","type":"` + typ + `","actor":"` + bob + `","object":` + object + `}`
	}
	for _, c := range []struct {
		name, body string
		ok         bool
	}{
		{"a Create of the actor's own Note", act(bob+"/c/1", "Create", note("https://b.example/n/1", bob)), true},
		{"a Create of a Note attributed to someone else", act(bob+"/c/2", "Create", note("https://b.example/n/2", "https://b.example/users/dan")), false},
		{"a Create of a Note attributed to two", act(bob+"/c/3", "Create",
			`{"id":"https://b.example/n/3","type":"Note","attributedTo":["`+bob+`","https://c.example/u"]}`), false},
		{"a Create of a Note on another origin", act(bob+"/c/4", "Create", note("https://c.example/n/4", bob)), false},
		{"a Create by id", act(bob+"/c/5", "Create", `"https://b.example/n/5"`), false},
		{"an activity id on another origin", act("https://c.example/a/1", "Like", `"https://c.example/n/1"`), false},
		{"an activity id on another port", act("https://b.example:8443/a/1", "Like", `"https://c.example/n/1"`), false},
		{"no id", `{"type":"Like","actor":"` + bob + `","object":"https://c.example/n"}`, false},
		{"a Like of another origin's Note", act(bob+"/l/1", "Like", `"https://c.example/n/1"`), true},
		{"a Delete of another origin's object", act(bob+"/d/1", "Delete", `"https://c.example/n/1"`), false},
		{"a Delete of a Tombstone on its origin", act(bob+"/d/2", "Delete", `{"id":"https://b.example/n/1","type":"Tombstone"}`), true},
		{"an Update of another origin's Note", act(bob+"/u/1", "Update", note("https://c.example/n/1", "https://c.example/u")), false},
		{"an Update of a same-origin Note by another", act(bob+"/u/2", "Update", note("https://b.example/n/9", "https://b.example/users/dan")), false},
		{"an Undo of another actor's Follow", act(bob+"/x/1", "Undo",
			`{"id":"https://b.example/users/dan#f","type":"Follow","actor":"https://b.example/users/dan","object":"https://a.example/users/al"}`), false},
		{"an Undo of another origin's activity", act(bob+"/x/2", "Undo", `"https://c.example/f/1"`), false},
		{"an Accept of a Follow of someone else", act(bob+"/ac/1", "Accept",
			`{"id":"https://a.example/users/al#follows/1","type":"Follow","actor":"https://a.example/users/al","object":"https://b.example/users/dan"}`), false},
		{"an Accept of a Follow of the actor", act(bob+"/ac/2", "Accept",
			`{"id":"https://a.example/users/al#follows/1","type":"Follow","actor":"https://a.example/users/al","object":"`+bob+`"}`), true},
		{"two objects", act(bob+"/l/2", "Like", `["https://c.example/1","https://c.example/2"]`), false},
		{"a Move of another account", `{"id":"` + bob + `/m/1","type":"Move","actor":"` + bob + `","object":"https://b.example/users/dan","target":"https://c.example/u/bob"}`, false},
		{"a Move without a target", `{"id":"` + bob + `/m/2","type":"Move","actor":"` + bob + `","object":"` + bob + `"}`, false},
		{"a Move of oneself", `{"id":"` + bob + `/m/3","type":"Move","actor":"` + bob + `","object":"` + bob + `","target":"https://c.example/u/bob"}`, true},
		{"a Flag of an account and a status", `{"id":"` + bob + `/f/1","type":"Flag","actor":"` + bob + `","object":["https://a.example/users/al","https://a.example/s/1"]}`, true},
		{"a Flag of nothing", `{"id":"` + bob + `/f/2","type":"Flag","actor":"` + bob + `","object":[]}`, false},
		{"an unknown type", `{"type":"EmojiReact","actor":"` + bob + `","object":"x"}`, true},
		{"not JSON", `{"type":`, false},
		{"deeply nested", `{"type":"Like","actor":"` + bob + `","object":` + strings.Repeat("[", 64) + strings.Repeat("]", 64) + `}`, false},
	} {
		_, err := Parse([]byte(c.body), bob)
		var rule *RuleError
		if err != nil && !errors.As(err, &rule) {
			t.Errorf("%s: %T %v; want a *RuleError", c.name, err, err)
		}
		if (err == nil) != c.ok {
			t.Errorf("%s: err %v; want ok %v", c.name, err, c.ok)
		}
	}
	if a, err := Parse([]byte(`{"type":"QuoteRequest","actor":"`+bob+`","object":"x"}`), bob); err != nil || !a.Ignored {
		t.Errorf("a type not processed: %+v %v; want it accepted and ignored", a, err)
	}
	if _, err := Parse([]byte(`{"id":"`+bob+`/l","type":"Like","actor":"https://b.example/users/dan","object":"x"}`), bob); err == nil {
		t.Error("an activity whose actor is not its signer was accepted")
	}
}

// FuzzParse: any bytes are an activity that holds to the rules, or a
// *RuleError; never a panic. What is accepted is by its signer, with its
// id on the signer's origin.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"id":"` + bob + `/c/1","type":"Create","actor":"` + bob + `","object":{"id":"https://b.example/n/1","type":"Note","attributedTo":"` + bob + `"}}`))
	f.Add([]byte(`{"id":"` + bob + `/u","type":["Undo"],"actor":{"id":"` + bob + `"},"object":{"type":"Follow","actor":"` + bob + `","object":"https://a.example/u"}}`))
	f.Add([]byte(`{"type":"EmojiReact","actor":"` + bob + `"}`))
	f.Add([]byte(`[[[[{}]]]]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := Parse(body, bob)
		if err != nil {
			var rule *RuleError
			if !errors.As(err, &rule) {
				t.Fatalf("%T %v", err, err)
			}
			return
		}
		if a.Actor != bob {
			t.Fatalf("accepted an activity by %q", a.Actor)
		}
		if !a.Ignored && !sameOrigin(a.ID, bob) {
			t.Fatalf("accepted an id %q off the signer's origin", a.ID)
		}
		if a.Type == "Create" && (a.Embedded == nil || len(a.Embedded.AttributedTo) != 1 || a.Embedded.AttributedTo[0] != bob) {
			t.Fatalf("accepted a Create of %+v", a.Embedded)
		}
	})
}
