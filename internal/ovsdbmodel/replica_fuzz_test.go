package ovsdbmodel

import (
	"bufio"
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// parseErrorRE is where a parse error says it stopped: a byte of the
// message, or the row and column whose value was refused.
var parseErrorRE = regexp.MustCompile(`at byte (\d+)|^T row .* column \w+: `)

// FuzzReplicaParse feeds arbitrary bytes, as a server would send them, to
// the framer, the JSON-RPC envelope parser and the row updates parser
// applied to a replica whose table has a column of every type. Any message
// may be refused; none may panic, and a refusal says where it stopped.
func FuzzReplicaParse(f *testing.F) {
	for _, seed := range []string{
		`{"id":1,"result":{"T":{"a":{"initial":{"s":"x","i":4,"r":1.5,"b":true,"u":["uuid","0f2c1c1e-9f3a-4d1b-8a45-1c5b2d3e4f50"],"e":"a","os":["set",[]],"oi":7,"ob":["set",[true]],"ou":["uuid","x"],"one":"z","ss":["set",["a","b"]],"si":["set",[1,2]],"su":["set",[["uuid","a"],["uuid","b"]]],"ms":["map",[["k","v"]]],"mi":["map",[["a",1]]],"mk":["map",[[1,"a"]]]}}}},"error":null}`,
		`{"method":"update2","params":[null,{"T":{"a":{"modify":{"ss":["set",["c"]],"ms":["map",[["k","w"]]],"i":5}},"b":{"delete":null},"c":{"insert":{"s":"new"}}}}],"id":null}`,
		`{"T":{"a":{"initial":{"s":"a \"quoted\" \\ back\u00e9\n","i":9007199254740993}}}}`,
		`{"T":{"a":{"initial":{"i":1e999,"r":-1e999,"s":"\u0000"}}}}`,
		"{\"T\":{\"a\":{\"initial\":{\"s\":\"\xff\xfe\"}}}}",
		`{"T":{"a":{"initial":{"s":"x"` + "\x00",
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[{"a":[]}]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
		`{"T":{"a":{"initial":{"one":["set",[]]}}}}`,
		`{"T":{"a":{"initial":{"os":["set",["a","b"]]}}}} trailing`,
	} {
		f.Add([]byte(seed))
	}
	ts := testColumns(f)
	var all []string
	for c := range ts.Columns {
		all = append(all, c)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		check := func(what string, err error) {
			if err == nil {
				return
			}
			m := parseErrorRE.FindStringSubmatch(err.Error())
			if m == nil {
				t.Fatalf("%s: error does not say where: %v", what, err)
			}
			if n, _ := strconv.Atoi(m[1]); m[1] != "" && n > len(data) {
				t.Fatalf("%s: error names byte %d of %d: %v", what, n, len(data), err)
			}
		}
		_, err := parseEnvelope(data)
		check("envelope", err)
		_, err = arrayMembers(data)
		check("array", err)
		r := &Replica{tables: map[string]*replicaTable{"T": newReplicaTable(ts, all)}}
		r.state = &ReplicaState{Tables: map[string]map[string]*Row{"T": {}}}
		check("updates", r.apply(data))
		check("updates again", r.apply(data)) // modify and delete now meet rows
		fr := &framer{r: bufio.NewReader(bytes.NewReader(data))}
		for range len(data) + 1 { // each message takes a byte at least
			if _, err := fr.next(); err != nil {
				break
			}
		}
	})
}

// TestParserDepth: nesting deeper than maxDepth is refused where it
// starts, so a server's message cannot exhaust the stack.
func TestParserDepth(t *testing.T) {
	deep := func(n int) []byte { return []byte(strings.Repeat("[", n) + strings.Repeat("]", n)) }
	if _, err := arrayMembers(deep(maxDepth)); err != nil {
		t.Errorf("%d deep: %v", maxDepth, err)
	}
	_, err := arrayMembers(deep(maxDepth + 1))
	if want := "invalid JSON at byte " + strconv.Itoa(maxDepth+1) + ": nested more than"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %v, want %s...", err, want)
	}
	_, err = parseEnvelope([]byte(`{"id":` + strings.Repeat(`{"a":`, maxDepth) + `1` + strings.Repeat("}", maxDepth+1)))
	if err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Errorf("deep object: err = %v", err)
	}
}
