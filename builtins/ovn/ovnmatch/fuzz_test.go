package ovnmatch

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse: no input panics; a refusal names a token where it is; what is
// accepted prints to a form that is accepted and prints the same.
func FuzzParse(f *testing.F) {
	for _, s := range validMatches {
		f.Add(s)
	}
	for _, c := range invalidMatches {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := Parse(s)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) = %v, not an *Error", s, err)
			}
			if pe.Offset < 0 || pe.Offset > len(s) || !strings.HasPrefix(s[pe.Offset:], pe.Token) {
				t.Fatalf("Parse(%q): token %q is not at offset %d", s, pe.Token, pe.Offset)
			}
			return
		}
		out := e.String()
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(%q) printed %q, which Parse refuses: %v", s, out, err)
		}
		if again.String() != out {
			t.Fatalf("Parse(%q) printed %q, then %q", s, out, again)
		}
	})
}
